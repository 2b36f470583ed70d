"""Change personas (change manager, CAB members) and helpers that build changes through the
services, in any state."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from changes import services
from changes.choices import ChangeStatus, ChangeType, Outcome
from changes.models import RiskQuestion, StandardChangeTemplate
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory

PLANS = {
    "justification": "The vendor ends support for the current version.",
    "implementation_plan": "1. Snapshot.\n2. Upgrade.\n3. Smoke test.",
    "backout_plan": "Restore the snapshot.",
    "test_plan": "Run the smoke tests.",
}


@pytest.fixture
def change_manager():
    user = UserFactory(
        username="carl", display_name="Carl Change", roles=["agent", "change manager"]
    )
    MembershipFactory(team=TeamFactory(name="Applications"), user=user)
    return user


@pytest.fixture
def cab():
    """Three CAB members who are not agents (they decide in the portal)."""
    return [
        UserFactory(username=name, display_name=f"{name.title()} CAB", roles=["CAB member"])
        for name in ("cathy", "cody", "cleo")
    ]


@pytest.fixture
def vpn():
    return ServiceFactory(name="VPN")


@pytest.fixture
def erp():
    return ServiceFactory(name="ERP")


@pytest.fixture
def questions():
    RiskQuestion.objects.all().delete()
    return [
        RiskQuestion.objects.create(text="Critical service?", weight=3, order=1),
        RiskQuestion.objects.create(text="Downtime for users?", weight=3, order=2),
        RiskQuestion.objects.create(text="First time?", weight=2, order=3),
        RiskQuestion.objects.create(text="Untested back-out?", weight=2, order=4),
    ]


@pytest.fixture
def template(vpn):
    template = StandardChangeTemplate.objects.create(
        name="Add a VPN group",
        implementation_plan="Add the group to the policy.",
        backout_plan="Remove it again.",
        test_plan="A member connects.",
    )
    template.services.set([vpn])
    return template


def window(days: float = 2, hours: float = 2, start_hour: int = 20) -> tuple[datetime, datetime]:
    """A window `days` from now at `start_hour` UTC, `hours` long."""
    day = (timezone.now() + timedelta(days=days)).replace(
        hour=start_hour, minute=0, second=0, microsecond=0
    )
    return day, day + timedelta(hours=hours)


@pytest.fixture
def make_change(agent, network_team, vpn):
    """Draft a change through the service; `plans=False` leaves the plans empty."""

    def make(*, by=None, plans=True, services_=None, when=None, **fields):
        fields.setdefault("title", "Upgrade the VPN concentrator")
        fields.setdefault("team", network_team)
        if plans:
            for key, value in PLANS.items():
                fields.setdefault(key, value)
        if when is not None:
            fields["planned_start"], fields["planned_end"] = when
        return services.change_create(
            by=by or agent, services=[vpn] if services_ is None else services_, **fields
        )

    return make


@pytest.fixture
def advance(change_manager, cab, agent):
    """Walk a change to a status: assess, authorize (sent to `approvers`, default the CAB),
    authorised (CAB approved), scheduled, implement, review."""

    def run(change, to, *, approvers=None, override_reason=""):
        steps = ["assess", "authorize", "authorised", "scheduled", "implement", "review"]
        if change.type == ChangeType.STANDARD:
            steps = ["scheduled", "implement", "review"]
        if change.type == ChangeType.EMERGENCY:
            steps = ["authorize", "authorised", "scheduled", "implement", "review"]
        for step in steps[: steps.index(to) + 1]:
            change = _step(change, step, approvers, override_reason, agent, change_manager)
        return change

    return run


def _step(change, step, approvers, override_reason, agent, change_manager):
    if step == "assess":
        return services.change_transition(change=change, by=agent, target=ChangeStatus.ASSESS)
    if step == "authorize":
        return services.change_send_to_cab(
            change=change, by=change_manager, approvers=approvers, comment="Looks fine."
        )
    if step == "authorised":
        from tickets.models import Approval

        while approval := Approval.objects.filter(ticket_id=change.pk, decision="pending").first():
            change = services.change_decide(
                change=change, approval=approval, by=approval.approver, decision="approved"
            )
        return change
    if step == "scheduled":
        return services.change_transition(
            change=change,
            by=change_manager if override_reason else agent,
            target=ChangeStatus.SCHEDULED,
            override_reason=override_reason,
        )
    if step == "implement":
        return services.change_transition(change=change, by=agent, target=ChangeStatus.IMPLEMENT)
    return services.change_transition(
        change=change,
        by=agent,
        target=ChangeStatus.REVIEW,
        actual_end=timezone.now(),
        outcome=Outcome.SUCCESSFUL,
    )
