"""Template helpers for tickets: badges coloured from choices.BADGE_COLOURS."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.markdown import render_markdown
from tickets.choices import BADGE_COLOURS

register = template.Library()


@register.simple_tag
def badge(value: str, label: str = "") -> str:
    """A coloured badge for a choice value: `{% badge t.state t.get_state_display %}`."""
    colour = BADGE_COLOURS.get(value, "grey")
    return format_html('<span class="badge badge-{}">{}</span>', colour, label or value)


@register.simple_tag
def priority_badge(priority: int) -> str:
    return format_html('<span class="badge prio-{}">P{}</span>', priority, priority)


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """A reply or note rendered by the one safe Markdown renderer (single newlines kept)."""
    return render_markdown(text, hard_breaks=True)


@register.filter
def minutes(value: int | None) -> str:
    """Logged work for display: 45 → "45 min", 90 → "1 h 30 min", 120 → "2 h"."""
    if not value:
        return "0 min"
    hours, mins = divmod(int(value), 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins} min" if mins else f"{hours} h"
