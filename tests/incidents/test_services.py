"""Incident use cases through their services, on PostgreSQL."""

from datetime import time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import AssignmentMethod
from core.exceptions import DomainError, InvalidTransition, StaleWrite, UploadRejected
from incidents import services
from incidents.choices import IncidentStatus, Level, OnHoldReason, ResolutionCode
from incidents.models import Category, Incident, PriorityMatrixCell, RoutingRule
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tickets.choices import EventType, TicketState
from tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db


def resolve(incident, by, **kw):
    return services.incident_transition(
        incident=incident,
        by=by,
        target=IncidentStatus.RESOLVED,
        resolution_code=kw.get("code", ResolutionCode.FIXED),
        resolution_notes=kw.get("notes", "Restarted the gateway."),
    )


# ------------------------------------------------------------------ priority
@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        (Level.HIGH, Level.HIGH, 1),
        (Level.MEDIUM, Level.HIGH, 2),
        (Level.MEDIUM, Level.MEDIUM, 3),
        (Level.LOW, Level.LOW, 4),
    ],
)
def test_priority_comes_from_the_itil_matrix(make_incident, impact, urgency, priority):
    incident = make_incident(impact=impact, urgency=urgency)
    assert incident.ticket.priority == priority
    assert incident.priority_reason["source"] == "matrix"
    assert f"P{priority}" in incident.priority_reason["text"]


def test_an_edited_matrix_cell_changes_new_priorities(make_incident):
    # (update_or_create: a transactional test elsewhere may have flushed the migration's rows)
    PriorityMatrixCell.objects.update_or_create(
        impact=Level.LOW, urgency=Level.LOW, defaults={"priority": 2}
    )
    assert make_incident(impact=Level.LOW, urgency=Level.LOW).ticket.priority == 2


def test_changing_urgency_recomputes_priority_and_journals_it(incident, agent):
    services.incident_update(incident=incident, by=agent, urgency=Level.HIGH)
    incident.ticket.refresh_from_db()
    assert incident.ticket.priority == 2
    change = incident.ticket.events.filter(
        type=EventType.FIELD_CHANGED, data__field="priority"
    ).get()
    assert change.data["old"] == "P3"
    assert change.data["new"] == "P2"


def test_priority_override_needs_a_reason_and_sticks(incident, agent):
    with pytest.raises(DomainError):
        services.incident_override_priority(incident=incident, by=agent, priority=1, reason=" ")
    services.incident_override_priority(
        incident=incident, by=agent, priority=1, reason="CEO affected"
    )
    services.incident_update(incident=incident, by=agent, urgency=Level.LOW)  # matrix would say P4
    incident.refresh_from_db()
    incident.ticket.refresh_from_db()
    assert incident.ticket.priority == 1
    assert incident.priority_reason["reason"] == "CEO affected"
    event = incident.ticket.events.get(type=EventType.FIELD_CHANGED, data__field="priority")
    assert event.body == "CEO affected"
    assert event.actor == agent


# ------------------------------------------------------------------ lifecycle
def test_resolve_requires_code_and_notes_and_changes_nothing_when_refused(incident, agent):
    version = Ticket.objects.get(pk=incident.pk).version
    with pytest.raises(DomainError) as error:
        services.incident_transition(
            incident=incident, by=agent, target=IncidentStatus.RESOLVED, resolution_notes="x"
        )
    assert error.value.field == "resolution_code"
    with pytest.raises(DomainError):
        services.incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.RESOLVED,
            resolution_code=ResolutionCode.FIXED,
        )
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW
    assert Ticket.objects.get(pk=incident.pk).version == version


def test_illegal_transition_is_refused_and_nothing_written(incident, agent):
    events_before = incident.ticket.events.count()
    with pytest.raises(InvalidTransition, match="cannot move from New to Closed"):
        services.incident_transition(incident=incident, by=agent, target=IncidentStatus.CLOSED)
    assert incident.ticket.events.count() == events_before


def test_full_lifecycle_sets_state_and_timestamps(incident, agent, requester):
    services.incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    services.incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.ON_HOLD,
        on_hold_reason=OnHoldReason.AWAITING_VENDOR,
    )
    assert Ticket.objects.get(pk=incident.pk).state == TicketState.ON_HOLD
    services.incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    resolve(incident, agent)
    ticket = Ticket.objects.get(pk=incident.pk)
    assert ticket.state == TicketState.RESOLVED
    assert ticket.resolved_at is not None
    services.incident_confirm(incident=incident, by=requester)
    ticket.refresh_from_db()
    assert ticket.state == TicketState.CLOSED
    assert ticket.closed_at is not None
    statuses = list(
        ticket.events.filter(type=EventType.STATUS_CHANGED).values_list("data__new", flat=True)
    )
    assert statuses == ["in_progress", "on_hold", "in_progress", "resolved", "closed"]


def test_on_hold_needs_a_reason(incident, agent):
    with pytest.raises(DomainError) as error:
        services.incident_transition(incident=incident, by=agent, target=IncidentStatus.ON_HOLD)
    assert error.value.field == "on_hold_reason"


def test_requester_reopens_within_the_window_but_not_after(
    incident, agent, requester, time_machine, settings
):
    settings.INCIDENT_REOPEN_WINDOW_DAYS = 7
    resolve(incident, agent)
    time_machine.move_to(timezone.now() + timedelta(days=6))
    services.incident_reopen(incident=incident, by=requester, reason="Still broken")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IN_PROGRESS
    assert Ticket.objects.get(pk=incident.pk).resolved_at is None
    resolve(incident, agent)
    time_machine.move_to(timezone.now() + timedelta(days=8))
    with pytest.raises(DomainError, match="no longer be reopened"):
        services.incident_reopen(incident=incident, by=requester, reason="Again")
    services.incident_reopen(incident=incident, by=agent, reason="Agent reopens any time")


def test_auto_close_closes_only_incidents_resolved_long_enough(make_incident, agent, settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3
    old, recent = make_incident(), make_incident()
    resolve(old, agent)
    resolve(recent, agent)
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=4))
    assert services.incidents_auto_close() == 1
    assert Incident.objects.get(pk=old.pk).status == IncidentStatus.CLOSED
    assert Incident.objects.get(pk=recent.pk).status == IncidentStatus.RESOLVED
    assert services.incidents_auto_close() == 0  # idempotent


def test_resolving_a_parent_resolves_its_open_children(make_incident, agent):
    parent, child, done_child = make_incident(), make_incident(), make_incident()
    services.incident_link_child(parent=parent, child=child, by=agent)
    services.incident_link_child(parent=parent, child=done_child, by=agent)
    services.incident_transition(incident=done_child, by=agent, target=IncidentStatus.CANCELLED)
    resolve(parent, agent, notes="Core switch replaced")
    child.refresh_from_db()
    assert child.status == IncidentStatus.RESOLVED
    assert child.resolution_notes == "Core switch replaced"
    assert Incident.objects.get(pk=done_child.pk).status == IncidentStatus.CANCELLED


def test_an_incident_cannot_be_its_own_parent(incident, agent):
    with pytest.raises(DomainError):
        services.incident_link_child(parent=incident, child=incident, by=agent)


# ------------------------------------------------------------------ optimistic locking, journal
def test_stale_version_is_refused_and_changes_nothing(incident, agent):
    seen = Ticket.objects.get(pk=incident.pk).version
    services.incident_update(
        incident=incident, by=agent, title="VPN down for all", expected_version=seen
    )
    with pytest.raises(StaleWrite):
        services.incident_update(
            incident=incident, by=agent, title="Overwritten", expected_version=seen
        )
    assert Ticket.objects.get(pk=incident.pk).title == "VPN down for all"


def test_field_change_writes_old_and_new_values(incident, agent):
    services.incident_update(incident=incident, by=agent, title="VPN down in Leeds")
    event = incident.ticket.events.get(type=EventType.FIELD_CHANGED, data__field="title")
    assert (event.data["old"], event.data["new"], event.actor) == (
        "VPN is down",
        "VPN down in Leeds",
        agent,
    )


def test_first_public_agent_reply_stamps_first_response(incident, agent, requester):
    services.incident_comment(incident=incident, by=requester, body="Any news?")
    services.incident_comment(incident=incident, by=agent, body="Internal", public=False)
    assert Ticket.objects.get(pk=incident.pk).first_responded_at is None
    services.incident_comment(incident=incident, by=agent, body="Looking at it")
    first = Ticket.objects.get(pk=incident.pk).first_responded_at
    assert first is not None
    services.incident_comment(incident=incident, by=agent, body="Still looking")
    assert Ticket.objects.get(pk=incident.pk).first_responded_at == first


def test_requesters_cannot_write_work_notes(incident, requester):
    with pytest.raises(DomainError):
        services.incident_comment(incident=incident, by=requester, body="secret", public=False)


def test_oversized_or_forbidden_uploads_are_refused_and_nothing_stored(
    incident, requester, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    big = SimpleUploadedFile("log.txt", b"x" * 1001, content_type="text/plain")
    with pytest.raises(UploadRejected, match="limit"):
        services.incident_comment(incident=incident, by=requester, body="see log", uploads=[big])
    exe = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(UploadRejected, match="not an allowed file type"):
        services.incident_comment(incident=incident, by=requester, body="see tool", uploads=[exe])
    assert Attachment.objects.count() == 0
    assert not incident.ticket.events.filter(body__startswith="see").exists()


# ------------------------------------------------------------------ routing and assignment
def test_routing_rule_sends_the_incident_to_its_team_and_explains(make_incident, network_team):
    network = Category.objects.create(name="Network")
    vpn = Category.objects.create(name="VPN", parent=network)
    RoutingRule.objects.create(name="Network to Network", category=network, team=network_team)
    incident = make_incident(category=network, subcategory=vpn)
    assert incident.ticket.team == network_team
    assert incident.routing_reason == {
        "source": "rule",
        "rule": "Network to Network",
        "rule_id": incident.routing_reason["rule_id"],
        "team": "Network",
    }
    assert incident.ticket.events.filter(data__code="routed").exists()


def test_service_support_team_is_the_fallback_route(make_incident, database_team):
    incident = make_incident(service=ServiceFactory(name="DB", support_team=database_team))
    assert incident.ticket.team == database_team
    assert incident.routing_reason["source"] == "service"


def _team_with(method, *members):
    team = TeamFactory(name=f"T-{method}", assignment_method=method)
    users = []
    for name, extra in members:
        user = UserFactory(username=name, roles=["agent"])
        MembershipFactory(team=team, user=user, **extra)
        users.append(user)
    return team, users


def test_round_robin_takes_turns(make_incident):
    team, (a, b, c) = _team_with(AssignmentMethod.ROUND_ROBIN, ("a1", {}), ("b1", {}), ("c1", {}))
    picked = [make_incident(team=team).ticket.assignee for _ in range(4)]
    assert picked == [a, b, c, a]


def test_least_loaded_weighs_priority_and_skips_unavailable_capped_and_off_hours(
    make_incident, time_machine
):
    # given: Monday 10:00 UTC
    time_machine.move_to("2026-11-23 10:00Z")
    team, (busy, light, _away, _capped, _night) = _team_with(
        AssignmentMethod.LEAST_LOADED,
        ("busy", {}),
        ("light", {}),
        ("away", {"available": False}),
        ("capped", {"max_open_tickets": 0}),
        ("night", {"work_start": time(20), "work_end": time(23, 59)}),
    )
    make_incident(assignee=busy, team=team, impact=Level.HIGH, urgency=Level.HIGH)  # P1: load 4
    make_incident(assignee=light, team=team, impact=Level.LOW, urgency=Level.LOW)  # P4: load 1
    make_incident(assignee=light, team=team, impact=Level.LOW, urgency=Level.LOW)  # load 2
    # when
    incident = make_incident(team=team)
    # then: light has more tickets but less weighted load
    assert incident.ticket.assignee == light
    reason = incident.assignment_reason
    assert reason["method"] == "least_loaded"
    assert {c["name"]: c["load"] for c in reason["candidates"]} == {"Busy": 4, "Light": 2}
    assert {s["name"]: s["why"] for s in reason["skipped"]} == {
        "Away": "not available",
        "Capped": "at cap (0 open)",
        "Night": "outside working hours",
    }
    assert incident.ticket.events.filter(
        type=EventType.FIELD_CHANGED, data__field="assignee"
    ).exists()


def test_nobody_eligible_leaves_the_ticket_unassigned(make_incident):
    team, _ = _team_with(AssignmentMethod.ROUND_ROBIN, ("off1", {"available": False}))
    incident = make_incident(team=team)
    assert incident.ticket.assignee is None
    assert incident.assignment_reason["chosen"] is None


def test_assign_to_a_non_member_is_refused(incident, other_agent):
    with pytest.raises(DomainError, match="not a member"):
        services.incident_assign(incident=incident, by=other_agent, assignee=other_agent)


def test_assigning_a_new_incident_starts_work(incident, agent):
    services.incident_assign(incident=incident, by=agent, assignee=agent)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IN_PROGRESS
    assert incident.assignment_reason["method"] == "manual"


def test_outage_is_recorded_with_a_journal_entry(incident, agent):
    from datetime import timedelta as td

    from incidents.choices import OutageKind

    service = ServiceFactory(name="VPN")
    start = timezone.now() - td(hours=2)
    with pytest.raises(DomainError, match="end after"):
        services.incident_outage_record(
            incident=incident,
            by=agent,
            service=service,
            kind=OutageKind.FULL,
            started_at=start,
            ended_at=start,
        )
    outage = services.incident_outage_record(
        incident=incident, by=agent, service=service, kind=OutageKind.DEGRADED, started_at=start
    )
    assert outage.ended_at is None
    assert incident.ticket.events.filter(data__code="outage_recorded", data__service="VPN").exists()
