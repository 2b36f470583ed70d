"""Change services: risk, every lifecycle guard, standard and emergency paths, CAB policies,
overrides, links. Data is made through the services themselves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from changes import services
from changes.choices import CabPolicy, ChangeStatus, ChangeType, Outcome, Risk
from changes.models import CabPolicyRule, Change, EmergencyCabSeat
from core.exceptions import DomainError, InvalidTransition, StaleWrite
from tickets.choices import ApprovalDecision, TicketKind, TicketState
from tickets.models import Approval, Notification, TicketEvent, TicketLink

from .conftest import window

pytestmark = pytest.mark.django_db

S = ChangeStatus


def journal_codes(change):
    return list(
        TicketEvent.objects.filter(ticket_id=change.pk, type="system").values_list(
            "data__code", flat=True
        )
    )


def pending(change):
    return list(
        Approval.objects.filter(ticket_id=change.pk, decision=ApprovalDecision.PENDING)
        .select_related("approver")
        .order_by("pk")
    )


def decide(change, approval, decision="approved", comment=""):
    return services.change_decide(
        change=change, approval=approval, by=approval.approver, decision=decision, comment=comment
    )


# ------------------------------------------------------------------ create
def test_create_makes_a_change_ticket_with_its_own_number(make_change, agent, vpn):
    change = make_change()
    assert change.ticket.kind == TicketKind.CHANGE
    assert change.ticket.number.startswith("CHG")
    assert change.status == S.DRAFT
    assert change.ticket.state == TicketState.OPEN
    assert list(change.services.all()) == [vpn]
    assert change.ticket.service == vpn
    assert change.risk == Risk.LOW


def test_emergency_changes_are_p1_and_normal_ones_follow_the_impact(make_change):
    assert make_change(type=ChangeType.EMERGENCY).ticket.priority == 1
    assert make_change(impact="high").ticket.priority == 2
    assert make_change(impact="low").ticket.priority == 4


def test_a_standard_change_needs_a_template(make_change):
    with pytest.raises(DomainError, match="standard template"):
        make_change(type=ChangeType.STANDARD)


def test_a_standard_change_takes_plans_risk_and_services_from_its_template(
    make_change, template, vpn
):
    template.risk = Risk.MODERATE
    template.save()
    change = make_change(template=template, plans=False, services_=[])
    assert change.type == ChangeType.STANDARD
    assert change.risk == Risk.MODERATE
    assert change.implementation_plan == template.implementation_plan
    assert list(change.services.all()) == [vpn]


def test_the_planned_end_must_follow_the_start(make_change):
    start, _end = window()
    with pytest.raises(DomainError, match="after the start"):
        make_change(when=(start, start))


# ------------------------------------------------------------------ risk
def test_answering_the_questionnaire_computes_the_risk(make_change, agent, questions):
    change = make_change()
    change = services.change_answer_risk(
        change=change, by=agent, answers={questions[0].pk: True, questions[1].pk: True}
    )
    assert (change.risk, change.risk_score) == (Risk.HIGH, 60)
    assert change.risk_reason["source"] == "questionnaire"
    assert [a["answer"] for a in change.risk_answers] == [True, True, False, False]
    event = TicketEvent.objects.filter(ticket_id=change.pk, data__field="risk").get()
    assert (event.data["old"], event.data["new"]) == ("Low", "High")


def test_a_change_manager_overrides_the_risk_with_a_reason_and_it_sticks(
    make_change, agent, change_manager, questions
):
    change = make_change()
    with pytest.raises(DomainError, match="why"):
        services.change_override_risk(change=change, by=change_manager, risk="high", reason=" ")
    with pytest.raises(DomainError, match="change manager"):
        services.change_override_risk(change=change, by=agent, risk="high", reason="gut feeling")
    change = services.change_override_risk(
        change=change, by=change_manager, risk="high", reason="Last upgrade took the VPN down"
    )
    change = services.change_answer_risk(change=change, by=agent, answers={})
    assert change.risk == Risk.HIGH  # the override survives a new questionnaire
    assert change.risk_score == 0
    assert "Last upgrade took the VPN down" in change.risk_reason["text"]


def test_a_standard_change_keeps_its_fixed_risk(make_change, template, agent, change_manager):
    change = make_change(template=template, plans=False)
    with pytest.raises(DomainError, match="fixed risk"):
        services.change_answer_risk(change=change, by=agent, answers={})
    with pytest.raises(DomainError, match="fixed risk"):
        services.change_override_risk(change=change, by=change_manager, risk="high", reason="x")


def test_the_risk_cannot_change_once_the_cab_has_it(make_change, advance, agent, questions):
    change = advance(make_change(), "authorize")
    with pytest.raises(DomainError, match="before the change goes to the CAB"):
        services.change_answer_risk(change=change, by=agent, answers={questions[0].pk: True})


# ------------------------------------------------------------------ guards
def test_assessment_needs_a_justification(make_change, agent):
    change = make_change(plans=False)
    with pytest.raises(DomainError, match="why the change is needed"):
        services.change_transition(change=change, by=agent, target=S.ASSESS)
    assert Change.objects.get(pk=change.pk).status == S.DRAFT


def test_a_transition_outside_the_table_is_refused_and_writes_nothing(make_change, agent):
    change = make_change()
    before = TicketEvent.objects.filter(ticket_id=change.pk).count()
    with pytest.raises(InvalidTransition, match="cannot move from Draft to Implement"):
        services.change_transition(change=change, by=agent, target=S.IMPLEMENT)
    assert TicketEvent.objects.filter(ticket_id=change.pk).count() == before


def test_only_a_change_manager_sends_back_to_draft_and_says_why(
    make_change, advance, agent, change_manager
):
    change = advance(make_change(), "assess")
    with pytest.raises(DomainError, match="change manager"):
        services.change_transition(change=change, by=agent, target=S.DRAFT, note="redo")
    with pytest.raises(DomainError, match="rework"):
        services.change_transition(change=change, by=change_manager, target=S.DRAFT)
    change = services.change_transition(
        change=change, by=change_manager, target=S.DRAFT, note="Add the test plan"
    )
    assert change.status == S.DRAFT


def test_only_a_change_manager_sends_to_the_cab(make_change, advance, agent, cab):
    change = advance(make_change(), "assess")
    with pytest.raises(DomainError, match="Only a change manager"):
        services.change_send_to_cab(change=change, by=agent)


def test_the_cab_sees_complete_plans_only(make_change, advance, change_manager, agent):
    change = advance(make_change(), "assess")
    services.change_update(change=change, by=agent, backout_plan="")
    with pytest.raises(DomainError, match="back-out plan"):
        services.change_send_to_cab(change=change, by=change_manager)


def test_approvers_must_sit_on_the_cab(make_change, advance, change_manager, other_agent, cab):
    change = advance(make_change(), "assess")
    with pytest.raises(DomainError, match="Not on the CAB"):
        services.change_send_to_cab(change=change, by=change_manager, approvers=[other_agent])
    with pytest.raises(DomainError, match="Nobody to ask"):
        services.change_send_to_cab(change=change, by=change_manager, approvers=[])


def test_sending_to_the_cab_records_the_change_manager_stage_and_asks_each_member(
    make_change, advance, change_manager, cab
):
    # given
    change = advance(make_change(), "assess")
    # when
    change = services.change_send_to_cab(change=change, by=change_manager, comment="Solid plan")
    # then
    approvals = list(Approval.objects.filter(ticket_id=change.pk).order_by("stage", "pk"))
    assert [(a.stage, a.approver, a.decision) for a in approvals] == [
        (1, change_manager, "approved"),
        *[(2, member, "pending") for member in sorted(cab, key=str)],
    ]
    assert approvals[0].comment == "Solid plan"
    assert change.status == S.AUTHORIZE
    assert change.cab_policy == CabPolicy.ANY  # low risk, the default rule
    assert Notification.objects.filter(ticket_id=change.pk, recipient__in=cab).count() == 3
    note = Notification.objects.filter(ticket_id=change.pk, recipient=cab[0]).get()
    assert f"/approvals/changes/{change.pk}/" in note.body


def test_scheduling_needs_a_window_and_plans(make_change, advance, agent, template):
    standard = make_change(template=template, plans=False)
    with pytest.raises(DomainError, match="planned start and end"):
        services.change_transition(change=standard, by=agent, target=S.SCHEDULED)


def test_scheduling_a_window_that_is_over_is_refused(make_change, template, agent):
    start = timezone.now() - timedelta(hours=3)
    change = make_change(template=template, when=(start, start + timedelta(hours=1)))
    with pytest.raises(DomainError, match="already over"):
        services.change_transition(change=change, by=agent, target=S.SCHEDULED)


def test_a_normal_change_is_scheduled_only_after_cab_authorisation(make_change, advance, agent):
    change = advance(make_change(when=window()), "authorize")
    with pytest.raises(DomainError, match="not authorised"):
        services.change_transition(change=change, by=agent, target=S.SCHEDULED)
    change = decide(change, pending(change)[0])
    change = services.change_transition(change=change, by=agent, target=S.SCHEDULED)
    assert change.status == S.SCHEDULED


def test_implementing_stamps_the_actual_start(make_change, advance):
    change = advance(make_change(when=window()), "implement")
    assert change.actual_start is not None
    assert change.ticket.state == TicketState.OPEN


def test_review_needs_the_actual_times_and_the_outcome(make_change, advance, agent):
    change = advance(make_change(when=window()), "implement")
    with pytest.raises(DomainError, match="outcome"):
        services.change_transition(
            change=change, by=agent, target=S.REVIEW, actual_end=timezone.now()
        )
    with pytest.raises(DomainError, match="really started and ended"):
        services.change_transition(change=change, by=agent, target=S.REVIEW, outcome="failed")
    with pytest.raises(DomainError, match="before the actual start"):
        services.change_transition(
            change=change,
            by=agent,
            target=S.REVIEW,
            outcome="failed",
            actual_end=change.actual_start - timedelta(minutes=1),
        )
    with pytest.raises(DomainError, match="future"):
        services.change_transition(
            change=change,
            by=agent,
            target=S.REVIEW,
            outcome="failed",
            actual_end=timezone.now() + timedelta(hours=1),
        )
    change = services.change_transition(
        change=change, by=agent, target=S.REVIEW, outcome="failed", actual_end=timezone.now()
    )
    assert change.outcome == Outcome.FAILED
    assert change.ticket.state == TicketState.RESOLVED


def test_closing_a_normal_change_needs_the_review_notes(make_change, advance, agent):
    change = advance(make_change(when=window()), "review")
    with pytest.raises(DomainError, match="post-implementation review"):
        services.change_transition(change=change, by=agent, target=S.CLOSED)
    change = services.change_transition(
        change=change, by=agent, target=S.CLOSED, review_notes="Went to plan."
    )
    assert change.status == S.CLOSED
    assert change.review_notes == "Went to plan."
    assert change.ticket.closed_at is not None


def test_a_standard_change_closes_without_review_notes(make_change, advance, template, agent):
    change = advance(make_change(template=template, when=window()), "review")
    change = services.change_transition(change=change, by=agent, target=S.CLOSED)
    assert change.status == S.CLOSED


def test_rejecting_needs_a_change_manager_and_a_reason(make_change, advance, agent, change_manager):
    change = advance(make_change(), "assess")
    with pytest.raises(DomainError, match="Only a change manager"):
        services.change_transition(change=change, by=agent, target=S.REJECTED, note="no")
    with pytest.raises(DomainError, match="why"):
        services.change_transition(change=change, by=change_manager, target=S.REJECTED)
    change = services.change_transition(
        change=change, by=change_manager, target=S.REJECTED, note="Not now"
    )
    assert change.status == S.REJECTED
    stage_one = Approval.objects.get(ticket_id=change.pk, stage=1)
    assert (stage_one.decision, stage_one.comment) == ("rejected", "Not now")


def test_cancelling_needs_a_reason_and_closes_the_open_seats(make_change, advance, agent):
    change = advance(make_change(), "authorize")
    with pytest.raises(DomainError, match="why"):
        services.change_transition(change=change, by=agent, target=S.CANCELLED)
    change = services.change_transition(
        change=change, by=agent, target=S.CANCELLED, note="Vendor withdrew the release"
    )
    assert change.status == S.CANCELLED
    assert not pending(change)
    assert change.ticket.state == TicketState.CLOSED


def test_an_implementing_change_cannot_be_cancelled(make_change, advance, agent):
    change = advance(make_change(when=window()), "implement")
    with pytest.raises(InvalidTransition):
        services.change_transition(change=change, by=agent, target=S.CANCELLED, note="x")


def test_a_stale_version_is_refused(make_change, agent):
    change = make_change()
    version = change.ticket.version
    services.change_update(change=change, by=agent, title="Upgrade VPN", expected_version=version)
    with pytest.raises(StaleWrite):
        services.change_update(change=change, by=agent, title="Other", expected_version=version)


# ------------------------------------------------------------------ edits
def test_plans_are_frozen_after_assessment(make_change, advance, agent):
    change = advance(make_change(), "authorize")
    with pytest.raises(DomainError, match="cannot change after assessment"):
        services.change_update(change=change, by=agent, implementation_plan="Something else")


def test_the_type_changes_only_in_draft(make_change, advance, agent):
    change = make_change()
    change = services.change_update(change=change, by=agent, type=ChangeType.EMERGENCY)
    assert change.ticket.priority == 1
    change = advance(change, "authorize")
    with pytest.raises(DomainError, match="draft"):
        services.change_update(change=change, by=agent, type=ChangeType.NORMAL)


def test_each_edited_field_is_journalled(make_change, agent, erp):
    change = make_change()
    start, end = window(days=5)
    services.change_update(
        change=change, by=agent, services=[erp], planned_start=start, planned_end=end
    )
    fields = set(
        TicketEvent.objects.filter(ticket_id=change.pk, type="field_changed").values_list(
            "data__field", flat=True
        )
    )
    assert {"services", "planned_start", "planned_end", "service"} <= fields


# ------------------------------------------------------------------ standard and CAB policies
def test_a_standard_change_skips_the_cab(make_change, template, agent):
    # given
    change = make_change(template=template, plans=False, when=window())
    # when
    change = services.change_transition(change=change, by=agent, target=S.SCHEDULED)
    # then
    assert change.status == S.SCHEDULED
    assert not Approval.objects.filter(ticket_id=change.pk).exists()
    with pytest.raises(InvalidTransition):
        services.change_transition(change=change, by=agent, target=S.AUTHORIZE)


def _sent_with_risk(make_change, advance, change_manager, risk):
    change = advance(make_change(when=window()), "assess")
    change = services.change_override_risk(
        change=change, by=change_manager, risk=risk, reason="Assessed in the CAB prep"
    )
    return services.change_send_to_cab(change=change, by=change_manager)


def test_high_risk_needs_every_cab_member(make_change, advance, change_manager, cab):
    change = _sent_with_risk(make_change, advance, change_manager, Risk.HIGH)
    assert change.cab_policy == CabPolicy.ALL
    first, second, third = pending(change)
    change = decide(decide(change, first), second)
    assert change.authorised_at is None
    change = decide(change, third)
    assert change.authorised_at is not None
    assert "authorised" in journal_codes(change)


def test_moderate_risk_needs_a_majority_and_closes_the_remaining_seat(
    make_change, advance, change_manager, cab
):
    change = _sent_with_risk(make_change, advance, change_manager, Risk.MODERATE)
    assert change.cab_policy == CabPolicy.MAJORITY
    first, second, third = pending(change)
    change = decide(change, first)
    assert change.authorised_at is None
    change = decide(change, second)
    assert change.authorised_at is not None
    third.refresh_from_db()
    assert third.decision == ApprovalDecision.CANCELLED


def test_low_risk_needs_any_one(make_change, advance, change_manager, cab):
    change = _sent_with_risk(make_change, advance, change_manager, Risk.LOW)
    assert change.cab_policy == CabPolicy.ANY
    change = decide(change, pending(change)[1])
    assert change.authorised_at is not None
    assert not pending(change)


def test_an_admin_rule_changes_the_policy(make_change, advance, change_manager, cab):
    CabPolicyRule.objects.update_or_create(
        change_type="normal", risk="low", defaults={"policy": CabPolicy.ALL}
    )
    change = _sent_with_risk(make_change, advance, change_manager, Risk.LOW)
    assert change.cab_policy == CabPolicy.ALL


def test_any_rejection_stops_the_change_even_after_approvals(
    make_change, advance, change_manager, cab, agent
):
    # given: majority policy, one approval in
    change = _sent_with_risk(make_change, advance, change_manager, Risk.MODERATE)
    first, second, third = pending(change)
    change = decide(change, first)
    # when
    with pytest.raises(DomainError, match="why you reject"):
        decide(change, second, "rejected")
    change = decide(change, second, "rejected", "The back-out is untested")
    # then
    assert change.status == S.REJECTED
    third.refresh_from_db()
    assert third.decision == ApprovalDecision.CANCELLED
    assert Notification.objects.filter(ticket_id=change.pk, event="change_rejected").exists()


def test_only_the_approver_decides_and_only_once(make_change, advance, cab, change_manager):
    change = advance(make_change(), "authorize")
    approval = pending(change)[0]
    with pytest.raises(DomainError, match="not yours"):
        services.change_decide(change=change, approval=approval, by=cab[1], decision="approved")
    change = decide(change, approval)
    with pytest.raises(DomainError, match="already been decided"):
        decide(change, approval)


# ------------------------------------------------------------------ emergency
def test_emergency_goes_straight_to_the_smaller_emergency_cab(make_change, change_manager, cab):
    EmergencyCabSeat.objects.create(user=cab[0])
    change = make_change(type=ChangeType.EMERGENCY)
    change = services.change_send_to_cab(change=change, by=change_manager, comment="Outage")
    assert change.status == S.AUTHORIZE
    assert [a.approver for a in pending(change)] == [cab[0]]


def test_emergency_may_start_before_approval_with_a_recorded_reason(
    make_change, change_manager, cab, agent
):
    # given: sent to the emergency CAB, nobody decided yet
    change = make_change(type=ChangeType.EMERGENCY)
    change = services.change_send_to_cab(change=change, by=change_manager, approvers=[cab[0]])
    with pytest.raises(DomainError, match="cannot wait"):
        services.change_transition(change=change, by=change_manager, target=S.IMPLEMENT)
    with pytest.raises(DomainError, match="Only a change manager"):
        services.change_transition(
            change=change, by=agent, target=S.IMPLEMENT, emergency_reason="Outage"
        )
    # when
    change = services.change_transition(
        change=change, by=change_manager, target=S.IMPLEMENT, emergency_reason="Outage ongoing"
    )
    # then: implementing; the approval is still open and can be given afterwards
    assert change.status == S.IMPLEMENT
    assert change.emergency_reason == "Outage ongoing"
    assert "implemented_before_approval" in journal_codes(change)
    change = services.change_transition(
        change=change, by=agent, target=S.REVIEW, outcome="successful", actual_end=timezone.now()
    )
    with pytest.raises(DomainError, match="emergency CAB has not decided"):
        services.change_transition(change=change, by=agent, target=S.CLOSED, review_notes="ok")
    change = decide(change, pending(change)[0])
    assert change.authorised_at is not None
    change = services.change_transition(
        change=change, by=agent, target=S.CLOSED, review_notes="Fixed the outage."
    )
    assert change.status == S.CLOSED


def test_a_retrospective_emergency_rejection_is_recorded_not_undone(
    make_change, change_manager, cab
):
    change = make_change(type=ChangeType.EMERGENCY)
    change = services.change_send_to_cab(change=change, by=change_manager, approvers=[cab[0]])
    change = services.change_transition(
        change=change, by=change_manager, target=S.IMPLEMENT, emergency_reason="Outage"
    )
    change = decide(change, pending(change)[0], "rejected", "Should have waited for the vendor")
    assert change.status == S.IMPLEMENT
    assert "retrospective_rejection" in journal_codes(change)
    assert Notification.objects.filter(recipient=change_manager, event="change_rejected").exists()


def test_a_normal_change_cannot_be_decided_once_it_left_authorize(make_change, advance, agent, cab):
    change = advance(make_change(), "authorize")
    approval = pending(change)[0]
    change = services.change_transition(change=change, by=agent, target=S.CANCELLED, note="x")
    approval.decision = "pending"  # even if a seat were somehow still open
    approval.save()
    with pytest.raises(DomainError, match="not awaiting approval"):
        decide(change, approval)


# ------------------------------------------------------------------ conflicts and override
def test_scheduling_into_a_conflict_needs_a_change_managers_override(
    make_change, advance, agent, change_manager, template
):
    # given: a booked change on the VPN
    when = window(hours=2)
    first = advance(make_change(template=template, when=when), "scheduled")
    second = make_change(template=template, when=(when[0] + timedelta(hours=1), when[1]))
    # when / then: an agent is refused, the conflict is named
    with pytest.raises(services.ScheduleConflict, match=first.ticket.number):
        services.change_transition(change=second, by=agent, target=S.SCHEDULED)
    with pytest.raises(DomainError, match="only a change manager"):
        services.change_transition(
            change=second, by=agent, target=S.SCHEDULED, override_reason="urgent"
        )
    # and a change manager's override goes into the journal with what it overrode
    second = services.change_transition(
        change=second,
        by=change_manager,
        target=S.SCHEDULED,
        override_reason="Both are read-only checks",
    )
    assert second.status == S.SCHEDULED
    event = TicketEvent.objects.get(ticket_id=second.pk, data__code="schedule_override")
    assert event.actor == change_manager
    assert event.data["reason"] == "Both are read-only checks"
    assert event.data["changes"][0]["number"] == first.ticket.number
    assert second.schedule_override["by_id"] == change_manager.pk


def test_moving_a_booked_change_into_a_conflict_needs_an_override(
    make_change, advance, agent, change_manager, template
):
    early, late = window(hours=1), window(days=3, hours=1)
    booked = advance(make_change(template=template, when=early), "scheduled")
    other = advance(make_change(template=template, when=late), "scheduled")
    with pytest.raises(services.ScheduleConflict):
        services.change_update(change=other, by=agent, planned_start=early[0], planned_end=early[1])
    other = services.change_update(
        change=other,
        by=change_manager,
        planned_start=early[0],
        planned_end=early[1],
        override_reason="Same engineer does both",
    )
    assert other.planned_start == early[0]
    assert booked.ticket.number in other.schedule_override["changes"][0]["number"]


# ------------------------------------------------------------------ links
def test_a_change_fixes_an_incident_through_a_typed_link(make_change, agent, requester):
    from incidents.services import incident_create

    incident = incident_create(requester=requester, by=requester, title="VPN flaps")
    change = make_change()
    link = services.change_link_incident(change=change, by=agent, incident=incident.ticket)
    assert (link.source_id, link.target_id, link.kind) == (change.pk, incident.pk, "fixes")
    services.change_link_incident(change=change, by=agent, incident=incident.ticket)
    assert TicketLink.objects.filter(source_id=change.pk).count() == 1
    assert TicketEvent.objects.filter(ticket_id=incident.pk, data__code="fixed_by_change").exists()
    with pytest.raises(DomainError, match="not an incident"):
        services.change_link_incident(change=change, by=agent, incident=make_change().ticket)


def test_incidents_caused_by_a_change_show_through_the_reverse_accessor(make_change, requester):
    from incidents.models import Incident
    from incidents.services import incident_create

    change = make_change()
    incident = incident_create(requester=requester, by=requester, title="VPN down after upgrade")
    Incident.objects.filter(pk=incident.pk).update(caused_by_change=change.ticket)
    assert list(change.ticket.caused_incidents.all()) == [incident]


def test_a_failed_change_tells_the_change_managers(make_change, advance, agent, change_manager):
    change = advance(make_change(when=window()), "implement")
    services.change_transition(
        change=change,
        by=agent,
        target=S.REVIEW,
        outcome=Outcome.BACKED_OUT,
        actual_end=timezone.now(),
    )
    assert Notification.objects.filter(recipient=change_manager, event="change_failed").exists()


def test_reminders_go_once_per_window(make_change, advance, agent):
    change = advance(make_change(when=window(days=0.5)), "authorised")
    start = timezone.now() + timedelta(minutes=30)
    services.change_update(
        change=change, by=agent, planned_start=start, planned_end=start + timedelta(hours=1)
    )
    services.change_assign(change=change, by=agent, assignee=agent)
    change = services.change_transition(change=change, by=agent, target=S.SCHEDULED)
    assert services.changes_remind_upcoming() == 1
    assert services.changes_remind_upcoming() == 0
