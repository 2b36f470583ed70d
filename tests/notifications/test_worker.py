"""End to end on the real Celery worker and Redis: after commit, and never lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from servicedesk.celery import app
from tests.conftest import wait_until
from tickets.choices import EmailStatus
from tickets.mail import outbox_sweep
from tickets.models import EventDispatch, Notification

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_dispatches_after_commit_and_sends_the_email(
    celery_worker_process, raise_incident, requester
):
    celery_worker_process()
    raise_incident()
    note = wait_until(
        lambda: Notification.objects.filter(
            recipient=requester, email_status=EmailStatus.SENT
        ).first(),
        timeout=30,
        message="acknowledgement not e-mailed",
    )
    assert note.event == "ticket_created"
    assert note.message_id.startswith(f"<{note.ticket.number}.n{note.pk}@")
    assert not EventDispatch.objects.filter(dispatched_at__isnull=True).exists()


def test_sweep_recovers_tasks_lost_with_the_broker(
    celery_worker_process, raise_incident, requester
):
    # given: the tasks queued at commit are lost (no worker yet, queue purged)
    raise_incident()
    app.control.purge()
    assert EventDispatch.objects.filter(dispatched_at__isnull=True).exists()
    assert not Notification.objects.exists()
    # when: a worker runs and the sweep finds what is overdue
    celery_worker_process()
    assert outbox_sweep(now=timezone.now() + timedelta(minutes=2)).dispatches > 0
    wait_until(
        lambda: not EventDispatch.objects.filter(dispatched_at__isnull=True).exists(),
        timeout=30,
        message="not dispatched",
    )
    # then: the e-mails the lost dispatch should have queued go out too
    wait_until(
        lambda: Notification.objects.filter(
            recipient=requester, email_status=EmailStatus.SENT
        ).exists(),
        timeout=30,
        message="not e-mailed",
    )
