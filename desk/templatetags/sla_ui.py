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
from django.utils.safestring import SafeString, mark_safe

from slas.calendar import business_time_between, is_working, working_intervals
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
    kind: str = "running"  # running | paused | offhours | holiday

    @property
    def colour(self) -> str:
        return SEGMENT_COLOURS[self.kind]


#: Colour-blind-safe enough: blue counts, yellow paused, greys are running-but-not-working.
SEGMENT_COLOURS = {
    "running": "#3f83f8",
    "paused": "#e3a008",
    "offhours": "#9ca3af",
    "holiday": "#6b7280",
}
#: Beyond this many pieces a long running stretch is drawn whole (its title still explains).
MAX_PIECES = 120


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

    @property
    def segment_lines(self) -> list[str]:
        """One line per stretch for the text view (working pieces share their stretch's line)."""
        return list(dict.fromkeys(s.title for s in self.segments))


def _percent(value: float) -> str:
    return f"{min(max(value, 0.0), 100.0):.2f}"


def _segments(clock: SlaClock, now: datetime, zone: tzinfo) -> tuple[list[Segment], str | None]:
    """Bar geometry over wall-clock time from start to max(now/stop, due). Running stretches
    are split into working time (counts), outside working hours and holidays (do not)."""
    calendar = clock.policy.calendar.calendar
    start = clock.started_at
    last = clock.stopped_at or now
    end = max(last, clock.due_at or last)
    span = max((end - start).total_seconds(), 1.0)

    def piece(
        kind: str, a: datetime, b: datetime, title: str, counted: timedelta | None
    ) -> Segment:
        return Segment(
            running=kind != "paused",
            left=_percent((a - start).total_seconds() / span * 100),
            width=_percent(max((b - a).total_seconds() / span * 100, 0.3)),
            title=title,
            counted=counted,
            kind=kind,
        )

    result: list[Segment] = []
    for segment in clock.segments.all():
        seg_end = segment.ended_at or last
        ended = _stamp(segment.ended_at, zone) if segment.ended_at else "now"
        when = f"{_stamp(segment.started_at, zone)} – {ended}"
        if not segment.running:
            cause = (
                f", journal entry #{segment.journal_event_id}" if segment.journal_event_id else ""
            )
            result.append(
                piece(
                    "paused",
                    segment.started_at,
                    seg_end,
                    f"Paused {when} ({segment.reason or 'no reason'}{cause})",
                    None,
                )
            )
            continue
        counted = business_time_between(calendar, segment.started_at, seg_end)
        why = segment.reason or "no reason"
        title = f"Running {when}, {human_duration(counted)} working time counted ({why})"
        working = working_intervals(calendar, segment.started_at, seg_end, limit=MAX_PIECES)
        if len(working) >= MAX_PIECES:
            result.append(piece("running", segment.started_at, seg_end, title, counted))
            continue
        cursor = segment.started_at
        for a, b in working:
            if a > cursor:
                result.extend(_gaps(piece, calendar, cursor, a, zone))
            result.append(piece("running", a, b, title, business_time_between(calendar, a, b)))
            cursor = b
        if cursor < seg_end:
            result.extend(_gaps(piece, calendar, cursor, seg_end, zone))
    marker = None
    if clock.due_at is not None:
        marker = _percent(min((clock.due_at - start).total_seconds() / span * 100, 99.5))
    return result, marker


def _gaps(piece: Any, calendar: Any, a: datetime, b: datetime, zone: tzinfo) -> list[Segment]:
    """Running stretches with no working time, split at local midnight: each day is a
    holiday or simply outside working hours."""
    pieces = []
    local_zone = calendar.zone
    cursor = a
    while cursor < b:
        local = cursor.astimezone(local_zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        stop = min(b, midnight.astimezone(a.tzinfo))
        holiday = local.date() in calendar.holidays
        kind, label = ("holiday", "Holiday") if holiday else ("offhours", "Outside working hours")
        title = f"{label} {_stamp(cursor, zone)} – {_stamp(stop, zone)}: not counted"
        pieces.append(piece(kind, cursor, stop, title, timedelta(0)))
        cursor = stop
    return pieces


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


_DUE_STYLES = {
    "breached": "color:#9b1c1c;font-weight:600",
    "at-risk": "color:#b45309;font-weight:600",
}


def sla_due_html(due: datetime | None, breached: Any, *, now: datetime, zone: tzinfo) -> SafeString:
    """Queue cell: nearest open deadline, red when breached, orange when due within 1 h."""
    if due is None:
        if breached:
            return format_html(
                '<span class="sla-due sla-breached" style="{}">Breached</span>',
                _DUE_STYLES["breached"],
            )
        return mark_safe('<span class="muted">—</span>')
    level = "breached" if breached else ("at-risk" if due - now <= AT_RISK else "ok")
    seconds = int((due - now).total_seconds())
    relative = f"in {human_duration(seconds)}" if seconds >= 0 else f"{human_duration(seconds)} ago"
    style = format_html(' style="{}"', _DUE_STYLES[level]) if level in _DUE_STYLES else ""
    return format_html(
        '<span class="sla-due sla-{}"{} title="Due {}">{}{}</span>',
        level,
        style,
        _stamp(due, zone),
        "Breached · " if breached else "",
        relative,
    )


@register.simple_tag(takes_context=True)
def sla_due_cell(context: dict[str, Any], due: datetime | None, breached: Any = False) -> str:
    """`{% sla_due_cell t.sla_due t.sla_breached %}` (see sla_due_html)."""
    return sla_due_html(
        due, breached, now=timezone.now(), zone=viewer_zone(context["request"].user)
    )
