"""Change management in a real browser: draft → assess → CAB → schedule → implement → review →
close, and a second change in the same window that shows the conflict."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from changes.choices import ChangeStatus
from changes.models import Change, RiskQuestion
from tests.browser.conftest import log_in
from tests.factories import ServiceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def change_people(agent, network_team):
    from tests.factories import MembershipFactory, TeamFactory

    carl = UserFactory(
        username="carl", display_name="Carl Change", roles=["agent", "change manager"]
    )
    MembershipFactory(team=TeamFactory(name="Applications"), user=carl)
    cab = [
        UserFactory(username=name, display_name=f"{name.title()} CAB", roles=["CAB member"])
        for name in ("cathy", "cody", "cleo")
    ]
    RiskQuestion.objects.all().delete()
    RiskQuestion.objects.create(text="Critical service?", weight=3, order=1)
    RiskQuestion.objects.create(text="Downtime for users?", weight=3, order=2)
    RiskQuestion.objects.create(text="First time?", weight=4, order=3)
    return carl, cab


def draft_change(page, title, start, end):
    page.goto("/desk/changes/new/")
    page.fill("input[name=title]", title)
    page.select_option("select[name=services]", label="VPN")
    page.fill("textarea[name=justification]", "The concentrator is out of support.")
    page.fill("textarea[name=implementation_plan]", "Fail over, upgrade, fail back.")
    page.fill("textarea[name=backout_plan]", "Fail back to the old unit.")
    page.fill("textarea[name=test_plan]", "Connect from outside; run the VPN smoke test.")
    page.fill("input[name=planned_start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=planned_end]", end.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Draft the change").click()
    expect(page.locator(".page-header h1")).to_contain_text(title)
    return Change.objects.get(ticket__title=title)


def approve_in_portal(page, username, number):
    log_in(page, username)
    page.get_by_role("link", name="Change approvals").click()
    page.get_by_role("link", name=number).click()
    page.fill("#id_comment", f"{username} is fine with it")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text(f"You approved {number}")


@pytest.mark.usefixtures("change_people")  # carl, three CAB members, risk questions
def test_a_normal_change_from_draft_to_closed_and_a_conflicting_second_one(new_page, agent):
    ServiceFactory(name="VPN")
    # times are UTC: the personas' time zone (User.time_zone defaults to UTC)
    start = (timezone.now() + timedelta(days=3)).replace(hour=20, minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=2)

    # an agent drafts a normal change and submits it for assessment
    desk = new_page()
    log_in(desk, "alice")
    change = draft_change(desk, "Upgrade the VPN concentrator", start, end)
    number = change.ticket.number
    desk.get_by_role("button", name="Submit for assessment").click()
    expect(desk.locator("#change-badges")).to_contain_text("Assess")

    # the change manager assesses the risk and sends it to two CAB members
    manager = new_page()
    log_in(manager, "carl")
    manager.goto(f"/desk/changes/{change.pk}/")
    manager.get_by_label("Critical service?").check()
    manager.get_by_label("Downtime for users?").check()
    manager.get_by_role("button", name="Assess risk").click()
    expect(manager.locator("#risk-reason")).to_contain_text("60% → High")
    manager.get_by_label("Cleo CAB").uncheck()
    manager.fill("#send-to-cab-form textarea[name=comment]", "Plans are complete.")
    manager.get_by_role("button", name=re.compile("Approve and send to the CAB")).click()
    expect(manager.locator("#change-badges")).to_contain_text("Authorize")
    expect(manager.locator("#approvals")).to_contain_text("All must approve")

    # two CAB members, who are not agents, approve in the portal
    approve_in_portal(new_page(), "cathy", number)
    change.refresh_from_db()
    assert change.authorised_at is None  # high risk: everyone must approve
    approve_in_portal(new_page(), "cody", number)
    change.refresh_from_db()
    assert change.authorised_at is not None

    # the agent schedules it: no conflict
    desk.reload()
    expect(desk.locator("#authorised")).to_be_visible()
    expect(desk.locator("#change-conflicts")).to_contain_text("No conflicts")
    desk.get_by_role("button", name="Schedule", exact=True).click()
    expect(desk.locator("#change-badges")).to_contain_text("Scheduled")

    # a second change in the same window shows the conflict
    second = new_page()
    log_in(second, "alice")
    other = draft_change(second, "Rotate the VPN certificates", start + timedelta(hours=1), end)
    expect(second.locator("#change-conflicts")).to_contain_text(number)
    expect(second.locator("#change-conflicts")).to_contain_text("Conflict")
    assert other.status == ChangeStatus.DRAFT

    # implemented, reviewed and closed
    desk.get_by_role("button", name="Start implementation").click()
    expect(desk.locator("#change-badges")).to_contain_text("Implement")
    desk.select_option("#complete-form select[name=outcome]", "successful")
    desk.get_by_role("button", name="Implementation done: review").click()
    expect(desk.locator("#change-badges")).to_contain_text("Review")
    desk.fill("#close-form textarea[name=review_notes]", "Done in 40 minutes, no incidents.")
    desk.get_by_role("button", name="Close the change").click()
    expect(desk.locator("#change-badges")).to_contain_text("Closed")
    change.refresh_from_db()
    assert change.status == ChangeStatus.CLOSED
    assert change.outcome == "successful"
    assert change.review_notes == "Done in 40 minutes, no incidents."
    assert change.actual_start is not None
    assert change.actual_end is not None

    # and the calendar shows it, linking to the change
    desk.goto(f"/desk/changes/calendar/?date={start.date().isoformat()}")
    desk.get_by_role("link", name=re.compile(number)).click()
    expect(desk).to_have_url(re.compile(rf"/desk/changes/{change.pk}/$"))
