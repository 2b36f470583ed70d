"""Availability from outage records: overlaps count once, ongoing outages run until now,
degraded service is measured on its own, each service against its target."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import override_settings

from dashboards.periods import Period
from dashboards.queries.availability import availability, covered
from dashboards.scope import Scope
from incidents.services import incident_create, incident_outage_record
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def t(day: int, hour: int) -> datetime:
    return datetime(2026, 4, day, hour, tzinfo=UTC)


def test_overlapping_intervals_count_once():
    assert covered([(t(1, 0), t(1, 4)), (t(1, 2), t(1, 6)), (t(1, 8), t(1, 9))]) == 7 * H
    assert covered([]) == timedelta(0)


@pytest.fixture
def vpn(network_team):
    return ServiceFactory(name="VPN", support_team=network_team)


@pytest.fixture
def outages(vpn, requester, agent, time_machine):
    """Within 1–10 April (UTC, 240 h): full 2 h + overlapping 1 h (of which 30 min new),
    full from 31 March 22:00 to 1 April 02:00 (2 h inside), degraded 6 h, and a full outage
    still ongoing since 10 April 20:00 (4 h until midnight)."""
    time_machine.move_to(t(12, 9), tick=False)
    incident = incident_create(requester=requester, by=requester, title="VPN down", service=vpn)
    other = incident_create(requester=requester, by=requester, title="VPN slow", service=vpn)
    for target, kind, start, end in (
        (incident, "full", t(3, 10), t(3, 12)),
        (incident, "full", t(3, 11) + 0.5 * H, t(3, 12) + 0.5 * H),
        (incident, "full", t(1, 0) - 2 * H, t(1, 2)),
        (other, "degraded", t(5, 8), t(5, 14)),
        (other, "full", t(10, 20), None),
    ):
        incident_outage_record(
            incident=target, by=agent, service=vpn, kind=kind, started_at=start, ended_at=end
        )
    return incident, other


def test_availability_by_hand(vpn, outages):
    period = Period("UTC", date(2026, 4, 1), date(2026, 4, 10))
    result = availability(period=period, scope=Scope(), now=t(12, 9))
    (row,) = [s for s in result.services if s.service == vpn]
    assert row.full == 2 * H + 0.5 * H + 2 * H + 4 * H
    assert row.degraded == 6 * H
    assert row.either == row.full + 6 * H
    table = next(x for x in result.tables if x.key == "availability")
    cells = [c.text for c in table.rows[0]]
    # 8.5 h of 240 h down: 96.458 %; with degradation 14.5 h: 93.958 %
    assert cells == ["VPN", "96.458", "99.5", "93.958", "8.50", "6.00", "5", "2"]
    assert {t.key: t.value for t in result.tiles}["below_target"] == "1"


def test_an_unfinished_period_runs_until_now(vpn, outages):
    period = Period("UTC", date(2026, 4, 10), date(2026, 4, 16))
    result = availability(period=period, scope=Scope(), now=t(11, 0))  # 24 h elapsed
    (row,) = result.services
    assert row.full == 4 * H  # ongoing since 20:00, measured until now (midnight)
    assert row.percent(row.full, result.end - result.start) == pytest.approx(100 * 20 / 24)


@override_settings(DASHBOARDS_AVAILABILITY_TARGET=95.0)
def test_the_target_comes_from_settings_until_services_have_one(vpn, outages):
    period = Period("UTC", date(2026, 4, 1), date(2026, 4, 10))
    result = availability(period=period, scope=Scope(), now=t(12, 9))
    assert result.services[0].target == 95.0
    assert {t.key: t.value for t in result.tiles}["below_target"] == "0"


def test_a_team_scope_covers_the_services_the_team_supports(vpn, outages, database_team):
    period = Period("UTC", date(2026, 4, 1), date(2026, 4, 10))
    assert (
        availability(
            period=period, scope=Scope(team_ids=(database_team.pk,)), now=t(12, 9)
        ).services
        == []
    )
