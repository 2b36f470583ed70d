"""SLA overview: compliance, breaches, open breached and at-risk work, response and
resolution times (working and calendar, mean and 90th percentile) and their trend."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from accounts.models import Team
from slas.models import SlaClock, SlaPolicy
from tickets.choices import Priority
from tickets.models import Ticket

from .. import charts, drill
from ..charts import Cell, ChartSpec, Table
from ..periods import Period, day_start
from ..scope import Scope
from .ola import ola_table
from .reader import Measures, RollupReader

METRICS = (("resp", "response", "Response"), ("res", "resolution", "Resolution"))


def compliance_target() -> float:
    """The compliance every SLA metric is held to (percent; the trend's target line)."""
    return float(getattr(settings, "DASHBOARDS_SLA_TARGET", 95.0))


@dataclass
class Tile:
    label: str
    value: str
    url: str | None = None
    alert: bool = False
    hint: str = ""
    key: str = ""


@dataclass
class Overview:
    period: Period
    scope: Scope
    totals: Measures
    p90: dict[str, int | None]
    tiles: list[Tile] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def open_sla_counts(scope: Scope) -> dict[str, int]:
    """Open tickets in scope with a breached clock (`breached_open`) and with a clock past
    its policy's last warning threshold, not breached (`at_risk`). Each is read from its own
    small partial index (slas_clock_breached_open, slas_clock_warned_open: a clock with a
    warning past every threshold has at least one), not from every open clock. The same
    conditions as the desk-queue filters `sla=breached_open|at_risk` (tickets.filtersets),
    which the tests hold it to."""
    clocks = SlaClock._meta.db_table
    policies = SlaPolicy._meta.db_table
    tickets = Ticket._meta.db_table
    condition, params = scope.sql("t")
    sql = f"""
        SELECT
          (SELECT count(DISTINCT c.ticket_id)
           FROM {clocks} c JOIN {tickets} t ON t.id = c.ticket_id
           WHERE c.state = 'breached' AND c.stopped_at IS NULL
             AND t.state = ANY(%(open)s) AND {condition}),
          (SELECT count(DISTINCT c.ticket_id)
           FROM {clocks} c
           JOIN {policies} p ON p.id = c.policy_id
           JOIN {tickets} t ON t.id = c.ticket_id
           WHERE c.stopped_at IS NULL AND c.breached_at IS NULL AND NOT c.warnings = '{{}}'
             AND c.state IN ('running', 'paused')
             AND cardinality(p.warning_thresholds) > 0
             AND c.warnings @> p.warning_thresholds
             AND t.state = ANY(%(open)s) AND {condition})
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params | {"open": drill.OPEN})
        breached, at_risk = cursor.fetchone()
    return {"breached_open": breached, "at_risk": at_risk}


def _span(period: Period, first: date, last: date) -> tuple[datetime, datetime]:
    return day_start(first, period.zone), day_start(last + timedelta(days=1), period.zone)


def _compliance_cells(
    m: Measures, scope: Scope, start: datetime, end: datetime, zone: str
) -> list[Cell]:
    cells = []
    for prefix, metric, _label in METRICS:

        def link(result: str, metric: str = metric) -> str:
            return drill.queue_url(
                drill.sla_stopped(
                    scope, metric=metric, result=result, start=start, end=end, zone=zone
                )
            )

        cells += [
            charts.count(getattr(m, f"{prefix}_met"), link("met")),
            charts.count(getattr(m, f"{prefix}_breached"), link("breached")),
            charts.pct(m.compliance(prefix), link("stopped")),
        ]
    return cells


COMPLIANCE_COLUMNS = [
    "Response met",
    "Response breached",
    "Response %",
    "Resolution met",
    "Resolution breached",
    "Resolution %",
]


def _compliance_chart(kind: str = "bar") -> ChartSpec:
    target = compliance_target()
    return ChartSpec(
        type=kind,
        series=[3, 6],
        unit="%",
        target=target,
        target_label=f"Target {target:g} %",
        y_max=100,
    )


def trend_table(reader: RollupReader, granularity: str) -> Table:
    period, scope = reader.period, reader.scope
    by_day = reader.grouped("day")
    table = Table(
        key="trend",
        title="Compliance trend",
        columns=["Period", *COMPLIANCE_COLUMNS],
        chart=_compliance_chart("line"),
        note="Clocks that stopped in each day or week, against the compliance target.",
    )
    for first, last in period.buckets(granularity):
        m = sum(
            (v for d, v in by_day.items() if first <= d <= last),
            Measures(),
        )
        start, end = _span(period, first, last)
        name = f"{first:%d %b}" if first == last else f"{first:%d %b}–{last:%d %b}"
        table.rows.append(
            [charts.label(name), *_compliance_cells(m, scope, start, end, period.zone)]
        )
    return table


def breakdown_table(
    reader: RollupReader,
    *,
    key: str,
    title: str,
    column: str,
    heading: str,
    names: Callable[[Any], str],
    narrow: Callable[[Any], Scope],
) -> Table:
    """Compliance per value of a dimension (team, priority…), one row per value seen."""
    period = reader.period
    groups = reader.grouped(column)
    table = Table(
        key=key,
        title=title,
        columns=[heading, *COMPLIANCE_COLUMNS],
        chart=_compliance_chart(),
    )
    rows = [(value, m) for value, m in groups.items() if m.stopped("resp") or m.stopped("res")]
    for value, m in sorted(rows, key=lambda item: names(item[0]).lower()):
        cells = _compliance_cells(m, narrow(value), period.start, period.end, period.zone)
        table.rows.append([charts.label(names(value)), *cells])
    return table


def times_table(reader: RollupReader, totals: Measures, p90: dict[str, int | None]) -> Table:
    period, scope = reader.period, reader.scope
    table = Table(
        key="times",
        title="Time to respond and resolve",
        columns=[
            "Metric",
            "Clocks stopped",
            "Mean working h",
            "P90 working h",
            "Mean calendar h",
            "P90 calendar h",
        ],
        chart=ChartSpec(type="bar", series=[2, 3, 4, 5], unit="h"),
        note="Working time counts only the SLA calendar's hours and excludes paused time; "
        "calendar time is start to stop. P90: nearest rank.",
    )
    for prefix, metric, name in METRICS:
        url = drill.queue_url(
            drill.sla_stopped(
                scope,
                metric=metric,
                result="stopped",
                start=period.start,
                end=period.end,
                zone=period.zone,
            )
        )
        table.rows.append(
            [
                charts.label(name),
                charts.count(totals.stopped(prefix), url),
                charts.hours(totals.average(prefix, "work"), url),
                charts.hours(p90[f"{prefix}_work"], url),
                charts.hours(totals.average(prefix, "cal"), url),
                charts.hours(p90[f"{prefix}_cal"], url),
            ]
        )
    return table


def _tiles(overview: Overview, reader: RollupReader) -> list[Tile]:
    period, scope, totals = overview.period, overview.scope, overview.totals
    target = compliance_target()
    tiles = []
    for prefix, metric, name in METRICS:

        def link(result: str, metric: str = metric) -> str:
            return drill.queue_url(
                drill.sla_stopped(
                    scope,
                    metric=metric,
                    result=result,
                    start=period.start,
                    end=period.end,
                    zone=period.zone,
                )
            )

        value = totals.compliance(prefix)
        tiles.append(
            Tile(
                f"{name} compliance",
                charts.DASH if value is None else f"{value:.1f} %",
                link("stopped"),
                alert=value is not None and value < target,
                hint=f"{totals.stopped(prefix)} clocks stopped, target {target:g} %",
                key=f"{prefix}_compliance",
            )
        )
        tiles.append(
            Tile(
                f"{name} breaches",
                str(getattr(totals, f"{prefix}_breached")),
                link("breached"),
                alert=bool(getattr(totals, f"{prefix}_breached")),
                key=f"{prefix}_breaches",
            )
        )
    live = open_sla_counts(scope)
    for which, name, hint in (
        ("breached_open", "Breached, still open", "open tickets past an SLA deadline"),
        ("at_risk", "At risk", "open tickets past the last warning threshold"),
    ):
        params = drill.sla_open(scope, which=which)
        n = live[which]
        tiles.append(Tile(name, str(n), drill.queue_url(params), bool(n), hint, which))
    for prefix, metric, _name in METRICS:
        url = drill.queue_url(
            drill.sla_stopped(
                scope,
                metric=metric,
                result="stopped",
                start=period.start,
                end=period.end,
                zone=period.zone,
            )
        )
        tiles.append(
            Tile(
                f"Mean time to {'respond' if prefix == 'resp' else 'resolve'}",
                charts.human_duration(totals.average(prefix, "work")),
                url,
                hint=f"working time; p90 {charts.human_duration(overview.p90[f'{prefix}_work'])}",
                key=f"{prefix}_mean",
            )
        )
    return tiles


def sla_overview(*, period: Period, scope: Scope, now: datetime, granularity: str) -> Overview:
    """Everything the SLA overview shows, as tiles and tables."""
    reader = RollupReader(period=period, scope=scope, now=now)
    totals = reader.totals()
    p90 = reader.percentiles()
    overview = Overview(period=period, scope=scope, totals=totals, p90=p90)
    overview.tiles = _tiles(overview, reader)
    teams = dict(Team.objects.values_list("pk", "name"))
    overview.tables = [
        trend_table(reader, granularity),
        times_table(reader, totals, p90),
        breakdown_table(
            reader,
            key="by_team",
            title="Compliance by team",
            column="team_id",
            heading="Team",
            names=lambda t: "No team" if t is None else teams.get(t, f"Team {t}"),
            narrow=lambda t: scope.narrowed(team_id=t),
        ),
        breakdown_table(
            reader,
            key="by_priority",
            title="Compliance by priority",
            column="priority",
            heading="Priority",
            names=lambda p: str(Priority(p).label),
            narrow=lambda p: scope.narrowed(priority=p),
        ),
        ola_table(period=period, scope=scope),
    ]
    return overview
