"""Persona matrices: who may order, who may approve, who may cancel, who sees what."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.utils import timezone

from catalogue.choices import Audience
from servicerequests import permissions
from servicerequests.approvals import approvals_waiting_on
from servicerequests.models import FulfilmentTask, ServiceRequest
from servicerequests.services import approval_decide, delegation_set, service_request_submit
from tests.factories import OrganizationFactory
from tests.servicerequests.builders import make_category, make_item
from tickets.models import Approval

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return Group.objects.create(name="Finance staff")


@pytest.mark.parametrize(
    ("audience", "member_of", "persona", "allowed"),
    [
        (Audience.EVERYONE, None, "requester", True),
        (Audience.ORGANIZATIONS, "acme", "requester", True),
        (Audience.ORGANIZATIONS, "globex", "requester", False),
        (Audience.GROUPS, "finance", "requester", True),
        (Audience.GROUPS, "finance", "other_requester", False),
        (Audience.GROUPS, None, "requester", False),
    ],
)
def test_who_may_order(request, finance, network_team, audience, member_of, persona, allowed):
    user = request.getfixturevalue(persona)
    requester = request.getfixturevalue("requester")
    item = make_item(name="Thing", audience=audience, fulfilment_team=network_team)
    if member_of == "acme":
        item.organizations.add(requester.organization)
    elif member_of == "globex":
        item.organizations.add(OrganizationFactory(name="Globex"))
    elif member_of == "finance":
        item.groups.add(finance)
        requester.groups.add(finance)

    assert permissions.can_order(user, item) is allowed
    assert CatalogueItemsVisible(user).contains(item) is allowed


class CatalogueItemsVisible:
    def __init__(self, user):
        from catalogue.models import CatalogueItem

        self.items = CatalogueItem.objects.orderable_by(user)

    def contains(self, item):
        return self.items.filter(pk=item.pk).exists()


def test_inactive_items_and_categories_cannot_be_ordered(requester, network_team):
    hidden_category = make_category("Old", active=False)
    item = make_item(name="Fax", category=hidden_category, fulfilment_team=network_team)
    assert not permissions.can_order(requester, item)


def test_who_may_approve(requester, boss, other_requester, agent, manager, laptop):
    # given a request waiting for the requester's manager, and a delegation from tomorrow
    delegation_set(
        user=boss, delegate=other_requester, start=timezone.localdate() + timedelta(days=1)
    )
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval = Approval.objects.select_related("approver").get(ticket_id=request.pk)

    decides = {
        name: permissions.can_decide(user, approval, request)
        for name, user in {
            "manager of the requester": boss,
            "requester": requester,
            "future delegate": other_requester,
            "fulfilment agent": agent,
            "service desk manager": manager,
        }.items()
    }

    assert decides == {
        "manager of the requester": True,
        "requester": False,
        "future delegate": False,
        "fulfilment agent": False,
        "service desk manager": False,
    }
    assert list(approvals_waiting_on(boss)) == [approval]
    assert list(approvals_waiting_on(other_requester)) == []


def test_a_decided_approval_is_decided_by_nobody_else(requester, boss, laptop):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval = Approval.objects.get(ticket_id=request.pk)
    approval_decide(approval=approval, by=boss, approve=True)
    approval.refresh_from_db()
    request.refresh_from_db()

    assert not permissions.can_decide(boss, approval, request)
    assert permissions.can_view_approval(boss, approval)


@pytest.mark.parametrize(
    ("persona", "before_fulfilment", "in_fulfilment"),
    [
        ("requester", True, False),
        ("other_requester", False, False),
        ("agent", True, True),
    ],
)
def test_who_may_cancel(
    request, persona, before_fulfilment, in_fulfilment, boss, laptop, network_team
):
    user = request.getfixturevalue(persona)
    requester = request.getfixturevalue("requester")
    waiting = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    mouse = make_item(name="Mouse", fulfilment_team=network_team)
    working = service_request_submit(item=mouse, by=requester, answers={})

    assert permissions.can_cancel(user, waiting) is before_fulfilment
    assert permissions.can_cancel(user, working) is in_fulfilment


def test_visibility_matrix(requester, other_requester, boss, agent, other_agent, manager, laptop):
    request = service_request_submit(item=laptop, by=requester, answers={"model": "standard"})
    approval_decide(approval=Approval.objects.get(ticket_id=request.pk), by=boss, approve=True)
    tasks = FulfilmentTask.objects.filter(request=request)

    def sees(user):
        return (
            ServiceRequest.objects.visible_to(user).filter(pk=request.pk).exists(),
            FulfilmentTask.objects.visible_to(user).filter(pk__in=tasks.values("pk")).count(),
        )

    assert sees(requester) == (True, 2)  # their own request; tasks carry them as requester
    assert sees(boss) == (True, 0)  # decided its approval
    assert sees(agent) == (True, 1)  # the Network task (and the request's team)
    assert sees(other_agent) == (False, 1)  # only the Database team's task
    assert sees(manager) == (True, 2)
    assert sees(other_requester) == (False, 0)
    assert sees(AnonymousUser()) == (False, 0)
