"""Desk-wide template helpers."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from desk.queues import COUNT_CAP
from desk.templatetags.sla_ui import sla_due_html, viewer_zone
from incidents.models import Incident
from tickets.templatetags.tickets_ui import badge, priority_badge

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


@dataclass(frozen=True)
class _Row:
    """What a queue row's cells need besides the ticket."""

    url: str
    snippet: str | None  # already escaped, with only our <mark> (desk.views.queue._snippets)
    show: dict[str, bool]
    breaching: bool
    now: datetime
    zone: tzinfo


def _title_cell(t: Any, row: _Row) -> str:
    title = (
        t.title
        if "number" in row.show
        else format_html('<a href="{}" class="row-link">{}</a>', row.url, t.title)
    )
    tags = format_html_join("", ' <span class="tag">{}</span>', ((tag,) for tag in t.tags or ()))
    extract = (
        format_html('<div class="snippet small muted">{}</div>', mark_safe(row.snippet))  # escaped
        if row.snippet
        else ""
    )
    return format_html("<td>{}{}{}</td>", title, tags, extract)


def _sla_cell(t: Any, row: _Row) -> str:
    due = t.sla_next_due if row.breaching else t.sla_due
    cell = sla_due_html(due, t.sla_breached, now=row.now, zone=row.zone)
    return format_html('<td class="nowrap sla-cell">{}</td>', cell)


#: Column → its cell, in QUEUE_COLUMNS order (desk.models).
_CELLS: dict[str, Callable[[Any, _Row], str]] = {
    "number": lambda t, row: format_html(
        '<td class="nowrap"><a href="{}" class="row-link">{}</a></td>', row.url, t.number
    ),
    "kind": lambda t, row: format_html("<td>{}</td>", badge(t.kind, t.get_kind_display())),
    "title": _title_cell,
    "requester": lambda t, row: format_html("<td>{}</td>", t.requester),
    "priority": lambda t, row: format_html("<td>{}</td>", priority_badge(t.priority)),
    "status": lambda t, row: format_html("<td>{}</td>", badge(t.state, t.get_state_display())),
    "team": lambda t, row: format_html("<td>{}</td>", t.team or "—"),
    "assignee": lambda t, row: format_html("<td>{}</td>", t.assignee or "Unassigned"),
    "sla": _sla_cell,
    "updated": lambda t, row: format_html(
        '<td class="nowrap" title="{}">{} ago</td>',
        dateformat.format(timezone.localtime(t.updated_at), "c"),
        timesince(t.updated_at, row.now),
    ),
}


@register.simple_tag(takes_context=True)
def queue_rows(context: dict[str, Any]) -> SafeString:
    """The queue table's rows (`rows`, `show`, `breaching` from desk.views.queue): one cell
    per column shown. Built here rather than in a template loop: the template engine's
    lookups were the page's largest cost (≈7 ms for 25 rows)."""
    now = timezone.now()
    zone = viewer_zone(context["request"].user)
    cells = [cell for name, cell in _CELLS.items() if name in context["show"]]
    html = []
    for t, snippet, url in context["rows"]:
        row = _Row(url, snippet, context["show"], context["breaching"], now, zone)
        html.append(
            format_html(
                '<tr data-href="{}" data-number="{}" data-pk="{}" data-version="{}" '
                'tabindex="-1"><td class="select-col"><input type="checkbox" name="ticket" '
                'value="{}:{}" form="bulk-form" aria-label="Select {}"></td>{}</tr>',
                url,
                t.number,
                t.pk,
                t.version,
                t.pk,
                t.version,
                t.number,
                mark_safe("".join(cell(t, row) for cell in cells)),
            )
        )
    return mark_safe("".join(html))  # every piece came out of format_html
