"""Reading the rollups, corrected live for what changed since the last sync.

Every figure of a period is a sum over rollup rows (or, for percentiles, a multiset of the
durations they hold). The rollups are as of the last sync (watermark W). The tickets saved
since W - MARGIN (a handful: the sync runs every minute) are the only ones whose stored facts
may be out of date, so on each request their stored contribution is taken out and their
contribution computed now from the raw rows is put in:

    figure = rollups(period) - stored facts of the changed tickets + their raw rows now

That makes every day, today included, exact at the moment of the request, at the cost of
re-deriving a few tickets. While a time zone's rollups are being built, the same rows are
computed on the fly from `TicketFact` (slower, same figures). Before the very first sync
everything is computed from the raw rows."""

import math
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from ..models import DailyRollup, DailyTeamRollup, RollupState, RollupZone, TicketFact
from ..periods import Period, day_start
from ..rollups import (
    ARRAYS,
    COUNTS,
    DIMENSIONS,
    INSTANTS,
    MARGIN,
    SUMS,
    TEAM_DIMENSIONS,
    all_ticket_ids,
    build_sql,
    derive_facts,
    rollup_rows_live,
    rollup_rows_stored,
    tickets_changed_since,
)
from ..scope import Scope

PERCENTILE = 0.9


@dataclass
class Measures:
    """Additive figures of a set of rollup rows (durations in µs)."""

    created: int = 0
    resolved: int = 0
    reopened: int = 0
    fcr: int = 0
    resp_met: int = 0
    resp_breached: int = 0
    res_met: int = 0
    res_breached: int = 0
    resp_work_sum: int = 0
    resp_cal_sum: int = 0
    res_work_sum: int = 0
    res_cal_sum: int = 0

    def __add__(self, other: "Measures") -> "Measures":
        return Measures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def __sub__(self, other: "Measures") -> "Measures":
        return Measures(
            **{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)}
        )

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    @classmethod
    def of(cls, row: dict[str, Any]) -> "Measures":
        return cls(**{f.name: int(row[f.name] or 0) for f in fields(cls)})

    def stopped(self, metric: str) -> int:
        return getattr(self, f"{metric}_met") + getattr(self, f"{metric}_breached")

    def compliance(self, metric: str) -> float | None:
        """met / (met + breached) in percent; None when no clock stopped."""
        stopped = self.stopped(metric)
        return None if not stopped else 100 * getattr(self, f"{metric}_met") / stopped

    def average(self, metric: str, measure: str) -> int | None:
        """Mean duration (µs, rounded down) of the stopped clocks; measure: work | cal."""
        stopped = self.stopped(metric)
        return None if not stopped else getattr(self, f"{metric}_{measure}_sum") // stopped

    def rate(self, part: str) -> float | None:
        """reopened or fcr as a percentage of resolved."""
        return None if not self.resolved else 100 * getattr(self, part) / self.resolved


def percentile(values: list[int], q: float = PERCENTILE) -> int | None:
    """Nearest rank, as PostgreSQL's percentile_disc: the first value whose rank reaches q."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


class RollupReader:
    """Sums and percentiles of the rollup measures over a period and scope, exact now."""

    def __init__(self, *, period: Period, scope: Scope, now: datetime) -> None:
        self.period = period
        self.scope = scope
        self.zone = period.zone
        self.now = now
        state = RollupState.objects.filter(pk=1).first()
        self.watermark = state.watermark if state is not None else None
        self.ready = RollupZone.objects.filter(zone=self.zone, ready_at__isnull=False).exists()
        self._changed: list[int] | None = None
        self._delta: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None
        self._live_facts: list[dict[str, Any]] | None = None

    # -------------------------------------------------------------- sources
    def changed_ids(self) -> list[int]:
        """Tickets whose stored facts may be stale (all of them before the first sync)."""
        if self._changed is None:
            if self.watermark is None:
                self._changed = all_ticket_ids()
            else:
                self._changed = tickets_changed_since(
                    self.watermark - MARGIN, include_clocks=False, unseen_only=True
                )
        return self._changed

    def _source(self, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """The smallest rollup table that has the scope's and the grouping's columns."""
        coarse = {"zone", "day", *TEAM_DIMENSIONS}
        if (
            self.scope.service_id is None
            and self.scope.organization_id is None
            and set(columns) <= coarse
        ):
            return DailyTeamRollup._meta.db_table, TEAM_DIMENSIONS
        return DailyRollup._meta.db_table, DIMENSIONS

    def _stored(self, columns: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
        """SQL relation of the stored rollup rows of the period."""
        table, dims = self._source(columns)
        first, last = self.period.first, self.period.last
        params: dict[str, Any] = {"zone": self.zone, "s_first": first, "s_last": last}
        if self.watermark is None:
            return f"SELECT * FROM {table} WHERE FALSE", params
        if self.ready:
            return (
                f"SELECT * FROM {table} "
                "WHERE zone = %(zone)s AND day >= %(s_first)s AND day <= %(s_last)s",
                params,
            )
        # The zone's rollups are being built: the same rows, computed from the facts.
        params |= {
            "f_start": day_start(first, self.zone),
            "f_end": day_start(last + timedelta(days=1), self.zone),
        }
        instants = " OR ".join(f"({c} >= %(f_start)s AND {c} < %(f_end)s)" for c in INSTANTS)
        facts = f"SELECT * FROM {TicketFact._meta.db_table} WHERE {instants}"
        return build_sql(facts, "day >= %(s_first)s AND day <= %(s_last)s", dims), params

    def delta(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(rows to take out, rows to put in) for the changed tickets, in scope and period."""
        if self._delta is None:
            ids = self.changed_ids()
            days = {"first_day": self.period.first, "last_day": self.period.last}
            stale = (
                [] if self.watermark is None else rollup_rows_stored(ids, zone=self.zone, **days)
            )
            fresh = rollup_rows_live(ids, zone=self.zone, **days)
            self._delta = (
                [r for r in stale if self.scope.matches(r)],
                [r for r in fresh if self.scope.matches(r)],
            )
        return self._delta

    # -------------------------------------------------------------- figures
    def grouped(self, columns: str | tuple[str, ...]) -> dict[Any, Measures]:
        """Measures per value of a rollup column ("day" or a dimension), or per tuple of
        values of several columns."""
        names = (columns,) if isinstance(columns, str) else columns
        relation, params = self._stored(names)
        condition, scope_params = self.scope.sql("r")
        sums = ", ".join(f"sum(r.{c})::bigint AS {c}" for c in (*COUNTS, *SUMS))
        keys = ", ".join(f"r.{c}" for c in names)
        sql = f"SELECT {keys}, {sums} FROM ({relation}) r WHERE {condition} GROUP BY {keys}"
        result: dict[Any, Measures] = defaultdict(Measures)

        def key(row: dict[str, Any]) -> Any:
            return row[columns] if isinstance(columns, str) else tuple(row[c] for c in names)

        if self.watermark is not None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params | scope_params)
                described = [c.name for c in cursor.description]
                for values in cursor.fetchall():
                    row = dict(zip(described, values, strict=True))
                    result[key(row)] += Measures.of(row)
        stale, fresh = self.delta()
        for row in stale:
            result[key(row)] -= Measures.of(row)
        for row in fresh:
            result[key(row)] += Measures.of(row)
        return {k: m for k, m in result.items() if m}

    def totals(self) -> Measures:
        return sum(self.grouped("zone").values(), Measures())

    def percentiles(self, q: float = PERCENTILE) -> dict[str, int | None]:
        """The q-percentile (nearest rank) of each duration array (resp_work, resp_cal, …):
        stored durations, minus the changed tickets' stored ones, plus their current ones."""
        stale, fresh = self.delta()
        removed = {a: [v for row in stale for v in row[a]] for a in ARRAYS}
        added = {a: [v for row in fresh for v in row[a]] for a in ARRAYS}
        if self.watermark is None:
            return {a: percentile(added[a], q) for a in ARRAYS}
        relation, params = self._stored()
        condition, scope_params = self.scope.sql("r")

        def values(a: str) -> str:
            union = f"SELECT unnest({a}) AS v FROM d UNION ALL SELECT unnest(%(add_{a})s::bigint[])"
            if not removed[a]:
                return union
            # multiset difference: each stale duration taken out once
            return f"({union}) EXCEPT ALL SELECT unnest(%(del_{a})s::bigint[])"

        picks = ", ".join(
            f"(SELECT percentile_disc(%(q)s) WITHIN GROUP (ORDER BY v) FROM ({values(a)}) x) AS {a}"
            for a in ARRAYS
        )
        sql = (
            f"WITH d AS MATERIALIZED (SELECT {', '.join(f'r.{a}' for a in ARRAYS)} "
            f"FROM ({relation}) r WHERE {condition}) SELECT {picks}"
        )
        params |= scope_params | {"q": q}
        params |= {f"add_{a}": added[a] for a in ARRAYS} | {f"del_{a}": removed[a] for a in ARRAYS}
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return {a: (None if v is None else int(v)) for a, v in zip(ARRAYS, row, strict=True)}

    # -------------------------------------------------------------- fact rows
    def live_facts(self) -> list[dict[str, Any]]:
        """Fact rows of the changed tickets, computed now (in scope)."""
        if self._live_facts is None:
            rows = derive_facts(self.changed_ids())
            self._live_facts = [r for r in rows if self.scope.matches(r)]
        return self._live_facts

    def _stored_facts_sql(self, instant: str, select: str, tail: str = "") -> tuple[str, dict]:
        condition, params = self.scope.sql("f")
        sql = (
            f"SELECT {select} FROM {TicketFact._meta.db_table} f "
            f"WHERE f.{instant} >= %(a)s AND f.{instant} < %(b)s AND {condition} "
            f"AND NOT (f.ticket_id = ANY(%(changed)s)) {tail}"
        )
        params |= {"a": self.period.start, "b": self.period.end, "changed": self.changed_ids()}
        return sql, params

    def _live_in_period(self, instant: str) -> list[dict[str, Any]]:
        start, end = self.period.start, self.period.end
        return [
            r for r in self.live_facts() if r[instant] is not None and start <= r[instant] < end
        ]

    def facts_counts(self, group: str, instant: str) -> dict[Any, int]:
        """Tickets per value of a fact column (e.g. assignee_id) whose `instant` (e.g.
        resolved_at) falls in the period: stored facts of the unchanged tickets, raw rows of
        the changed ones."""
        counts: dict[Any, int] = defaultdict(int)
        if self.watermark is not None:
            sql, params = self._stored_facts_sql(
                instant, f"f.{group}, count(*)", f"GROUP BY f.{group}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                for value, n in cursor.fetchall():
                    counts[value] += n
        for row in self._live_in_period(instant):
            counts[row[group]] += 1
        return dict(counts)

    def facts_in_period(self, instant: str, **equal: Any) -> list[dict[str, Any]]:
        """Fact rows (in scope, with the given column values) whose `instant` falls in the
        period. For moderate sets only (rows come to Python), e.g. a period's requests."""
        rows: list[dict[str, Any]] = []
        if self.watermark is not None:
            extra = "".join(f" AND f.{column} = %(eq_{column})s" for column in equal)
            sql, params = self._stored_facts_sql(instant, "*", extra)
            params |= {f"eq_{column}": value for column, value in equal.items()}
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                names = [c.name for c in cursor.description]
                rows += [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        for row in self._live_in_period(instant):
            if all(row[c] == v for c, v in equal.items()):
                rows.append(row)
        return rows
