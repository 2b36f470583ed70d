"""Service availability from the outage records logged on incidents.

Availability over a period = 1 - (time covered by full outages) / (elapsed period), where
overlapping outages count once and an ongoing outage runs until now. Degraded service is
measured the same way on its own. Each service is held to its availability target: the
service's own `availability_target` when the catalogue has one, else
settings.DASHBOARDS_AVAILABILITY_TARGET (99.5 %)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from catalogue.models import Service
from incidents.choices import OutageKind
from incidents.models import Outage

from .. import charts, drill
from ..charts import Cell, ChartSpec, Table
from ..periods import Period
from ..scope import Scope
from .sla import Tile

DEFAULT_TARGET = 99.5


def service_target(service: Service) -> float:
    """The service's availability target in percent."""
    own = getattr(service, "availability_target", None)
    if own is not None:
        return float(own)
    return float(getattr(settings, "DASHBOARDS_AVAILABILITY_TARGET", DEFAULT_TARGET))


def covered(intervals: list[tuple[datetime, datetime]]) -> timedelta:
    """Length of the union of intervals (overlaps count once)."""
    total = timedelta(0)
    end: datetime | None = None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def services_in(scope: Scope) -> QuerySet[Service]:
    """Services a scope covers: one chosen service, or (for a team scope) those the teams
    support."""
    services = Service.objects.filter(active=True)
    if scope.service_id is not None:
        services = Service.objects.filter(pk=scope.service_id)
    if scope.team_ids is not None:
        teams = [t for t in scope.team_ids if t is not None]
        services = services.filter(support_team_id__in=teams)
    return services.order_by("name")


@dataclass
class ServiceAvailability:
    service: Service
    target: float
    full: timedelta
    degraded: timedelta
    either: timedelta
    outages: list[Outage]

    def percent(self, down: timedelta, length: timedelta) -> float:
        return 100 * (1 - down / length)


@dataclass
class Availability:
    period: Period
    start: datetime
    end: datetime
    services: list[ServiceAvailability] = field(default_factory=list)
    tiles: list[Tile] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _outage_link(outages: list[Outage]) -> str | None:
    params = drill.ids(sorted({o.incident_id for o in outages}))
    return None if params is None else drill.queue_url(params)


def availability(*, period: Period, scope: Scope, now: datetime) -> Availability:
    """Per service: availability against target, degraded time, and the outages behind it."""
    start, end = period.start, min(period.end, now)
    result = Availability(period=period, start=start, end=end)
    length = end - start
    services = list(services_in(scope))
    outages = (
        Outage.objects.filter(service__in=services, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .select_related("incident__ticket", "service")
        .order_by("started_at", "pk")
    )
    per_service: dict[int, list[Outage]] = defaultdict(list)
    for outage in outages:
        per_service[outage.service_id].append(outage)
    for service in services:
        spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        for outage in per_service[service.pk]:
            spans[outage.kind].append(
                (max(outage.started_at, start), min(outage.ended_at or now, end))
            )
        result.services.append(
            ServiceAvailability(
                service=service,
                target=service_target(service),
                full=covered(spans[OutageKind.FULL]),
                degraded=covered(spans[OutageKind.DEGRADED]),
                either=covered(spans[OutageKind.FULL] + spans[OutageKind.DEGRADED]),
                outages=per_service[service.pk],
            )
        )
    if length <= timedelta(0):
        result.tables = [_services_table(result, length), _outages_table(result, now)]
        return result
    missed = [s for s in result.services if s.percent(s.full, length) < s.target]
    incidents = {o.incident_id for o in outages}
    result.tiles = [
        Tile("Services", str(len(result.services)), "#t-availability", key="services"),
        Tile(
            "Below target",
            str(len(missed)),
            "#t-availability",
            alert=bool(missed),
            hint="services whose availability is under their target",
            key="below_target",
        ),
        Tile(
            "Outages",
            str(len(outages)),
            "#t-outages",
            hint="full and degraded, overlapping the period",
            key="outages",
        ),
        Tile(
            "Incidents behind them",
            str(len(incidents)),
            _outage_link(list(outages)),
            key="incidents",
        ),
    ]
    result.tables = [_services_table(result, length), _outages_table(result, now)]
    return result


def _services_table(result: Availability, length: timedelta) -> Table:
    values = [s.percent(s.full, length) for s in result.services if length > timedelta(0)] + [
        s.target for s in result.services
    ]
    table = Table(
        key="availability",
        title="Availability by service",
        columns=[
            "Service",
            "Availability %",
            "Target %",
            "Without degradation %",
            "Full outage h",
            "Degraded h",
            "Outages",
            "Incidents",
        ],
        chart=ChartSpec(
            type="bar",
            series=[1, 3],
            unit="%",
            horizontal=True,
            y_max=100,
            target=min((s.target for s in result.services), default=None),
            target_label="Lowest target",
        ),
        note="Availability counts full outages only; the next column also counts degraded "
        "service. The period runs until now when it has not ended.",
        empty="No services in scope.",
    )
    if values and table.chart is not None:
        table.chart.y_min = float(max(0, int(min(values)) - 1))
    if length <= timedelta(0):
        return table
    for s in result.services:
        link = _outage_link(s.outages)
        table.rows.append(
            [
                charts.label(s.service.name),
                charts.Cell(
                    f"{round(s.percent(s.full, length), 3):.3f}",
                    round(s.percent(s.full, length), 3),
                    link,
                ),
                charts.label(f"{s.target:g}"),
                charts.Cell(
                    f"{round(s.percent(s.either, length), 3):.3f}",
                    round(s.percent(s.either, length), 3),
                    link,
                ),
                charts.hours(int(s.full / timedelta(microseconds=1)), link),
                charts.hours(int(s.degraded / timedelta(microseconds=1)), link),
                charts.count(len(s.outages)),
                charts.count(len({o.incident_id for o in s.outages}), link),
            ]
        )
    return table


def _outages_table(result: Availability, now: datetime) -> Table:
    zone = ZoneInfo(result.period.zone)

    table = Table(
        key="outages",
        title="Outages in the period",
        columns=["Service", "Kind", "Started", "Ended", "Hours in period", "Incident"],
        empty="No outages in this period.",
    )
    for s in result.services:
        for outage in s.outages:
            ticket = outage.incident.ticket
            url = ticket.get_absolute_url()
            inside = min(outage.ended_at or now, result.end) - max(outage.started_at, result.start)
            table.rows.append(
                [
                    charts.label(s.service.name),
                    charts.label(outage.get_kind_display()),
                    charts.label(f"{outage.started_at.astimezone(zone):%Y-%m-%d %H:%M}"),
                    charts.label(
                        f"{outage.ended_at.astimezone(zone):%Y-%m-%d %H:%M}"
                        if outage.ended_at
                        else "ongoing"
                    ),
                    charts.hours(int(inside / timedelta(microseconds=1)), url),
                    Cell(ticket.number, None, url),
                ]
            )
    return table
