"""Team OLAs on the dashboards: per team, the stretches (OLA clocks) that stopped in the period
met or breached, the compliance, the mean working time a team held a ticket, and the clocks
running now (with those already breached).

Read straight from slas.OlaClock, not from the rollups: a clock is one narrow row, a period's
stopped clocks come from one index range (dashboards_ola_stopped, migration 0002, which covers
every column read here), and the open ones are few (the partial unique index on open clocks).
Exact and live by construction, so there is no correction step; measured at 100k clocks in
benchmarks/dashboards_bench.py style (see the figure in the migration's docstring).

Units: an OLA figure counts *stretches*, not tickets: a ticket the team held twice in the
period counts twice (each hold is measured against the target). The drill-down lists the
tickets behind the stretches (tickets.filtersets `ola=`), so it shows fewer rows then.

Scope: the team is the clock's team (who held the ticket), not the ticket's team now; the
other dimensions (kind, priority, service, organisation) are the ticket's. A team lead's
scope (their teams) applies to the clock's team the same way."""

from dataclasses import dataclass, replace
from datetime import datetime

from django.db import connection

from accounts.models import Team
from slas.models import OlaClock
from tickets.models import Ticket

from .. import charts, drill
from ..charts import Cell, ChartSpec, Table
from ..periods import Period
from ..scope import Scope


@dataclass
class OlaFigures:
    """One team's (or all teams') OLA figures; `held_sum` in µs of working time."""

    met: int = 0
    breached: int = 0
    held_sum: int = 0
    running: int = 0
    running_breached: int = 0

    @property
    def stopped(self) -> int:
        return self.met + self.breached

    @property
    def compliance(self) -> float | None:
        return 100.0 * self.met / self.stopped if self.stopped else None

    @property
    def mean_held(self) -> int | None:
        """Mean working time (µs) of the stretches that stopped, rounded down."""
        return self.held_sum // self.stopped if self.stopped else None

    def __add__(self, other: "OlaFigures") -> "OlaFigures":
        return OlaFigures(
            self.met + other.met,
            self.breached + other.breached,
            self.held_sum + other.held_sum,
            self.running + other.running,
            self.running_breached + other.running_breached,
        )


def _team_condition(scope: Scope) -> tuple[str, dict[str, object]]:
    if scope.team_ids is None:
        return "TRUE", {}
    # A clock always has a team: "no team" in a scope matches no OLA clock.
    return "c.team_id = ANY(%(ola_teams)s)", {
        "ola_teams": [t for t in scope.team_ids if t is not None]
    }


def ola_figures(*, period: Period, scope: Scope) -> dict[int, OlaFigures]:
    """Team id → figures: clocks stopped in [period.start, period.end), and clocks open now."""
    by_ticket = replace(scope, team_ids=None)
    ticket_condition, params = by_ticket.sql("t")
    team_condition, team_params = _team_condition(scope)
    clocks, tickets = OlaClock._meta.db_table, Ticket._meta.db_table
    # The tickets are joined only when the scope reads them (kind, priority, service,
    # organisation): without it the stopped clocks are an index-only range scan.
    source = f"{clocks} c"
    if by_ticket != Scope():
        source += f" JOIN {tickets} t ON t.id = c.ticket_id"
    sql = f"""
        SELECT c.team_id,
               count(*) FILTER (WHERE c.breached_at IS NULL),
               count(*) FILTER (WHERE c.breached_at IS NOT NULL),
               coalesce(sum((extract(epoch FROM c.elapsed) * 1000000)::bigint), 0),
               0, 0
        FROM {source}
        WHERE c.stopped_at >= %(start)s AND c.stopped_at < %(end)s
          AND {team_condition} AND {ticket_condition}
        GROUP BY c.team_id
        UNION ALL
        SELECT c.team_id, 0, 0, 0, count(*), count(*) FILTER (WHERE c.breached_at IS NOT NULL)
        FROM {source}
        WHERE c.stopped_at IS NULL AND {team_condition} AND {ticket_condition}
        GROUP BY c.team_id
    """
    result: dict[int, OlaFigures] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, **team_params, "start": period.start, "end": period.end})
        for team_id, *values in cursor.fetchall():
            result[team_id] = result.get(team_id, OlaFigures()) + OlaFigures(*map(int, values))
    return result


def ola_params(
    scope: Scope,
    *,
    result: str,
    teams: tuple[int, ...] | None,
    start: datetime,
    end: datetime,
    zone: str,
) -> drill.Params:
    """Desk-queue filters for the tickets behind an OLA figure (tickets.filtersets `ola=`):
    stopped `met`/`breached`/`stopped` in [start, end), or `open`/`breached_open` now."""
    params = drill.base(replace(scope, team_ids=None), states=drill.ANY_STATE)
    params["ola"] = [result]
    if teams is not None:
        params["ola_teams"] = [str(t) for t in teams] or ["0"]
    if result in ("met", "breached", "stopped"):
        params["ola_after"] = [drill.instant(start, zone)]
        params["ola_before"] = [drill.instant(end, zone)]
    return params


COLUMNS = [
    "Team",
    "OLA met",
    "OLA breached",
    "OLA %",
    "Mean time held (working h)",
    "Running now",
    "Running, breached",
]


def ola_table(*, period: Period, scope: Scope) -> Table:
    """OLA compliance per team, with an "All teams" row when more than one team shows."""
    figures = ola_figures(period=period, scope=scope)
    names = dict(Team.objects.filter(pk__in=list(figures)).values_list("pk", "name"))
    table = Table(
        key="ola_by_team",
        title="Team OLAs",
        columns=COLUMNS,
        chart=ChartSpec(type="bar", series=[3], unit="%", y_max=100),
        note="Internal targets per team: each stretch a team held a ticket, stopped in the "
        "period (met or breached), and the clocks running now. A ticket held twice counts "
        "twice; the links list the tickets. Time held is the OLA calendar's working time, "
        "without paused time.",
        empty="No team OLA clocks in this period.",
    )

    def row(label: str, f: OlaFigures, teams: tuple[int, ...] | None) -> list[Cell]:
        def link(result: str) -> str:
            return drill.queue_url(
                ola_params(
                    scope,
                    result=result,
                    teams=teams,
                    start=period.start,
                    end=period.end,
                    zone=period.zone,
                )
            )

        return [
            charts.label(label),
            charts.count(f.met, link("met")),
            charts.count(f.breached, link("breached")),
            charts.pct(f.compliance, link("stopped")),
            charts.hours(f.mean_held, link("stopped")),
            charts.count(f.running, link("open")),
            charts.count(f.running_breached, link("breached_open")),
        ]

    ordered = sorted(figures.items(), key=lambda item: names.get(item[0], "").lower())
    for team_id, f in ordered:
        table.rows.append(row(names.get(team_id, f"Team {team_id}"), f, (team_id,)))
    if len(figures) > 1:
        total = sum(figures.values(), OlaFigures())
        allowed = None if scope.team_ids is None else tuple(t for t in scope.team_ids if t)
        table.rows.append(row("All teams", total, allowed))
    return table
