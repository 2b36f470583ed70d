"""The change calendar (entries, desk month/week pages, API) and the per-user iCalendar feed."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from rest_framework.test import APIClient

from changes import services
from changes.calendar import calendar_entries
from changes.choices import Recurrence
from changes.models import CalendarFeedToken
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def base():
    """A day well in the future, at midnight UTC."""
    return (timezone.now() + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def book(make_change, advance, template):
    """Schedule `n` one-hour standard changes three hours apart from `start`."""

    def run(n, start, team=None, by=None, **fields):
        made = []
        for i in range(n):
            begin = start + timedelta(hours=3 * i)
            change = make_change(
                template=template,
                when=(begin, begin + timedelta(hours=1)),
                team=team,
                by=by,
                title=fields.get("title", f"Change {i}"),
            )
            made.append(advance(change, "scheduled"))
        return made

    return run


def count_queries(func):
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def test_entries_cover_changes_and_blackout_occurrences(book, base, agent, change_manager):
    [change] = book(1, base + timedelta(hours=10))
    services.blackout_window_save(
        by=change_manager,
        name="Nightly backup",
        start=base + timedelta(hours=1),
        end=base + timedelta(hours=2),
        recurrence=Recurrence.WEEKLY,
    )
    entries = calendar_entries(user=agent, start=base, end=base + timedelta(days=14))
    assert [(e.kind, e.title) for e in entries] == [
        ("blackout", "Nightly backup"),
        ("change", change.ticket.title),
        ("blackout", "Nightly backup"),
    ]
    assert entries[1].colour == "green"  # low risk
    by_state = calendar_entries(
        user=agent, start=base, end=base + timedelta(days=1), colour_by="state"
    )
    assert by_state[-1].colour == "purple"  # scheduled


def test_calendar_range_query_count_is_constant(book, base, agent, change_manager):
    # given
    services.blackout_window_save(
        by=change_manager, name="Freeze", start=base, end=base + timedelta(hours=1)
    )
    book(5, base + timedelta(hours=2))
    agent.refresh_from_db()

    def run():
        entries = calendar_entries(user=agent, start=base, end=base + timedelta(days=31))
        return [e.services for e in entries]

    run()  # warm the per-user caches (roles, teams)
    few = count_queries(run)
    # when
    book(20, base + timedelta(days=2))
    # then
    assert count_queries(run) == few
    assert len(calendar_entries(user=agent, start=base, end=base + timedelta(days=31))) == 26


def test_the_calendar_filters_by_service_and_team(
    book, base, agent, change_manager, network_team, database_team, make_change, advance
):
    book(1, base + timedelta(hours=1), team=network_team, title="On the VPN")
    erp = ServiceFactory(name="ERP")
    other = make_change(
        title="On the ERP",
        services_=[erp],
        team=database_team,
        when=(base + timedelta(hours=5), base + timedelta(hours=6)),
    )
    advance(other, "scheduled")
    entries = calendar_entries(user=change_manager, start=base, end=base + timedelta(days=1))
    assert {e.title for e in entries} == {"On the VPN", "On the ERP"}
    assert [
        e.title
        for e in calendar_entries(
            user=change_manager, start=base, end=base + timedelta(days=1), service=erp
        )
    ] == ["On the ERP"]
    assert [
        e.title
        for e in calendar_entries(
            user=change_manager, start=base, end=base + timedelta(days=1), team=network_team
        )
    ] == ["On the VPN"]


@pytest.mark.parametrize("view", ["month", "week"])
def test_the_desk_calendar_shows_and_links_changes_in_constant_queries(
    client, book, base, agent, view
):
    client.force_login(agent)
    url = f"/desk/changes/calendar/?view={view}&date={base.date().isoformat()}"
    [change] = book(1, base + timedelta(hours=9))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    few = len(ctx.captured_queries)
    assert response.status_code == 200
    assert reverse("desk:change-detail", args=[change.pk]) in response.content.decode()
    book(6, base + timedelta(hours=12))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert len(ctx.captured_queries) == few
    assert response.content.decode().count('class="cal-entry cal-green"') >= 7


def test_the_api_calendar_answers_entries_for_a_range(book, base, agent):
    book(2, base + timedelta(hours=1))
    api = APIClient()
    api.force_authenticate(agent)
    response = api.get(
        "/api/v1/changes/calendar/",
        {"start": base.isoformat(), "end": (base + timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 200
    assert [e["kind"] for e in response.json()] == ["change", "change"]
    too_long = api.get(
        "/api/v1/changes/calendar/",
        {"start": base.isoformat(), "end": (base + timedelta(days=200)).isoformat()},
    )
    assert too_long.status_code == 400


def test_requesters_cannot_read_the_calendar_api(requester, base):
    api = APIClient()
    api.force_authenticate(requester)
    response = api.get(
        "/api/v1/changes/calendar/",
        {"start": base.isoformat(), "end": (base + timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 403


# ------------------------------------------------------------------ iCalendar feed
def _feed(client, token):
    return client.get(reverse("desk:change-calendar-feed", args=[token]))


def test_the_feed_is_a_valid_icalendar_with_only_what_the_user_may_see(
    client, book, base, agent, network_team, database_team, other_agent
):
    # given: one change for the agent's team and one for another team
    [mine] = book(1, base + timedelta(hours=1), team=network_team, title="Network work")
    book(1, base + timedelta(hours=5), team=database_team, by=other_agent, title="Database work")
    token = services.calendar_feed_token_rotate(user=agent)
    # when: a calendar app fetches the feed without any session
    response = _feed(client, token)
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    events = [c for c in calendar.walk("VEVENT")]
    assert [str(e["SUMMARY"]) for e in events] == [f"{mine.ticket.number} Network work"]
    event = events[0]
    assert event.decoded("DTSTART") == mine.planned_start
    assert event.decoded("DTEND") == mine.planned_end
    assert str(event["UID"]).startswith(f"change-{mine.pk}@")
    assert str(event["URL"]).endswith(f"/desk/changes/{mine.pk}/")
    # and the other team's agent sees the other change only
    other = Calendar.from_ical(
        _feed(client, services.calendar_feed_token_rotate(user=other_agent)).content
    )
    assert [str(e["SUMMARY"]).split(" ", 1)[1] for e in other.walk("VEVENT")] == ["Database work"]


def test_the_feed_lists_blackouts_as_free_time_events(client, agent, change_manager, base):
    services.blackout_window_save(
        by=change_manager, name="Freeze", start=base, end=base + timedelta(hours=3)
    )
    calendar = Calendar.from_ical(
        _feed(client, services.calendar_feed_token_rotate(user=agent)).content
    )
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Blackout: Freeze"
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_the_feed_token_is_stored_hashed_and_unknown_tokens_are_404(client, agent):
    token = services.calendar_feed_token_rotate(user=agent)
    row = CalendarFeedToken.objects.get(user=agent)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
    assert _feed(client, "not-a-token").status_code == 404
    assert _feed(client, token).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_resetting_or_revoking_the_feed_cuts_off_the_old_address(client, agent):
    old = services.calendar_feed_token_rotate(user=agent)
    new = services.calendar_feed_token_rotate(user=agent)
    assert _feed(client, old).status_code == 404
    assert _feed(client, new).status_code == 200
    services.calendar_feed_token_revoke(user=agent)
    assert _feed(client, new).status_code == 404


def test_a_deactivated_users_feed_stops(client, agent):
    token = services.calendar_feed_token_rotate(user=agent)
    agent.is_active = False
    agent.save()
    assert _feed(client, token).status_code == 404


def test_the_calendar_page_creates_a_feed_address_once(client, agent):
    client.force_login(agent)
    response = client.post(reverse("desk:change-calendar-feed-token"), {"action": "rotate"})
    assert response.status_code == 200
    url = response.context["feed_url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert CalendarFeedToken.objects.get(user=agent).token_hash == (
        hashlib.sha256(token.encode()).hexdigest()
    )
    page = client.get(reverse("desk:change-calendar")).content.decode()
    assert token not in page  # never shown again
    assert "Make a new address" in page
