"""The beat task and the rebuild command keep the read models equal to the raw rows; pages
cost the same number of queries whatever the number of tickets."""

import random
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboards.models import DailyRollup, RollupState, TicketFact
from dashboards.tasks import sync_rollups_task
from tests.dashboards.history import add_ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)


def test_the_beat_task_builds_then_follows_changes(world, time_machine):
    time_machine.move_to(NOW, tick=False)
    rng = random.Random(2)
    for _ in range(12):
        add_ticket(rng, world, start=NOW - timedelta(days=5), now=NOW)
    first = sync_rollups_task()
    assert TicketFact.objects.count() == 12
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    add_ticket(rng, world, start=NOW, now=NOW + timedelta(seconds=30))
    second = sync_rollups_task()
    assert TicketFact.objects.count() == 13
    assert first["tickets"] == 12
    assert second["tickets"] >= 1  # changed since the watermark (minus the safety margin)
    assert RollupState.objects.get().watermark == NOW + timedelta(minutes=1)


def test_the_rebuild_command_gives_the_same_rollups_as_the_sync(world, time_machine):
    time_machine.move_to(NOW, tick=False)
    rng = random.Random(8)
    for _ in range(25):
        add_ticket(rng, world, start=NOW - timedelta(days=9), now=NOW)
    sync_rollups_task()

    def snapshot():
        fields = ["zone", "day", "kind", "priority", "team_id", "created", "resolved"]
        fields += ["resp_met", "resp_breached", "res_work", "res_cal_sum"]
        return sorted(DailyRollup.objects.values_list(*fields), key=repr)

    synced = snapshot()
    out = StringIO()
    call_command("rebuild_dashboards", stdout=out)
    assert "Rebuilt: 25 tickets" in out.getvalue()
    assert snapshot() == synced


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "url",
    ["/dashboards/", "/dashboards/backlog/", "/dashboards/availability/", "/dashboards/volumes/"],
)
def test_pages_cost_the_same_queries_for_10_and_50_tickets(
    client, manager, world, time_machine, url
):
    time_machine.move_to(NOW, tick=False)
    rng = random.Random(3)
    client.force_login(manager)
    counts = []
    for n in (10, 40):
        for _ in range(n):
            add_ticket(rng, world, start=NOW - timedelta(days=20), now=NOW)
        sync_rollups_task()
        counts.append(_queries(client, f"{url}?period=last_30"))
    assert counts[0] == counts[1]
