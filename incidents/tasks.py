from celery import shared_task

from .services import incidents_auto_close


@shared_task(acks_late=True)
def auto_close_resolved_task() -> int:
    """Close incidents resolved longer ago than the auto-close period (beat, hourly)."""
    return incidents_auto_close()
