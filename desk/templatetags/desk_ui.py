"""Desk-wide template helpers."""

from typing import Any

from django import template

from incidents.models import Incident

register = template.Library()


@register.inclusion_tag("desk/_major_banner.html", takes_context=True)
def major_incident_banner(context: dict[str, Any]) -> dict[str, Any]:
    """Open major incidents the agent may see, shown on every desk page (one query)."""
    user = context["request"].user
    majors = list(
        Incident.objects.visible_to(user).open().filter(is_major=True).select_related("ticket")[:5]
    )
    return {"majors": majors}


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`{{ counts|get_item:q.slug }}`."""
    return mapping.get(key) if hasattr(mapping, "get") else None
