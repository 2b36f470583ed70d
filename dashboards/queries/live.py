"""Open work now (backlog ages, workload, live counts), from the facts.

Counting open tickets on the ticket table means visiting every open ticket's row; the facts
table answers from a small partial index instead. As for the rollups, the tickets saved since
the last sync are taken from the raw rows (re-derived on this request) rather than from their
stored facts, so the counts are those of the tickets as they are now."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import connection

from tickets.choices import OPEN_STATES

from ..models import TicketFact
from ..scope import Scope
from .reader import RollupReader

OPEN = [str(s) for s in OPEN_STATES]
Window = tuple[datetime | None, datetime | None]


class OpenWork:
    """Counts and lists of the open tickets in a scope, exact now."""

    def __init__(self, reader: RollupReader) -> None:
        self.reader = reader
        self.scope: Scope = reader.scope

    def _stored(self, select: str, tail: str = "", **params: Any) -> list[tuple]:
        if self.reader.watermark is None:
            return []  # no facts yet: every ticket is among the changed ones
        condition, scope_params = self.scope.sql("f")
        sql = (
            f"SELECT {select} FROM {TicketFact._meta.db_table} f "
            f"WHERE f.state = ANY(%(open)s) AND NOT (f.ticket_id = ANY(%(changed)s)) "
            f"AND {condition} {tail}"
        )
        values = scope_params | params | {"open": OPEN, "changed": self.reader.changed_ids()}
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.fetchall()

    def _live(self) -> list[dict[str, Any]]:
        return [r for r in self.reader.live_facts() if r["state"] in OPEN]

    def grouped(self, *columns: str) -> dict[Any, int]:
        """Open tickets per value (or tuple of values) of fact columns; () for the total."""
        keys = ", ".join(f"f.{c}" for c in columns)
        select = f"{keys}, count(*)" if columns else "count(*)"
        tail = f"GROUP BY {keys}" if columns else ""
        counts: dict[Any, int] = defaultdict(int)

        def key(values: tuple) -> Any:
            return values[0] if len(values) == 1 else values

        for row in self._stored(select, tail):
            counts[key(row[:-1]) if columns else ()] += row[-1]
        for fact in self._live():
            counts[key(tuple(fact[c] for c in columns)) if columns else ()] += 1
        return dict(counts)

    def total(self) -> int:
        return self.grouped().get((), 0)

    def by_window(self, windows: list[Window], column: str) -> dict[tuple[int, Any], int]:
        """Open tickets per (index of the creation window [start, end), column value)."""
        cases, params = [], {}
        for n, (start, end) in enumerate(windows):
            parts = ["TRUE"]
            if start is not None:
                parts.append(f"f.created_at >= %(w{n}s)s")
                params[f"w{n}s"] = start
            if end is not None:
                parts.append(f"f.created_at < %(w{n}e)s")
                params[f"w{n}e"] = end
            cases.append(f"WHEN {' AND '.join(parts)} THEN {n}")
        bucket = f"CASE {' '.join(cases)} END"
        counts: dict[tuple[int, Any], int] = defaultdict(int)
        rows = self._stored(f"{bucket} AS bucket, f.{column}, count(*)", "GROUP BY 1, 2", **params)
        for index, value, n in rows:
            if index is not None:
                counts[(index, value)] += n
        for fact in self._live():
            index = _window_of(fact["created_at"], windows)
            if index is not None:
                counts[(index, fact[column])] += 1
        return dict(counts)

    def oldest(self, limit: int) -> list[int]:
        """Ids of the `limit` longest-open tickets (oldest first)."""
        stored = self._stored(
            "f.created_at, f.ticket_id",
            "ORDER BY f.created_at, f.ticket_id LIMIT %(limit)s",
            limit=limit,
        )
        live = [(f["created_at"], f["ticket_id"]) for f in self._live()]
        return [ticket_id for _at, ticket_id in sorted([*stored, *live])[:limit]]


def _window_of(instant: datetime, windows: list[Window]) -> int | None:
    for n, (start, end) in enumerate(windows):
        if (start is None or instant >= start) and (end is None or instant < end):
            return n
    return None


def open_work(scope: Scope, now: datetime, reader: RollupReader | None = None) -> OpenWork:
    """Open work in a scope; shares the reader's changed tickets when there is one."""
    if reader is None:
        from ..periods import Period, local_date

        today = local_date(now, "UTC")
        reader = RollupReader(period=Period("UTC", today, today), scope=scope, now=now)
    return OpenWork(reader)
