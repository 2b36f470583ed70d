"""Fixtures for notifications: real SMTP servers on loopback (outbound sink, our inbound
receiver), and helpers that run the dispatcher and the e-mail sender the way the tasks do."""

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from incidents.choices import IncidentStatus, ResolutionCode
from incidents.services import incident_create, incident_transition
from tickets.choices import EmailStatus
from tickets.dispatch import dispatch_event
from tickets.inbound import inbound_controller
from tickets.mail import notification_email_send
from tickets.models import EventDispatch, Notification


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox(Message):
    """An SMTP sink that keeps every message; can refuse the next N with a 451."""

    def __init__(self) -> None:
        super().__init__()
        self.messages = []
        self.refuse_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)

    def handle_message(self, message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    """Outbound relay: a real SMTP server on loopback that Django's SMTP backend talks to."""
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.fixture
def inbound(settings, transactional_db):
    """Our inbound receiver on a free loopback port (it runs the ORM in its own threads, so
    the test data must be committed: transactional_db)."""
    settings.NOTIFY_REPLY_ADDRESS = "support@desk.test"
    settings.NOTIFY_MESSAGE_ID_DOMAIN = "desk.test"
    settings.INBOUND_DOMAINS = ["desk.test"]
    port = free_port()
    controller = inbound_controller(host="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture(autouse=True)
def mail_domain(settings):
    settings.NOTIFY_REPLY_ADDRESS = "support@desk.test"
    settings.NOTIFY_MESSAGE_ID_DOMAIN = "desk.test"
    settings.INBOUND_DOMAINS = ["desk.test"]


def dispatch_all() -> int:
    """Run every pending dispatch (what dispatch_event_task does after commit)."""
    return sum(
        dispatch_event(event_id=pk)
        for pk in EventDispatch.objects.filter(dispatched_at__isnull=True)
        .order_by("pk")
        .values_list("event_id", flat=True)
    )


def send_all() -> int:
    """Send every pending e-mail (what send_notification_email_task does)."""
    pending = Notification.objects.filter(email_status=EmailStatus.PENDING).order_by("pk")
    return sum(
        notification_email_send(notification_id=pk) for pk in pending.values_list("pk", flat=True)
    )


@pytest.fixture
def raise_incident(requester, network_team, agent):
    """An incident raised by the requester, routed to Network and assigned to Alice."""

    def make(title: str = "VPN is down", **kwargs):
        kwargs.setdefault("requester", requester)
        kwargs.setdefault("by", kwargs["requester"])
        kwargs.setdefault("team", network_team)
        kwargs.setdefault("assignee", agent)
        return incident_create(title=title, description="It drops every minute.", **kwargs)

    return make


def resolve(incident, by, notes: str = "Replaced the router."):
    incident = incident_transition(incident=incident, by=by, target=IncidentStatus.IN_PROGRESS)
    return incident_transition(
        incident=incident,
        by=by,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes=notes,
    )
