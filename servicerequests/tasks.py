"""Celery tasks: thin, idempotent, each calls one service."""

from celery import shared_task

from .popularity import refresh_popular_counts
from .services import approval_reminders_send, service_requests_auto_close


@shared_task(acks_late=True)
def send_approval_reminders_task() -> int:
    """Remind approvers who have waited N working hours (beat, every 15 minutes)."""
    return approval_reminders_send()


@shared_task(acks_late=True)
def auto_close_fulfilled_task() -> int:
    """Close requests delivered more than a few days ago (beat, hourly)."""
    return service_requests_auto_close()


@shared_task(acks_late=True)
def refresh_popular_task() -> int:
    """Recount the catalogue's popular items (beat, every 10 minutes)."""
    return len(refresh_popular_counts())
