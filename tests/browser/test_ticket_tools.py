"""The ticket tools in a real browser: a canned reply inserted at the cursor, the Markdown
preview, time spent, watching and tags, and the page's other forms still working after a tag
edit (the version sync)."""

import re

import pytest
from playwright.sync_api import expect

from desk.models import CannedReply
from incidents.choices import IncidentStatus
from incidents.models import Incident
from tests.browser.conftest import log_in
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_works_a_ticket_with_canned_reply_preview_time_watch_and_tags(
    new_page, agent, requester, network_team
):
    from incidents.services import incident_create

    # given
    requester.first_name = "Rita"
    requester.save(update_fields=["first_name"])
    incident = incident_create(
        requester=requester, by=requester, title="Printer jams", team=network_team, assignee=agent
    )
    number = incident.ticket.number
    CannedReply.objects.create(
        owner=agent,
        title="Greeting",
        body="Hello {{ requester.first_name }}, about {{ ticket.number }}: {% now %} {{ nope }}",
    )
    page = new_page()
    log_in(page, "alice")
    page.goto(f"/desk/incidents/{incident.pk}/")
    body = page.locator("#reply-form textarea[name=body]")

    # when: the agent types, then inserts a canned reply at the cursor
    body.fill("**Thanks**\n")
    body.press("End")
    page.locator("#canned-picker summary").click()
    page.get_by_role("button", name="Greeting").click()
    # then: filled in for this ticket, unknown bits left as written
    expect(body).to_have_value(
        f"**Thanks**\nHello Rita, about {number}: {{% now %}} {{{{ nope }}}}"
    )

    # when: the agent previews the text
    page.locator("#preview-reply").click()
    expect(page.locator(".reply-preview strong")).to_have_text("Thanks")

    # when: log 25 minutes with a work note
    page.fill("#id_time_spent_minutes", "25")
    page.locator("#add-note").click()
    expect(page.locator("#timeline")).to_contain_text(f"Hello Rita, about {number}")
    expect(page.locator("#timeline .time-spent")).to_have_text("25 min")
    expect(page.locator("#time-spent-total")).to_have_text("25 min")

    # when: the agent watches the ticket and tags it
    page.locator("#watch-button").click()
    expect(page.locator("#watch-button")).to_have_text("Stop watching")
    expect(page.locator("#watcher-list")).to_contain_text("Alice Agent")
    page.fill("#id_tools_tags", "Printer, floor-2")
    page.locator("#tags-form button").click()
    expect(page.locator("#tag-list")).to_contain_text("floor-2")
    assert Ticket.objects.get(pk=incident.pk).tags == ["printer", "floor-2"]

    # then: the status form, rendered before the tag edit, is not refused as stale
    page.select_option("#id_target", IncidentStatus.IN_PROGRESS.value)
    page.locator("#transition-form button[type=submit]").click()
    expect(page.locator("#incident")).to_contain_text(re.compile("Status changed"))
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.status == IncidentStatus.IN_PROGRESS
    assert TicketEvent.objects.filter(ticket_id=incident.pk, time_spent_minutes=25).exists()


def test_removing_a_link_asks_first_and_updates_the_panel(new_page, agent, requester, network_team):
    from incidents.services import incident_create
    from tickets.models import TicketLink
    from tickets.services import ticket_link

    one = incident_create(requester=requester, by=requester, title="VPN down", team=network_team)
    two = incident_create(requester=requester, by=requester, title="VPN slow", team=network_team)
    ticket_link(source=two.ticket, target=one.ticket, kind="related", by=agent)
    page = new_page()
    log_in(page, "alice")
    page.goto(f"/desk/incidents/{one.pk}/")
    related = page.locator("#related-list")
    expect(related).to_contain_text(two.ticket.number)

    # declining the question keeps the link
    page.once("dialog", lambda dialog: dialog.dismiss())
    related.get_by_role("button", name=f"Remove the link to {two.ticket.number}").click()
    expect(related).to_contain_text(two.ticket.number)
    assert TicketLink.objects.count() == 1

    # accepting removes it, and the panel says so without a reload
    page.once("dialog", lambda dialog: dialog.accept())
    related.get_by_role("button", name=f"Remove the link to {two.ticket.number}").click()
    expect(page.locator("#related-list")).to_have_text("No related tickets.")
    assert not TicketLink.objects.exists()
