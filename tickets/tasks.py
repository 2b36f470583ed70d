from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import Notification


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_notification_email_task(*, notification_id: int) -> bool:
    """E-mail one notification. Idempotent: a notification already e-mailed is skipped."""
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "ticket")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if note is None or not note.recipient.email:
            return False
        prefix = f"[{note.ticket.number}] " if note.ticket else ""
        send_mail(prefix + note.subject, note.body, None, [note.recipient.email])
        note.emailed_at = timezone.now()
        note.save(update_fields=["emailed_at"])
    return True
