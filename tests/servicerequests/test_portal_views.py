"""Portal: catalogue home and search, the item page and its order form, the confirmation,
"My requests" with progress, the request page, and "My approvals" with delegation."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogue.choices import Audience, VariableType
from servicerequests.choices import RequestStatus, TaskStatus
from servicerequests.models import FulfilmentTask, ServiceRequest
from servicerequests.popularity import refresh_popular_counts
from servicerequests.services import (
    approval_decide,
    delegation_set,
    service_request_submit,
    task_transition,
)
from servicerequests.tasks import refresh_popular_task
from tests.factories import OrganizationFactory, UserFactory
from tests.servicerequests.builders import make_category, make_item
from tickets.models import Approval, Ticket

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def fill_catalogue(n, team):
    categories = [make_category(f"Category {i}", icon="📦") for i in range(5)]
    for i in range(n):
        make_item(name=f"Item {i}", category=categories[i % 5], fulfilment_team=team)


# ------------------------------------------------------------------ catalogue
def test_catalogue_home_runs_the_same_queries_for_10_and_50_items(client, requester, network_team):
    client.force_login(requester)
    fill_catalogue(10, network_team)
    refresh_popular_counts()  # warm, as beat keeps it
    ten = count_queries(client, "/catalogue/")
    fill_catalogue(40, network_team)
    fifty = count_queries(client, "/catalogue/")
    assert fifty == ten
    assert ten <= 10
    searching = count_queries(client, "/catalogue/?q=item")
    assert searching == ten + 1


def test_catalogue_home_shows_categories_popular_items_and_search(client, requester, laptop):
    make_item(
        name="VPN access",
        category=make_category("Access"),
        short_description="Remote work",
        description="Connect from **home** through the tunnel.",
    )
    client.force_login(requester)

    page = client.get("/catalogue/").content.decode()
    assert "Hardware" in page
    assert "Access" in page
    assert 'id="popular"' in page

    found = client.get("/catalogue/?q=tunnel").content.decode()
    assert "VPN access" in found.split('id="search-results"')[1].split("</section>")[0]
    nothing = client.get("/catalogue/?q=spaceship").content.decode()
    assert "Nothing in the catalogue matches" in nothing


def popular_names(client) -> list[str]:
    page = client.get("/catalogue/").content.decode()
    block = page.split('id="popular"')[1].split("</section>")[0]
    return re.findall(r'font-size:1rem">([^<]+)</strong>', block)


def test_popular_is_featured_first_then_most_ordered_in_the_last_90_days(
    client, requester, network_team
):
    plain = make_item(name="Mouse", fulfilment_team=network_team)
    ordered = make_item(name="Headset", fulfilment_team=network_team)
    long_ago = make_item(name="Docking station", fulfilment_team=network_team)
    make_item(name="Monitor", fulfilment_team=network_team, featured=True)
    service_request_submit(item=ordered, by=requester, answers={})
    old = [service_request_submit(item=long_ago, by=requester, answers={}) for _ in range(3)]
    Ticket.objects.filter(pk__in=[r.pk for r in old]).update(
        created_at=timezone.now() - timedelta(days=91)
    )
    client.force_login(requester)

    names = popular_names(client)
    assert names.index("Monitor") < names.index("Headset") < names.index("Docking station")
    assert names.index("Headset") < names.index("Mouse")

    # a new order counts once beat has recounted (the page reads the cached read model)
    for _ in range(2):
        service_request_submit(item=plain, by=requester, answers={})
    assert popular_names(client).index("Headset") < popular_names(client).index("Mouse")
    refresh_popular_task.apply()
    names = popular_names(client)
    assert names.index("Monitor") < names.index("Mouse") < names.index("Headset")


def test_items_for_other_organisations_are_hidden(client, requester, network_team):
    other_org = OrganizationFactory(name="Globex")
    secret = make_item(
        name="Globex only", audience=Audience.ORGANIZATIONS, fulfilment_team=network_team
    )
    secret.organizations.add(other_org)
    client.force_login(requester)

    assert client.get(f"/catalogue/{secret.slug}/").status_code == 404
    assert "Globex only" not in client.get("/catalogue/?q=Globex").content.decode()

    secret.organizations.add(requester.organization)
    assert client.get(f"/catalogue/{secret.slug}/").status_code == 200


def test_item_page_renders_markdown_safely_and_the_conditional_form(client, requester, laptop):
    laptop.description = "**Fast**<script>alert(1)</script> [docs](javascript:alert(1))"
    laptop.save()
    client.force_login(requester)

    page = client.get(f"/catalogue/{laptop.slug}/").content.decode()

    assert "<strong>Fast</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "javascript:alert" not in page
    assert 'data-variable="ram"' in page
    assert "data-show-if=" in page


# ------------------------------------------------------------------ ordering
def test_ordering_with_a_conditional_field_leads_to_the_confirmation(
    client, requester, boss, laptop
):
    client.force_login(requester)

    response = client.post(
        f"/catalogue/{laptop.slug}/",
        {"q-model": "developer", "q-ram": "32", "q-docking": "yes", "q-monitors": "2"},
    )

    request = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{request.ticket.number}/ordered/"
    assert request.answers == {"model": "developer", "ram": "32", "docking": True, "monitors": 2}
    page = client.get(response["Location"]).content.decode()
    assert request.ticket.number in page
    assert "Bea Boss" in page  # who approves next


def test_a_missing_conditional_answer_is_refused_with_a_field_error(client, requester, laptop):
    client.force_login(requester)

    response = client.post(f"/catalogue/{laptop.slug}/", {"q-model": "developer"})

    assert response.status_code == 422
    page = response.content.decode()
    ram_question = page.split('id="question-ram"')[1].split('id="question-docking"')[0]
    assert "This question is required." in ram_question
    assert not ServiceRequest.objects.exists()


def test_hidden_answers_posted_anyway_are_dropped(client, requester, boss, laptop):
    client.force_login(requester)

    client.post(
        f"/catalogue/{laptop.slug}/",
        {"q-model": "standard", "q-ram": "64", "q-docking": "no", "q-monitors": "9"},
    )

    assert ServiceRequest.objects.get().answers == {"model": "standard", "docking": False}


def test_ordering_for_a_colleague_and_an_attachment(
    client, requester, other_requester, network_team
):
    item = make_item(
        name="Chair",
        fulfilment_team=network_team,
        variables=[{"name": "letter", "label": "Letter", "type": VariableType.ATTACHMENT}],
    )
    client.force_login(requester)
    letter = SimpleUploadedFile("letter.pdf", b"%PDF-1.4", content_type="application/pdf")

    client.post(
        f"/catalogue/{item.slug}/", {"requested_for": other_requester.pk, "q-letter": letter}
    )

    request = ServiceRequest.objects.get()
    assert request.requested_for == other_requester
    assert request.answers["letter"][0]["name"] == "letter.pdf"


def test_people_search_returns_options(client, requester, other_requester):
    client.force_login(requester)
    html = client.get("/people/?q=oscar").content.decode()
    assert f'value="{other_requester.pk}"' in html
    assert f'value="{requester.pk}"' not in html


# ------------------------------------------------------------------ my requests, request page
def test_my_requests_shows_progress_with_constant_queries(client, requester, boss, laptop, agent):
    client.force_login(requester)
    for _ in range(3):
        service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    few = count_queries(client, "/requests/")
    for _ in range(9):
        request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval_decide(approval=Approval.objects.get(ticket_id=request.pk), by=boss, approve=True)
    first = FulfilmentTask.objects.filter(request=request).order_by("order").first()
    task_transition(task=first, by=agent, target=TaskStatus.DONE)

    many = count_queries(client, "/requests/")
    page = client.get("/requests/").content.decode()

    assert many == few
    assert "Approval 1 of 1 (Bea Boss)" in page
    assert "1 of 2 tasks done" in page


def test_request_page_shows_progress_and_keeps_constant_queries(
    client, requester, boss, laptop, agent
):
    client.force_login(requester)
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    url = f"/tickets/{request.ticket.number}/"
    waiting = client.get(url).content.decode()
    assert "stage 1 of 1: waiting for Bea Boss" in waiting
    approval_decide(approval=Approval.objects.get(ticket_id=request.pk), by=boss, approve=True)
    two_tasks = count_queries(client, url)
    # More tasks, approvals and journal entries do not add queries.
    for template in laptop.task_templates.all()[:1]:
        template.pk = None
        template.save()
    second = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval_decide(approval=Approval.objects.get(ticket_id=second.pk), by=boss, approve=True)
    assert count_queries(client, f"/tickets/{second.ticket.number}/") == two_tasks
    assert "0 of 2 done" in client.get(url).content.decode()


def test_requester_cancels_from_the_portal_before_fulfilment(client, requester, boss, laptop):
    client.force_login(requester)
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})

    response = client.post(f"/requests/{request.ticket.number}/cancel/", {"reason": "Not needed"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED


def test_rejection_reason_is_shown_to_the_requester(client, requester, boss, laptop):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval_decide(
        approval=Approval.objects.get(ticket_id=request.pk),
        by=boss,
        approve=False,
        comment="Use the pool laptop",
    )
    client.force_login(requester)

    page = client.get(f"/tickets/{request.ticket.number}/").content.decode()

    assert 'id="rejection-reason"' in page
    assert "Use the pool laptop" in page


def test_requester_confirms_receipt_of_a_fulfilled_request(client, requester, network_team, agent):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    request = service_request_submit(item=item, by=requester, answers={})
    task_transition(task=FulfilmentTask.objects.get(request=request), by=agent, target="done")
    client.force_login(requester)

    client.post(f"/requests/{request.ticket.number}/close/")

    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED


# ------------------------------------------------------------------ my approvals
def test_manager_sees_and_approves_in_the_portal(client, requester, boss, laptop):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval = Approval.objects.get(ticket_id=request.pk)
    client.force_login(boss)

    listing = client.get("/approvals/").content.decode()
    assert request.ticket.number in listing
    detail = client.get(f"/approvals/{approval.pk}/").content.decode()
    assert "Standard laptop" in detail
    response = client.post(f"/approvals/{approval.pk}/", {"decision": "approve", "comment": ""})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_FULFILMENT
    assert "Nothing waits for your approval." in client.get("/approvals/").content.decode()


def test_rejecting_without_a_comment_is_refused(client, requester, boss, laptop):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval = Approval.objects.get(ticket_id=request.pk)
    client.force_login(boss)

    response = client.post(f"/approvals/{approval.pk}/", {"decision": "reject", "comment": ""})

    assert response.status_code == 422
    assert "Say why you reject it" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_APPROVAL


def test_others_cannot_open_an_approval(client, requester, other_requester, boss, laptop):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval = Approval.objects.get(ticket_id=request.pk)

    client.force_login(other_requester)
    assert client.get(f"/approvals/{approval.pk}/").status_code == 404
    client.force_login(requester)
    assert client.get(f"/approvals/{approval.pk}/").status_code == 404


def test_delegation_set_in_the_portal_shows_the_approvals_to_the_delegate(
    client, requester, other_requester, boss, laptop
):
    client.force_login(boss)
    today = timezone.localdate()
    client.post(
        "/approvals/delegation/",
        {
            "delegate": other_requester.pk,
            "delegate_from": today.isoformat(),
            "delegate_until": (today + timedelta(days=2)).isoformat(),
        },
    )
    boss.refresh_from_db()
    assert boss.delegate == other_requester
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})

    client.force_login(other_requester)
    page = client.get("/approvals/").content.decode()

    assert request.ticket.number in page
    assert "(for Bea Boss)" in page


def test_approver_downloads_an_answered_file(
    client, requester, other_requester, boss, network_team
):
    item = make_item(
        name="Chair",
        fulfilment_team=network_team,
        stages=[{"approver": "manager"}],
        variables=[{"name": "letter", "label": "Letter", "type": VariableType.ATTACHMENT}],
    )
    letter = SimpleUploadedFile("letter.pdf", b"%PDF-1.4", content_type="application/pdf")
    request = service_request_submit(
        item=item, by=requester, answers={}, files={"letter": [letter]}
    )
    approval = Approval.objects.get(ticket_id=request.pk)
    attachment_id = request.answers["letter"][0]["id"]
    client.force_login(boss)

    response = client.get(f"/approvals/{approval.pk}/files/{attachment_id}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4"
    client.force_login(other_requester)
    assert client.get(f"/approvals/{approval.pk}/files/{attachment_id}/").status_code == 404


def test_delegation_can_be_ended(client, boss, other_requester):
    delegation_set(user=boss, delegate=other_requester)
    client.force_login(boss)

    client.post("/approvals/delegation/", {"delegate": ""})

    boss.refresh_from_db()
    assert boss.delegate is None


def test_portal_users_have_the_new_navigation(client, requester):
    client.force_login(requester)
    page = client.get("/").content.decode()
    for label in ("Catalogue", "My requests", "My approvals"):
        assert f">{label}</a>" in page


def test_an_agent_can_order_too(client, agent, network_team):
    item = make_item(name="Mouse", fulfilment_team=network_team)
    client.force_login(agent)
    response = client.post(f"/catalogue/{item.slug}/", {})
    assert response.status_code == 302
    assert ServiceRequest.objects.get().ticket.requester == agent


def test_inactive_people_cannot_be_chosen_as_the_person_it_is_for(client, requester, network_team):
    gone = UserFactory(username="gone", is_active=False)
    item = make_item(name="Mouse", fulfilment_team=network_team)
    client.force_login(requester)

    response = client.post(f"/catalogue/{item.slug}/", {"requested_for": gone.pk})

    assert response.status_code == 422
    assert not ServiceRequest.objects.exists()


def test_people_search_stays_within_the_organisation(client, requester):
    stranger = UserFactory(username="gus", organization=OrganizationFactory(name="Globex"))
    client.force_login(requester)
    assert f'value="{stranger.pk}"' not in client.get("/people/?q=gus").content.decode()
