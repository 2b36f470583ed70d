"""The one notification service: in-app rows now, e-mail by a Celery task after commit.

Every app calls `notify()`; journal entries reach it through the dispatcher (tickets/dispatch.py).
A `dedupe_key` makes a notification exactly-once per recipient (an escalation that is retried
never notifies twice). The recipient's preferences decide, per category, whether they hear at
all, in-app only, or also by e-mail, and whether e-mails go out at once or in a daily digest.
The Notification row is the e-mail's outbox entry: it is retried until sent and never sent twice.
"""

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .choices import CategoryDelivery, EmailMode, EmailStatus, NotificationCategory
from .models import Notification, NotificationPreference, Ticket, TicketEvent

#: Event name → preference category. Names not listed fall back on `category_of`'s prefixes.
EVENT_CATEGORY: dict[str, str] = {
    "ticket_created": NotificationCategory.CREATED,
    "assigned": NotificationCategory.ASSIGNED,
    "team_assigned": NotificationCategory.ASSIGNED,
    "reply": NotificationCategory.REPLY,
    "mention": NotificationCategory.MENTION,
    "status_changed": NotificationCategory.STATUS,
    "reopened": NotificationCategory.STATUS,
    "cancelled": NotificationCategory.STATUS,
    "resolved": NotificationCategory.RESOLVED,
    "fulfilled": NotificationCategory.RESOLVED,
    "approved": NotificationCategory.APPROVAL,
    "rejected": NotificationCategory.APPROVAL,
    "csat_bad": NotificationCategory.OTHER,
}


def category_of(event: str) -> str:
    """The preference category of an event name (other apps' names included)."""
    if event in EVENT_CATEGORY:
        return EVENT_CATEGORY[event]
    if event.startswith("sla"):
        return NotificationCategory.SLA
    if "approv" in event or "authoris" in event or event == "change_rejected":
        return NotificationCategory.APPROVAL
    if event.startswith("change_"):
        return NotificationCategory.CHANGE
    return NotificationCategory.OTHER


def delivery_for(pref: NotificationPreference | None, category: str) -> str:
    """Where one category goes for a user: e-mail (and in-app), in-app only, or nowhere."""
    if pref is None:
        return CategoryDelivery.EMAIL
    if category in pref.muted:
        return CategoryDelivery.OFF
    if category in pref.in_app_only or pref.email_mode == EmailMode.NONE:
        return CategoryDelivery.IN_APP
    return CategoryDelivery.EMAIL


def _email_status(user: Any, pref: NotificationPreference | None, delivery: str) -> str:
    if delivery != CategoryDelivery.EMAIL or not user.email:
        return EmailStatus.NONE
    if pref is not None and pref.email_mode == EmailMode.DIGEST:
        return EmailStatus.DIGEST
    return EmailStatus.PENDING


def notify(
    *,
    recipients: Iterable[Any],
    ticket: Ticket | None,
    event: str,
    subject: str,
    body: str = "",
    dedupe_key: str = "",
    source_event: TicketEvent | None = None,
) -> list[Notification]:
    """Create one notification per distinct active recipient who wants it, and queue the
    e-mails after commit (those that go out at once; digests wait for the daily run)."""
    from .tasks import send_notification_email_task

    users = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        users.append(user)
    if not users:
        return []
    prefs = NotificationPreference.objects.in_bulk([u.pk for u in users])
    category = category_of(event)
    now = timezone.now()
    created = []
    for user in users:
        pref = prefs.get(user.pk)
        delivery = delivery_for(pref, category)
        if delivery == CategoryDelivery.OFF:
            continue
        status = _email_status(user, pref, delivery)
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    recipient=user,
                    ticket=ticket,
                    event=event,
                    subject=subject[:200],
                    body=body,
                    dedupe_key=dedupe_key[:120],
                    source_event=source_event,
                    email_status=status,
                    email_next_at=now if status == EmailStatus.PENDING else None,
                )
        except IntegrityError:
            continue  # already notified for this key
        created.append(note)
        if status == EmailStatus.PENDING:
            # robust: a broker outage must not fail the caller's request; the sweep resends.
            transaction.on_commit(
                partial(send_notification_email_task.delay, notification_id=note.pk), robust=True
            )
    return created


def notifications_read(*, user: Any) -> int:
    """Mark all of a user's notifications read."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_read(*, user: Any, notification_id: int) -> Notification | None:
    """Mark one of the user's own notifications read; None if it is not theirs."""
    note = (
        Notification.objects.filter(recipient=user, pk=notification_id)
        .select_related("ticket")
        .first()
    )
    if note is not None and note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return note


@transaction.atomic
def notification_preferences_save(
    *, user: Any, email_mode: str, categories: Mapping[str, str]
) -> NotificationPreference:
    """Store a user's choices: e-mail mode, and per category e-mail / in-app only / off.
    Categories not given keep the default (e-mail and in-app)."""
    valid = set(NotificationCategory.values)
    pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    pref.email_mode = EmailMode(email_mode)
    pref.muted = sorted(c for c, d in categories.items() if c in valid and d == "off")
    pref.in_app_only = sorted(c for c, d in categories.items() if c in valid and d == "in_app")
    pref.save()
    if pref.email_mode != EmailMode.DIGEST:
        # Leaving digest mode: what waited for the digest goes out with the next sweep.
        Notification.objects.filter(recipient=user, email_status=EmailStatus.DIGEST).update(
            email_status=EmailStatus.PENDING
            if pref.email_mode == EmailMode.IMMEDIATE
            else EmailStatus.NONE,
            email_next_at=timezone.now(),
        )
    return pref
