"""SLA presentation: human durations, state badges (colours from slas.choices.CLOCK_COLOURS),
the per-clock view the desk card renders, and the queue's deadline cell.

Nothing here queries the database: callers pass clocks loaded with
`slas.querysets.clocks_for_display` (policy, calendar, segments and events)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.html import format_html

from slas.calendar import business_time_between, is_working
from slas.choices import CLOCK_COLOURS, Metric
from slas.models import SlaClock
from slas.services import worked

register = template.Library()

#: A deadline closer than this is "at risk" (orange) in queues.
AT_RISK = timedelta(hours=1)
_METRIC_ORDER = {value: index for index, value in enumerate(Metric.values)}


def human_duration(value: timedelta | float | int | None) -> str:
    """'2 d 4 h', '3 h 12 min', '12 min 5 s', '40 s' (absolute value; sign is the caller's)."""
    if value is None:
        return "—"
    seconds = int(abs(value.total_seconds() if isinstance(value, timedelta) else value))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def left_text(seconds: int) -> str:
    """Working time left; negative is shown as 'overdue by …' (sla.js mirrors this)."""
    return f"overdue by {human_duration(seconds)}" if seconds < 0 else human_duration(seconds)


@register.filter
def duration(value: timedelta | float | int | None) -> str:
    """`{{ clock.target|duration }}` → '4 h'."""
    return human_duration(value)


@register.simple_tag
def clock_badge(clock: SlaClock) -> str:
    colour = CLOCK_COLOURS.get(clock.state, "grey")
    return format_html('<span class="badge badge-{}">{}</span>', colour, clock.get_state_display())


def viewer_zone(user: Any) -> tzinfo:
    try:
        return ZoneInfo(getattr(user, "time_zone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _stamp(value: datetime | None, zone: tzinfo) -> str:
    return timezone.localtime(value, zone).strftime("%a %d %b %H:%M:%S %Z") if value else ""


@dataclass
class Segment:
    running: bool
    left: str  # percent of the bar, preformatted (no locale commas)
    width: str
    title: str
    counted: timedelta | None  # working time counted, running segments only


@dataclass
class ClockView:
    clock: SlaClock
    zone: tzinfo
    worked: timedelta
    left_seconds: int
    left_text: str
    running: bool
    working: bool
    segments: list[Segment] = field(default_factory=list)
    due_marker: str | None = None
    due_title: str = ""

    @property
    def overdue(self) -> bool:
        return self.left_seconds < 0


def _percent(value: float) -> str:
    return f"{min(max(value, 0.0), 100.0):.2f}"


def _segments(clock: SlaClock, now: datetime, zone: tzinfo) -> tuple[list[Segment], str | None]:
    """Bar geometry: segments over wall-clock time from start to max(now/stop, due)."""
    calendar = clock.policy.calendar.calendar
    start = clock.started_at
    last = clock.stopped_at or now
    end = max(last, clock.due_at or last)
    span = max((end - start).total_seconds(), 1.0)
    result = []
    for segment in clock.segments.all():
        seg_end = segment.ended_at or last
        counted = (
            business_time_between(calendar, segment.started_at, seg_end)
            if segment.running
            else None
        )
        what = "Running" if segment.running else "Paused"
        detail = f", {human_duration(counted)} working time counted" if counted is not None else ""
        title = (
            f"{what} {_stamp(segment.started_at, zone)} – "
            f"{_stamp(segment.ended_at, zone) if segment.ended_at else 'now'}"
            f"{detail} ({segment.reason or 'no reason'})"
        )
        result.append(
            Segment(
                running=segment.running,
                left=_percent((segment.started_at - start).total_seconds() / span * 100),
                width=_percent(
                    max((seg_end - segment.started_at).total_seconds() / span * 100, 0.5)
                ),
                title=title,
                counted=counted,
            )
        )
    marker = None
    if clock.due_at is not None:
        marker = _percent(min((clock.due_at - start).total_seconds() / span * 100, 99.5))
    return result, marker


def clock_view(clock: SlaClock, now: datetime, zone: tzinfo) -> ClockView:
    done = worked(clock, now)
    left = int((clock.target - done).total_seconds())
    running = clock.running_since is not None and clock.is_open
    segments, marker = _segments(clock, now, zone)
    return ClockView(
        clock=clock,
        zone=zone,
        worked=done,
        left_seconds=left,
        left_text=left_text(left),
        running=running,
        working=running and is_working(clock.policy.calendar.calendar, now),
        segments=segments,
        due_marker=marker,
        due_title=f"Due {_stamp(clock.due_at, zone)}" if clock.due_at else "",
    )


@register.simple_tag(takes_context=True)
def sla_clock_views(context: dict[str, Any], clocks: Any) -> list[ClockView]:
    """`{% sla_clock_views clocks as views %}`: response before resolution, times in the
    viewer's zone, one `now` for the whole card."""
    now = timezone.now()
    zone = viewer_zone(context["request"].user)
    ordered = sorted(clocks, key=lambda c: _METRIC_ORDER.get(c.metric, 99))
    return [clock_view(clock, now, zone) for clock in ordered]


@register.inclusion_tag("components/_sla_due.html", takes_context=True)
def sla_due_cell(
    context: dict[str, Any], due: datetime | None, breached: bool = False
) -> dict[str, Any]:
    """Queue cell: nearest open deadline, red when breached, orange when due within 1 h."""
    now = timezone.now()
    zone = viewer_zone(context["request"].user)
    level = ""
    if breached:
        level = "breached"
    elif due is not None and due - now <= AT_RISK:
        level = "at-risk"
    seconds = int((due - now).total_seconds()) if due is not None else 0
    return {
        "due": due,
        "level": level,
        "breached": breached,
        "relative": (
            f"in {human_duration(seconds)}" if seconds >= 0 else f"{human_duration(seconds)} ago"
        ),
        "absolute": _stamp(due, zone),
    }
