from celery import shared_task

from .services import changes_remind_upcoming


@shared_task(acks_late=True)
def remind_upcoming_changes_task() -> int:
    """Tell implementers about changes starting within the hour (beat, every 5 minutes).
    Idempotent: each change window notifies once."""
    return changes_remind_upcoming()
