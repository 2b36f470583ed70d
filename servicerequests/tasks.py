"""Celery tasks: thin, idempotent, each calls one service."""

from celery import shared_task

from .services import approval_reminders_send, service_requests_auto_close


@shared_task(acks_late=True)
def send_approval_reminders_task() -> int:
    """Remind approvers who have waited N working hours (beat, every 15 minutes)."""
    return approval_reminders_send()


@shared_task(acks_late=True)
def auto_close_fulfilled_task() -> int:
    """Close requests delivered more than a few days ago (beat, hourly)."""
    return service_requests_auto_close()
