"""Notifications: in-app list and bell, and e-mail through a real SMTP server on loopback."""

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests.conftest import wait_until
from tickets.models import Notification
from tickets.notifications import notify
from tickets.tasks import send_notification_email_task

pytestmark = pytest.mark.django_db


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


def test_notification_is_emailed_once_through_smtp(smtp, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        (note,) = notify(
            recipients=[agent, agent],
            ticket=None,
            event="test",
            subject="Hello",
            body="Hi",
            dedupe_key="k1",
        )
        assert (
            notify(recipients=[agent], ticket=None, event="test", subject="Again", dedupe_key="k1")
            == []
        )
    assert len(callbacks) == 1  # the e-mail is queued after commit, once
    assert send_notification_email_task(notification_id=note.pk) is True
    assert send_notification_email_task(notification_id=note.pk) is False  # idempotent
    wait_until(lambda: smtp.messages, timeout=10)
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == agent.email
    assert smtp.messages[0]["Subject"] == "Hello"


def test_bell_counts_unread_and_the_list_marks_them_read(client, agent):
    notify(recipients=[agent], ticket=None, event="test", subject="SLA breached: printer")
    client.force_login(agent)
    page = client.get("/").content.decode()
    assert "Notifications: 1 unread" in page
    assert "SLA breached: printer" in client.get("/notifications/").content.decode()
    client.post("/notifications/read/")
    assert Notification.objects.get().read_at is not None
    assert "unread" not in client.get("/").content.decode().split('id="bell"')[1][:80]
