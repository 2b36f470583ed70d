"""Notification tasks: dispatch journal entries, send e-mails and digests, sweep the outbox.

Thin: each loads by id and calls one function of tickets.dispatch / tickets.mail, which are
idempotent, so acks_late redelivery and the sweep's re-queueing never notify or send twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import mail
from .dispatch import dispatch_event

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_notification_email_task(self, *, notification_id: int) -> bool:  # type: ignore[no-untyped-def]
    """E-mail one notification. Idempotent: a notification already e-mailed is skipped.

    A relay error is recorded on the row and retried with exponential backoff. Short waits
    are Celery retries; waits longer than NOTIFY_EMAIL_RETRY_MAX_COUNTDOWN are left to the
    sweep (a long countdown on the Redis broker would be redelivered past its visibility
    timeout). After NOTIFY_EMAIL_MAX_ATTEMPTS the row is marked failed, visible in admin."""
    try:
        return mail.notification_email_send(notification_id=notification_id)
    except mail.SendFailed as failure:
        if failure.retry_in is None:
            logger.warning("Giving up e-mailing notification %s: %s", notification_id, failure)
            return False
        countdown = failure.retry_in.total_seconds()
        if countdown > settings.NOTIFY_EMAIL_RETRY_MAX_COUNTDOWN:
            return False  # the sweep sends it when email_next_at comes
        raise self.retry(countdown=countdown, exc=failure) from failure


@shared_task(acks_late=True)
def dispatch_event_task(*, event_id: int) -> int:
    """Turn one journal entry into notifications (idempotent; see tickets.dispatch)."""
    return dispatch_event(event_id=event_id)


@shared_task(acks_late=True)
def send_digest_task(*, user_id: int) -> int:
    """Send one user's daily digest (idempotent: sent rows leave the digest)."""
    try:
        return mail.digest_send(user_id=user_id)
    except mail.SendFailed as failure:
        logger.warning("Digest for user %s not sent: %s", user_id, failure)
        return 0


@shared_task(acks_late=True)
def send_digests_task() -> int:
    """Hourly: queue the digests that are due in their recipients' time zones."""
    due = mail.digests_due(now=timezone.now())
    for user_id in due:
        send_digest_task.delay(user_id=user_id)
    return len(due)


@shared_task(acks_late=True)
def notifications_sweep_task() -> dict[str, int]:
    """Every minute: re-queue dispatches and e-mails whose task was lost (never lost)."""
    result = mail.outbox_sweep(now=timezone.now())
    return {"dispatches": result.dispatches, "emails": result.emails, "pruned": result.pruned}
