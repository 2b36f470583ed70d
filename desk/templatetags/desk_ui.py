"""Desk-wide template helpers."""

from typing import Any

from django import template

from desk.queues import COUNT_CAP
from incidents.models import Incident

register = template.Library()


@register.inclusion_tag("desk/_major_banner.html", takes_context=True)
def major_incident_banner(context: dict[str, Any]) -> dict[str, Any]:
    """Open major incidents the agent may see, shown on every desk page (one query)."""
    user = context["request"].user
    majors = list(
        Incident.objects.visible_to(user)
        .open()
        .filter(is_major=True)  # the incidents_major_idx partial index
        .select_related("ticket")
        .defer("ticket__description", "ticket__search_vector")[:5]
    )
    return {"majors": majors}


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`{{ counts|get_item:q.slug }}`."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def tab_count(count: int | None) -> str:
    """A queue tab's count: "999+" past desk.queues.COUNT_CAP (counting stops there)."""
    if count is None:
        return ""
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)
