"""The bell: unread notifications in the header, read in the list, marked read."""

import re

import pytest
from playwright.sync_api import expect

from incidents.services import incident_comment
from tests.browser.conftest import log_in
from tickets.dispatch import dispatch_event
from tickets.models import EventDispatch, Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _dispatch_all() -> None:
    pending = EventDispatch.objects.filter(dispatched_at__isnull=True)
    for event_id in pending.values_list("event_id", flat=True):
        dispatch_event(event_id=event_id)


def test_bell_shows_unread_notifications_and_marks_them_read(
    new_page, requester, agent, network_team
):
    from incidents.services import incident_create

    # given: an agent answered two of Rita's tickets
    for title in ("VPN is down", "Printer jams"):
        incident = incident_create(
            requester=requester, by=requester, title=title, team=network_team, assignee=agent
        )
        incident_comment(incident=incident, by=agent, body=f"Looking at {title.lower()} now.")
    _dispatch_all()
    Notification.objects.filter(recipient=requester).exclude(event="reply").update(
        read_at="2025-01-01T00:00Z"
    )
    page = new_page()
    log_in(page, "rita")
    bell = page.locator("#bell")
    expect(bell).to_have_accessible_name("Notifications: 2 unread")
    expect(bell.locator(".badge")).to_have_text("2")
    # when: she opens the bell and marks one read in place
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    rows = page.locator("#notifications tbody tr.unread")
    expect(rows).to_have_count(2)
    rows.first.get_by_role("button", name="Mark read").click()
    expect(rows).to_have_count(1)
    page.reload()
    expect(page.locator("#bell")).to_have_accessible_name("Notifications: 1 unread")
    # then: opening the other one takes her to the ticket and clears the bell
    number = page.locator("#notifications tbody tr.unread a").first.inner_text()
    page.locator("#notifications tbody tr.unread a").first.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{number}/$"))
    expect(page.locator("#bell")).to_have_accessible_name("Notifications")
    expect(page.locator("#bell .badge")).to_have_count(0)


def test_mark_all_read_clears_the_bell(new_page, agent):
    from tickets.notifications import notify

    notify(recipients=[agent], ticket=None, event="test", subject="SLA warning: printer")
    page = new_page()
    log_in(page, "alice")
    expect(page.locator("#bell .badge")).to_have_text("1")
    page.locator("#bell").click()
    expect(page.locator("#notifications")).to_contain_text("SLA warning: printer")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#bell .badge")).to_have_count(0)
    expect(page.locator("#notifications tbody tr.unread")).to_have_count(0)
