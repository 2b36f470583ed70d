"""Demo data for change management: the risk questionnaire, standard change templates, an
emergency CAB seat, blackout windows and a handful of changes in every interesting state.

Idempotent: configuration is get-or-create, and the changes are only made when there are
none yet. Called by servicedesk/management/commands/seed_demo.py."""

from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from catalogue.models import Service
from tickets.choices import ApprovalDecision
from tickets.models import Approval

from . import services as svc
from .choices import ChangeImpact, ChangeStatus, ChangeType, Outcome, Recurrence
from .models import (
    BlackoutWindow,
    Change,
    EmergencyCabSeat,
    RiskQuestion,
    StandardChangeTemplate,
)
from .windows import zone

QUESTIONS = [
    ("Does it touch a critical or high-criticality service?", 3),
    ("Will users lose the service during the change?", 3),
    ("Is this the first time we make this kind of change?", 2),
    ("Would backing out take longer than 30 minutes, or is it untested?", 2),
    ("Does it affect more than one service?", 1),
    ("Does it depend on a supplier being available?", 1),
]

TEMPLATES = [
    {
        "name": "Renew a TLS certificate",
        "description": "Replace an expiring certificate on a load balancer or gateway.",
        "services": ["E-mail"],
        "team": "Applications",
        "implementation_plan": "1. Upload the new certificate.\n2. Bind it to the listener.\n"
        "3. Reload the service (no downtime).",
        "backout_plan": "Re-bind the previous certificate (kept for 30 days).",
        "test_plan": "Check the chain and expiry date with openssl s_client from outside.",
    },
    {
        "name": "Add a user group to the VPN",
        "description": "Give an existing directory group VPN access.",
        "services": ["VPN"],
        "team": "Network",
        "implementation_plan": "Add the group to the VPN access policy and push the policy.",
        "backout_plan": "Remove the group from the policy and push again.",
        "test_plan": "A member of the group connects; a non-member is refused.",
    },
    {
        "name": "Monthly laptop patching",
        "description": "Vendor security updates through the management console, in waves.",
        "services": ["Laptops"],
        "team": "Service Desk",
        "implementation_plan": "Approve the month's updates for wave 1, then waves 2-4 daily.",
        "backout_plan": "Decline the update; uninstall it through the console.",
        "test_plan": "Wave 1 (IT staff) works normally for a day before wave 2.",
    },
]


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time `day_offset` days from today."""
    tz = zone("Europe/London")
    day = timezone.localdate(timezone.now(), tz) + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _configuration(
    *, people: dict[str, User], services: dict[str, Service], teams: dict[str, Team]
) -> dict[str, StandardChangeTemplate]:
    for order, (text, weight) in enumerate(QUESTIONS):
        RiskQuestion.objects.get_or_create(
            text=text, defaults={"weight": weight, "order": (order + 1) * 10}
        )
    templates = {}
    for spec in TEMPLATES:
        template, created = StandardChangeTemplate.objects.get_or_create(
            name=spec["name"],
            defaults={
                "description": spec["description"],
                "implementation_plan": spec["implementation_plan"],
                "backout_plan": spec["backout_plan"],
                "test_plan": spec["test_plan"],
                "team": teams.get(spec["team"]),
            },
        )
        if created:
            template.services.set([services[s] for s in spec["services"] if s in services])
        templates[spec["name"]] = template
    if "cathy" in people:
        EmergencyCabSeat.objects.get_or_create(user=people["cathy"])
    if not BlackoutWindow.objects.filter(name="Weekend ERP batch").exists():
        svc.blackout_window_save(
            by=people["carl"],
            name="Weekend ERP batch",
            start=_at(5 - timezone.localdate().weekday(), 0),  # this week's Saturday
            end=_at(5 - timezone.localdate().weekday(), 6),
            timezone_name="Europe/London",
            recurrence=Recurrence.WEEKLY,
            services=[services["ERP"]],
            reason="Payroll and ledger batch jobs run every Saturday night.",
        )
    if not BlackoutWindow.objects.filter(name="Quarter-end close").exists():
        svc.blackout_window_save(
            by=people["carl"],
            name="Quarter-end close",
            start=_at(12, 0),
            end=_at(15, 0),
            services=[services["ERP"], services["Customer database"]],
            reason="Finance closes the quarter: no changes to finance systems.",
        )
    return templates


def _draft(by: User, title: str, **fields: Any) -> Change:
    return svc.change_create(by=by, title=title, **fields)


def _through_cab(change: Change, people: dict[str, User], answers: dict[int, bool]) -> Change:
    carl = people["carl"]
    change = svc.change_transition(change=change, by=change.ticket.requester, target="assess")
    change = svc.change_answer_risk(change=change, by=carl, answers=answers)
    return svc.change_send_to_cab(change=change, by=carl, comment="Plans look complete.")


def _approve_all(change: Change, people: dict[str, User]) -> Change:
    for approval in Approval.objects.filter(
        ticket_id=change.pk, decision=ApprovalDecision.PENDING
    ).select_related("approver"):
        change = svc.change_decide(
            change=change,
            approval=approval,
            by=approval.approver,
            decision=ApprovalDecision.APPROVED,
            comment="Fine by me.",
        )
    return change


def _plans(what: str) -> dict[str, str]:
    return {
        "justification": f"{what} is needed to stay supported and secure.",
        "implementation_plan": f"1. Announce the window.\n2. {what}.\n3. Smoke test.",
        "backout_plan": "Restore the snapshot taken before the change.",
        "test_plan": "Run the service's smoke tests and check monitoring for 30 minutes.",
    }


def _changes(
    *,
    people: dict[str, User],
    services: dict[str, Service],
    teams: dict[str, Team],
    templates: dict[str, StandardChangeTemplate],
) -> None:
    q = {question.text: question.pk for question in RiskQuestion.objects.all()}
    critical, downtime, first_time = (q[text] for text, _ in QUESTIONS[:3])
    nina, dev, carl = people["nina"], people["dev"], people["carl"]
    # 1. A draft.
    _draft(
        nina,
        "Upgrade core switch firmware",
        services=[services["VPN"], services["Wi-Fi"]],
        team=teams["Network"],
        impact=ChangeImpact.HIGH,
        **_plans("Upgrade the core switch stack to the vendor's LTS firmware"),
    )
    # 2. Being assessed.
    assess = _draft(
        dev,
        "Move e-mail to the new mail gateway",
        services=[services["E-mail"]],
        **_plans("Switch MX records to the new gateway"),
    )
    svc.change_transition(change=assess, by=dev, target="assess")
    # 3. Waiting for the CAB.
    waiting = _draft(
        dev,
        "Add an index to the customer database orders table",
        services=[services["Customer database"]],
        team=teams["Database"],
        planned_start=_at(3, 21),
        planned_end=_at(3, 22, 30),
        **_plans("Create the index concurrently"),
    )
    _through_cab(waiting, people, {critical: True, downtime: False})
    # 4. Authorised and scheduled.
    erp = _draft(
        dev,
        "ERP patch 12.4",
        services=[services["ERP"]],
        team=teams["Applications"],
        planned_start=_at(2, 20),
        planned_end=_at(2, 22),
        **_plans("Apply ERP patch 12.4 to the application servers"),
    )
    erp = _approve_all(_through_cab(erp, people, {critical: True, downtime: True}), people)
    svc.change_transition(change=erp, by=dev, target=ChangeStatus.SCHEDULED)
    # 5. A standard change, scheduled straight away.
    tls = _draft(
        people["alice"],
        "Renew the mail gateway certificate",
        template=templates["Renew a TLS certificate"],
        planned_start=_at(1, 19),
        planned_end=_at(1, 19, 30),
    )
    svc.change_transition(change=tls, by=people["alice"], target=ChangeStatus.SCHEDULED)
    # 6. Done and failed: the desk offers to raise an incident.
    wifi = _draft(
        nina,
        "Wi-Fi controller upgrade",
        services=[services["Wi-Fi"]],
        team=teams["Network"],
        planned_start=_at(0, 23),
        planned_end=_at(1, 1),
        **_plans("Upgrade the Wi-Fi controller pair"),
    )
    wifi = _approve_all(_through_cab(wifi, people, {first_time: True}), people)
    svc.change_transition(change=wifi, by=nina, target=ChangeStatus.SCHEDULED)
    svc.change_transition(change=wifi, by=nina, target=ChangeStatus.IMPLEMENT)
    svc.change_transition(
        change=wifi,
        by=nina,
        target=ChangeStatus.REVIEW,
        outcome=Outcome.BACKED_OUT,
        actual_end=timezone.now(),
        note="Access points did not rejoin; rolled back.",
    )
    # 7. An emergency under way before the emergency CAB decided.
    emergency = _draft(
        carl,
        "Revoke the leaked VPN certificate",
        type=ChangeType.EMERGENCY,
        services=[services["VPN"]],
        team=teams["Network"],
        **_plans("Revoke the certificate and push the new CRL"),
    )
    emergency = svc.change_send_to_cab(change=emergency, by=carl, comment="Active incident.")
    svc.change_transition(
        change=emergency,
        by=carl,
        target=ChangeStatus.IMPLEMENT,
        emergency_reason="The key is public: every minute counts.",
    )


def seed(*, people: dict[str, User], services: dict[str, Service], teams: dict[str, Team]) -> None:
    """Load the change demo data (idempotent)."""
    with transaction.atomic():
        templates = _configuration(people=people, services=services, teams=teams)
        if not Change.objects.exists():
            _changes(people=people, services=services, teams=teams, templates=templates)
