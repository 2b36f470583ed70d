"""Conflict detection: overlapping booked changes on related services, and blackouts (one-off,
service-scoped, weekly across DST)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from changes import services
from changes.choices import Recurrence
from changes.conflicts import find_conflicts, service_tree_supported
from core.exceptions import DomainError
from tests.factories import ServiceFactory

from .conftest import window

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def booked(make_change, advance, template):
    """A standard change on the VPN, scheduled for `when`."""

    def book(when, services_=None):
        change = make_change(template=template, when=when, services_=services_)
        return advance(change, "scheduled")

    return book


def ids(conflicts):
    return [c.pk for c in conflicts.changes]


def test_an_overlapping_booked_change_on_the_same_service_conflicts(booked, vpn):
    start, end = window(hours=2)
    first = booked((start, end))
    found = find_conflicts(
        start=start + timedelta(hours=1), end=end + timedelta(hours=1), service_ids=[vpn.pk]
    )
    assert ids(found) == [first.pk]


def test_touching_windows_do_not_conflict(booked, vpn):
    start, end = window(hours=2)
    booked((start, end))
    assert not find_conflicts(start=end, end=end + timedelta(hours=1), service_ids=[vpn.pk])
    assert not find_conflicts(start=start - timedelta(hours=1), end=start, service_ids=[vpn.pk])


def test_other_services_and_unbooked_changes_do_not_conflict(booked, make_change, vpn, erp):
    when = window(hours=2)
    booked(when)
    make_change(when=when)  # a draft on the VPN in the same window holds nothing
    assert not find_conflicts(start=when[0], end=when[1], service_ids=[erp.pk])
    assert len(ids(find_conflicts(start=when[0], end=when[1], service_ids=[vpn.pk]))) == 1


def test_a_change_does_not_conflict_with_itself(booked, vpn):
    when = window()
    change = booked(when)
    assert not find_conflicts(
        start=when[0], end=when[1], service_ids=[vpn.pk], exclude_pk=change.pk
    )


@pytest.mark.skipif(
    not service_tree_supported(), reason="catalogue.Service has no parent field yet"
)
def test_a_parent_or_child_service_conflicts_but_a_sibling_does_not(booked):
    # given: Network ⊃ VPN, Wi-Fi; a change booked on the parent
    network = ServiceFactory(name="Network")
    vpn_child = ServiceFactory(name="VPN gateway", parent=network)
    wifi_child = ServiceFactory(name="Wi-Fi", parent=network)
    when = window()
    on_parent = booked(when, services_=[network])
    # then: a change on a child meets it, and the other way round
    assert ids(find_conflicts(start=when[0], end=when[1], service_ids=[vpn_child.pk])) == [
        on_parent.pk
    ]
    later = window(days=4)
    on_child = booked(later, services_=[vpn_child])
    assert ids(find_conflicts(start=later[0], end=later[1], service_ids=[network.pk])) == [
        on_child.pk
    ]
    assert not find_conflicts(start=later[0], end=later[1], service_ids=[wifi_child.pk])


def test_a_blackout_without_services_covers_everything(change_manager, vpn):
    start, end = window(days=10, hours=24)
    services.blackout_window_save(by=change_manager, name="Year-end freeze", start=start, end=end)
    found = find_conflicts(start=start + timedelta(hours=3), end=end, service_ids=[vpn.pk])
    assert [hit.window.name for hit in found.blackouts] == ["Year-end freeze"]
    # a change with no services at all still meets a global blackout
    assert find_conflicts(start=start, end=end, service_ids=[]).blackouts


def test_a_service_blackout_only_blocks_its_services(change_manager, vpn, erp):
    start, end = window(days=10, hours=4)
    services.blackout_window_save(
        by=change_manager, name="ERP close", start=start, end=end, services=[erp]
    )
    assert find_conflicts(start=start, end=end, service_ids=[erp.pk]).blackouts
    assert not find_conflicts(start=start, end=end, service_ids=[vpn.pk]).blackouts
    assert not find_conflicts(start=end, end=end + timedelta(hours=1), service_ids=[erp.pk])


def test_a_weekly_blackout_keeps_its_local_time_across_dst(change_manager, erp):
    # given: every Friday 22:00–02:00 London, defined in winter (22:00 GMT = 22:00 UTC)
    first = datetime(2027, 1, 8, 22, tzinfo=LONDON)
    services.blackout_window_save(
        by=change_manager,
        name="Friday batch",
        start=first,
        end=first + timedelta(hours=4),
        timezone_name="Europe/London",
        recurrence=Recurrence.WEEKLY,
        services=[erp],
    )
    # when: a change on a summer Friday 20:30–21:30 UTC (21:30–22:30 BST)
    found = find_conflicts(
        start=datetime(2027, 7, 9, 20, 30, tzinfo=UTC),
        end=datetime(2027, 7, 9, 21, 30, tzinfo=UTC),
        service_ids=[erp.pk],
    )
    # then: it meets the blackout, which starts at 22:00 BST = 21:00 UTC
    [hit] = found.blackouts
    assert hit.start == datetime(2027, 7, 9, 21, tzinfo=UTC)
    # and an hour earlier in UTC terms, ending as the blackout starts, is clear
    assert not find_conflicts(
        start=datetime(2027, 7, 9, 20, tzinfo=UTC),
        end=datetime(2027, 7, 9, 21, tzinfo=UTC),
        service_ids=[erp.pk],
    )
    # and in winter the same local time is 22:00 UTC
    [winter] = find_conflicts(
        start=datetime(2027, 12, 3, 21, 30, tzinfo=UTC),
        end=datetime(2027, 12, 3, 22, 30, tzinfo=UTC),
        service_ids=[erp.pk],
    ).blackouts
    assert winter.start == datetime(2027, 12, 3, 22, tzinfo=UTC)


def test_a_weekly_blackout_ends_at_its_until_date(change_manager, vpn):
    first = datetime(2027, 1, 4, 9, tzinfo=LONDON)
    services.blackout_window_save(
        by=change_manager,
        name="Monday standup",
        start=first,
        end=first + timedelta(hours=1),
        recurrence=Recurrence.WEEKLY,
        until=date(2027, 2, 1),
    )
    monday = datetime(2027, 2, 1, 9, 30, tzinfo=LONDON)
    assert find_conflicts(start=monday, end=monday + timedelta(minutes=10), service_ids=[vpn.pk])
    later = monday + timedelta(days=7)
    assert not find_conflicts(start=later, end=later + timedelta(minutes=10), service_ids=[])


def test_scheduling_into_a_blackout_needs_an_override(make_change, template, agent, change_manager):
    start, end = window(days=6)
    services.blackout_window_save(by=change_manager, name="Freeze", start=start, end=end)
    change = make_change(template=template, when=(start, end))
    with pytest.raises(services.ScheduleConflict, match="Freeze"):
        services.change_transition(change=change, by=agent, target="scheduled")
    change = services.change_transition(
        change=change, by=change_manager, target="scheduled", override_reason="Security fix"
    )
    assert change.schedule_override["blackouts"][0]["name"] == "Freeze"


def test_blackout_validation(change_manager):
    start = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(DomainError, match="end after it starts"):
        services.blackout_window_save(by=change_manager, name="x", start=start, end=start)
    with pytest.raises(DomainError, match="at most a week"):
        services.blackout_window_save(
            by=change_manager,
            name="Too long",
            start=start,
            end=start + timedelta(days=8),
            recurrence=Recurrence.WEEKLY,
        )
    with pytest.raises(DomainError, match="time zone"):
        services.blackout_window_save(
            by=change_manager,
            name="Mars",
            start=start,
            end=start + timedelta(hours=1),
            timezone_name="Mars/Olympus",
        )
