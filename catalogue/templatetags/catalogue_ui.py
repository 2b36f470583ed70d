"""Catalogue presentation: item descriptions are Markdown written by admins, rendered and then
cleaned with nh3 (an allow-list sanitiser), so no script or event handler ever gets through."""

from datetime import timedelta

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

#: Tags a description may use after cleaning (nh3's defaults minus images and tables' extras).
ALLOWED_TAGS = {
    "a", "p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(text: str) -> SafeString:
    """Markdown → HTML → sanitised HTML. Links get rel="noopener noreferrer"."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"])
    clean = nh3.clean(html, tags=ALLOWED_TAGS, link_rel="noopener noreferrer")
    return mark_safe(clean)  # sanitised by nh3 just above


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
