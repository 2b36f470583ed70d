"""Business calendars, SLA policies, clocks and escalations.

The database is the source of truth for every timer: a clock row stores its deadline and
the next instant the sweep must look at it (`next_check_at`); warnings, breaches and
escalations are rows under unique constraints, so each happens exactly once."""

from datetime import time, timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tickets.choices import TicketKind

from .calendar import Calendar
from .choices import Action, ClockState, Metric, SlaEventType, Trigger


def default_hours() -> dict[str, list[list[str]]]:
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


def default_thresholds() -> list[int]:
    return [50, 75, 90]


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    hours_i, minutes_i = int(hours), int(minutes)
    return time(0, 0) if hours_i == 24 and minutes_i == 0 else time(hours_i, minutes_i)


class BusinessCalendar(models.Model):
    """Working hours in a time zone, minus holidays. Builds a pure `slas.calendar.Calendar`.

    `hours` maps weekday (0 = Monday) to intervals, e.g. {"0": [["09:00", "17:00"]]};
    "24:00" or "00:00" as an end means midnight."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(default=default_hours)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"

    def weekly_hours(self) -> dict[int, list[tuple[time, time]]]:
        return {
            int(day): [(_parse(start), _parse(end)) for start, end in intervals]
            for day, intervals in (self.hours or {}).items()
        }

    def clean(self) -> None:
        try:
            self.build(holidays=())
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationError({"hours": f"Invalid working hours: {exc}"}) from exc

    def build(self, holidays: object = None) -> Calendar:
        days = holidays if holidays is not None else self.holidays.values_list("date", flat=True)
        return Calendar(self.timezone, self.weekly_hours(), holidays=list(days))

    @cached_property
    def calendar(self) -> Calendar:
        """The arithmetic calendar (cached per instance: policy rows are reloaded per sync)."""
        return _calendar_cache(self.pk, self.updated_at, self)


_CACHE: dict[tuple[int, object], Calendar] = {}


def _calendar_cache(pk: int, stamp: object, model: BusinessCalendar) -> Calendar:
    key = (pk, stamp)
    calendar = _CACHE.get(key)
    if calendar is None:
        if len(_CACHE) > 256:
            _CACHE.clear()
        calendar = _CACHE[key] = model.build()
    return calendar


class Holiday(models.Model):
    """A day without working time in a calendar."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="slas_holiday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """A target for one metric of the tickets that match its conditions. Within a kind and
    metric, the active policy with the lowest `order` that matches applies."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=TicketKind, default=TicketKind.INCIDENT)
    metric = models.CharField(max_length=12, choices=Metric)
    target = models.DurationField(help_text="Working time, e.g. 4:00:00 for four hours.")
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    order = models.PositiveIntegerField(default=100, help_text="Lower wins when several match.")
    active = models.BooleanField(default=True)
    priorities = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, help_text="Empty: any."
    )
    services = models.ManyToManyField("catalogue.Service", blank=True, related_name="+")
    teams = models.ManyToManyField("accounts.Team", blank=True, related_name="+")
    organizations = models.ManyToManyField("accounts.Organization", blank=True, related_name="+")
    pause_statuses = ArrayField(
        models.CharField(max_length=24),
        default=list,
        blank=True,
        help_text="Kind statuses that pause the clock, e.g. on_hold.",
    )
    warning_thresholds = ArrayField(models.PositiveSmallIntegerField(), default=default_thresholds)
    retroactive = models.BooleanField(
        default=False,
        help_text="When a ticket moves to this policy, count from the clock's start (the ticket's "
        "creation) under this policy's rules, paused time excluded; otherwise forward only.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "metric", "order", "pk"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(target__gt=timedelta(0)), name="slas_policy_target_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_metric_display()} {self.target})"

    def clean(self) -> None:
        if any(not 0 < t < 100 for t in self.warning_thresholds):
            raise ValidationError(
                {"warning_thresholds": "Thresholds are percentages between 1 and 99."}
            )


class SlaClock(models.Model):
    """One target (response or resolution) running for one ticket.

    Working time is `elapsed` (closed segments) plus the business time since
    `running_since` (the open segment, when running)."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="sla_clocks"
    )
    metric = models.CharField(max_length=12, choices=Metric)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="clocks")
    state = models.CharField(max_length=10, choices=ClockState, default=ClockState.RUNNING)
    target = models.DurationField()
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    elapsed = models.DurationField(default=timedelta(0))
    due_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    warnings = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    policy_version = models.PositiveIntegerField(default=1)
    calendar_version = models.PositiveIntegerField(default=1)
    match_reason = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ticket", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="slas_clock_one_per_metric")
        ]
        indexes = [
            # The sweep's only access path: proportional to what is due, not to what runs.
            models.Index(
                fields=["next_check_at"],
                name="slas_clock_next_check",
                condition=Q(next_check_at__isnull=False),
            ),
            models.Index(
                fields=["ticket", "due_at"],
                name="slas_clock_open_due",
                condition=Q(stopped_at__isnull=True) & ~Q(state="cancelled"),
            ),
            # "Breaching soon" reads the running clocks in deadline order: page 1 is the
            # first rows of this index (slas.querysets.breaching_soon), not a sort.
            models.Index(
                fields=["due_at", "ticket"],
                name="slas_clock_breaching_soon",
                condition=Q(
                    running_since__isnull=False, breached_at__isnull=True, due_at__isnull=False
                ),
            ),
            # The SLA overview's live tiles (dashboards.queries.sla.open_sla_counts): open
            # tickets with a breached clock, and with a warned one. Both are few; the open
            # clocks are 34k at 1M tickets (95 ms to read them all on every overview).
            models.Index(
                fields=["ticket"],
                name="slas_clock_breached_open",
                condition=Q(state="breached", stopped_at__isnull=True),
            ),
            models.Index(
                fields=["ticket"],
                name="slas_clock_warned_open",
                condition=Q(stopped_at__isnull=True, breached_at__isnull=True) & ~Q(warnings=[]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} clock of ticket {self.ticket_id}"

    @property
    def is_open(self) -> bool:
        return self.stopped_at is None and self.state != ClockState.CANCELLED

    @property
    def is_breached(self) -> bool:
        return self.breached_at is not None


class ClockSegment(models.Model):
    """A running or paused stretch of a clock, for the timeline that explains the numbers."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="segments")
    running = models.BooleanField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    journal_event = models.ForeignKey(
        "tickets.TicketEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The journal entry (status change) that began this stretch.",
    )

    class Meta:
        ordering = ["clock", "started_at", "pk"]

    def __str__(self) -> str:
        return f"{'running' if self.running else 'paused'} from {self.started_at}"


class SlaEvent(models.Model):
    """A warning or breach of a clock: exactly once (unique), with the planned instant and
    the instant it was recorded, so lateness is measured."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=10, choices=SlaEventType)
    threshold = models.PositiveSmallIntegerField(default=100)
    planned_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["planned_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["clock", "type", "threshold"], name="slas_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.threshold}% on clock {self.clock_id}"

    @property
    def lateness(self) -> timedelta:
        return self.recorded_at - self.planned_at


class EscalationRule(models.Model):
    """What to do when a policy's clock reaches a warning threshold or breaches (+ delay)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="escalation_rules")
    order = models.PositiveSmallIntegerField(default=10)
    trigger = models.CharField(max_length=10, choices=Trigger, default=Trigger.BREACH)
    threshold = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a warning trigger: which threshold (%)."
    )
    delay = models.DurationField(
        default=timedelta(0), help_text="For breach: wait this long after."
    )
    action = models.CharField(max_length=20, choices=Action)
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    flag = models.CharField(max_length=40, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["policy", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} → {self.get_action_display()}"

    def clean(self) -> None:
        if self.trigger == Trigger.WARNING and self.threshold is None:
            raise ValidationError({"threshold": "Choose the warning threshold that triggers it."})
        if self.action in (Action.REASSIGN_TEAM, Action.NOTIFY_TEAM) and self.team is None:
            raise ValidationError({"team": "Choose the team."})
        if self.action == Action.SET_FLAG and not self.flag:
            raise ValidationError({"flag": "Name the flag."})


class EscalationEvent(models.Model):
    """One firing of one rule for one clock. The unique constraint makes it exactly once; the
    task that performs it is idempotent (done_at) and re-enqueued by the sweep if lost."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="escalations")
    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="events")
    planned_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["planned_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["clock", "rule"], name="slas_escalation_once")
        ]
        indexes = [
            models.Index(
                fields=["enqueued_at"],
                name="slas_escalation_pending",
                condition=Q(done_at__isnull=True, cancelled_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} for clock {self.clock_id}"


class RecalculationJob(models.Model):
    """Recalculation of open clocks after a policy or calendar edit (progress shown in admin)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, null=True, blank=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Recalculation of {self.policy or self.calendar}"

    def open_clocks(self) -> models.QuerySet:
        clocks = SlaClock.objects.filter(stopped_at__isnull=True).exclude(
            state=ClockState.CANCELLED
        )
        if self.policy_id:
            return clocks.filter(policy_id=self.policy_id)
        return clocks.filter(policy__calendar_id=self.calendar_id)

    @property
    def progress(self) -> str:
        if self.finished_at:
            return f"done ({self.done}/{self.total})"
        if self.started_at:
            return f"{self.done}/{self.total}"
        return "queued"


class PolicyVersion(models.Model):
    """What a policy said at one version. Open clocks move to a new version forward-only;
    stopped clocks keep the version they were measured with (SlaClock.policy_version)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    changed = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["policy", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "version"], name="slas_policy_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.version}"


class ClockReplay(models.Model):
    """A replay applied to a clock: the figures before and after (history is never lost)."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="replays")
    before = models.JSONField()
    after = models.JSONField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Replay of clock {self.clock_id}"


class WhatIfRun(models.Model):
    """A what-if preview of proposed policy settings, computed in the background."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="whatifs")
    proposed = models.JSONField()
    days = models.PositiveSmallIntegerField(default=30)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"What-if for {self.policy}"


class OlaPolicy(models.Model):
    """An operational level agreement: the internal target of one team for the part of a
    ticket's life it holds it. Separate from the customer SLA."""

    team = models.OneToOneField(
        "accounts.Team", on_delete=models.CASCADE, related_name="ola_policy"
    )
    target = models.DurationField(help_text="Working time the team may hold an open ticket.")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    pause_statuses = ArrayField(models.CharField(max_length=24), default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["team"]
        verbose_name = "OLA policy"
        verbose_name_plural = "OLA policies"

    def __str__(self) -> str:
        return f"OLA {self.team}: {self.target}"


class OlaClock(models.Model):
    """One team's stretch of a ticket, measured against its OLA. Several per ticket, in order."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="ola_clocks"
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(OlaPolicy, on_delete=models.PROTECT, related_name="clocks")
    target = models.DurationField()
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    elapsed = models.DurationField(default=timedelta(0))
    due_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=100, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(stopped_at__isnull=True),
                name="slas_ola_one_open_per_ticket",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="slas_ola_next_check",
                condition=Q(next_check_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"OLA of {self.team} on ticket {self.ticket_id}"

    @property
    def state(self) -> str:
        if self.stopped_at is not None:
            return ClockState.BREACHED if self.breached_at else ClockState.MET
        if self.breached_at:
            return ClockState.BREACHED
        return ClockState.PAUSED if self.paused_at else ClockState.RUNNING


class CalendarVersion(models.Model):
    """What a calendar said at one version (hours, zone, holidays)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["calendar", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "version"], name="slas_calendar_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.calendar} v{self.version}"
