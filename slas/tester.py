"""The deadline tester (admin): a calendar, a start instant and a target give the deadline and
the working stretches that make it up, shown in any time zone. Read only."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.utils import timezone

from .calendar import add_business_time, working_intervals
from .models import BusinessCalendar


class DeadlineTesterForm(forms.Form):
    calendar = forms.ModelChoiceField(BusinessCalendar.objects.all())
    start = forms.DateTimeField(
        help_text="Local time in the zone below.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    zone = forms.CharField(initial="UTC", help_text="IANA time zone, e.g. Europe/Berlin.")
    target = forms.DurationField(help_text="Working time, e.g. 8:00:00 or 2 04:00:00.")

    def clean_zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.cleaned_data["zone"].strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError("Unknown time zone.") from exc

    def clean_target(self) -> timedelta:
        target = self.cleaned_data["target"]
        if target <= timedelta(0):
            raise forms.ValidationError("The target must be positive.")
        if target > timedelta(days=3650):
            raise forms.ValidationError("Keep the target under ten years.")
        return target


@dataclass(frozen=True)
class DeadlineAnswer:
    start: datetime
    deadline: datetime
    segments: list[tuple[datetime, datetime, timedelta]]
    total: timedelta
    more: bool
    zone: ZoneInfo


def deadline_answer(
    *, calendar: BusinessCalendar, start: datetime, zone: ZoneInfo, target: timedelta
) -> DeadlineAnswer:
    """Deadline and the working stretches from start to deadline, shown in `zone`."""
    # The form reads the wall-clock time in the server's zone; re-read it in the chosen zone.
    naive = timezone.make_naive(start) if timezone.is_aware(start) else start
    local_start = naive.replace(tzinfo=zone)
    arithmetic = calendar.build()
    deadline = add_business_time(arithmetic, local_start, target).astimezone(zone)
    pieces = working_intervals(arithmetic, local_start, deadline, limit=200)
    segments = [(a.astimezone(zone), b.astimezone(zone), b - a) for a, b in pieces]
    total = sum((d for _, _, d in segments), timedelta(0))
    return DeadlineAnswer(local_start, deadline, segments, total, len(pieces) == 200, zone)


class WhatIfForm(forms.Form):
    """Proposed settings for a policy's what-if preview."""

    target = forms.DurationField(help_text="Working time, e.g. 4:00:00.")
    calendar = forms.ModelChoiceField(BusinessCalendar.objects.all())
    pause_statuses = forms.CharField(required=False, help_text="Comma-separated, e.g. on_hold.")
    days = forms.TypedChoiceField(
        coerce=int,
        choices=[(30, "last 30 days"), (90, "last 90 days")],
        initial=30,
        help_text="Stopped clocks to re-measure.",
    )

    @staticmethod
    def initial_for(policy: object) -> dict:
        return {
            "target": policy.target,
            "calendar": policy.calendar_id,
            "pause_statuses": ", ".join(policy.pause_statuses),
            "days": 30,
        }

    def clean_pause_statuses(self) -> list[str]:
        raw = self.cleaned_data["pause_statuses"]
        return [p.strip() for p in raw.split(",") if p.strip()]

    def clean_target(self) -> timedelta:
        target = self.cleaned_data["target"]
        if target <= timedelta(0):
            raise forms.ValidationError("The target must be positive.")
        return target
