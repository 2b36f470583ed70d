"""Journeys a person takes, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from incidents.choices import IncidentStatus
from incidents.models import Incident
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_logs_in_and_sees_the_desk_queue(new_page, agent, requester, network_team):
    from incidents.services import incident_create

    incident_create(requester=requester, by=requester, title="Projector broken", team=network_team)
    page = new_page()
    log_in(page, "alice")
    expect(page).to_have_url(re.compile(r"/desk/$"))
    expect(page.locator("#queue")).to_contain_text("Projector broken")
    expect(page.get_by_role("link", name="Desk", exact=True)).to_be_visible()


def test_requester_logs_in_and_sees_only_the_portal(new_page, requester):
    page = new_page()
    log_in(page, "rita")
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    expect(page.get_by_role("link", name="Desk", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Dashboards", exact=True)).to_have_count(0)
    response = page.goto("/desk/")
    assert response.status == 403


def test_wrong_password_shows_an_error_and_stays_on_login(new_page, requester):
    page = new_page()
    log_in(page, "rita", password="nope")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("form")).to_contain_text(re.compile("correct", re.I))


def test_report_assign_reply_resolve_confirm(new_page, requester, agent, network_team):
    # given: the requester reports a problem in the portal
    portal = new_page()
    log_in(portal, "rita")
    portal.get_by_role("link", name="Report a problem").click()
    portal.fill("input[name=title]", "Laptop will not boot")
    portal.fill("textarea[name=description]", "Black screen after the logo")
    portal.get_by_label("I can't work").check()
    portal.get_by_role("button", name="Send to the service desk").click()
    expect(portal.locator(".messages")).to_contain_text("Your ticket number is INC")
    incident = Incident.objects.get(ticket__title="Laptop will not boot")
    number = incident.ticket.number
    # The unrouted ticket sits in the triage pool; the agent's team picks it up.
    # when: the agent finds it in the desk queue and takes it
    desk = new_page()
    log_in(desk, "alice")
    desk.get_by_role("link", name=number).click()
    desk.get_by_role("button", name="Assign to me").click()
    expect(desk.locator("#assignee-name")).to_have_text("Alice Agent")
    # and replies publicly, then resolves
    desk.fill(
        "#reply-form textarea[name=body]", "Hold the power button for 30 seconds, then retry."
    )
    desk.click("#send-reply")
    expect(desk.locator("#timeline")).to_contain_text("Hold the power button")
    desk.select_option("#id_target", "resolved")
    desk.select_option("#transition-form select[name=resolution_code]", "fixed")
    desk.fill("#transition-form textarea[name=resolution_notes]", "Power cycle fixed it.")
    desk.locator("#transition-form").get_by_role("button", name="Apply").click()
    expect(desk.locator(".page-header")).to_contain_text("Resolved")
    # then: the requester sees the reply and confirms
    portal.goto(f"/tickets/{number}/")
    expect(portal.locator("#timeline")).to_contain_text("Hold the power button")
    portal.get_by_role("button", name="Yes, close it").click()
    expect(portal.locator(".messages")).to_contain_text("closed")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert incident.ticket.first_responded_at is not None
