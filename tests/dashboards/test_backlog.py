"""Backlog figures through the real services: age buckets × priority, reopen rate and
first-contact resolution, workload per agent, and the incremental sync following a reopen."""

from datetime import UTC, date, datetime, timedelta

import pytest

from dashboards.models import DailyRollup
from dashboards.periods import Period
from dashboards.queries.backlog import backlog
from dashboards.rollups import rollups_sync
from dashboards.scope import Scope
from incidents.choices import IncidentStatus, Level, ResolutionCode
from incidents.services import (
    incident_comment,
    incident_create,
    incident_reopen,
    incident_transition,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def desk(requester, agent, network_team, time_machine):
    def at(when: datetime) -> None:
        time_machine.move_to(when, tick=False)

    def create(when: datetime, title: str, urgency: str = Level.MEDIUM):
        at(when)
        return incident_create(
            requester=requester,
            by=requester,
            title=title,
            team=network_team,
            assignee=agent,
            urgency=urgency,
        )

    def resolve(incident, when: datetime):
        at(when)
        return incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.RESOLVED,
            resolution_code=ResolutionCode.FIXED,
            resolution_notes="Done.",
        )

    def reply(incident, when: datetime, by=agent):
        at(when)
        incident_comment(incident=incident, by=by, body="Reply.", public=True)

    return at, create, resolve, reply


def test_open_tickets_by_age_and_priority(desk):
    at, create, _resolve, _reply = desk
    create(NOW - timedelta(hours=2), "fresh", Level.HIGH)  # medium impact × high urgency: P2
    create(NOW - timedelta(days=2), "two days")  # P3
    create(NOW - timedelta(days=3, hours=1), "three days")  # P3, just over 3 days
    create(NOW - timedelta(days=10), "ten days", Level.LOW)  # P4
    create(NOW - timedelta(days=40), "forty days")  # P3
    at(NOW)
    period = Period("UTC", date(2026, 6, 4), date(2026, 6, 10))
    result = backlog(period=period, scope=Scope(), now=NOW, granularity="day")
    age = next(t for t in result.tables if t.key == "age")
    assert [[c.text for c in row] for row in age.rows] == [
        ["< 1 day", "0", "1", "0", "0", "1"],
        ["1–3 days", "0", "0", "1", "0", "1"],
        ["3–7 days", "0", "0", "1", "0", "1"],
        ["7–30 days", "0", "0", "0", "1", "1"],
        ["> 30 days", "0", "0", "1", "0", "1"],
    ]


def test_reopen_rate_and_first_contact_resolution(desk, requester):
    at, create, resolve, reply = desk
    one_reply = create(NOW - timedelta(days=3), "one reply")
    reply(one_reply, NOW - timedelta(days=3) + timedelta(minutes=5))
    resolve(one_reply, NOW - timedelta(days=2))
    two_replies = create(NOW - timedelta(days=3), "two replies")
    reply(two_replies, NOW - timedelta(days=3) + timedelta(minutes=5))
    reply(two_replies, NOW - timedelta(days=3) + timedelta(minutes=50))
    resolve(two_replies, NOW - timedelta(days=2))
    reopened = create(NOW - timedelta(days=3), "reopened")
    resolve(reopened, NOW - timedelta(days=3) + timedelta(hours=1))
    at(NOW - timedelta(days=2))
    incident_reopen(incident=reopened, by=requester, reason="Still broken")
    resolve(reopened, NOW - timedelta(days=1))
    caller_only = create(NOW - timedelta(days=3), "caller wrote")
    reply(caller_only, NOW - timedelta(days=3) + timedelta(minutes=1), by=requester)
    resolve(caller_only, NOW - timedelta(days=2))
    at(NOW)
    period = Period("UTC", date(2026, 6, 4), date(2026, 6, 10))
    result = backlog(period=period, scope=Scope(), now=NOW, granularity="day")
    tiles = {t.key: t.value for t in result.tiles}
    assert tiles["resolved"] == "4"
    assert tiles["reopen_rate"] == "25.0 %"
    assert tiles["fcr_rate"] == "50.0 %"  # "one reply" and "caller wrote"
    agents = next(t for t in result.tables if t.key == "agents")
    assert [c.text for c in agents.rows[0]][-2:] == ["0", "4"]  # nothing open, 4 resolved


def test_the_incremental_sync_moves_a_reopened_resolution_to_its_new_day(desk, requester):
    # given: resolved on the 7th, synced
    at, create, resolve, _reply = desk
    incident = create(NOW - timedelta(days=4), "moves")
    resolve(incident, datetime(2026, 6, 7, 9, 0, tzinfo=UTC))
    rollups_sync(now=datetime(2026, 6, 7, 10, 0, tzinfo=UTC))

    def resolved_on(day: int) -> int:
        rows = DailyRollup.objects.filter(zone="UTC", day=date(2026, 6, day))
        return sum(r.resolved for r in rows)

    assert resolved_on(7) == 1
    # when: reopened and resolved again on the 8th, synced again
    at(datetime(2026, 6, 8, 8, 0, tzinfo=UTC))
    incident_reopen(incident=incident, by=requester, reason="Again")
    resolve(incident, datetime(2026, 6, 8, 9, 0, tzinfo=UTC))
    rollups_sync(now=datetime(2026, 6, 8, 10, 0, tzinfo=UTC))
    # then
    assert resolved_on(7) == 0
    assert resolved_on(8) == 1
    assert sum(r.reopened for r in DailyRollup.objects.filter(zone="UTC")) == 1
