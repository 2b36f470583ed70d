"""The dashboards' only writes: report subscriptions, and the weekly sending of reports."""

from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from core.exceptions import DomainError

from .choices import Dashboard
from .forms import FilterForm
from .models import ReportSubscription
from .periods import local_date, zone_or_utc
from .permissions import can_see_dashboards

#: Reports go out from this local hour on the subscriber's weekday.
REPORT_HOUR = 7


def _clean_params(querystring: str) -> dict[str, list[str]]:
    """Only the filter bar's own parameters are kept."""
    params = QueryDict(querystring or "")
    return {k: params.getlist(k) for k in FilterForm.base_fields if params.getlist(k)}


@transaction.atomic
def report_subscribe(
    *, user: Any, dashboard: str, querystring: str, weekday: int
) -> ReportSubscription:
    """Subscribe a dashboard user to a weekly e-mail of a dashboard with these filters; the
    same dashboard and filters again only change the weekday."""
    if not can_see_dashboards(user):
        raise DomainError("Only managers and team leads receive dashboard reports.")
    if dashboard not in Dashboard.values:
        raise DomainError("Unknown dashboard.", field="dashboard")
    if not 0 <= weekday <= 6:
        raise DomainError("Choose a day of the week.", field="weekday")
    if not user.email:
        raise DomainError("Your account has no e-mail address.")
    subscription, _created = ReportSubscription.objects.update_or_create(
        user=user,
        dashboard=dashboard,
        params=_clean_params(querystring),
        defaults={"weekday": weekday, "active": True},
    )
    return subscription


@transaction.atomic
def report_unsubscribe(*, subscription: ReportSubscription, by: Any) -> None:
    """Stop a subscription (its owner only)."""
    if subscription.user_id != by.pk:
        raise DomainError("This is not your subscription.")
    subscription.delete()


def is_due(subscription: ReportSubscription, now: datetime) -> bool:
    """Due on the subscriber's weekday from REPORT_HOUR (their time zone), once that day."""
    zone = zone_or_utc(subscription.user.time_zone)
    local = now.astimezone(ZoneInfo(zone))
    if local.weekday() != subscription.weekday or local.hour < REPORT_HOUR:
        return False
    last = subscription.last_sent_at
    return last is None or local_date(last, zone) < local.date()


def reports_send_due(*, now: datetime | None = None) -> int:
    """Claim the subscriptions due now (each in its own transaction, skipping locked rows)
    and queue their e-mails after commit. Returns how many were queued."""
    from .tasks import send_report_task

    now = now or timezone.now()
    queued = 0
    candidates = ReportSubscription.objects.filter(active=True).select_related("user")
    for subscription in candidates:
        if not is_due(subscription, now):
            continue
        with transaction.atomic():
            locked = (
                ReportSubscription.objects.select_for_update(skip_locked=True)
                .select_related("user")
                .filter(pk=subscription.pk, active=True)
                .first()
            )
            if locked is None or not is_due(locked, now):
                continue
            if not can_see_dashboards(locked.user):
                locked.active = False  # no longer a manager or lead
                locked.save(update_fields=["active"])
                continue
            locked.last_sent_at = now
            locked.save(update_fields=["last_sent_at"])
            transaction.on_commit(
                partial(send_report_task.delay, subscription_id=locked.pk, at=now.isoformat())
            )
            queued += 1
    return queued
