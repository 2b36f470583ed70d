"""Backlog: open work by age and priority, flow (created vs resolved), reopen and first-contact
resolution rates, workload per team and agent, and the oldest open tickets."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accounts.models import Team, User
from tickets.choices import Priority
from tickets.models import Ticket

from .. import charts, drill
from ..charts import ChartSpec, Table
from ..periods import Period, day_start
from ..scope import Scope
from .live import OpenWork, Window
from .reader import Measures, RollupReader
from .sla import Tile

#: Age buckets: (label, lower bound, upper bound) in days; a ticket of age a falls in the
#: bucket with lower < a <= upper.
AGE_BUCKETS: list[tuple[str, int, int | None]] = [
    ("< 1 day", 0, 1),
    ("1–3 days", 1, 3),
    ("3–7 days", 3, 7),
    ("7–30 days", 7, 30),
    ("> 30 days", 30, None),
]
PRIORITIES = [p.value for p in Priority]


def priorities(scope: Scope) -> list[int]:
    """Priority columns: all, or only the one the scope is restricted to."""
    return PRIORITIES if scope.priority is None else [scope.priority]


def age_window(now: datetime, low: int, high: int | None) -> Window:
    """Creation instants [start, end) of a bucket; None = unbounded on that side."""
    start = None if high is None else now - timedelta(days=high)
    end = None if low == 0 else now - timedelta(days=low)
    return start, end


def age_table(work: OpenWork, now: datetime, zone: str) -> Table:
    """Open tickets by age bucket (rows) and priority (columns)."""
    scope = work.scope
    columns = priorities(scope)
    windows = [age_window(now, low, high) for _label, low, high in AGE_BUCKETS]
    counts = work.by_window(windows, "priority")
    table = Table(
        key="age",
        title="Open tickets by age and priority",
        columns=["Age", *(f"P{p}" for p in columns), "Total"],
        chart=ChartSpec(type="bar", series=list(range(1, len(columns) + 1)), stacked=True),
        note="Age is the time since the ticket was created, at the moment this page was made.",
        empty="No open tickets.",
    )
    for n, (name, _low, _high) in enumerate(AGE_BUCKETS):
        start, end = windows[n]
        params = drill.open_created(scope, start=start, end=end, zone=zone)
        cells = [
            charts.count(
                counts.get((n, p), 0),
                drill.queue_url(drill.with_dimension(params, "priority", p)),
            )
            for p in columns
        ]
        total = sum(counts.get((n, p), 0) for p in columns)
        total_cell = charts.count(total, drill.queue_url(params))
        table.rows.append([charts.label(name), *cells, total_cell])
    return table


def flow_table(reader: RollupReader, granularity: str) -> Table:
    period, scope = reader.period, reader.scope
    by_day = reader.grouped("day")
    table = Table(
        key="flow",
        title="Created vs resolved",
        columns=["Period", "Created", "Resolved", "Net change"],
        chart=ChartSpec(type="bar", series=[1, 2]),
    )
    for first, last in period.buckets(granularity):
        m = sum((v for d, v in by_day.items() if first <= d <= last), Measures())
        start = day_start(first, period.zone)
        end = day_start(last + timedelta(days=1), period.zone)
        name = f"{first:%d %b}" if first == last else f"{first:%d %b}–{last:%d %b}"
        table.rows.append(
            [
                charts.label(name),
                charts.count(
                    m.created,
                    drill.queue_url(drill.created(scope, start=start, end=end, zone=period.zone)),
                ),
                charts.count(
                    m.resolved,
                    drill.queue_url(drill.resolved(scope, start=start, end=end, zone=period.zone)),
                ),
                charts.label(f"{m.created - m.resolved:+d}"),
            ]
        )
    return table


def team_table(reader: RollupReader, work: OpenWork) -> Table:
    """Per team: open now, created, resolved, reopen and first-contact rates in the period."""
    period, scope = reader.period, reader.scope
    zone = period.zone
    flows = reader.grouped("team_id")
    open_counts = work.grouped("team_id")
    names = dict(Team.objects.values_list("pk", "name"))
    table = Table(
        key="teams",
        title="Per team",
        columns=["Team", "Open now", "Created", "Resolved", "Reopen rate %", "First contact %"],
        chart=ChartSpec(type="bar", series=[1, 2, 3]),
    )
    keys = sorted(
        set(flows) | set(open_counts),
        key=lambda t: ("~" if t is None else names.get(t, "")).lower(),
    )
    for team in keys:
        m = flows.get(team, Measures())
        narrow = scope.narrowed(team_id=team)
        resolved = drill.resolved(narrow, start=period.start, end=period.end, zone=zone)
        table.rows.append(
            [
                charts.label("No team" if team is None else names.get(team, f"Team {team}")),
                charts.count(
                    open_counts.get(team, 0),
                    drill.queue_url(drill.base(narrow, states=drill.OPEN)),
                ),
                charts.count(
                    m.created,
                    drill.queue_url(
                        drill.created(narrow, start=period.start, end=period.end, zone=zone)
                    ),
                ),
                charts.count(m.resolved, drill.queue_url(resolved)),
                charts.pct(m.rate("reopened"), drill.queue_url(resolved | {"reopened": ["true"]})),
                charts.pct(m.rate("fcr"), drill.queue_url(resolved | {"fcr": ["true"]})),
            ]
        )
    return table


def agent_table(reader: RollupReader, work: OpenWork) -> Table:
    """Workload per agent: open tickets by priority now, and tickets resolved in the period."""
    period, scope = reader.period, reader.scope
    open_by: dict[int | None, dict[int, int]] = {}
    for (assignee, priority), n in work.grouped("assignee_id", "priority").items():
        open_by.setdefault(assignee, {})[priority] = n
    resolved = reader.facts_counts("assignee_id", "resolved_at")
    ids = [a for a in set(open_by) | set(resolved) if a is not None]
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    columns = priorities(scope)
    table = Table(
        key="agents",
        title="Workload per agent",
        columns=["Agent", *(f"Open P{p}" for p in columns), "Open", "Resolved in period"],
        chart=ChartSpec(
            type="bar", series=list(range(1, len(columns) + 1)), stacked=True, horizontal=True
        ),
    )
    order = sorted(
        set(open_by) | set(resolved),
        key=lambda a: (-sum(open_by.get(a, {}).values()), names.get(a, "~").lower()),
    )
    for assignee in order:
        counts = open_by.get(assignee, {})
        open_params = drill.with_dimension(
            drill.base(scope, states=drill.OPEN), "assignee_id", assignee
        )
        resolved_params = drill.with_dimension(
            drill.resolved(scope, start=period.start, end=period.end, zone=period.zone),
            "assignee_id",
            assignee,
        )
        table.rows.append(
            [
                charts.label("Unassigned" if assignee is None else names.get(assignee, "?")),
                *(
                    charts.count(
                        counts.get(p, 0),
                        drill.queue_url(drill.with_dimension(open_params, "priority", p)),
                    )
                    for p in columns
                ),
                charts.count(sum(counts.values()), drill.queue_url(open_params)),
                charts.count(resolved.get(assignee, 0), drill.queue_url(resolved_params)),
            ]
        )
    return table


def oldest_table(work: OpenWork, now: datetime, limit: int = 10) -> Table:
    ids = work.oldest(limit)
    by_id = Ticket.objects.select_related("team", "assignee").in_bulk(ids)
    oldest = [by_id[i] for i in ids if i in by_id]
    table = Table(
        key="oldest",
        title=f"Oldest open tickets (top {limit})",
        columns=["Ticket", "Title", "Priority", "Team", "Assignee", "Age (days)"],
        empty="No open tickets.",
    )
    for ticket in oldest:
        url = ticket.get_absolute_url()
        age = (now - ticket.created_at).total_seconds() / 86400
        table.rows.append(
            [
                charts.label(ticket.number, url),
                charts.label(ticket.title),
                charts.label(f"P{ticket.priority}"),
                charts.label(ticket.team or "—"),
                charts.label(ticket.assignee or "Unassigned"),
                charts.Cell(f"{age:.1f}", round(age, 1), url),
            ]
        )
    return table


@dataclass
class Backlog:
    period: Period
    tiles: list[Tile] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def backlog(*, period: Period, scope: Scope, now: datetime, granularity: str) -> Backlog:
    """Everything the backlog dashboard shows."""
    reader = RollupReader(period=period, scope=scope, now=now)
    work = OpenWork(reader)
    totals = reader.totals()
    zone = period.zone
    resolved = drill.resolved(scope, start=period.start, end=period.end, zone=zone)
    open_params = drill.base(scope, states=drill.OPEN)
    open_count = work.total()
    reopen, fcr = totals.rate("reopened"), totals.rate("fcr")
    result = Backlog(period=period)
    result.tiles = [
        Tile("Open now", str(open_count), drill.queue_url(open_params), key="open"),
        Tile(
            "Created",
            str(totals.created),
            drill.queue_url(drill.created(scope, start=period.start, end=period.end, zone=zone)),
            key="created",
        ),
        Tile("Resolved", str(totals.resolved), drill.queue_url(resolved), key="resolved"),
        Tile(
            "Reopen rate",
            charts.DASH if reopen is None else f"{reopen:.1f} %",
            drill.queue_url(resolved | {"reopened": ["true"]}),
            hint=f"{totals.reopened} of {totals.resolved} resolved were reopened",
            key="reopen_rate",
        ),
        Tile(
            "First-contact resolution",
            charts.DASH if fcr is None else f"{fcr:.1f} %",
            drill.queue_url(resolved | {"fcr": ["true"]}),
            hint="resolved with at most one reply, never reopened",
            key="fcr_rate",
        ),
    ]
    result.tables = [
        age_table(work, now, zone),
        flow_table(reader, granularity),
        team_table(reader, work),
        agent_table(reader, work),
        oldest_table(work, now),
    ]
    return result
