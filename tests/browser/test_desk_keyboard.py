"""Keyboard-only triage in a real browser: the mouse never touches the desk."""

import re

import pytest
from playwright.sync_api import expect

from incidents.choices import IncidentStatus
from incidents.models import Incident
from incidents.services import incident_create
from tests.browser.conftest import log_in
from tickets.models import TicketEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_three_tickets_triaged_with_the_keyboard_only(new_page, agent, requester, network_team):
    titles = ["Printer jams on floor 2", "Wi-Fi drops in room 4", "Monitor flickers"]
    for title in titles:
        incident_create(requester=requester, by=requester, title=title, team=network_team)
    page = new_page()
    log_in(page, "alice")
    page.goto("/desk/?queue=unassigned&sort=number")
    for n, title in enumerate(titles, start=1):
        expect(page.locator("#queue tbody tr")).to_have_count(len(titles) - n + 1)
        page.keyboard.press("j")  # the first row: the next ticket to triage
        expect(page.locator("#queue tbody tr.is-current")).to_contain_text(title)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_contain_text(title)

        page.keyboard.press("a")  # assign to me
        expect(page.locator("#assignee-name")).to_contain_text("Alice Agent")

        page.keyboard.press("r")  # reply: the editor takes focus
        expect(page.locator("#reply-form textarea")).to_be_focused()
        page.keyboard.type(f"Hello, looking at it now ({n}).")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#timeline")).to_contain_text(f"looking at it now ({n})")

        page.keyboard.press("e")  # resolve: status chosen, the resolution code focused
        expect(page.locator("#id_resolution_code")).to_be_focused()
        expect(page.locator("#id_target")).to_have_value("resolved")
        page.keyboard.press("f")  # "Fixed"
        page.keyboard.press("Tab")
        page.keyboard.type("Replaced the faulty part.")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#incident")).to_contain_text("Resolved")

        page.keyboard.press("q")  # back to the queue
        expect(page).to_have_url(re.compile(r"/desk/"))
        if n < len(titles):
            page.goto("/desk/?queue=unassigned&sort=number")

    incidents = Incident.objects.filter(ticket__title__in=titles).select_related("ticket")
    assert {i.status for i in incidents} == {IncidentStatus.RESOLVED}
    assert {i.ticket.assignee_id for i in incidents} == {agent.pk}
    assert {i.resolution_code for i in incidents} == {"fixed"}
    replies = TicketEvent.objects.filter(ticket__in=[i.ticket for i in incidents], public=True)
    assert replies.filter(body__startswith="Hello, looking at it now").count() == 3


def test_help_overlay_and_search_shortcut(new_page, agent, requester, network_team):
    incident_create(requester=requester, by=requester, title="Keyboard help", team=network_team)
    page = new_page()
    log_in(page, "alice")
    page.goto("/desk/")
    expect(page.locator("#tab-open .count")).to_have_text("1")  # counts arrive after the rows
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    expect(page.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("keyboard")
    page.keyboard.press("Enter")
    expect(page.locator("#queue")).to_contain_text("Keyboard help")
