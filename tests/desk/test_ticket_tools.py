"""Ticket tools on every kind's desk page: time spent per entry, watchers (and what they are
told), tags, related tickets; hidden tickets are 404 everywhere; constant queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changes.services import change_create
from core.exceptions import DomainError, StaleWrite
from desk.models import CannedReply
from incidents.choices import IncidentStatus
from incidents.services import incident_comment, incident_create, incident_transition
from servicerequests.models import FulfilmentTask
from servicerequests.services import service_request_submit
from tests.conftest import wait_until
from tests.factories import MembershipFactory, ServiceFactory, UserFactory
from tests.servicerequests.builders import make_item
from tickets.choices import EventType, LinkKind
from tickets.dispatch import dispatch_event
from tickets.models import EventDispatch, Notification, Ticket, TicketEvent, TicketLink
from tickets.services import (
    MAX_TAGS,
    ticket_link,
    ticket_reply,
    ticket_set_tags,
    ticket_unlink,
    ticket_watch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(requester, agent, network_team):
    return incident_create(
        requester=requester, by=requester, title="VPN drops", team=network_team, assignee=agent
    )


@pytest.fixture
def hidden(requester, database_team):
    """A Database incident: Alice (Network) may not see it."""
    return incident_create(requester=requester, by=requester, title="DB slow", team=database_team)


def make_kind(kind, *, requester, agent, team):
    """One ticket of `kind` the Network agent works on; returns (ticket, page url)."""
    if kind == "incident":
        detail = incident_create(requester=requester, by=requester, title="Mouse", team=team)
        return detail.ticket, f"/desk/incidents/{detail.pk}/"
    item = make_item(
        name="Desk move",
        fulfilment_team=team,
        tasks=[{"title": "Pack", "team": team, "waits_for_previous": False}],
    )
    sr = service_request_submit(item=item, by=requester, answers={})
    if kind == "request":
        return sr.ticket, f"/desk/requests/{sr.pk}/"
    if kind == "task":
        task = FulfilmentTask.objects.filter(request=sr).first()
        return task.ticket, f"/desk/tasks/{task.pk}/"
    change = change_create(by=agent, title="Upgrade", team=team, services=[ServiceFactory()])
    return change.ticket, f"/desk/changes/{change.pk}/"


def dispatch_all() -> int:
    """Run every pending journal dispatch (what dispatch_event_task does after commit)."""
    pending = EventDispatch.objects.filter(dispatched_at__isnull=True).order_by("pk")
    return sum(dispatch_event(event_id=pk) for pk in pending.values_list("event_id", flat=True))


def panel(response) -> str:
    html = response.content.decode()
    assert 'id="ticket-tools"' in html
    return html[html.index('id="ticket-tools"') :]


# ------------------------------------------------------------------ time spent
@pytest.mark.parametrize("kind", ["incident", "request", "task", "change"])
def test_reply_logs_time_spent_and_the_side_panel_sums_it(
    client, agent, requester, network_team, kind
):
    # given
    ticket, url = make_kind(kind, requester=requester, agent=agent, team=network_team)
    client.force_login(agent)
    # when two entries log 30 and 45 minutes through each kind's reply form
    for minutes, body in ((30, "Looked at logs"), (45, "Fixed **config**")):
        version = Ticket.objects.get(pk=ticket.pk).version
        response = client.post(
            f"{url}reply/",
            {"body": body, "public": "", "version": version, "time_spent_minutes": minutes},
        )
        assert response.status_code == 302, response.content.decode()[:500]
    # then
    logged = TicketEvent.objects.filter(ticket=ticket, type=EventType.WORK_NOTE).order_by("pk")
    assert list(logged.values_list("time_spent_minutes", flat=True))[-2:] == [30, 45]
    page = client.get(url)
    assert '<strong id="time-spent-total">1 h 15 min</strong>' in panel(page)
    html = page.content.decode()
    assert '<span class="time-spent" title="Time spent">45 min</span>' in html
    assert 'id="preview-reply"' in html
    assert 'name="time_spent_minutes"' in html


def test_time_spent_outside_a_day_is_refused(client, agent, incident):
    client.force_login(agent)
    version = incident.ticket.version
    response = client.post(
        f"/desk/incidents/{incident.pk}/reply/",
        {"body": "x", "public": "", "version": version, "time_spent_minutes": 1441},
    )
    assert response.status_code == 422
    assert "less than or equal to 1440" in response.content.decode()
    assert not TicketEvent.objects.filter(type=EventType.WORK_NOTE).exists()
    with pytest.raises(DomainError, match="0 to 1440"):
        ticket_reply(
            ticket=incident.ticket, by=agent, body="x", public=False, time_spent_minutes=-5
        )


def test_time_spent_is_optional_and_hidden_from_requesters(client, agent, requester, incident):
    incident_comment(incident=incident, by=agent, body="On it", time_spent_minutes=20)
    incident_comment(incident=incident, by=agent, body="No time logged")
    assert list(
        TicketEvent.objects.filter(type=EventType.COMMENT)
        .order_by("pk")
        .values_list("time_spent_minutes", flat=True)
    ) == [20, None]
    client.force_login(requester)
    portal = client.get(incident.ticket.portal_url).content.decode()
    assert "On it" in portal
    assert "20 min" not in portal
    journal = client.get(f"/api/v1/incidents/{incident.pk}/journal/").json()["results"]
    said = next(e for e in journal if e["body"] == "On it")
    assert said["time_spent_minutes"] is None  # the API hides it from requesters too
    client.force_login(agent)
    journal = client.get(f"/api/v1/incidents/{incident.pk}/journal/").json()["results"]
    assert next(e for e in journal if e["body"] == "On it")["time_spent_minutes"] == 20


# ------------------------------------------------------------------ watchers
def test_watch_and_unwatch_are_journalled_and_listed(client, teammate, incident):
    client.force_login(teammate)
    url = f"/desk/tickets/{incident.pk}/watch/"
    # when
    response = client.post(url, {"watch": "on"}, HTTP_HX_REQUEST="true")
    # then
    assert list(incident.ticket.watchers.all()) == [teammate]
    html = panel(response)
    assert "Nick Network" in html
    assert "Stop watching" in html
    client.post(url, {"watch": "on"}, HTTP_HX_REQUEST="true")  # twice: no second entry
    client.post(url, {}, HTTP_HX_REQUEST="true")
    assert not incident.ticket.watchers.exists()
    journal = TicketEvent.objects.filter(
        ticket=incident.ticket, type=EventType.SYSTEM, data__code__in=["watch", "unwatch"]
    ).order_by("pk")
    assert list(journal.values_list("body", flat=True)) == ["started watching", "stopped watching"]


@pytest.mark.django_db(transaction=True)
def test_watchers_hear_public_replies_and_status_changes_but_not_work_notes(
    celery_worker_process, agent, teammate, requester, incident
):
    # given: a real worker dispatches the journal after each commit
    celery_worker_process()
    ticket_watch(ticket=incident.ticket, by=teammate)
    # when (each service call commits on its own: no shared transaction to coalesce)
    incident_comment(incident=incident, by=requester, body="Still broken")
    incident_comment(incident=incident, by=agent, body="Internal only", public=False)
    incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    # then
    told = Notification.objects.filter(recipient=teammate, ticket=incident.ticket)
    mine = EventDispatch.objects.filter(
        ticket=incident.ticket, type__in=["comment", "status_changed"]
    )
    wait_until(
        lambda: mine.count() == 2 and not mine.filter(dispatched_at=None).exists(),
        timeout=30,
        message="the reply and the status change were not dispatched",
    )
    assert sorted(told.values_list("event", flat=True)) == ["reply", "status_changed"]
    assert "Still broken" in told.get(event="reply").body
    assert (
        told.get(event="status_changed").subject == f"{incident.ticket.number} is now In progress"
    )
    assert not told.filter(body__contains="Internal only").exists()


def test_watcher_who_is_the_actor_or_requester_is_not_told_twice(agent, requester, incident):
    ticket_watch(ticket=incident.ticket, by=requester)
    ticket_watch(ticket=incident.ticket, by=agent)
    incident_comment(incident=incident, by=agent, body="Reply")
    dispatch_all()
    assert Notification.objects.filter(recipient=requester, event="reply").count() == 1
    assert not Notification.objects.filter(recipient=agent, event="reply").exists()  # actor


def test_without_watching_a_teammate_hears_nothing(agent, teammate, requester, incident):
    incident_comment(incident=incident, by=requester, body="Still broken")
    dispatch_all()
    assert not Notification.objects.filter(recipient=teammate).exists()


# ------------------------------------------------------------------ tags
def test_tags_are_normalised_journalled_and_version_checked(client, agent, incident):
    client.force_login(agent)
    ticket = Ticket.objects.get(pk=incident.pk)
    # when
    response = client.post(
        f"/desk/tickets/{ticket.pk}/tags/",
        {"tags": "VPN, remote-work  vpn  p1", "version": ticket.version},
        HTTP_HX_REQUEST="true",
    )
    # then
    ticket.refresh_from_db()
    assert ticket.tags == ["vpn", "remote-work", "p1"]
    assert 'class="tag">remote-work<' in panel(response)
    trigger = json.loads(response["HX-Trigger"])["ticket-version"]
    assert trigger == {"old": ticket.version - 1, "new": ticket.version}
    entry = TicketEvent.objects.get(ticket=ticket, type=EventType.FIELD_CHANGED)
    assert entry.data == {
        "field": "tags",
        "label": "Tags",
        "old": "",
        "new": "vpn, remote-work, p1",
    }
    assert entry.actor == agent
    assert not entry.public
    # a stale form is refused and changes nothing
    stale = client.post(
        f"/desk/tickets/{ticket.pk}/tags/",
        {"tags": "other", "version": ticket.version - 1},
        HTTP_HX_REQUEST="true",
    )
    assert "Someone else changed this ticket" in stale.content.decode()
    ticket.refresh_from_db()
    assert ticket.tags == ["vpn", "remote-work", "p1"]
    with pytest.raises(StaleWrite):
        ticket_set_tags(ticket=ticket, by=agent, tags=["x"], expected_version=ticket.version - 1)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ("bad_tag", "only lowercase letters, digits and hyphens"),
        ("ok café", "only lowercase letters, digits and hyphens"),
        ("x" * 41, "longer than 40 characters"),
        (" ".join(f"t{i}" for i in range(MAX_TAGS + 1)), "At most 20 tags"),
    ],
)
def test_invalid_tags_are_refused_with_a_message(client, agent, incident, tags, message):
    client.force_login(agent)
    ticket = Ticket.objects.get(pk=incident.pk)
    response = client.post(
        f"/desk/tickets/{ticket.pk}/tags/",
        {"tags": tags, "version": ticket.version},
        HTTP_HX_REQUEST="true",
    )
    assert message in panel(response)
    ticket.refresh_from_db()
    assert ticket.tags == []
    assert not TicketEvent.objects.filter(type=EventType.FIELD_CHANGED).exists()


def test_twenty_tags_of_forty_characters_are_fine(agent, incident):
    tags = [f"{i:02d}" + "x" * 38 for i in range(MAX_TAGS)]
    assert ticket_set_tags(ticket=incident.ticket, by=agent, tags=tags) == tags


# ------------------------------------------------------------------ related tickets
def test_link_by_number_shows_on_both_sides_and_is_journalled(
    client, agent, requester, network_team, incident
):
    # given
    other = incident_create(requester=requester, by=requester, title="VPN again", team=network_team)
    client.force_login(agent)
    # when
    response = client.post(
        f"/desk/tickets/{other.pk}/links/",
        {"number": incident.ticket.number.lower(), "kind": LinkKind.DUPLICATE_OF},
        HTTP_HX_REQUEST="true",
    )
    # then
    link = TicketLink.objects.get()
    assert (link.source_id, link.target_id, link.kind) == (other.pk, incident.pk, "duplicate_of")
    assert f'Duplicate of <a href="/desk/tickets/{incident.ticket.number}/">' in panel(response)
    here = panel(client.get(f"/desk/incidents/{incident.pk}/"))
    assert f'Duplicated by <a href="/desk/tickets/{other.ticket.number}/">' in here
    assert "VPN again" in here
    journal = TicketEvent.objects.filter(type=EventType.SYSTEM, data__code="linked")
    assert sorted(journal.values_list("ticket_id", "body")) == sorted(
        [
            (other.pk, f"linked this ticket: duplicate of {incident.ticket.number}"),
            (incident.pk, f"linked this ticket: duplicated by {other.ticket.number}"),
        ]
    )


def test_linking_a_hidden_ticket_is_refused_like_a_missing_one(client, agent, incident, hidden):
    client.force_login(agent)
    for number in (hidden.ticket.number, "INC9999999"):
        response = client.post(
            f"/desk/tickets/{incident.pk}/links/",
            {"number": number, "kind": LinkKind.RELATED},
            HTTP_HX_REQUEST="true",
        )
        assert "No ticket with that number." in panel(response)
    assert not TicketLink.objects.exists()
    with pytest.raises(DomainError, match="No ticket with that number"):
        ticket_link(source=incident.ticket, target=hidden.ticket, kind=LinkKind.RELATED, by=agent)


def test_self_and_repeated_links_are_refused(agent, requester, network_team, incident):
    other = incident_create(requester=requester, by=requester, title="Again", team=network_team)
    with pytest.raises(DomainError, match="itself"):
        ticket_link(source=incident.ticket, target=incident.ticket, kind="related", by=agent)
    ticket_link(source=incident.ticket, target=other.ticket, kind="related", by=agent)
    with pytest.raises(DomainError, match="already linked"):
        ticket_link(source=other.ticket, target=incident.ticket, kind="related", by=agent)
    assert TicketLink.objects.count() == 1


def test_a_link_is_removed_from_either_side_after_confirmation_and_journalled(
    client, agent, requester, network_team, incident
):
    # given two linked tickets
    other = incident_create(requester=requester, by=requester, title="VPN again", team=network_team)
    link = ticket_link(source=other.ticket, target=incident.ticket, kind="caused_by", by=agent)
    client.force_login(agent)
    page = panel(client.get(f"/desk/incidents/{incident.pk}/"))
    assert f'hx-post="/desk/tickets/{incident.pk}/links/{link.pk}/delete/"' in page
    assert f'hx-confirm="Remove the link to {other.ticket.number}?"' in page
    # when the target's side removes it
    response = client.post(
        f"/desk/tickets/{incident.pk}/links/{link.pk}/delete/", HTTP_HX_REQUEST="true"
    )
    # then the link is gone, the panel says so, and both journals keep what happened
    assert response.status_code == 200
    assert not TicketLink.objects.exists()
    assert "No related tickets." in panel(response)
    journal = TicketEvent.objects.filter(type=EventType.SYSTEM, data__code="unlinked")
    assert sorted(journal.values_list("ticket_id", "body")) == sorted(
        [
            (other.pk, f"removed the link: caused by {incident.ticket.number}"),
            (incident.pk, f"removed the link: causes {other.ticket.number}"),
        ]
    )
    # and removing it again reads as missing
    again = client.post(f"/desk/tickets/{incident.pk}/links/{link.pk}/delete/")
    assert again.status_code == 302
    assert TicketEvent.objects.filter(data__code="unlinked").count() == 2


def test_a_link_of_another_ticket_or_to_a_hidden_one_cannot_be_removed(
    agent, manager, requester, network_team, incident, hidden
):
    other = incident_create(requester=requester, by=requester, title="VPN again", team=network_team)
    elsewhere = ticket_link(source=other.ticket, target=hidden.ticket, kind="related", by=manager)
    to_hidden = ticket_link(
        source=incident.ticket, target=hidden.ticket, kind="related", by=manager
    )
    with pytest.raises(DomainError):  # not this ticket's link
        ticket_unlink(ticket=incident.ticket, link_id=elsewhere.pk, by=agent)
    with pytest.raises(DomainError):  # the agent cannot see the other side
        ticket_unlink(ticket=incident.ticket, link_id=to_hidden.pk, by=agent)
    assert TicketLink.objects.count() == 2
    assert not TicketEvent.objects.filter(data__code="unlinked").exists()


def test_links_to_tickets_the_agent_may_not_see_are_not_listed(
    client, agent, manager, incident, hidden
):
    ticket_link(source=incident.ticket, target=hidden.ticket, kind="related", by=manager)
    client.force_login(agent)
    html = panel(client.get(f"/desk/incidents/{incident.pk}/"))
    assert hidden.ticket.number not in html
    assert "DB slow" not in html


# ------------------------------------------------------------------ visibility and rights
@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "tools/", {}),
        ("post", "tags/", {"tags": "x", "version": 1}),
        ("post", "watch/", {"watch": "on"}),
        ("post", "links/", {"number": "INC0000001", "kind": "related"}),
        ("post", "links/1/delete/", {}),
        ("post", "preview/", {"body": "hi"}),
    ],
)
def test_hidden_tickets_are_404_on_every_tool(client, other_agent, incident, method, suffix, data):
    client.force_login(other_agent)
    response = getattr(client, method)(f"/desk/tickets/{incident.pk}/{suffix}", data)
    assert response.status_code == 404
    assert not incident.ticket.watchers.exists()


def test_requesters_cannot_use_the_tools_on_their_own_ticket(client, requester, incident):
    client.force_login(requester)
    response = client.post(f"/desk/tickets/{incident.pk}/watch/", {"watch": "on"})
    assert response.status_code == 403
    assert not incident.ticket.watchers.exists()


def test_without_htmx_the_tools_redirect_back_with_a_message(client, agent, incident):
    client.force_login(agent)
    response = client.post(f"/desk/tickets/{incident.pk}/watch/", {"watch": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/desk/incidents/{incident.pk}/"
    assert "You are watching this ticket." in response.content.decode()


# ------------------------------------------------------------------ query count
def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_page_queries_do_not_grow_with_watchers_links_and_canned_replies(
    client, agent, manager, requester, network_team, incident
):
    # given one of each
    def add(n):
        for i in range(n):
            user = UserFactory(roles=["agent"])
            MembershipFactory(team=network_team, user=user)
            ticket_watch(ticket=incident.ticket, by=user)
            other = incident_create(requester=requester, by=requester, title=f"o{i}")
            ticket_link(source=incident.ticket, target=other.ticket, kind="related", by=manager)
            CannedReply.objects.create(owner=agent, title=f"c{i}", body="b")
            ticket_reply(
                ticket=incident.ticket, by=agent, body="n", public=False, time_spent_minutes=5
            )

    add(1)
    client.force_login(agent)
    url = f"/desk/incidents/{incident.pk}/"
    one = _count(client, url)
    # when ten more of each
    add(10)
    # then
    assert _count(client, url) == one
