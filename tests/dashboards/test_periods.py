"""Periods are whole local days in the manager's time zone (User.time_zone)."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboards.choices import PeriodPreset
from dashboards.periods import Period, day_start, period_for
from tests.dashboards.history import add_ticket
from tests.factories import UserFactory


def test_presets_end_today_and_start_on_the_right_local_day():
    today = date(2026, 5, 14)  # a Thursday
    first = {p: period_for(p, zone="UTC", today=today).first for p in PeriodPreset if p != "custom"}
    assert first == {
        PeriodPreset.THIS_WEEK: date(2026, 5, 11),
        PeriodPreset.LAST_7: date(2026, 5, 8),
        PeriodPreset.LAST_30: date(2026, 4, 15),
        PeriodPreset.LAST_90: date(2026, 2, 14),
        PeriodPreset.THIS_QUARTER: date(2026, 4, 1),
    }


def test_a_day_starts_at_local_midnight_and_lasts_23_hours_when_clocks_go_forward():
    period = Period("Europe/London", date(2026, 3, 29), date(2026, 3, 29))
    assert period.start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    auckland = Period("Pacific/Auckland", date(2026, 3, 30), date(2026, 3, 30))
    assert auckland.start == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)  # NZDT ends 5 April


def test_weeks_start_on_monday_and_are_clipped_to_the_period():
    period = Period("UTC", date(2026, 3, 4), date(2026, 3, 17))
    assert period.buckets("week") == [
        (date(2026, 3, 4), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 3, 15)),
        (date(2026, 3, 16), date(2026, 3, 17)),
    ]


def test_day_start_of_a_zone_where_midnight_does_not_exist():
    # Santiago moved its clocks from 00:00 to 01:00 on 6 Sep 2026: the day starts at 01:00.
    start = day_start(date(2026, 9, 6), "America/Santiago")
    assert start == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert start.astimezone(ZoneInfo("America/Santiago")).hour == 1


@pytest.mark.django_db
def test_the_overview_counts_by_the_managers_local_days(client, world, time_machine):
    # given: a resolution at 23:30 UTC on the 9th is the 10th in Auckland
    time_machine.move_to(datetime(2026, 3, 12, 12, 0, tzinfo=UTC), tick=False)
    ticket = add_ticket(
        random.Random(1),
        world,
        start=datetime(2026, 3, 9, 20, 0, tzinfo=UTC),
        now=datetime(2026, 3, 9, 21, 0, tzinfo=UTC),
    )
    resolved = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    type(ticket).objects.filter(pk=ticket.pk).update(
        state="resolved",
        resolved_at=resolved,
        created_at=resolved - timedelta(hours=1),
        updated_at=resolved,
    )
    kiwi = UserFactory(
        username="kiri", roles=["service desk manager"], time_zone="Pacific/Auckland"
    )
    london = UserFactory(username="lou", roles=["service desk manager"], time_zone="Europe/London")

    def resolved_on(user, day: str) -> str:
        client.force_login(user)
        page = client.get(f"/dashboards/backlog/?period=custom&first={day}&last={day}")
        tiles = {t.key: t.value for t in page.context["page"].tiles}
        return tiles["resolved"]

    # when / then
    assert resolved_on(kiwi, "2026-03-10") == "1"
    assert resolved_on(kiwi, "2026-03-09") == "0"
    assert resolved_on(london, "2026-03-09") == "1"
    assert resolved_on(london, "2026-03-10") == "0"
