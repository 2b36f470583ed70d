"""Change badges (colours from changes.choices) and small calendar helpers."""

from typing import Any

from django import template
from django.utils.html import format_html

from changes.choices import CHANGE_COLOURS, RISK_COLOURS

register = template.Library()


@register.simple_tag
def change_badge(value: str, label: str = "") -> str:
    """`{% change_badge c.status c.get_status_display %}`: status, type and outcome badges."""
    colour = CHANGE_COLOURS.get(value, "grey")
    return format_html('<span class="badge badge-{}">{}</span>', colour, label or value)


@register.simple_tag
def risk_badge(risk: str, label: str = "") -> str:
    colour = RISK_COLOURS.get(risk, "grey")
    return format_html(
        '<span class="badge badge-{}">{} risk</span>', colour, label or risk.capitalize()
    )


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`{{ answers|get_item:q.pk }}`."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
