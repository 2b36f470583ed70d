"""Who may use the integration endpoints. Token scopes are enforced in integrations.auth."""

from typing import Any

from .tokens import is_service_account


def can_post_alerts(user: Any) -> bool:
    """Monitoring alerts come from service accounts (or agents testing a rule)."""
    return bool(getattr(user, "is_agent", False)) or is_service_account(user)


def can_view_alerts(user: Any) -> bool:
    """The alert list shows monitoring internals: agents and service accounts only."""
    return can_post_alerts(user)
