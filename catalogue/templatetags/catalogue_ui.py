"""Catalogue presentation: item descriptions are Markdown written by admins, rendered and then
cleaned with nh3 (an allow-list sanitiser), so no script or event handler ever gets through."""

from datetime import timedelta

from django import template
from django.utils.safestring import SafeString

from core.markdown import ALLOWED_TAGS, render_markdown

register = template.Library()

# The renderer moved down to core so tickets can use it too; these names stay importable here.
__all__ = ["ALLOWED_TAGS", "markdown_filter", "render_markdown", "working_time"]


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text)


def working_time(value: timedelta | None) -> str:
    """'3 working days' style text for a working-time duration (8-hour days)."""
    if value is None:
        return ""
    hours = value.total_seconds() / 3600
    if hours >= 8 and hours % 8 == 0:
        days = int(hours // 8)
        return f"{days} working day{'s' if days != 1 else ''}"
    if hours >= 1:
        whole = round(hours, 1)
        text = f"{whole:g}"
        return f"{text} working hour{'s' if whole != 1 else ''}"
    minutes = int(value.total_seconds() // 60)
    return f"{minutes} working minute{'s' if minutes != 1 else ''}"


@register.filter(name="working_time")
def working_time_filter(value: timedelta | None) -> str:
    return working_time(value)
