"""Who sees the dashboards, and how much of them.

Managers (the manager roles) see every ticket's figures. A team lead (Team.lead) who is not a
manager sees the dashboards too, restricted to the teams they lead. Everyone else: 403.

The front-door middleware admits `dashboards:*` on settings.FRONT_DOOR_POLICY; every view
here is also wrapped in `dashboard_access`, so the rule holds whatever that policy says."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import Team


def led_team_ids(user: Any) -> tuple[int, ...]:
    """Teams the user leads (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, "_dashboards_led_teams", None)
    if cached is None:
        cached = tuple(
            Team.objects.filter(lead_id=user.pk).order_by("name").values_list("pk", flat=True)
        )
        user._dashboards_led_teams = cached
    return cached


def can_see_dashboards(user: Any) -> bool:
    """Managers, and leads of at least one team (active users only)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_manager or led_team_ids(user))


def team_restriction(user: Any) -> tuple[int, ...] | None:
    """None when the user sees every team; else the teams they lead."""
    return None if user.is_manager else led_team_ids(user)


def dashboard_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse (403) anyone `can_see_dashboards` does not admit."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_see_dashboards(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
