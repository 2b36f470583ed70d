"""Volumes: tickets created by kind, category, service, channel and organisation; the top
services by incidents; change success and risk; request fulfilment time by catalogue item;
customer satisfaction.

Changes, service requests and satisfaction ratings come from apps that may not be installed
or migrated yet. They are looked up by name (`optional_model`), never imported, and their
panels say so until the model and its table exist."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Q

from accounts.models import Organization
from catalogue.models import Service
from incidents.choices import Channel
from incidents.models import Category
from tickets.choices import TicketKind
from tickets.filtersets import MAX_IDS

from .. import charts, drill
from ..charts import ChartSpec, Table
from ..models import TicketFact
from ..periods import Period
from ..rollups import micro
from ..scope import Scope
from .reader import PERCENTILE, RollupReader
from .sla import Tile

TOP = 10
MICROSECOND = timedelta(microseconds=1)


def optional_model(label: str, *fields: str) -> type[models.Model] | None:
    """The model `app_label.Model` if it is installed, has these fields and its table exists."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    try:
        for name in fields:
            model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if model._meta.db_table not in connection.introspection.table_names():
        return None
    return model


@dataclass
class Volumes:
    period: Period
    tiles: list[Tile] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


def _created_table(
    *,
    key: str,
    title: str,
    heading: str,
    counts: dict[Any, int],
    name: Callable[[Any], str],
    link: Callable[[Any], dict[str, list[str]]],
    limit: int | None = None,
    note: str = "",
) -> Table:
    table = Table(
        key=key,
        title=title,
        columns=[heading, "Created"],
        chart=ChartSpec(type="bar", series=[1], horizontal=True),
        note=note,
    )
    ordered = sorted(
        ((value, n) for value, n in counts.items() if n), key=lambda item: (-item[1], name(item[0]))
    )
    for value, n in ordered[:limit] if limit else ordered:
        cell = charts.count(n, drill.queue_url(link(value)))
        table.rows.append([charts.label(name(value)), cell])
    return table


def _names(model: type[models.Model], none: str) -> Callable[[Any], str]:
    names = {pk: str(obj) for pk, obj in ((o.pk, o) for o in model._default_manager.all())}
    return lambda pk: none if pk is None else names.get(pk, f"#{pk}")


def breakdown_tables(reader: RollupReader) -> list[Table]:
    period, scope = reader.period, reader.scope
    zone = period.zone
    created = drill.created(scope, start=period.start, end=period.end, zone=zone)
    incidents = created | {"kind": [TicketKind.INCIDENT]}
    by_kind = {k: m.created for k, m in reader.grouped("kind").items()}
    by_service_kind = reader.grouped(("kind", "service_id"))
    by_service: dict[Any, int] = defaultdict(int)
    incident_service: dict[Any, int] = defaultdict(int)
    for (kind, service), m in by_service_kind.items():
        by_service[service] += m.created
        if kind == TicketKind.INCIDENT:
            incident_service[service] += m.created
    by_category = {
        c: m.created
        for (k, c), m in reader.grouped(("kind", "category_id")).items()
        if k == TicketKind.INCIDENT
    }
    by_channel = {
        c: m.created
        for (k, c), m in reader.grouped(("kind", "channel")).items()
        if k == TicketKind.INCIDENT
    }
    by_org = {o: m.created for o, m in reader.grouped("organization_id").items()}
    services = _names(Service, "No service")
    kinds = dict(TicketKind.choices)
    channels = dict(Channel.choices)
    return [
        _created_table(
            key="by_kind",
            title="Created by kind",
            heading="Kind",
            counts=by_kind,
            name=lambda k: str(kinds.get(k, k)),
            link=lambda k: drill.with_dimension(created, "kind", k),
        ),
        _created_table(
            key="by_category",
            title="Incidents by category",
            heading="Category",
            counts=by_category,
            name=_names(Category, "No category"),
            link=lambda c: drill.with_dimension(incidents, "category_id", c),
        ),
        _created_table(
            key="by_service",
            title="Tickets by service",
            heading="Service",
            counts=dict(by_service),
            name=services,
            link=lambda s: drill.with_dimension(created, "service_id", s),
        ),
        _created_table(
            key="top_services",
            title=f"Top {TOP} services by incidents",
            heading="Service",
            counts={s: n for s, n in incident_service.items() if s is not None},
            name=services,
            link=lambda s: drill.with_dimension(incidents, "service_id", s),
            limit=TOP,
        ),
        _created_table(
            key="by_channel",
            title="Incidents by channel",
            heading="Channel",
            counts=by_channel,
            name=lambda c: str(channels.get(c, c or "—")),
            link=lambda c: drill.with_dimension(incidents, "channel", c),
        ),
        _created_table(
            key="by_organization",
            title="Tickets by organisation",
            heading="Organisation",
            counts=by_org,
            name=_names(Organization, "No organisation"),
            link=lambda o: drill.with_dimension(created, "organization_id", o),
        ),
    ]


def _ids_url(ids: list[int]) -> str | None:
    params = drill.ids(ids)
    return None if params is None else drill.queue_url(params)


def change_tables(reader: RollupReader, now: datetime) -> tuple[list[Table], list[Tile]] | None:
    """Changes by risk, with their outcomes; None until the changes app has a Change model."""
    change = optional_model("changes.Change", "risk", "outcome", "ticket")
    if change is None:
        return None
    period, scope = reader.period, reader.scope
    in_period = Q(ticket__created_at__gte=period.start, ticket__created_at__lt=period.end) | Q(
        ticket__closed_at__gte=period.start, ticket__closed_at__lt=period.end
    )
    rows = change._default_manager.filter(scope.q("ticket__")).filter(in_period)
    risks = dict(change._meta.get_field("risk").choices or [])
    outcomes = dict(change._meta.get_field("outcome").choices or [])
    created: dict[str, list[int]] = defaultdict(list)
    done: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, risk, outcome, created_at, closed_at in rows.values_list(
        "pk", "risk", "outcome", "ticket__created_at", "ticket__closed_at"
    ):
        if period.start <= created_at < period.end:
            created[risk].append(pk)
        if outcome and closed_at is not None and period.start <= closed_at < period.end:
            done[(risk, outcome)].append(pk)
    table = Table(
        key="changes",
        title="Changes by risk",
        columns=["Risk", "Created", "Completed", *map(str, outcomes.values()), "Success %"],
        chart=ChartSpec(type="bar", series=[1, 2]),
        note="Completed: closed in the period with an outcome. Success counts "
        "“successful” and “successful with issues”.",
    )
    all_done: list[int] = []
    all_ok: list[int] = []
    for risk, name in risks.items():
        completed = [pk for (r, _o), pks in done.items() if r == risk for pk in pks]
        ok = [
            pk
            for (r, o), pks in done.items()
            if r == risk and o.startswith("successful")
            for pk in pks
        ]
        all_done += completed
        all_ok += ok
        rate = 100 * len(ok) / len(completed) if completed else None
        table.rows.append(
            [
                charts.label(name),
                charts.count(len(created[risk]), _ids_url(created[risk])),
                charts.count(len(completed), _ids_url(completed)),
                *(charts.count(len(done[(risk, o)]), _ids_url(done[(risk, o)])) for o in outcomes),
                charts.pct(rate, _ids_url(ok)),
            ]
        )
    rate = 100 * len(all_ok) / len(all_done) if all_done else None
    tile = Tile(
        "Change success rate",
        charts.DASH if rate is None else f"{rate:.1f} %",
        _ids_url(all_ok),
        hint=f"{len(all_ok)} of {len(all_done)} completed changes",
        key="change_success",
    )
    return [table], [tile]


def _item_field(request_model: type[models.Model]) -> models.ForeignKey | None:
    """The request's catalogue item (the foreign key to a catalogue model named …Item)."""
    for f in request_model._meta.get_fields():
        related = getattr(f, "related_model", None)
        if (
            isinstance(f, models.ForeignKey)
            and related is not None
            and related._meta.app_label == "catalogue"
            and "item" in related.__name__.lower()
        ):
            return f
    return None


def _fulfilment(
    reader: RollupReader, request: type[models.Model], item: models.ForeignKey
) -> list[tuple]:
    """Per catalogue item: requests resolved in the period, calendar time sum and p90, working
    time count, sum and p90, and the ticket ids (when few enough to link). Stored facts of
    the unchanged tickets, raw rows of the changed ones, in one statement."""
    period = reader.period
    condition, params = reader.scope.sql("f")
    live = [
        r
        for r in reader.live_facts()
        if r["kind"] == TicketKind.REQUEST
        and r["resolved_at"] is not None
        and period.start <= r["resolved_at"] < period.end
    ]
    items = dict(
        request._default_manager.filter(pk__in=[r["ticket_id"] for r in live]).values_list(
            "pk", item.attname
        )
    )
    live = [r for r in live if r["ticket_id"] in items]  # as the join below
    stored = "TRUE" if reader.watermark is not None else "FALSE"
    sql = f"""
        WITH v AS (
            SELECT d.{item.column} AS item, f.ticket_id,
                   {micro("f.resolved_at - f.created_at")} AS cal, f.res_work AS work
            FROM {TicketFact._meta.db_table} f
            JOIN {request._meta.db_table} d ON d.{request._meta.pk.column} = f.ticket_id
            WHERE {stored} AND f.kind = %(kind)s
              AND f.resolved_at >= %(a)s AND f.resolved_at < %(b)s AND {condition}
              AND NOT (f.ticket_id = ANY(%(changed)s))
            UNION ALL
            SELECT * FROM unnest(%(l_item)s::bigint[], %(l_ticket)s::bigint[],
                                 %(l_cal)s::bigint[], %(l_work)s::bigint[])
        )
        SELECT item, count(*), sum(cal)::bigint,
               percentile_disc(%(q)s) WITHIN GROUP (ORDER BY cal),
               count(work), sum(work)::bigint,
               percentile_disc(%(q)s) WITHIN GROUP (ORDER BY work),
               CASE WHEN count(*) <= %(max)s THEN array_agg(ticket_id ORDER BY ticket_id) END
        FROM v GROUP BY item
    """
    params |= {
        "kind": TicketKind.REQUEST,
        "a": period.start,
        "b": period.end,
        "changed": reader.changed_ids(),
        "q": PERCENTILE,
        "max": MAX_IDS,
        "l_item": [items[r["ticket_id"]] for r in live],
        "l_ticket": [r["ticket_id"] for r in live],
        "l_cal": [(r["resolved_at"] - r["created_at"]) // MICROSECOND for r in live],
        "l_work": [r["res_work"] for r in live],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def request_table(reader: RollupReader) -> Table | None:
    """Fulfilment time of the requests resolved in the period, per catalogue item."""
    request = optional_model("servicerequests.ServiceRequest", "ticket")
    item = None if request is None else _item_field(request)
    if request is None or item is None:
        return None
    names = _names(item.related_model, "No catalogue item")
    table = Table(
        key="fulfilment",
        title="Request fulfilment time by catalogue item",
        columns=[
            "Catalogue item",
            "Fulfilled",
            "Mean calendar h",
            "P90 calendar h",
            "Mean working h",
            "P90 working h",
        ],
        chart=ChartSpec(type="bar", series=[2, 4], unit="h", horizontal=True),
        note="Requests resolved in the period; calendar time from submission to resolution, "
        "working time from the resolution SLA clock where one ran.",
    )
    rows = _fulfilment(reader, request, item)
    for key, n, cal_sum, cal_p90, worked, work_sum, work_p90, ids in sorted(
        rows, key=lambda row: names(row[0]).lower()
    ):
        url = None if ids is None else _ids_url(list(ids))
        table.rows.append(
            [
                charts.label(names(key)),
                charts.count(n, url),
                charts.hours(cal_sum // n, url),
                charts.hours(cal_p90, url),
                charts.hours(work_sum // worked if worked else None, url),
                charts.hours(work_p90, url),
            ]
        )
    return table


#: Ratings that count as satisfied.
SATISFIED = frozenset({"good", "4", "5"})


def csat_table(reader: RollupReader) -> tuple[Table, Tile] | None:
    """Satisfaction survey answers given in the period (tickets.SatisfactionResponse: one
    rating per resolution survey); None until that model and its table exist."""
    rating = optional_model("tickets.SatisfactionResponse", "ticket", "rating", "created_at")
    if rating is None:
        return None
    period, scope = reader.period, reader.scope
    rows = rating._default_manager.filter(
        scope.q("ticket__"), created_at__gte=period.start, created_at__lt=period.end
    ).values_list("ticket_id", "rating")
    by_rating: dict[str, set[int]] = defaultdict(set)
    answers = 0
    for ticket_id, value in rows:
        by_rating[str(value)].add(ticket_id)
        answers += 1
    choices = dict(rating._meta.get_field("rating").choices or [])
    table = Table(
        key="csat",
        title="Customer satisfaction",
        columns=["Rating", "Tickets rated"],
        chart=ChartSpec(type="bar", series=[1]),
        note="Answers to the survey sent on resolution, given in the period.",
    )
    for value, name in choices.items():
        ids = sorted(by_rating[str(value)])
        table.rows.append([charts.label(name), charts.count(len(ids), _ids_url(ids))])
    happy = sorted({t for value, ids in by_rating.items() if value in SATISFIED for t in ids})
    satisfied = sum(1 for _t, value in rows if str(value) in SATISFIED)
    share = 100 * satisfied / answers if answers else None
    tile = Tile(
        "CSAT",
        charts.DASH if share is None else f"{share:.1f} %",
        _ids_url(happy),
        hint=f"satisfied answers, of {answers}",
        key="csat",
    )
    return table, tile


def volumes(*, period: Period, scope: Scope, now: datetime) -> Volumes:
    """Everything the volumes dashboard shows."""
    reader = RollupReader(period=period, scope=scope, now=now)
    result = Volumes(period=period)
    totals = reader.totals()
    result.tiles.append(
        Tile(
            "Created",
            str(totals.created),
            drill.queue_url(
                drill.created(scope, start=period.start, end=period.end, zone=period.zone)
            ),
            key="created",
        )
    )
    result.tables = breakdown_tables(reader)
    changes = change_tables(reader, now)
    if changes is None:
        result.unavailable.append("Change success and risk: the changes app has no data yet.")
    else:
        result.tables += changes[0]
        result.tiles += changes[1]
    fulfilment = request_table(reader)
    if fulfilment is None:
        result.unavailable.append(
            "Request fulfilment by catalogue item: service requests are not available yet."
        )
    else:
        result.tables.append(fulfilment)
    csat = csat_table(reader)
    if csat is None:
        result.unavailable.append("Customer satisfaction: no survey answers are stored yet.")
    else:
        result.tables.append(csat[0])
        result.tiles.append(csat[1])
    return result
