"""The one notification service: in-app rows now, e-mail by a Celery task after commit.

A `dedupe_key` makes a notification exactly-once per recipient (an escalation that is
retried never notifies twice)."""

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from .models import Notification, Ticket


def notify(
    *,
    recipients: Iterable[Any],
    ticket: Ticket | None,
    event: str,
    subject: str,
    body: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """Create one notification per distinct active recipient and queue their e-mails."""
    from .tasks import send_notification_email_task

    created = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    recipient=user,
                    ticket=ticket,
                    event=event,
                    subject=subject[:200],
                    body=body,
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:
            continue  # already notified for this key
        created.append(note)
        transaction.on_commit(partial(send_notification_email_task.delay, notification_id=note.pk))
    return created


def notifications_read(*, user: Any) -> int:
    """Mark all of a user's notifications read."""
    from django.utils import timezone

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
