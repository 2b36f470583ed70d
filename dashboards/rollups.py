"""Maintenance of the dashboards' read models (see dashboards/models.py for why they exist).

Three SQL building blocks, used by every path so that all of them count the same way:

* `derive_sql`: raw rows (ticket, incident detail, stopped SLA clocks, journal) → one fact row
  per ticket;
* `build_sql`: fact rows → rollup rows of one time zone (one row per local day and dimension
  combination);
* the incremental sync (`rollups_sync`, Celery beat every minute) re-derives the facts of the
  tickets changed since the last run and rebuilds, in every kept zone, only the days those
  tickets moved out of or into; `rollups_rebuild` (the `rebuild_dashboards` command) derives
  everything from scratch.

Change detection relies on one invariant of the ticket services: every change that moves a
figure (status, resolution, clock stop, reopen, reply, reassignment) saves the envelope, so
`Ticket.updated_at` is at least the instant the figure is dated by, minus the length of that
transaction. SLA clocks changed without a ticket save (e.g. a replay) are caught by their own
`updated_at`. Bulk writes that bypass the services (imports, fixture scripts using
`QuerySet.update`) must be followed by `manage.py rebuild_dashboards`."""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import MANAGER_ROLES
from incidents.models import Incident
from slas.models import SlaClock
from tickets.choices import EventType, TicketState
from tickets.models import Ticket, TicketEvent

from .models import DailyRollup, DailyTeamRollup, RollupState, RollupZone, TicketFact
from .periods import day_start, local_date, zone_or_utc

#: A ticket saved at T may commit a little later; re-reading this far back never misses it.
MARGIN = timedelta(minutes=10)
#: Tickets re-derived per statement.
BATCH = 5_000
REBUILD_BATCH = 50_000

DIMENSIONS = (
    "kind",
    "priority",
    "team_id",
    "service_id",
    "organization_id",
    "category_id",
    "channel",
)
TEAM_DIMENSIONS = ("kind", "priority", "team_id")
COUNTS = (
    "created",
    "resolved",
    "reopened",
    "fcr",
    "resp_met",
    "resp_breached",
    "res_met",
    "res_breached",
)
SUMS = ("resp_work_sum", "resp_cal_sum", "res_work_sum", "res_cal_sum")
ARRAYS = ("resp_work", "resp_cal", "res_work", "res_cal")
FACT_COLUMNS = (
    "ticket_id",
    "kind",
    "priority",
    "state",
    "team_id",
    "service_id",
    "organization_id",
    "assignee_id",
    "category_id",
    "channel",
    "created_at",
    "resolved_at",
    "reopens",
    "replies",
    "resp_state",
    "resp_stopped_at",
    "resp_work",
    "resp_cal",
    "res_state",
    "res_stopped_at",
    "res_work",
    "res_cal",
    "stamp",
)
#: The instants a fact's figures are dated by (a rollup day depends on these only).
INSTANTS = ("created_at", "resolved_at", "resp_stopped_at", "res_stopped_at")
ALL_STATES = [s.value for s in TicketState]


def micro(expression: str) -> str:
    """An interval as exact integer microseconds (EXTRACT returns numeric, never a float)."""
    return f"(EXTRACT(EPOCH FROM ({expression})) * 1000000)::bigint"


def _clock(alias: str, metric: str) -> str:
    clocks = SlaClock._meta.db_table
    # Only a stopped clock has an outcome; a reopened ticket's clock runs again (stopped_at
    # cleared) and counts once more when it stops. Cancelled clocks never count.
    return (
        f"LEFT JOIN {clocks} {alias} ON {alias}.ticket_id = t.id AND {alias}.metric = '{metric}'"
        f" AND {alias}.stopped_at IS NOT NULL AND {alias}.state IN ('met', 'breached')"
    )


def derive_sql(condition: str) -> str:
    """SELECT of fact rows (FACT_COLUMNS) for the tickets matching `condition`, written on the
    alias `{t}` (it is applied to the tickets and to the journal sub-aggregate alike)."""
    tickets = Ticket._meta.db_table
    events = TicketEvent._meta.db_table
    incidents = Incident._meta.db_table
    return f"""
        SELECT t.id AS ticket_id, t.kind, t.priority, t.state, t.team_id, t.service_id,
               t.organization_id, t.assignee_id, i.category_id, COALESCE(i.channel, '') AS channel,
               t.created_at, t.resolved_at,
               COALESCE(ev.reopens, 0) AS reopens, COALESCE(ev.replies, 0) AS replies,
               COALESCE(rc.state, '') AS resp_state, rc.stopped_at AS resp_stopped_at,
               {micro("rc.elapsed")} AS resp_work,
               {micro("rc.stopped_at - rc.started_at")} AS resp_cal,
               COALESCE(sc.state, '') AS res_state, sc.stopped_at AS res_stopped_at,
               {micro("sc.elapsed")} AS res_work,
               {micro("sc.stopped_at - sc.started_at")} AS res_cal,
               t.updated_at AS stamp
        FROM {tickets} t
        LEFT JOIN {incidents} i ON i.ticket_id = t.id
        LEFT JOIN (
            SELECT e.ticket_id,
                   count(*) FILTER (WHERE e.type = '{EventType.SYSTEM}'
                                      AND e.data ->> 'code' = 'reopened') AS reopens,
                   count(*) FILTER (WHERE e.type = '{EventType.COMMENT}' AND e.actor_id IS NOT NULL
                                      AND e.actor_id <> et.requester_id) AS replies
            FROM {events} e JOIN {tickets} et ON et.id = e.ticket_id
            WHERE {condition.format(t="et")}
            GROUP BY e.ticket_id
        ) ev ON ev.ticket_id = t.id
        {_clock("rc", "response")}
        {_clock("sc", "resolution")}
        WHERE {condition.format(t="t")}
    """


def _event_branch(day_of: str, measures: dict[str, str], where: str, dims: tuple[str, ...]) -> str:
    zero = {c: "0" for c in COUNTS} | {a: "NULL::bigint" for a in ARRAYS}
    values = zero | measures
    columns = ", ".join(f"{values[c]} AS {c}" for c in (*COUNTS, *ARRAYS))
    return (
        f"SELECT (f.{day_of} AT TIME ZONE %(zone)s)::date AS day, "
        f"{', '.join(f'f.{d}' for d in dims)}, {columns} FROM f WHERE {where}"
    )


def build_sql(facts: str, day_condition: str, dims: tuple[str, ...] = DIMENSIONS) -> str:
    """SELECT of rollup rows (zone, day, dims, COUNTS, SUMS, ARRAYS) from the fact rows of
    the relation `facts`, for the local days (in %(zone)s) matching `day_condition`."""
    branches = [
        _event_branch("created_at", {"created": "1"}, "TRUE", dims),
        _event_branch(
            "resolved_at",
            {
                "resolved": "1",
                "reopened": "(f.reopens > 0)::int",
                # First contact: resolved, never reopened, at most one reply to the requester.
                "fcr": "(f.reopens = 0 AND f.replies <= 1)::int",
            },
            "f.resolved_at IS NOT NULL",
            dims,
        ),
    ]
    for prefix in ("resp", "res"):
        branches.append(
            _event_branch(
                f"{prefix}_stopped_at",
                {
                    f"{prefix}_met": f"(f.{prefix}_state = 'met')::int",
                    f"{prefix}_breached": f"(f.{prefix}_state = 'breached')::int",
                    f"{prefix}_work": f"f.{prefix}_work",
                    f"{prefix}_cal": f"f.{prefix}_cal",
                },
                f"f.{prefix}_stopped_at IS NOT NULL",
                dims,
            )
        )
    union = "\nUNION ALL\n".join(branches)
    counts = ", ".join(f"sum({c})::int AS {c}" for c in COUNTS)
    sums = ", ".join(f"COALESCE(sum({a}), 0)::bigint AS {a}_sum" for a in ARRAYS)
    arrays = ", ".join(
        f"COALESCE(array_agg({a} ORDER BY {a}) FILTER (WHERE {a} IS NOT NULL), '{{}}') AS {a}"
        for a in ARRAYS
    )
    keys = ", ".join(dims)
    return f"""
        WITH f AS ({facts}), ev AS ({union})
        SELECT %(zone)s::varchar AS zone, day, {keys}, {counts}, {sums}, {arrays}
        FROM ev WHERE {day_condition}
        GROUP BY day, {keys}
    """


#: Each rollup table and the dimensions it is kept by.
ROLLUPS: tuple[tuple[type, tuple[str, ...]], ...] = (
    (DailyRollup, DIMENSIONS),
    (DailyTeamRollup, TEAM_DIMENSIONS),
)


def rollup_columns(dims: tuple[str, ...]) -> tuple[str, ...]:
    return ("zone", "day", *dims, *COUNTS, *SUMS, *ARRAYS)


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def derive_facts(ticket_ids: list[int]) -> list[dict[str, Any]]:
    """Fact rows computed from the raw tables now, without storing them (the live day)."""
    if not ticket_ids:
        return []
    return _fetch(derive_sql("{t}.id = ANY(%(ids)s)"), {"ids": ticket_ids})


def rollup_rows_live(
    ticket_ids: list[int], *, zone: str, first_day: date, last_day: date
) -> list[dict[str, Any]]:
    """Rollup rows of days [first_day, last_day] computed from the raw rows of these tickets."""
    if not ticket_ids:
        return []
    sql = build_sql(
        derive_sql("{t}.id = ANY(%(ids)s)"), "day >= %(first_day)s AND day <= %(last_day)s"
    )
    return _fetch(
        sql, {"ids": ticket_ids, "zone": zone, "first_day": first_day, "last_day": last_day}
    )


def rollup_rows_stored(
    ticket_ids: list[int], *, zone: str, first_day: date, last_day: date
) -> list[dict[str, Any]]:
    """Rollup rows of days [first_day, last_day] as the stored facts of these tickets make
    them (what the rollups counted for them at the last sync)."""
    if not ticket_ids:
        return []
    facts = f"SELECT * FROM {TicketFact._meta.db_table} WHERE ticket_id = ANY(%(ids)s)"
    sql = build_sql(facts, "day >= %(first_day)s AND day <= %(last_day)s")
    return _fetch(
        sql, {"ids": ticket_ids, "zone": zone, "first_day": first_day, "last_day": last_day}
    )


def all_ticket_ids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Ticket._meta.db_table}")
        return [row[0] for row in cursor.fetchall()]


def tickets_changed_since(
    instant: datetime, *, include_clocks: bool = True, unseen_only: bool = False
) -> list[int]:
    """Tickets saved at or after `instant` (index tickets_state_updated_idx: the state list
    lets PostgreSQL range-scan it); with `unseen_only`, only those whose facts were derived
    from an older save. `include_clocks` adds tickets whose stopped clocks changed since
    (clock changes without a ticket save, e.g. a replay)."""
    tickets = Ticket._meta.db_table
    facts = TicketFact._meta.db_table
    sql = f"SELECT t.id FROM {tickets} t"
    if unseen_only:
        sql += f" LEFT JOIN {facts} f ON f.ticket_id = t.id"
    sql += " WHERE t.state = ANY(%(states)s) AND t.updated_at >= %(since)s"
    if unseen_only:
        sql += " AND f.stamp IS DISTINCT FROM t.updated_at"
    if include_clocks:
        clocks = SlaClock._meta.db_table
        sql += (
            f" UNION SELECT ticket_id FROM {clocks}"
            " WHERE updated_at >= %(since)s AND stopped_at IS NOT NULL"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"states": ALL_STATES, "since": instant})
        return [row[0] for row in cursor.fetchall()]


# ------------------------------------------------------------------ zones
def dashboard_zones() -> set[str]:
    """Time zones the rollups are kept in: the site's, and every dashboard user's."""
    users = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True)
        | Q(groups__name__in=[r.value for r in MANAGER_ROLES])
        | Q(led_teams__isnull=False)
    )
    zones = {zone_or_utc(z) for z in users.values_list("time_zone", flat=True).distinct()}
    return zones | {zone_or_utc(settings.TIME_ZONE)}


def ready_zones() -> list[str]:
    return list(RollupZone.objects.filter(ready_at__isnull=False).values_list("zone", flat=True))


# ------------------------------------------------------------------ writing the read models
def _upsert_facts(condition: str, params: dict[str, Any], *, returning: bool = True) -> list[tuple]:
    """Insert or refresh fact rows; returns the new INSTANTS of every refreshed row."""
    facts = TicketFact._meta.db_table
    columns = ", ".join(FACT_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in FACT_COLUMNS if c != "ticket_id")
    sql = (
        f"INSERT INTO {facts} ({columns}) {derive_sql(condition)} "
        f"ON CONFLICT (ticket_id) DO UPDATE SET {updates}"
    )
    if returning:
        sql += f" RETURNING {', '.join(INSTANTS)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def _day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days [first, last]."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _facts_on_days(days: list[date], zone: str) -> tuple[str, dict[str, Any]]:
    """SELECT of the facts with any instant on one of `days` (local to `zone`)."""
    facts = TicketFact._meta.db_table
    parts, params = [], {}
    for n, (first, last) in enumerate(_day_runs(days)):
        params[f"r{n}s"] = day_start(first, zone)
        params[f"r{n}e"] = day_start(last + timedelta(days=1), zone)
        parts += [f"({c} >= %(r{n}s)s AND {c} < %(r{n}e)s)" for c in INSTANTS]
    return f"SELECT * FROM {facts} WHERE {' OR '.join(parts) or 'FALSE'}", params


def _rebuild_days(zone: str, days: Iterable[date]) -> None:
    """Recompute the rollup rows of these local days of `zone` from the facts."""
    days = sorted(set(days))
    for start in range(0, len(days), 31):
        chunk = days[start : start + 31]
        facts, params = _facts_on_days(chunk, zone)
        params |= {"zone": zone, "days": chunk}
        with connection.cursor() as cursor:
            for model, dims in ROLLUPS:
                table = model._meta.db_table
                cursor.execute(
                    f"DELETE FROM {table} WHERE zone = %(zone)s AND day = ANY(%(days)s)", params
                )
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(rollup_columns(dims))}) "
                    + build_sql(facts, "day = ANY(%(days)s)", dims),
                    params,
                )


def _backfill_zone(zone: str, now: datetime) -> None:
    facts = TicketFact._meta.db_table
    with connection.cursor() as cursor:
        for model, dims in ROLLUPS:
            table = model._meta.db_table
            cursor.execute(f"DELETE FROM {table} WHERE zone = %(zone)s", {"zone": zone})
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(rollup_columns(dims))}) "
                + build_sql(f"SELECT * FROM {facts}", "TRUE", dims),
                {"zone": zone},
            )
    RollupZone.objects.update_or_create(zone=zone, defaults={"ready_at": now})


def _locked_state() -> RollupState:
    """The bookkeeping row, locked: syncs and rebuilds run one at a time."""
    RollupState.objects.bulk_create([RollupState(pk=1)], ignore_conflicts=True)
    return RollupState.objects.select_for_update().get(pk=1)


@dataclass
class SyncResult:
    tickets: int = 0
    days: int = 0
    zones_built: int = 0
    rebuilt: bool = False
    ms: int = 0


def _refresh(ticket_ids: list[int], zones: list[str]) -> int:
    """Re-derive these tickets' facts and rebuild every day they left or entered."""
    facts = TicketFact._meta.db_table
    instants: list[datetime] = []
    for start in range(0, len(ticket_ids), BATCH):
        chunk = ticket_ids[start : start + BATCH]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(INSTANTS)} FROM {facts} WHERE ticket_id = ANY(%(ids)s)",
                {"ids": chunk},
            )
            old = cursor.fetchall()
        new = _upsert_facts("{t}.id = ANY(%(ids)s)", {"ids": chunk})
        instants += [i for row in (*old, *new) for i in row if i is not None]
    days = 0
    for zone in zones:
        dirty = {local_date(i, zone) for i in instants}
        _rebuild_days(zone, dirty)
        days += len(dirty)
    return days


def rollups_sync(*, now: datetime | None = None) -> SyncResult:
    """Bring the facts and rollups up to date with the tickets changed since the last sync;
    build the rollups of any time zone a dashboard user has newly moved to. Idempotent."""
    started = time.monotonic()
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_state()
        if state.watermark is None:
            result = _rebuild(state, now)
        else:
            result = SyncResult()
            ids = tickets_changed_since(state.watermark - MARGIN, unseen_only=True)
            zones = ready_zones()
            result.days = _refresh(ids, zones)
            result.tickets = len(ids)
            for zone in sorted(dashboard_zones() - set(zones)):
                _backfill_zone(zone, now)
                result.zones_built += 1
            state.watermark = now
        result.ms = int((time.monotonic() - started) * 1000)
        state.last_sync_at = now
        state.last_sync_tickets = result.tickets
        state.last_sync_ms = result.ms
        state.save()
    return result


def _rebuild(state: RollupState, now: datetime) -> SyncResult:
    facts = TicketFact._meta.db_table
    rollups = ", ".join(model._meta.db_table for model, _dims in ROLLUPS)
    tickets = Ticket._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {rollups}, {facts}")
        cursor.execute(f"SELECT min(id), max(id), count(*) FROM {tickets}")
        low, high, count = cursor.fetchone()
    if count:
        for start in range(low, high + 1, REBUILD_BATCH):
            _upsert_facts(
                "{t}.id >= %(lo)s AND {t}.id < %(hi)s",
                {"lo": start, "hi": start + REBUILD_BATCH},
                returning=False,
            )
    RollupZone.objects.all().delete()
    zones = sorted(dashboard_zones())
    for zone in zones:
        _backfill_zone(zone, now)
    state.watermark = now
    state.rebuilt_at = now
    return SyncResult(tickets=count, zones_built=len(zones), rebuilt=True)


def rollups_rebuild(*, now: datetime | None = None) -> SyncResult:
    """Derive every fact and every rollup from scratch (the `rebuild_dashboards` command)."""
    started = time.monotonic()
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_state()
        result = _rebuild(state, now)
        result.ms = int((time.monotonic() - started) * 1000)
        state.last_sync_at = now
        state.last_sync_tickets = result.tickets
        state.last_sync_ms = result.ms
        state.save()
    return result
