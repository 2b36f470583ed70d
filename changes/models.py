"""Change detail and what change management configures: standard change templates, the
risk questionnaire, CAB policies, emergency CAB seats, blackout windows and calendar feed
tokens."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from tickets.models import Ticket
from tickets.querysets import DetailQuerySet

from . import workflow
from .choices import (
    CabPolicy,
    ChangeImpact,
    ChangeStatus,
    ChangeType,
    Outcome,
    Recurrence,
    Risk,
)


class StandardChangeTemplate(models.Model):
    """A pre-approved change from the catalogue of standard changes: fixed risk, pre-filled
    plans. A change created from it skips assessment and CAB authorisation."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    risk = models.CharField(max_length=10, choices=Risk, default=Risk.LOW)
    impact = models.CharField(max_length=10, choices=ChangeImpact, default=ChangeImpact.LOW)
    implementation_plan = models.TextField()
    backout_plan = models.TextField()
    test_plan = models.TextField()
    services = models.ManyToManyField("catalogue.Service", blank=True, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RiskQuestion(models.Model):
    """One yes/no question of the risk questionnaire. A "yes" adds `weight` to the score;
    the risk comes from the score as a share of the maximum (choices.RISK_THRESHOLDS)."""

    text = models.CharField(max_length=250)
    help_text = models.CharField(max_length=250, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="changes_question_weight_pos")
        ]

    def __str__(self) -> str:
        return self.text


class CabPolicyRule(models.Model):
    """Which CAB policy authorises a change of a type and risk (admin-defined; missing rows
    fall back to choices.DEFAULT_CAB_POLICY)."""

    change_type = models.CharField(
        max_length=10,
        choices=[(ChangeType.NORMAL, "Normal"), (ChangeType.EMERGENCY, "Emergency")],
    )
    risk = models.CharField(max_length=10, choices=Risk)
    policy = models.CharField(max_length=10, choices=CabPolicy)

    class Meta:
        ordering = ["change_type", "risk"]
        constraints = [
            models.UniqueConstraint(fields=["change_type", "risk"], name="changes_cab_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_change_type_display()} / {self.get_risk_display()}: {self.policy}"


class EmergencyCabSeat(models.Model):
    """A member of the emergency CAB: the smaller approver set for emergency changes. With no
    seats defined, emergency changes go to the change managers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="emergency_cab_seat"
    )

    class Meta:
        ordering = ["user__display_name"]
        verbose_name = "emergency CAB seat"

    def __str__(self) -> str:
        return str(self.user)


class ChangeQuerySet(DetailQuerySet):
    def for_list(self) -> "ChangeQuerySet":
        return self.select_related(
            "ticket__assignee", "ticket__team", "ticket__requester", "ticket__service"
        ).prefetch_related("services")

    def open(self) -> "ChangeQuerySet":
        return self.filter(status__in=workflow.OPEN_STATUSES)

    def booked(self) -> "ChangeQuerySet":
        """Changes that hold their window (scheduled or implementing)."""
        return self.filter(status__in=workflow.BOOKED_STATUSES)

    def in_window(self, start: datetime, end: datetime) -> "ChangeQuerySet":
        """Planned window overlapping [start, end) (touching ends do not overlap)."""
        return self.filter(planned_start__lt=end, planned_end__gt=start)


class Change(models.Model):
    """Change-specific data and lifecycle: "we are going to alter something in production".
    Shared fields (number, title, requester, team, assignee…) live on tickets.Ticket."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, primary_key=True, related_name="change"
    )
    type = models.CharField(max_length=10, choices=ChangeType, default=ChangeType.NORMAL)
    status = models.CharField(max_length=12, choices=ChangeStatus, default=ChangeStatus.DRAFT)
    template = models.ForeignKey(
        StandardChangeTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
    )
    services = models.ManyToManyField("catalogue.Service", blank=True, related_name="changes")
    configuration_items = models.TextField(
        blank=True, help_text="Affected configuration items, one per line (free text for now)."
    )
    justification = models.TextField(blank=True)
    implementation_plan = models.TextField(blank=True)
    backout_plan = models.TextField(blank=True)
    test_plan = models.TextField(blank=True)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)
    risk = models.CharField(max_length=10, choices=Risk, default=Risk.LOW)
    risk_score = models.PositiveSmallIntegerField(
        default=0, help_text="Questionnaire score, percent of the maximum."
    )
    risk_answers = models.JSONField(
        default=list,
        blank=True,
        help_text="Snapshot of the answered questions: question_id, text, weight, answer.",
    )
    risk_overridden = models.BooleanField(default=False)
    risk_reason = models.JSONField(default=dict, blank=True)
    impact = models.CharField(max_length=10, choices=ChangeImpact, default=ChangeImpact.MEDIUM)
    outcome = models.CharField(max_length=24, choices=Outcome, blank=True)
    review_notes = models.TextField(blank=True, help_text="Post-implementation review.")
    cab_policy = models.CharField(max_length=10, choices=CabPolicy, blank=True)
    authorised_at = models.DateTimeField(null=True, blank=True)
    emergency_reason = models.TextField(
        blank=True, help_text="Why implementation started before the approval was complete."
    )
    schedule_override = models.JSONField(
        default=dict,
        blank=True,
        help_text="The change manager's override of conflicts or blackouts (who, why, what).",
    )

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-ticket__created_at"]
        indexes = [
            models.Index(fields=["status"], name="changes_status_idx"),
            models.Index(
                fields=["planned_start", "planned_end"],
                name="changes_booked_window_idx",
                condition=Q(status__in=["scheduled", "implement"]),
            ),
            models.Index(fields=["planned_start"], name="changes_planned_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gt=models.F("planned_start")),
                name="changes_planned_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gte=models.F("actual_start")),
                name="changes_actual_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return str(self.ticket)

    def get_absolute_url(self) -> str:
        return reverse("desk:change-detail", args=[self.pk])

    @property
    def workflow(self) -> Any:
        return workflow.workflow_for(self.type)

    @property
    def is_open(self) -> bool:
        return self.status in workflow.OPEN_STATUSES

    @property
    def needs_cab(self) -> bool:
        return self.type != ChangeType.STANDARD

    @property
    def is_editable(self) -> bool:
        return self.status in workflow.EDITABLE_STATUSES

    @property
    def has_window(self) -> bool:
        return self.planned_start is not None and self.planned_end is not None

    def can_transition_to(self, target: ChangeStatus) -> bool:
        return self.workflow.can(ChangeStatus(self.status), target)

    @property
    def allowed_transitions(self) -> list[ChangeStatus]:
        return [s for s in ChangeStatus if self.can_transition_to(s)]


class BlackoutWindow(models.Model):
    """A period when no change may be scheduled (for every service, or only the listed ones),
    once or every week in its time zone's wall-clock time."""

    name = models.CharField(max_length=150)
    start = models.DateTimeField()
    end = models.DateTimeField()
    timezone = models.CharField(
        max_length=64, default="Europe/London", help_text="Weekly repeats keep local time here."
    )
    recurrence = models.CharField(max_length=10, choices=Recurrence, default=Recurrence.NONE)
    until = models.DateField(
        null=True, blank=True, help_text="Weekly: last local date an occurrence may start."
    )
    services = models.ManyToManyField(
        "catalogue.Service",
        blank=True,
        related_name="blackout_windows",
        help_text="Empty: the blackout applies to every service.",
    )
    reason = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="changes_blackout_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(recurrence="none")
                | Q(end__lte=models.F("start") + models.Value(timedelta(days=7))),
                name="changes_blackout_weekly_within_week",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CalendarFeedToken(models.Model):
    """A user's secret iCalendar feed token. Only its SHA-256 is stored: the URL is shown
    once when created, and resetting it cuts off every calendar that used the old one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="change_feed_token"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"
