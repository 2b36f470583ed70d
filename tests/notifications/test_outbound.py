"""Outbound: journal → recipients by rule → in-app and e-mail, threaded, never twice."""

import re

import pytest
from django.db import transaction

from incidents.services import incident_assign, incident_comment
from tests.notifications.conftest import dispatch_all, resolve, send_all
from tickets.choices import EmailMode, EmailStatus
from tickets.dispatch import dispatch_event
from tickets.mail import REPLY_MARKER, notification_email_send
from tickets.models import EventDispatch, Notification, TicketEvent
from tickets.notifications import notification_preferences_save, notify
from tickets.tasks import send_notification_email_task

pytestmark = pytest.mark.django_db


def test_public_reply_email_is_threaded_numbered_and_has_reply_marker(
    smtp, raise_incident, requester, agent
):
    # given
    incident = raise_incident()
    number = incident.ticket.number
    dispatch_all()
    Notification.objects.all().delete()
    # when
    incident_comment(incident=incident, by=agent, body="Please restart the VPN client.")
    dispatch_all()
    assert send_all() == 1
    # then
    (message,) = smtp.messages
    note = Notification.objects.get(recipient=requester)
    assert message["To"] == requester.email
    assert message["Subject"] == f"[{number}] New reply from Alice Agent: VPN is down"
    assert message["Message-ID"] == f"<{number}.n{note.pk}@desk.test>"
    assert message["In-Reply-To"] == f"<{number}@desk.test>"
    assert message["References"] == f"<{number}@desk.test>"
    assert message["Reply-To"] == "support@desk.test"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    assert text.startswith(REPLY_MARKER)
    assert "Please restart the VPN client." in text
    assert "Please restart the VPN client." in html
    assert REPLY_MARKER in html
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT
    assert note.message_id == message["Message-ID"]


def test_requesters_never_receive_work_notes(mailoutbox, raise_incident, requester, agent, manager):
    # given: a whole life of a ticket with work notes mentioning the requester and a manager
    incident = raise_incident()
    incident_comment(
        incident=incident, by=agent, body="Secret: @rita is a VIP, @maria", public=False
    )
    incident_comment(incident=incident, by=agent, body="We are looking into it.")
    resolve(incident, agent, notes="Router replaced.")
    # when
    dispatch_all()
    send_all()
    # then
    to_requester = [m for m in mailoutbox if m.to == [requester.email]]
    assert to_requester
    for message in to_requester:
        html = message.alternatives[0][0]
        assert "Secret" not in message.body
        assert "Secret" not in html
    assert not Notification.objects.filter(recipient=requester, event="mention").exists()
    assert all("Secret" not in n.body for n in Notification.objects.filter(recipient=requester))
    mention = Notification.objects.get(recipient=manager, event="mention")
    assert "Secret" in mention.body


def test_mentioned_agent_who_cannot_see_the_ticket_hears_nothing(
    raise_incident, agent, other_agent
):
    incident = raise_incident()
    incident_comment(incident=incident, by=agent, body="Ask @bob about it", public=False)
    dispatch_all()
    assert not Notification.objects.filter(recipient=other_agent).exists()


def test_new_ticket_acknowledges_requester_and_tells_the_assignee_not_the_actor(
    raise_incident, requester, agent
):
    incident = raise_incident()
    dispatch_all()
    events = dict(Notification.objects.values_list("recipient__username", "event"))
    assert events == {"rita": "ticket_created", "alice": "assigned"}
    assert incident.ticket.number in Notification.objects.get(recipient=requester).body


def test_unassigned_ticket_tells_its_team_and_assignment_tells_the_assignee(
    requester, network_team, agent
):
    from incidents.services import incident_create

    colleague = type(agent).objects.create_user("carl", "carl@example.com", "pw-for-tests-1")
    colleague.groups.add(*agent.groups.all())
    network_team.members.add(colleague)
    incident = incident_create(requester=requester, by=requester, title="Wi-Fi", team=network_team)
    dispatch_all()
    assert set(
        Notification.objects.filter(event="team_assigned").values_list(
            "recipient__username", flat=True
        )
    ) == {"alice", "carl"}
    incident_assign(incident=incident, by=colleague, assignee=agent)
    dispatch_all()
    assert Notification.objects.filter(recipient=agent, event="assigned").count() == 1


def test_dispatching_twice_notifies_once(raise_incident):
    incident = raise_incident()
    first = dispatch_all()
    assert first > 0
    # The task is redelivered (acks_late) or the sweep re-queues it: the row is dispatched…
    event = TicketEvent.objects.filter(ticket=incident.ticket).first()
    assert dispatch_event(event_id=event.pk) == 0
    # …and even if it were not marked, the dedupe keys stop a second notification.
    EventDispatch.objects.filter(event=event).update(dispatched_at=None)
    assert dispatch_event(event_id=event.pk) == 0
    assert Notification.objects.count() == first


def test_failed_send_is_retried_with_backoff_and_sent_exactly_once(smtp, agent):
    # given: the relay refuses the first attempt
    (note,) = notify(recipients=[agent], ticket=None, event="test", subject="Hello", dedupe_key="k")
    smtp.refuse_next = 1
    # when: the task runs, fails, and is retried
    with pytest.raises(Exception, match="451"):
        send_notification_email_task(notification_id=note.pk)
    note.refresh_from_db()
    assert (note.email_status, note.email_attempts) == (EmailStatus.PENDING, 1)
    assert "451" in note.email_error
    assert note.email_next_at is not None
    assert send_notification_email_task(notification_id=note.pk) is True
    # then: a late duplicate of the task sends nothing
    assert send_notification_email_task(notification_id=note.pk) is False
    assert len(smtp.messages) == 1
    note.refresh_from_db()
    assert (note.email_status, note.email_attempts, note.email_error) == (EmailStatus.SENT, 2, "")


def test_send_gives_up_after_the_last_attempt_and_stays_visible(smtp, settings, agent):
    settings.NOTIFY_EMAIL_MAX_ATTEMPTS = 2
    (note,) = notify(recipients=[agent], ticket=None, event="test", subject="Hello")
    smtp.refuse_next = 5
    with pytest.raises(Exception, match="451"):
        notification_email_send(notification_id=note.pk)
    assert send_notification_email_task(notification_id=note.pk) is False  # gave up
    note.refresh_from_db()
    assert note.email_status == EmailStatus.FAILED
    assert note.email_attempts == 2
    assert smtp.messages == []


def test_muted_and_in_app_only_categories_are_respected(
    mailoutbox, raise_incident, requester, agent
):
    # given
    notification_preferences_save(
        user=requester,
        email_mode=EmailMode.IMMEDIATE,
        categories={"created": "off", "reply": "in_app"},
    )
    incident = raise_incident()
    incident_comment(incident=incident, by=agent, body="On it.")
    # when
    dispatch_all()
    send_all()
    # then
    notes = {n.event: n for n in Notification.objects.filter(recipient=requester)}
    assert "ticket_created" not in notes
    assert notes["reply"].email_status == EmailStatus.NONE
    assert [m for m in mailoutbox if m.to == [requester.email]] == []


def test_no_email_mode_keeps_the_bell(raise_incident, requester, agent):
    notification_preferences_save(user=requester, email_mode=EmailMode.NONE, categories={})
    incident = raise_incident()
    incident_comment(incident=incident, by=agent, body="On it.")
    dispatch_all()
    assert set(
        Notification.objects.filter(recipient=requester).values_list("email_status", flat=True)
    ) == {EmailStatus.NONE}


def test_person_a_service_told_directly_is_not_told_again(raise_incident, requester, agent):
    # given: one transaction resolves and a service notifies the requester itself
    incident = raise_incident()
    dispatch_all()
    with transaction.atomic():
        resolve(incident, agent)
        notify(recipients=[requester], ticket=incident.ticket, event="fulfilled", subject="Done")
    # when
    dispatch_all()
    # then
    events = list(Notification.objects.filter(recipient=requester).values_list("event", flat=True))
    assert sorted(events) == ["fulfilled", "ticket_created"]


def test_resolution_email_carries_the_satisfaction_survey(
    mailoutbox, raise_incident, requester, agent
):
    incident = raise_incident()
    resolve(incident, agent)
    dispatch_all()
    send_all()
    (message,) = [m for m in mailoutbox if m.to == [requester.email] and "Resolved" in m.subject]
    links = re.findall(r"http\S+/survey/\S+\?rating=(good|bad)", message.body)
    assert links == ["good", "bad"]
    assert "Router" not in message.subject
    agent_mail = [m for m in mailoutbox if m.to == [agent.email]]
    assert all("/survey/" not in m.body for m in agent_mail)


@pytest.mark.django_db(transaction=True)
def test_one_transaction_tells_only_its_last_status_and_creation_only_the_acknowledgement(
    raise_incident, requester, agent
):
    from incidents.choices import IncidentStatus, OnHoldReason
    from incidents.services import incident_transition

    # given: raised and moved on in the same transaction (e.g. auto-approval)
    with transaction.atomic():
        incident = raise_incident()
        incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    dispatch_all()
    assert list(
        Notification.objects.filter(recipient=requester).values_list("event", flat=True)
    ) == ["ticket_created"]
    # when: later, one transaction puts it on hold and back
    with transaction.atomic():
        incident_transition(
            incident=incident,
            by=agent,
            target=IncidentStatus.ON_HOLD,
            on_hold_reason=OnHoldReason.values[0],
        )
        incident_transition(incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS)
    dispatch_all()
    # then: one message, with the final status
    statuses = Notification.objects.filter(recipient=requester, event="status_changed")
    assert [n.subject for n in statuses] == [f"{incident.ticket.number} is now In progress"]
