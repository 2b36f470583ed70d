"""The rollups give exactly the figures computed from the raw rows, on random histories, in
any time zone, for any period and scope, after incremental syncs, a rebuild, or changes not
synced yet (corrected live on reading)."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboards.models import DailyRollup, RollupState, RollupZone, TicketFact
from dashboards.periods import Period
from dashboards.queries.live import OpenWork
from dashboards.queries.reader import RollupReader
from dashboards.rollups import rollups_rebuild, rollups_sync
from dashboards.scope import Scope
from tests.dashboards.history import add_ticket, mutate, raw_figures
from tests.factories import UserFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 30, 11, 15, tzinfo=UTC)  # Europe and NZ change clocks around here
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "America/St_Johns",
]


def _compare(*, zone: str, first: date, last: date, scope: Scope, now: datetime) -> None:
    period = Period(zone, first, last)
    reader = RollupReader(period=period, scope=scope, now=now)
    raw = raw_figures(zone=zone, first=first, last=last, scope=scope)
    assert reader.totals() == raw.totals
    assert {d: m for d, m in reader.grouped("day").items() if m != type(m)()} == {
        d: m for d, m in raw.by_day.items() if m != type(m)()
    }
    assert reader.grouped("team_id") == raw.by_team
    assert reader.grouped("priority") == raw.by_priority
    assert reader.percentiles() == raw.p90()
    for column in ("kind", "service_id", "organization_id", "category_id", "channel"):
        created = {k: m.created for k, m in reader.grouped(column).items() if m.created}
        assert created == raw.created_by.get(column, {}), column
    open_now = Counter(Ticket.objects.open().filter(scope.q()).values_list("team_id", "priority"))
    assert OpenWork(reader).grouped("team_id", "priority") == dict(open_now)


def test_sync_then_read_equals_raw_on_a_simple_history(world):
    # given
    rng = random.Random(7)
    UserFactory(username="mgr", roles=["service desk manager"], time_zone="Europe/Berlin")
    for _ in range(40):
        add_ticket(rng, world, start=NOW - timedelta(days=20), now=NOW - timedelta(hours=2))
    # when
    rollups_sync(now=NOW - timedelta(hours=1))
    # then
    assert TicketFact.objects.count() == 40
    assert set(RollupZone.objects.values_list("zone", flat=True)) >= {"UTC", "Europe/Berlin"}
    assert DailyRollup.objects.exists()
    for zone in ("UTC", "Europe/Berlin", "Asia/Kolkata"):  # Kolkata: not built, read from facts
        _compare(zone=zone, first=date(2026, 3, 5), last=date(2026, 3, 30), scope=Scope(), now=NOW)


def _scope(draw, world) -> Scope:
    teams = draw(
        st.sampled_from([None, (world.teams[0].pk,), (world.teams[0].pk, world.teams[1].pk)])
    )
    return Scope(
        team_ids=teams,
        priority=draw(st.sampled_from([None, 1, 3])),
        kind=draw(st.sampled_from([None, "incident", "request"])),
        service_id=draw(st.sampled_from([None, world.services[0].pk])),
        organization_id=draw(st.sampled_from([None, world.orgs[1].pk])),
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_rollups_equal_raw_rows_on_random_histories(world, django_db_blocker, data):
    from django.db import transaction

    with transaction.atomic():
        # given: a random history, synced, then more changes, synced again (or rebuilt)
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        rng = random.Random(seed)
        zone = data.draw(st.sampled_from(ZONES), label="zone")
        built = data.draw(st.booleans(), label="zone built")
        if built:
            UserFactory(username="mgr", roles=["service desk manager"], time_zone=zone)
        first_sync = NOW - timedelta(hours=data.draw(st.integers(1, 72), label="hours back"))
        tickets = [
            add_ticket(rng, world, start=NOW - timedelta(days=15), now=first_sync)
            for _ in range(data.draw(st.integers(0, 30), label="tickets"))
        ]
        rollups_sync(now=first_sync)
        for ticket in rng.sample(tickets, k=min(len(tickets), 8)):
            mutate(rng, world, ticket, start=first_sync, now=NOW - timedelta(minutes=1))
        tickets += [
            add_ticket(rng, world, start=first_sync, now=NOW - timedelta(minutes=1))
            for _ in range(rng.randint(0, 5))
        ]
        then = data.draw(st.sampled_from(["sync", "rebuild", "nothing"]), label="then")
        if then == "rebuild":
            rollups_rebuild(now=NOW)
        elif then == "sync":
            rollups_sync(now=NOW)
        # "nothing": the changes since the last sync are corrected live on reading
        # when / then: any period and scope reads the same figures as the raw rows
        first = data.draw(st.dates(date(2026, 3, 10), date(2026, 3, 31)), label="first")
        last = data.draw(st.dates(first, date(2026, 3, 31)), label="last")
        _compare(zone=zone, first=first, last=last, scope=_scope(data.draw, world), now=NOW)
        transaction.set_rollback(True)


def test_reading_before_any_sync_computes_everything_live(world):
    rng = random.Random(3)
    for _ in range(15):
        add_ticket(rng, world, start=NOW - timedelta(days=10), now=NOW)
    assert not RollupState.objects.exists()
    _compare(zone="UTC", first=date(2026, 3, 15), last=date(2026, 3, 30), scope=Scope(), now=NOW)
