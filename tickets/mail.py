"""Outbound e-mail: one notification (or one user's digest) rendered from templates and sent.

Every e-mail about a ticket carries the number in the subject (`[INC0001234] …`), its own
Message-ID, and In-Reply-To/References pointing at the ticket's thread root, so mail clients
thread it and the inbound receiver (tickets/inbound.py) finds the ticket a reply belongs to.
The text starts with a reply-above-this-line marker; whatever is below it in a reply is cut.
A notification's row is its outbox entry: locked while sending, marked sent in the same
transaction, so a retried or duplicated task never sends it twice.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Min
from django.template.loader import render_to_string, select_template
from django.urls import reverse
from django.utils import timezone

from .choices import EmailStatus, InboundStatus
from .models import InboundMessage, Notification, Ticket

REPLY_MARKER = "##- Please type your reply above this line -##"


def mail_domain() -> str:
    """Right-hand side of our Message-IDs: replies are matched only against this domain."""
    return settings.NOTIFY_MESSAGE_ID_DOMAIN


def thread_root_id(number: str) -> str:
    """The Message-ID every e-mail about one ticket refers to (its thread root)."""
    return f"<{number}@{mail_domain()}>"


def notification_message_id(note: Notification) -> str:
    number = note.ticket.number if note.ticket_id else "notice"
    return f"<{number}.n{note.pk}@{mail_domain()}>"


def ticket_number_from_message_id(message_id: str) -> str | None:
    """The ticket number in one of our own Message-IDs (`<INC0001234[.n42]@domain>`)."""
    pattern = rf"<?([A-Z]{{2,6}}\d{{4,}})(?:\.n\d+)?@{re.escape(mail_domain())}>?"
    match = re.fullmatch(pattern, message_id.strip(), flags=re.IGNORECASE)
    return match.group(1).upper() if match else None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def ticket_url_for(user: Any, ticket: Ticket) -> str:
    """Agents open tickets in the desk, everyone else in the portal."""
    if getattr(user, "is_agent", False):
        return absolute(reverse("desk:ticket", args=[ticket.number]))
    return absolute(ticket.portal_url)


def _context(note: Notification) -> dict[str, Any]:
    from .csat import csat_links

    ticket = note.ticket
    return {
        "note": note,
        "ticket": ticket,
        "recipient": note.recipient,
        "marker": REPLY_MARKER if ticket is not None else "",
        "ticket_url": ticket_url_for(note.recipient, ticket) if ticket is not None else "",
        "csat": csat_links(note),
        "preferences_url": absolute(reverse("portal:notification-preferences")),
        "site_url": settings.SITE_URL,
    }


def _headers(ticket: Ticket | None, message_id: str) -> dict[str, str]:
    headers = {
        "Message-ID": message_id,
        # Ask auto-responders (out-of-office, vacation) not to answer: no mail loops.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "List-Unsubscribe": f"<{absolute(reverse('portal:notification-preferences'))}>",
    }
    if ticket is not None:
        root = thread_root_id(ticket.number)
        # A ticket raised by e-mail threads under the message that raised it.
        origin = (
            InboundMessage.objects.filter(ticket=ticket, status=InboundStatus.CREATED)
            .exclude(message_id="")
            .values_list("message_id", flat=True)
            .first()
        )
        references = f"{origin} {root}" if origin else root
        headers |= {"In-Reply-To": root, "References": references, "X-Ticket": ticket.number}
    return headers


def build_message(note: Notification) -> EmailMultiAlternatives:
    """Render one notification as a text + HTML e-mail with threading headers."""
    context = _context(note)
    names = [f"emails/tickets/{note.event}", "emails/tickets/notification"]
    text = select_template([f"{n}.txt" for n in names]).render(context)
    html = select_template([f"{n}.html" for n in names]).render(context)
    prefix = f"[{note.ticket.number}] " if note.ticket_id else ""
    message = EmailMultiAlternatives(
        subject=prefix + note.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[note.recipient.email],
        reply_to=[settings.NOTIFY_REPLY_ADDRESS] if note.ticket_id else None,
        headers=_headers(note.ticket, notification_message_id(note)),
    )
    message.attach_alternative(html, "text/html")
    return message


@dataclass
class SendFailed(Exception):
    """An e-mail could not be handed to the relay; `retry_in` is None when it gave up."""

    error: str
    retry_in: timedelta | None

    def __str__(self) -> str:
        return self.error


def backoff(attempts: int) -> timedelta:
    """Exponential: 30 s, 1 min, 2 min, … capped at NOTIFY_EMAIL_BACKOFF_MAX seconds."""
    seconds = settings.NOTIFY_EMAIL_BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.NOTIFY_EMAIL_BACKOFF_MAX))


def _record_failure(rows: list[Notification], exc: Exception, now: datetime) -> SendFailed:
    attempts = max(n.email_attempts for n in rows) + 1
    final = attempts >= settings.NOTIFY_EMAIL_MAX_ATTEMPTS
    error = f"{type(exc).__name__}: {exc}"[:2000]
    for note in rows:
        note.email_attempts = attempts
        note.email_error = error
        if final:
            note.email_status = EmailStatus.FAILED
            note.email_next_at = None
        elif note.email_status == EmailStatus.PENDING:
            note.email_next_at = now + backoff(attempts)
        note.save(update_fields=["email_attempts", "email_error", "email_status", "email_next_at"])
    return SendFailed(error=error, retry_in=None if final else backoff(attempts))


def notification_email_send(*, notification_id: int) -> bool:
    """Send one pending notification's e-mail. True if sent now; False if there was nothing to
    send (already sent, failed for good, not an e-mail, or another worker holds it).

    The row stays locked while the relay takes the message and is marked sent before commit,
    so two workers never both send it. A relay error is recorded (attempts, error, next try)
    and raised as SendFailed after that record is committed."""
    failure: SendFailed | None = None
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("recipient", "ticket", "source_event")
            .filter(pk=notification_id, email_status=EmailStatus.PENDING)
            .first()
        )
        if note is None:
            return False
        if not note.recipient.email or not note.recipient.is_active:
            note.email_status = EmailStatus.NONE
            note.save(update_fields=["email_status"])
            return False
        message = build_message(note)
        now = timezone.now()
        try:
            message.send()
        except OSError as exc:  # smtplib.SMTPException and socket errors are OSErrors
            failure = _record_failure([note], exc, now)
        else:
            note.email_status = EmailStatus.SENT
            note.emailed_at = now
            note.email_attempts += 1
            note.email_error = ""
            note.email_next_at = None
            note.message_id = message.extra_headers["Message-ID"]
            note.save(
                update_fields=[
                    "email_status",
                    "emailed_at",
                    "email_attempts",
                    "email_error",
                    "email_next_at",
                    "message_id",
                ]
            )
    if failure is not None:
        raise failure
    return True


# ------------------------------------------------------------------ daily digest
def digest_send(*, user_id: int) -> int:
    """Send one user's waiting digest notifications as one e-mail; returns how many it held.

    The rows are locked and marked sent in the same transaction as the send."""
    failure: SendFailed | None = None
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("recipient", "ticket")
            .filter(recipient_id=user_id, email_status=EmailStatus.DIGEST)
            .order_by("created_at", "pk")[: settings.NOTIFY_DIGEST_MAX_ITEMS]
        )
        if not rows:
            return 0
        user = rows[0].recipient
        if not user.email or not user.is_active:
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
                email_status=EmailStatus.NONE
            )
            return 0
        items = [
            {
                "note": n,
                "url": ticket_url_for(user, n.ticket) if n.ticket_id else "",
            }
            for n in rows
        ]
        context = {
            "recipient": user,
            "items": items,
            "preferences_url": absolute(reverse("portal:notification-preferences")),
            "site_url": settings.SITE_URL,
        }
        message = EmailMultiAlternatives(
            subject=f"Your service desk digest: {len(rows)} update{'s' if len(rows) != 1 else ''}",
            body=render_to_string("emails/tickets/digest.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
            headers={
                "Message-ID": make_msgid("digest", domain=mail_domain()),
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
            },
        )
        message.attach_alternative(
            render_to_string("emails/tickets/digest.html", context), "text/html"
        )
        now = timezone.now()
        try:
            message.send()
        except OSError as exc:
            failure = _record_failure(rows, exc, now)
        else:
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
                email_status=EmailStatus.SENT,
                emailed_at=now,
                email_error="",
                message_id=message.extra_headers["Message-ID"],
            )
    if failure is not None:
        raise failure
    return len(rows)


def digests_due(*, now: datetime) -> list[int]:
    """Users whose digest is due: it is NOTIFY_DIGEST_HOUR in their time zone, or their oldest
    waiting item is more than a day old (a missed run never holds mail back for long)."""
    from zoneinfo import ZoneInfo

    rows = (
        Notification.objects.filter(email_status=EmailStatus.DIGEST)
        .values("recipient_id", "recipient__time_zone")
        .annotate(oldest=Min("created_at"))
    )
    due = []
    for row in rows:
        try:
            zone = ZoneInfo(row["recipient__time_zone"] or "UTC")
        except (KeyError, ValueError):
            zone = ZoneInfo("UTC")
        local_hour = now.astimezone(zone).hour
        if local_hour == settings.NOTIFY_DIGEST_HOUR or now - row["oldest"] > timedelta(hours=25):
            due.append(row["recipient_id"])
    return due


@dataclass
class SweepResult:
    dispatches: int
    emails: int
    pruned: int = 0


def outbox_sweep(*, now: datetime, batch_size: int = 500) -> SweepResult:
    """Re-queue what a lost task left behind: journal entries not dispatched a minute after
    commit, and pending e-mails whose next try is overdue; prune old dispatched outbox rows.
    Idempotent (the tasks are)."""
    from .models import EventDispatch
    from .tasks import dispatch_event_task, send_notification_email_task

    grace = timedelta(seconds=settings.NOTIFY_SWEEP_GRACE_SECONDS)
    stuck = list(
        EventDispatch.objects.filter(
            dispatched_at__isnull=True,
            created_at__lte=now - grace,
            attempts__lt=settings.NOTIFY_DISPATCH_MAX_ATTEMPTS,
        ).values_list("event_id", flat=True)[:batch_size]
    )
    for event_id in stuck:
        dispatch_event_task.delay(event_id=event_id)
    overdue = list(
        Notification.objects.filter(
            email_status=EmailStatus.PENDING, email_next_at__lte=now - grace
        ).values_list("pk", flat=True)[:batch_size]
    )
    if overdue:
        # Push the due time on, so the next sweep does not queue them again while they wait.
        Notification.objects.filter(pk__in=overdue).update(email_next_at=now)
    for pk in overdue:
        send_notification_email_task.delay(notification_id=pk)
    # Dispatched rows are kept a day (same-transaction lookups), then pruned in batches.
    old = EventDispatch.objects.filter(dispatched_at__lt=now - timedelta(days=1)).values("pk")
    pruned, _ = EventDispatch.objects.filter(pk__in=old[: batch_size * 10]).delete()
    return SweepResult(dispatches=len(stuck), emails=len(overdue), pruned=pruned)


def notifications_email_retry(*, notification_ids: list[int]) -> int:
    """Send failed (or stuck) e-mails again now: back to pending with a fresh retry budget.
    Sent ones are left alone, so this can never send an e-mail twice."""
    from .tasks import send_notification_email_task

    with transaction.atomic():
        ids = list(
            Notification.objects.filter(
                pk__in=notification_ids,
                email_status__in=[EmailStatus.FAILED, EmailStatus.PENDING],
            ).values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            email_status=EmailStatus.PENDING, email_attempts=0, email_next_at=timezone.now()
        )
        for pk in ids:
            transaction.on_commit(
                partial(send_notification_email_task.delay, notification_id=pk), robust=True
            )
    return len(ids)
