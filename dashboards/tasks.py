"""Thin Celery tasks: keep the read models in step, send the weekly reports."""

from datetime import datetime

from celery import shared_task

from .models import ReportSubscription
from .reports import report_message
from .rollups import rollups_sync
from .services import reports_send_due


@shared_task(acks_late=True, ignore_result=True)
def sync_rollups_task() -> dict[str, int]:
    """Beat, every minute: facts and rollups of the tickets changed since the last run."""
    result = rollups_sync()
    return {"tickets": result.tickets, "days": result.days, "ms": result.ms}


@shared_task(acks_late=True, ignore_result=True)
def send_due_reports_task() -> int:
    """Beat, hourly: queue the weekly reports that are due."""
    return reports_send_due()


@shared_task(acks_late=True, ignore_result=True)
def send_report_task(*, subscription_id: int, at: str) -> bool:
    """Render and send one report as of `at` (ISO instant of the claim)."""
    subscription = (
        ReportSubscription.objects.select_related("user").filter(pk=subscription_id).first()
    )
    if subscription is None or not subscription.active:
        return False
    report_message(subscription, datetime.fromisoformat(at)).send()
    return True
