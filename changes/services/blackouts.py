"""Blackout windows: periods no change may be booked into without an override."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from catalogue.models import Service
from core.exceptions import DomainError

from ..choices import Recurrence
from ..models import BlackoutWindow
from ..windows import WEEK, zone


def _check_blackout(
    *, name: str, start: datetime, end: datetime, tz_name: str, recurrence: str
) -> None:
    if not name.strip():
        raise DomainError("Name the blackout window.", field="name")
    if end <= start:
        raise DomainError("The blackout must end after it starts.", field="end")
    if recurrence not in Recurrence.values:
        raise DomainError("Choose no repeat or weekly.", field="recurrence")
    if recurrence == Recurrence.WEEKLY and end - start > WEEK:
        raise DomainError("A weekly blackout lasts at most a week.", field="end")
    if zone(tz_name).key != (tz_name or "UTC"):  # type: ignore[attr-defined]
        raise DomainError(f"Unknown time zone “{tz_name}”.", field="timezone")


@transaction.atomic
def blackout_window_save(
    *,
    by: User,
    name: str,
    start: datetime,
    end: datetime,
    window: BlackoutWindow | None = None,
    timezone_name: str = "Europe/London",
    recurrence: str = Recurrence.NONE,
    until: Any = None,
    services: Iterable[Service] = (),
    reason: str = "",
    active: bool = True,
) -> BlackoutWindow:
    """Create or update a blackout window (no change may be booked into it without a change
    manager's override)."""
    _check_blackout(name=name, start=start, end=end, tz_name=timezone_name, recurrence=recurrence)
    if window is None:
        window = BlackoutWindow(created_by=by)
    else:
        window = BlackoutWindow.objects.select_for_update().get(pk=window.pk)
    window.name = name.strip()
    window.start, window.end = start, end
    window.timezone = timezone_name
    window.recurrence = recurrence
    window.until = until if recurrence == Recurrence.WEEKLY else None
    window.reason = reason.strip()
    window.active = active
    window.save()
    window.services.set(list(services))
    return window


@transaction.atomic
def blackout_window_delete(*, window: BlackoutWindow, by: User) -> None:
    """Remove a blackout window (configuration, not a record: nothing refers to it)."""
    BlackoutWindow.objects.filter(pk=window.pk).delete()
