"""The requester's view of SLAs: promises in plain words, no policies or internal figures."""

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template

from slas.choices import ClockState, Metric
from slas.models import SlaClock

register = template.Library()

PROMISE = {Metric.RESPONSE: "We aim to respond by", Metric.RESOLUTION: "We aim to resolve this by"}


@register.inclusion_tag("portal/_sla_promise.html", takes_context=True)
def sla_promise(context: dict[str, Any], ticket: Any) -> dict[str, Any]:
    user = context["request"].user
    try:
        zone = ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    lines = []
    clocks = SlaClock.objects.filter(ticket=ticket, stopped_at__isnull=True).exclude(
        state=ClockState.CANCELLED
    )
    for clock in clocks.order_by("metric"):
        if clock.paused_at is not None:
            text = "Our target time is on hold while we wait for an answer."
        elif clock.is_breached:
            text = "We are past our target time for this and are working on it."
        elif clock.due_at:
            text = f"{PROMISE[clock.metric]} {clock.due_at.astimezone(zone):%a %d %b, %H:%M %Z}."
        else:
            continue
        lines.append(text)
    return {"lines": lines}
