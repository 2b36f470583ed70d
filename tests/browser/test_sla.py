"""An agent reads the SLA timeline of a ticket that was paused twice, in a real browser."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from incidents.choices import IncidentStatus, OnHoldReason
from incidents.services import incident_create, incident_transition
from slas.models import BusinessCalendar, SlaPolicy
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_sees_the_segments_of_a_clock_paused_twice(new_page, agent, requester, network_team):
    always = BusinessCalendar.objects.create(
        name="24x7 b", timezone="UTC", hours={str(d): [["00:00", "24:00"]] for d in range(7)}
    )
    SlaPolicy.objects.create(
        name="Browser SLA",
        kind="incident",
        metric="resolution",
        target=timedelta(hours=8),
        calendar=always,
        pause_statuses=["on_hold"],
    )
    incident = incident_create(
        requester=requester, by=requester, title="Paused twice", team=network_team
    )
    for _ in range(2):
        incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.ON_HOLD,
            on_hold_reason=OnHoldReason.AWAITING_CALLER,
        )
        incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    page = new_page()
    log_in(page, "alice")
    page.goto(f"/desk/incidents/{incident.pk}/")
    card = page.locator("#sla-resolution")
    expect(card).to_contain_text("Browser SLA")
    expect(card.locator(".sla-seg-paused")).to_have_count(2)
    card.get_by_text("Segments").click()
    expect(card.locator(".sla-segments li", has_text="Paused")).to_have_count(2)
    expect(card.locator(".sla-segments li", has_text="Running")).to_have_count(3)
