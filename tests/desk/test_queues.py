"""The unified desk queue: membership of each queue, counts, keyset pages, constant queries,
saved views, search ranking and permissions, bulk actions with partial failures, merge."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from desk.models import DeskPreference, SavedView
from desk.queues import COUNT_CAP, QUEUES, queue_counts
from desk.templatetags.desk_ui import tab_count
from incidents.choices import IncidentStatus, ResolutionCode
from incidents.models import Incident
from incidents.services import (
    incident_assign,
    incident_comment,
    incident_create,
    incident_transition,
)
from slas.models import BusinessCalendar, SlaPolicy
from tests.factories import MembershipFactory, UserFactory
from tests.notifications.conftest import dispatch_all
from tickets.choices import EventType, LinkKind
from tickets.models import Notification, Ticket, TicketEvent, TicketLink

pytestmark = pytest.mark.django_db

ROW = re.compile(r'data-number="([A-Z]+\d+)"')


def listed(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return ROW.findall(response.content.decode())


def raise_incident(requester, team, title="Printer jam", **kw) -> Incident:
    return incident_create(requester=requester, by=requester, title=title, team=team, **kw)


def resolve(incident: Incident, by) -> None:
    incident_transition(
        incident=incident,
        by=by,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes="Rebooted.",
    )


@pytest.fixture
def sla_policies():
    """Every incident gets running response and resolution clocks (round the clock)."""
    calendar = BusinessCalendar.objects.create(
        name="24x7", timezone="UTC", hours={str(d): [["00:00", "24:00"]] for d in range(7)}
    )
    for metric, hours in (("response", 1), ("resolution", 8)):
        SlaPolicy.objects.create(
            name=f"{metric} {hours} h",
            kind="incident",
            metric=metric,
            target=timedelta(hours=hours),
            calendar=calendar,
        )


@pytest.fixture
def world(agent, other_agent, requester, network_team, database_team):
    """Five open incidents in different situations and one resolved last week."""
    mine = raise_incident(requester, network_team, "Mine")
    incident_assign(incident=mine, by=agent, assignee=agent)
    team_open = raise_incident(requester, network_team, "Team, unassigned")
    other_team = raise_incident(requester, database_team, "Other team")
    pool = raise_incident(requester, None, "Triage pool")
    done = raise_incident(requester, network_team, "Done")
    resolve(done, agent)
    return {
        "mine": mine.ticket.number,
        "team_open": team_open.ticket.number,
        "other_team": other_team.ticket.number,
        "pool": pool.ticket.number,
        "done": done.ticket.number,
    }


def test_each_queue_lists_exactly_its_members(client, agent, world):
    client.force_login(agent)
    assert set(listed(client, "/desk/?queue=mine")) == {world["mine"]}
    assert set(listed(client, "/desk/?queue=teams")) == {world["mine"], world["team_open"]}
    # the agent does not see the other team's ticket at all; the triage pool is theirs to take
    assert set(listed(client, "/desk/?queue=unassigned")) == {world["team_open"], world["pool"]}
    assert set(listed(client, "/desk/?queue=open")) == {
        world["mine"],
        world["team_open"],
        world["pool"],
    }
    assert set(listed(client, "/desk/?queue=recent")) == {
        world["mine"],
        world["team_open"],
        world["pool"],
        world["done"],
    }


def test_recently_updated_forgets_what_was_untouched_for_a_week(client, agent, world):
    Ticket.objects.filter(number=world["done"]).update(
        updated_at=timezone.now() - timedelta(days=8)
    )
    client.force_login(agent)
    assert world["done"] not in listed(client, "/desk/?queue=recent")


def test_counts_agree_with_the_lists_in_one_query(client, agent, world):
    client.force_login(agent)
    with CaptureQueriesContext(connection) as ctx:
        counts = queue_counts(agent, visible=Ticket.objects.visible_to(agent))
    assert sum("tickets_ticket" in q["sql"] for q in ctx.captured_queries) == 1
    for slug in QUEUES:
        assert counts[slug] == len(listed(client, f"/desk/?queue={slug}&page_size=100")), slug
    html = client.get("/desk/queues/counts/?queue=mine").content.decode()
    assert re.search(r'id="tab-mine" aria-current="page">My work <span class="count"[^>]*>1<', html)


def test_counts_stop_at_the_cap_and_the_tab_says_so(agent, world):
    # the agent sees three open tickets, one of them theirs
    counts = queue_counts(agent, cap=2)
    assert counts["open"] == 3  # cap + 1: "more than 2", counting stopped there
    assert counts["mine"] == 1  # under the cap: exact
    assert tab_count(COUNT_CAP) == str(COUNT_CAP)
    assert tab_count(COUNT_CAP + 1) == f"{COUNT_CAP}+"


def test_counts_for_an_agent_in_no_team(requester):
    loner = UserFactory(username="loner", roles=["agent"])
    raise_incident(requester, None, "Triage pool")
    counts = queue_counts(loner)
    assert counts["teams"] == 0
    assert counts["unassigned"] == 1


def test_default_queue_is_all_open_and_unknown_queue_falls_back(client, agent, world):
    client.force_login(agent)
    assert set(listed(client, "/desk/")) == set(listed(client, "/desk/?queue=nonsense"))


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _batch(n, slug, agent, requester, team, tag):
    for i in range(n):
        incident = raise_incident(requester, team, f"{tag} {i}")
        if slug != "unassigned":
            incident_assign(incident=incident, by=agent, assignee=agent)
        incident_comment(incident=incident, by=requester, body="still broken")


@pytest.mark.parametrize("slug", list(QUEUES))
def test_every_queue_page_costs_the_same_queries_for_25_and_100_rows(
    client, agent, requester, network_team, sla_policies, slug
):
    client.force_login(agent)
    _batch(25, slug, agent, requester, network_team, "Batch")
    small = _count_queries(client, f"/desk/?queue={slug}&page_size=25")
    assert len(listed(client, f"/desk/?queue={slug}&page_size=25")) == 25
    _batch(75, slug, agent, requester, network_team, "More")
    large = _count_queries(client, f"/desk/?queue={slug}&page_size=100")
    assert len(listed(client, f"/desk/?queue={slug}&page_size=100")) == 100
    assert large == small


def test_keyset_pages_walk_every_ticket_once_and_survive_inserts(
    client, agent, requester, network_team
):
    client.force_login(agent)
    created = [raise_incident(requester, network_team, f"T{i}").ticket.number for i in range(23)]
    seen: list[str] = []
    url = "/desk/?queue=open&sort=-updated&page_size=10"
    pages = 0
    while url:
        html = client.get(url).content.decode()
        seen += ROW.findall(html)
        if pages == 0:
            raise_incident(requester, network_team, "Arrives while paging")  # lands before page 1
        nxt = re.search(r'href="([^"]+)" rel="next"', html)
        url = "/desk/" + nxt.group(1).replace("&amp;", "&") if nxt else ""
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(created)  # no repeats, no gaps, the newcomer not pushed in
    # and back again: "previous" from page 2 is page 1
    first = client.get("/desk/?queue=open&sort=-updated&page_size=10").content.decode()
    second_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get("/desk/" + second_url).content.decode()
    prev_url = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert ROW.findall(client.get("/desk/" + prev_url).content.decode()) == ROW.findall(first)


def test_a_tampered_cursor_shows_the_first_page(client, agent, world):
    client.force_login(agent)
    assert listed(client, "/desk/?queue=open&after=!!not-a-cursor") == listed(
        client, "/desk/?queue=open"
    )


def test_columns_are_chosen_per_agent(client, agent, other_agent, world):
    client.force_login(agent)
    response = client.post("/desk/queues/columns/", {"columns": ["number", "title"]})
    assert response.status_code == 302
    html = client.get("/desk/").content.decode()
    assert '<th scope="col">Requester</th>' not in html
    assert ">Title</a></th>" in html
    client.force_login(other_agent)
    assert '<th scope="col">Requester</th>' in client.get("/desk/").content.decode()


# ------------------------------------------------------------------ saved views
def test_saved_views_are_personal_or_shared_with_a_team(
    client, agent, other_agent, network_team, world
):
    colleague = UserFactory(username="carol", roles=["agent"])
    MembershipFactory(team=network_team, user=colleague)
    client.force_login(agent)
    client.post("/desk/views/", {"name": "My P1s", "query": "queue=mine&priority=1"}, follow=True)
    client.post(
        "/desk/views/",
        {"name": "Network backlog", "query": "queue=teams&page=3", "team": network_team.pk},
        follow=True,
    )
    personal = SavedView.objects.get(name="My P1s")
    shared = SavedView.objects.get(name="Network backlog")
    assert shared.query == "queue=teams"  # positions are not part of a view
    client.force_login(colleague)
    html = client.get("/desk/").content.decode()
    assert "Network backlog" in html
    assert "My P1s" not in html
    client.force_login(other_agent)  # another team
    html = client.get("/desk/").content.decode()
    assert "Network backlog" not in html
    assert "My P1s" not in html
    # nobody else may delete someone's personal view: it does not exist for them
    assert client.post(f"/desk/views/{personal.pk}/delete/").status_code == 404
    client.force_login(colleague)
    client.post(f"/desk/views/{shared.pk}/delete/")
    assert SavedView.objects.filter(pk=shared.pk).exists()  # shared, but not theirs


def test_sharing_with_a_team_you_are_not_in_is_refused(client, agent, database_team):
    client.force_login(agent)
    client.post("/desk/views/", {"name": "Sneaky", "query": "", "team": database_team.pk})
    assert not SavedView.objects.filter(name="Sneaky").exists()


def test_duplicate_names_get_a_clear_message(client, agent):
    client.force_login(agent)
    client.post("/desk/views/", {"name": "Mine", "query": "queue=mine"})
    response = client.post("/desk/views/", {"name": "Mine", "query": "queue=open"}, follow=True)
    assert "You already have a view called “Mine”." in response.content.decode()


def test_the_default_view_opens_the_desk(client, agent, world):
    client.force_login(agent)
    client.post("/desk/views/", {"name": "Mine", "query": "queue=mine", "make_default": "on"})
    view = SavedView.objects.get(name="Mine")
    assert DeskPreference.objects.get(user=agent).default_view == view
    response = client.get("/desk/")
    assert response.status_code == 302
    assert response["Location"] == f"/desk/?queue=mine&view={view.pk}"
    assert listed(client, response["Location"]) == [world["mine"]]
    client.post("/desk/views/default/", {})
    assert client.get("/desk/").status_code == 200


# ------------------------------------------------------------------ search
def test_a_number_opens_its_ticket_and_a_hidden_number_finds_nothing(
    client, agent, requester, database_team, network_team
):
    visible = raise_incident(requester, network_team, "Visible")
    hidden = raise_incident(requester, database_team, "Hidden")
    client.force_login(agent)
    response = client.get(f"/desk/?q={visible.ticket.number.lower()}")
    assert response.status_code == 302
    # straight to the kind's page: one redirect, not two
    assert response["Location"] == f"/desk/incidents/{visible.pk}/"
    assert listed(client, f"/desk/?q={hidden.ticket.number}") == []


def test_search_ranks_title_over_description_over_replies_with_snippets(
    client, agent, requester, network_team
):
    in_reply = raise_incident(requester, network_team, "Cannot print")
    incident_comment(incident=in_reply, by=agent, body="Is the toner cartridge seated?")
    in_description = raise_incident(
        requester, network_team, "Printer", description="The <b>toner</b> light & a < sign."
    )
    in_title = raise_incident(requester, network_team, "Toner empty on floor 3")
    raise_incident(requester, network_team, "Unrelated", description="Mouse broken")
    client.force_login(agent)
    response = client.get("/desk/?q=toner")
    html = response.content.decode()
    assert ROW.findall(html) == [
        in_title.ticket.number,
        in_description.ticket.number,
        in_reply.ticket.number,
    ]
    assert response.context["total"] == 3
    # the snippet highlights the match and never lets the description's markup through
    snippet = re.search(r'class="snippet small muted">(.*?)</div>', html).group(1)
    assert "<mark>toner</mark>" in snippet
    assert "&amp; a &lt; sign" in snippet
    assert "<b>" not in snippet
    # prefix match and English stemming
    assert set(listed(client, "/desk/?q=ton")) >= {in_title.ticket.number}
    assert in_title.ticket.number in listed(client, "/desk/?q=empties")


def test_work_notes_are_not_searchable_but_replies_are(client, agent, requester, network_team):
    incident = raise_incident(requester, network_team, "Laptop")
    incident_comment(incident=incident, by=agent, body="suspect zanzibar firmware", public=False)
    incident_comment(incident=incident, by=agent, body="please try the quokka update")
    client.force_login(agent)
    assert listed(client, "/desk/?q=zanzibar") == []
    assert listed(client, "/desk/?q=quokka") == [incident.ticket.number]


def test_search_never_shows_another_requesters_private_ticket(
    client, requester, other_requester, network_team
):
    private = raise_incident(other_requester, network_team, "Salary spreadsheet locked")
    own = raise_incident(requester, network_team, "Salary portal slow")
    requester.organization.share_tickets = False
    requester.organization.save()
    client.force_login(requester)
    html = client.get("/?q=salary").content.decode()
    assert own.ticket.number in html
    assert private.ticket.number not in html
    data = client.get("/api/v1/tickets/?q=salary").json()
    numbers = [t["number"] for t in data["results"]]
    assert numbers == [own.ticket.number]
    assert client.get("/desk/?q=salary").status_code in (302, 403)  # no desk for requesters


# ------------------------------------------------------------------ bulk and merge
def _selection(*tickets: Ticket) -> list[str]:
    return [f"{t.pk}:{t.version}" for t in tickets]


def test_bulk_assign_reports_partial_failures(
    client, agent, other_agent, requester, network_team, database_team
):
    ok = raise_incident(requester, network_team, "One").ticket
    stale = raise_incident(requester, network_team, "Two").ticket
    wrong_team = raise_incident(requester, database_team, "Three").ticket
    seen = _selection(ok, stale, wrong_team)
    incident_comment(  # someone else works on "Two" after the queue was loaded
        incident=Incident.objects.get(pk=stale.pk), by=agent, body="x"
    )
    ticket_changed = Ticket.objects.get(pk=stale.pk)
    assert ticket_changed.version != stale.version
    client.force_login(agent)
    MembershipFactory(team=database_team, user=UserFactory(username="dave", roles=["agent"]))
    response = client.post(
        "/desk/queues/bulk/",
        {"action": "assign", "assignee": agent.pk, "ticket": seen, "back": "queue=open"},
        follow=True,
    )
    text = response.content.decode()
    assert "1 updated, 2 refused." in text
    assert f"{stale.number}: changed by someone else since you loaded it" in text
    # the agent cannot see the Database team's ticket: it is not found, not "forbidden"
    assert f"#{wrong_team.pk}: not found" in text
    assert Ticket.objects.get(pk=ok.pk).assignee == agent
    assert Ticket.objects.get(pk=stale.pk).assignee is None


def test_bulk_assign_to_someone_outside_the_team_is_refused_per_ticket(
    client, manager, agent, other_agent, requester, network_team, database_team
):
    net = raise_incident(requester, network_team, "Net").ticket
    db = raise_incident(requester, database_team, "Db").ticket
    client.force_login(manager)
    response = client.post(
        "/desk/queues/bulk/",
        {"action": "assign", "assignee": other_agent.pk, "ticket": _selection(net, db)},
        follow=True,
    )
    text = response.content.decode()
    assert "1 updated, 1 refused." in text
    assert f"{net.number}: Bob Agent is not a member of Network." in text
    assert Ticket.objects.get(pk=db.pk).assignee == other_agent


def test_bulk_status_priority_tag_and_team(client, manager, requester, network_team, database_team):
    a = raise_incident(requester, network_team, "A").ticket
    b = raise_incident(requester, network_team, "B").ticket
    client.force_login(manager)
    client.post(
        "/desk/queues/bulk/",
        {
            "action": "status",
            "target": "incident:resolved",
            "resolution_code": "fixed",
            "resolution_notes": "Patched the switch.",
            "ticket": _selection(a, b),
        },
    )
    assert set(Incident.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {
        "resolved"
    }
    c = raise_incident(requester, network_team, "C").ticket
    client.post(
        "/desk/queues/bulk/",
        {"action": "priority", "priority": 1, "reason": "CEO affected", "ticket": _selection(c)},
    )
    c.refresh_from_db()
    assert c.priority == 1
    client.post(
        "/desk/queues/bulk/", {"action": "tag", "tag": "Outage-42", "ticket": _selection(c)}
    )
    c.refresh_from_db()
    assert c.tags == ["outage-42"]
    client.post(
        "/desk/queues/bulk/", {"action": "team", "team": database_team.pk, "ticket": _selection(c)}
    )
    c.refresh_from_db()
    assert c.team == database_team
    response = client.post(
        "/desk/queues/bulk/", {"action": "status", "ticket": _selection(c)}, follow=True
    )
    assert "Choose the new status." in response.content.decode()


def test_merge_links_journals_both_sides_tells_the_requester_and_resolves(
    client, agent, requester, other_requester, network_team
):
    keep = raise_incident(requester, network_team, "VPN down in Leeds").ticket
    dup = raise_incident(other_requester, network_team, "Cannot connect to VPN").ticket
    client.force_login(agent)
    response = client.post(
        "/desk/queues/bulk/",
        {"action": "merge", "target_number": keep.number, "ticket": _selection(keep, dup)},
        follow=True,
    )
    assert "1 updated." in response.content.decode()
    assert TicketLink.objects.filter(source=dup, target=keep, kind=LinkKind.DUPLICATE_OF).exists()
    merged = Incident.objects.get(pk=dup.pk)
    assert merged.status == IncidentStatus.RESOLVED
    assert merged.resolution_code == ResolutionCode.DUPLICATE
    assert keep.number in TicketEvent.objects.filter(ticket=dup, type=EventType.SYSTEM).last().body
    assert dup.number in TicketEvent.objects.filter(ticket=keep, type=EventType.SYSTEM).last().body
    dispatch_all()
    told = Notification.objects.filter(recipient=other_requester, ticket=dup, event="reply")
    assert told.exists()
    assert keep.number in told.first().body
    assert Incident.objects.get(pk=keep.pk).status != IncidentStatus.RESOLVED


def test_merge_refuses_other_kinds_and_closed_targets(client, agent, requester, network_team):
    keep = raise_incident(requester, network_team, "Keep").ticket
    closed = raise_incident(requester, network_team, "Closed target")
    resolve(closed, agent)
    client.force_login(agent)
    response = client.post(
        "/desk/queues/bulk/",
        {"action": "merge", "target_number": closed.ticket.number, "ticket": _selection(keep)},
        follow=True,
    )
    assert f"{closed.ticket.number} is no longer open." in response.content.decode()
    assert Incident.objects.get(pk=keep.pk).status != IncidentStatus.RESOLVED


# ------------------------------------------------------------------ live updates
def test_the_queue_poll_answers_204_while_nothing_changed(client, agent, world):
    client.force_login(agent)
    page = client.get("/desk/?queue=open")
    fingerprint = page.context["fingerprint"]
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue-results"}
    with CaptureQueriesContext(connection) as ctx:
        poll = client.get(f"/desk/?queue=open&fp={fingerprint}", **headers)
    assert poll.status_code == 204
    assert sum("tickets_ticket" in q["sql"] for q in ctx.captured_queries) == 1  # the rows
    incident = Incident.objects.get(ticket__number=world["pool"])
    incident_assign(incident=incident, by=agent, assignee=agent)
    poll = client.get(f"/desk/?queue=open&fp={fingerprint}", **headers)
    assert poll.status_code == 200
    assert 'id="queue-results"' in poll.content.decode()
    assert "<html" not in poll.content.decode()


def test_an_open_ticket_learns_that_someone_else_changed_it(
    client, agent, requester, network_team, database_team
):
    incident = raise_incident(requester, network_team, "Live")
    version = Ticket.objects.get(pk=incident.pk).version
    client.force_login(agent)
    url = f"/desk/tickets/{incident.pk}/changed/?version={version}"
    assert client.get(url).status_code == 204
    incident_comment(incident=incident, by=requester, body="any news?")
    response = client.get(url)
    assert response.status_code == 200
    assert "was changed by someone else" in response.content.decode()
    hidden = raise_incident(requester, database_team, "Hidden")
    assert client.get(f"/desk/tickets/{hidden.pk}/changed/?version=1").status_code == 404


def test_long_selects_load_their_options_when_shown(client, agent, requester, network_team):
    client.force_login(agent)
    page = client.get(f"/desk/?team={network_team.pk}").content.decode()
    # the page carries only the chosen team; the options come from the choices endpoint
    select = page.split('id="filter-team"')[1].split("</select>")[0]
    assert 'hx-trigger="intersect once"' in select
    assert f'<option value="{network_team.pk}" selected>Network</option>' in select
    options = client.get(
        f"/desk/queues/choices/?field=team&selected={network_team.pk}&empty=Any"
    ).content.decode()
    assert '<option value="">Any</option>' in options
    assert f'<option value="{network_team.pk}" selected>Network</option>' in options
    agents = client.get("/desk/queues/choices/?field=assignee").content.decode()
    assert "Alice Agent" in agents
    assert "Rita Requester" not in agents
    services = client.get("/desk/queues/choices/?field=service").content.decode()
    assert '<option value="null">No service</option>' in services
    assert client.get("/desk/queues/choices/?field=password").status_code == 404
    client.force_login(requester)
    assert client.get("/desk/queues/choices/?field=assignee").status_code in (403, 404)


def test_every_column_has_a_cell_in_column_order():
    from desk.models import QUEUE_COLUMNS
    from desk.templatetags.desk_ui import _CELLS

    assert list(_CELLS) == list(QUEUE_COLUMNS)
