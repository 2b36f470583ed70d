"""Template helpers for tickets: badges coloured from choices.BADGE_COLOURS."""

from django import template
from django.utils.html import format_html

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
