"""Compliance, mean time to respond/resolve and the 90th percentile against figures computed
by hand, for incidents worked through the real services on an office-hours calendar with an
on-hold pause (Berlin, Mon–Fri 09:00–17:00, a week without a clock change)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboards.periods import Period
from dashboards.queries.reader import RollupReader
from dashboards.queries.sla import sla_overview
from dashboards.rollups import rollups_sync
from dashboards.scope import Scope
from incidents.choices import IncidentStatus, OnHoldReason, ResolutionCode
from incidents.services import incident_comment, incident_create, incident_transition
from slas.models import BusinessCalendar, SlaPolicy

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MIN = 60_000_000  # µs


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Berlin (the 2nd is a Monday; clocks change on the 29th)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def policies():
    office = BusinessCalendar.objects.create(
        name="Berlin office",
        timezone="Europe/Berlin",
        hours={str(d): [["09:00", "17:00"]] for d in range(5)},
    )
    for metric, target in (("response", timedelta(hours=1)), ("resolution", timedelta(hours=8))):
        SlaPolicy.objects.create(
            name=metric,
            kind="incident",
            metric=metric,
            target=target,
            calendar=office,
            pause_statuses=["on_hold"],
        )


@pytest.fixture
def worked_incidents(policies, requester, agent, network_team, time_machine):
    """Four incidents; their clocks, by hand (working / calendar):

    A  Mon 09:00 reply 09:30, on hold Mon 10:00–Tue 10:00, resolved Tue 12:00
       response 30m / 30m met; resolution 1h + 2h = 3h / 27h met
    B  Mon 16:00 reply Tue 10:00, resolved Wed 16:00
       response 1h + 1h = 2h / 18h breached; resolution 1h + 8h + 7h = 16h / 48h breached
    C  Tue 09:00 reply 09:10, resolved Tue 11:00
       response 10m / 10m met; resolution 2h / 2h met
    D  Fri 16:30 reply Mon 09:15, resolved Mon 10:00
       response 30m + 15m = 45m / 64h45m met; resolution 30m + 1h = 1h30m / 65h30m met
    """

    def step(when: datetime) -> None:
        time_machine.move_to(when, tick=False)

    def create(when: datetime, title: str):
        step(when)
        return incident_create(requester=requester, by=requester, title=title, team=network_team)

    def reply(incident, when: datetime) -> None:
        step(when)
        incident_comment(incident=incident, by=agent, body="Looking.", public=True)

    def move(incident, when: datetime, target: str, **extra):
        step(when)
        return incident_transition(incident=incident, by=agent, target=target, **extra)

    def resolve(incident, when: datetime):
        return move(
            incident,
            when,
            IncidentStatus.RESOLVED,
            resolution_code=ResolutionCode.FIXED,
            resolution_notes="Fixed.",
        )

    a = create(at(2, 9), "A")
    reply(a, at(2, 9, 30))
    move(a, at(2, 10), IncidentStatus.ON_HOLD, on_hold_reason=OnHoldReason.AWAITING_CALLER)
    move(a, at(3, 10), IncidentStatus.IN_PROGRESS)
    resolve(a, at(3, 12))
    b = create(at(2, 16), "B")
    reply(b, at(3, 10))
    resolve(b, at(4, 16))
    c = create(at(3, 9), "C")
    reply(c, at(3, 9, 10))
    resolve(c, at(3, 11))
    d = create(at(6, 16, 30), "D")
    reply(d, at(9, 9, 15))
    resolve(d, at(9, 10))
    step(at(20, 12))
    return [a, b, c, d]


EXPECTED = {
    "resp_met": 3,
    "resp_breached": 1,
    "res_met": 3,
    "res_breached": 1,
    "resp_work_sum": (30 + 120 + 10 + 45) * MIN,
    "resp_cal_sum": (30 + 18 * 60 + 10 + 64 * 60 + 45) * MIN,
    "res_work_sum": (180 + 16 * 60 + 120 + 90) * MIN,
    "res_cal_sum": (27 * 60 + 48 * 60 + 120 + 65 * 60 + 30) * MIN,
}
EXPECTED_P90 = {
    "resp_work": 120 * MIN,
    "resp_cal": (64 * 60 + 45) * MIN,
    "res_work": 16 * 60 * MIN,
    "res_cal": (65 * 60 + 30) * MIN,
}


@pytest.mark.parametrize("synced", [False, True], ids=["live", "rollups"])
def test_sla_figures_match_hand_computed_values(worked_incidents, synced):
    # given
    now = at(20, 12)
    if synced:
        rollups_sync(now=now)
    period = Period("Europe/Berlin", at(2, 0).date(), at(13, 0).date())
    # when
    reader = RollupReader(period=period, scope=Scope(), now=now)
    totals = reader.totals()
    # then
    assert {k: getattr(totals, k) for k in EXPECTED} == EXPECTED
    assert totals.compliance("resp") == 75.0
    assert totals.compliance("res") == 75.0
    assert totals.average("resp", "work") == 51 * MIN + 15_000_000  # 51m 15s
    assert totals.average("res", "work") == 337 * MIN + 30_000_000  # 5h 37m 30s
    assert reader.percentiles() == EXPECTED_P90


def test_overview_shows_the_hand_computed_figures(worked_incidents):
    period = Period("Europe/Berlin", at(2, 0).date(), at(13, 0).date())
    overview = sla_overview(period=period, scope=Scope(), now=at(20, 12), granularity="day")
    tiles = {t.key: t.value for t in overview.tiles}
    assert tiles["resp_compliance"] == "75.0 %"
    assert tiles["res_breaches"] == "1"
    assert tiles["resp_mean"] == "51m"
    assert tiles["res_mean"] == "5h 37m"
    times = next(t for t in overview.tables if t.key == "times")
    assert [[c.text for c in row] for row in times.rows] == [
        # metric, stopped, mean working, p90 working, mean calendar, p90 calendar (hours)
        ["Response", "4", "0.85", "2.00", "20.85", "64.75"],
        ["Resolution", "4", "5.62", "16.00", "35.62", "65.50"],
    ]


def test_a_week_of_trend_rows_dates_each_clock_by_its_stop(worked_incidents):
    period = Period("Europe/Berlin", at(2, 0).date(), at(9, 0).date())
    overview = sla_overview(period=period, scope=Scope(), now=at(20, 12), granularity="day")
    trend = next(t for t in overview.tables if t.key == "trend")
    rows = {row[0].text: [c.text for c in row[1:]] for row in trend.rows}
    # Response met/breached/%, resolution met/breached/%
    assert rows["02 Mar"] == ["1", "0", "100.0", "0", "0", "—"]  # A answered
    assert rows["03 Mar"] == ["1", "1", "50.0", "2", "0", "100.0"]  # C met, B late; A, C resolved
    assert rows["04 Mar"] == ["0", "0", "—", "0", "1", "0.0"]  # B resolved late
    assert rows["09 Mar"] == ["1", "0", "100.0", "1", "0", "100.0"]  # D
