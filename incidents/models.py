"""Incident detail, categories, the priority matrix, routing rules and outage records."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from tickets.models import Ticket
from tickets.querysets import DetailQuerySet

from . import workflow
from .choices import Channel, IncidentStatus, Level, OnHoldReason, OutageKind, ResolutionCode


class Category(models.Model):
    """Incident category; a category with a parent is a subcategory (two-level tree)."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="incidents_category_unique"),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="incidents_category_root_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class PriorityMatrixCell(models.Model):
    """One cell of the impact × urgency → priority matrix (admin-editable)."""

    impact = models.CharField(max_length=8, choices=Level)
    urgency = models.CharField(max_length=8, choices=Level)
    priority = models.PositiveSmallIntegerField(choices=[(p, f"P{p}") for p in range(1, 5)])

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["impact", "urgency"], name="incidents_matrix_cell_unique"
            )
        ]

    def __str__(self) -> str:
        impact, urgency = self.get_impact_display(), self.get_urgency_display()
        return f"{impact} impact × {urgency} urgency → P{self.priority}"


class RoutingRule(models.Model):
    """Send new incidents matching a category and/or a service to a team. First match wins."""

    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=100)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True)
    service = models.ForeignKey(
        "catalogue.Service", on_delete=models.CASCADE, null=True, blank=True
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False) | Q(service__isnull=False),
                name="incidents_routing_has_condition",
            )
        ]

    def __str__(self) -> str:
        return self.name


class IncidentQuerySet(DetailQuerySet):
    def for_list(self) -> "IncidentQuerySet":
        return self.select_related(
            "ticket__assignee",
            "ticket__team",
            "ticket__requester",
            "ticket__service",
            "category",
            "subcategory",
            "parent__ticket",
        )

    def open(self) -> "IncidentQuerySet":
        return self.filter(status__in=workflow.OPEN_STATUSES)


class Incident(models.Model):
    """Incident-specific data and lifecycle. Shared fields live on tickets.Ticket."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, primary_key=True, related_name="incident"
    )
    status = models.CharField(max_length=16, choices=IncidentStatus, default=IncidentStatus.NEW)
    on_hold_reason = models.CharField(max_length=20, choices=OnHoldReason, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subcategory = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel, default=Channel.PORTAL)
    impact = models.CharField(max_length=8, choices=Level, default=Level.MEDIUM)
    urgency = models.CharField(max_length=8, choices=Level, default=Level.MEDIUM)
    priority_overridden = models.BooleanField(default=False)
    priority_reason = models.JSONField(
        default=dict,
        blank=True,
        help_text="Why the ticket has its priority (matrix cell or override).",
    )
    routing_reason = models.JSONField(default=dict, blank=True)
    assignment_reason = models.JSONField(default=dict, blank=True)
    resolution_code = models.CharField(max_length=20, choices=ResolutionCode, blank=True)
    resolution_notes = models.TextField(blank=True)
    is_major = models.BooleanField(default=False)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    caused_by_change = models.ForeignKey(
        Ticket,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="caused_incidents",
        limit_choices_to={"kind": "change"},
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-ticket__created_at"]
        indexes = [
            models.Index(fields=["status"], name="incidents_status_idx"),
            # The major-incident banner on every desk page: a handful of rows, not a filter
            # over every open incident (9 ms at 1M tickets).
            models.Index(fields=["status"], condition=Q(is_major=True), name="incidents_major_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("ticket")), name="incidents_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return str(self.ticket)

    def get_absolute_url(self) -> str:
        return reverse("desk:incident-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in workflow.OPEN_STATUSES

    def can_transition_to(self, target: IncidentStatus) -> bool:
        return workflow.INCIDENT_WORKFLOW.can(IncidentStatus(self.status), target)

    @property
    def allowed_transitions(self) -> list[IncidentStatus]:
        return [s for s in IncidentStatus if self.can_transition_to(s)]


class Outage(models.Model):
    """A period when a service was down or degraded, logged on an incident (for availability)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="outages")
    service = models.ForeignKey(
        "catalogue.Service", on_delete=models.PROTECT, related_name="outages"
    )
    kind = models.CharField(max_length=10, choices=OutageKind, default=OutageKind.FULL)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=models.F("started_at")),
                name="incidents_outage_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.service} from {self.started_at:%Y-%m-%d %H:%M}"
