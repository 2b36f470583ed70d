"""The service request journey in a real browser: order a laptop with conditional fields,
the manager approves in the portal, two fulfilment tasks are worked in the desk, the
requester sees it delivered."""

import re

import pytest
from playwright.sync_api import expect

from catalogue.choices import Approver
from servicerequests.choices import RequestStatus
from servicerequests.models import FulfilmentTask, ServiceRequest
from tests.browser.conftest import log_in
from tests.servicerequests.builders import laptop_form, make_category, make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def laptop(network_team):
    return make_item(
        name="Laptop",
        category=make_category("Hardware", icon="💻", slug="hardware"),
        slug="laptop",
        fulfilment_team=network_team,
        variables=laptop_form(),
        stages=[{"approver": Approver.MANAGER}],
        tasks=[
            {"title": "Prepare the laptop", "team": network_team, "waits_for_previous": False},
            {"title": "Hand it over", "team": network_team, "waits_for_previous": True},
        ],
    )


def test_order_approve_fulfil_a_laptop(new_page, requester, manager, agent, laptop):
    requester.manager = manager
    requester.save(update_fields=["manager"])

    # given: the requester finds the laptop in the catalogue
    portal = new_page()
    log_in(portal, "rita")
    portal.get_by_role("link", name="Catalogue", exact=True).click()
    portal.locator("#categories").get_by_role("link", name=re.compile("Hardware")).click()
    portal.get_by_role("link", name=re.compile("Laptop")).first.click()
    expect(portal.get_by_role("heading", name="Laptop")).to_be_visible()

    # when: the conditional questions appear only when they apply
    ram = portal.locator("#question-ram")
    monitors = portal.locator("#question-monitors")
    expect(ram).to_be_hidden()
    expect(monitors).to_be_hidden()
    portal.get_by_label("Developer laptop").check()
    expect(ram).to_be_visible()
    portal.get_by_label("32 GB").check()
    portal.locator("#question-docking").get_by_label("Yes").check()
    expect(monitors).to_be_visible()
    portal.get_by_label("How many monitors?").fill("2")
    portal.get_by_role("button", name="Place order").click()

    # then: the confirmation shows the number and who approves next
    expect(portal.locator("#order-confirmation")).to_contain_text("Maria Manager")
    number = portal.locator("#request-number").inner_text()
    request = ServiceRequest.objects.get(ticket__number=number)
    assert request.answers == {"model": "developer", "ram": "32", "docking": True, "monitors": 2}
    assert request.status == RequestStatus.AWAITING_APPROVAL

    # when: the manager approves in the portal
    boss = new_page()
    log_in(boss, "maria")
    boss.goto("/approvals/")
    boss.locator("#my-approvals").get_by_role("link", name="Review").click()
    expect(boss.locator("#answers")).to_contain_text("32 GB")
    boss.get_by_label("Comment").fill("Enjoy")
    boss.get_by_role("button", name="Approve").click()
    expect(boss.locator(".messages")).to_contain_text(f"You approved {number}")

    # and the fulfilment team works the two tasks in the desk, in order
    desk = new_page()
    log_in(desk, "alice")
    desk.get_by_role("link", name="Tasks", exact=True).click()
    expect(desk.locator("#tasks")).to_contain_text("Prepare the laptop")
    waiting_row = desk.locator("#tasks tr", has_text="Hand it over")
    expect(waiting_row).to_contain_text("Waiting for earlier tasks")
    desk.locator("#tasks").get_by_role("link", name=re.compile("TASK")).first.click()
    desk.get_by_role("button", name="Start").click()
    expect(desk.locator("#task-panel .page-header")).to_contain_text("In progress")
    desk.get_by_role("button", name="Mark done").click()
    expect(desk.locator("#task-panel .page-header")).to_contain_text("Done")
    hand_over = FulfilmentTask.objects.get(request=request, ticket__title__startswith="Hand it")
    desk.goto(f"/desk/tasks/{hand_over.pk}/")
    expect(desk.locator("#task-panel .page-header")).to_contain_text("Open")
    desk.get_by_role("button", name="Mark done").click()
    expect(desk.locator("#task-panel .page-header")).to_contain_text("Done")

    # then: the requester sees it delivered
    portal.goto("/requests/?show=all")
    portal.get_by_role("link", name=number).click()
    expect(portal.locator("#request-progress")).to_contain_text("Delivered")
    expect(portal.locator("#task-progress")).to_contain_text("2 of 2 done")
    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED
