"""Service request and fulfilment task details. Shared fields (number, requester, team,
priority, SLA clocks, journal, approvals) live on tickets.Ticket and its satellites."""

from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from catalogue import formdef
from tickets.models import Approval, Ticket
from tickets.querysets import DetailQuerySet, visibility_q

from . import workflow
from .approvals import approver_q
from .choices import PLAIN_STATUS, RequestStatus, TaskStatus


class ServiceRequestQuerySet(DetailQuerySet):
    def visible_to(self, user: Any) -> Self:
        """The envelope rule, plus the requests the user approves (or approved): an approver
        must see what they decide, even outside their teams."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        q = visibility_q(user, prefix="ticket__")
        if q is None:
            return self
        approving = Approval.objects.filter(ticket=OuterRef("ticket")).filter(
            approver_q(user) | Q(decided_by=user)
        )
        return self.filter(q | Q(Exists(approving)))

    def for_list(self) -> Self:
        return self.select_related(
            "ticket__requester",
            "ticket__team",
            "ticket__assignee",
            "ticket__service",
            "item",
            "requested_for",
        )

    def with_progress(self) -> Self:
        """Annotate tasks_total and tasks_done (correlated counts: one query for the page)."""
        tasks = FulfilmentTask.objects.filter(request=OuterRef("pk")).order_by()
        total = tasks.values("request").annotate(n=Count("pk")).values("n")
        done = (
            tasks.filter(status=TaskStatus.DONE).values("request").annotate(n=Count("pk"))
        ).values("n")
        return self.annotate(
            tasks_total=Coalesce(Subquery(total, output_field=IntegerField()), 0),
            tasks_done=Coalesce(Subquery(done, output_field=IntegerField()), 0),
        )

    def open(self) -> Self:
        return self.filter(status__in=workflow.OPEN_REQUEST_STATUSES)


class ServiceRequest(models.Model):
    """An order of a catalogue item: the answers to its form, who it is for, and a snapshot
    of the item (name, form version, questions, approval stages, tasks) as it was ordered."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, primary_key=True, related_name="service_request"
    )
    status = models.CharField(max_length=20, choices=RequestStatus, default=RequestStatus.SUBMITTED)
    item = models.ForeignKey(
        "catalogue.CatalogueItem", on_delete=models.PROTECT, related_name="requests"
    )
    item_snapshot = models.JSONField(
        default=dict, help_text="The item as ordered: name, form version, questions, stages."
    )
    form_version = models.PositiveIntegerField(default=1)
    answers = models.JSONField(default=dict, blank=True)
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requests_for_me"
    )
    quantity = models.PositiveSmallIntegerField(default=1)
    approval_stage = models.PositiveSmallIntegerField(
        default=0, help_text="The approval stage under way (0: none yet)."
    )
    approval_stages_total = models.PositiveSmallIntegerField(default=0)
    approved_at = models.DateTimeField(null=True, blank=True)
    expected_delivery_at = models.DateTimeField(null=True, blank=True)
    outcome_reason = models.TextField(
        blank=True, help_text="Why it was rejected or cancelled (shown to the requester)."
    )

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-ticket__created_at"]
        indexes = [models.Index(fields=["status"], name="servicereq_status_idx")]

    def __str__(self) -> str:
        return str(self.ticket)

    def get_absolute_url(self) -> str:
        return reverse("desk:request-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in workflow.OPEN_REQUEST_STATUSES

    @property
    def plain_status(self) -> str:
        return PLAIN_STATUS.get(self.status, self.get_status_display())

    @property
    def item_name(self) -> str:
        return self.item_snapshot.get("name") or str(self.item_id)

    def variables(self) -> list[formdef.Variable]:
        """The questions as they were when this request was ordered."""
        return formdef.definition_from_json(self.item_snapshot.get("variables") or [])

    def can_transition_to(self, target: RequestStatus) -> bool:
        return workflow.REQUEST_WORKFLOW.can(RequestStatus(self.status), target)


class FulfilmentTaskQuerySet(DetailQuerySet):
    def for_list(self) -> Self:
        return self.select_related(
            "ticket__team",
            "ticket__assignee",
            "ticket__requester",
            "request__ticket",
        )

    def open(self) -> Self:
        return self.filter(status__in=workflow.OPEN_TASK_STATUSES)


class FulfilmentTask(models.Model):
    """One piece of work that fulfils an approved request, worked by a team in the desk like
    any ticket. A task that waits for earlier ones opens when every task with a lower
    `order` is done or cancelled."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, primary_key=True, related_name="fulfilment_task"
    )
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="tasks")
    status = models.CharField(max_length=16, choices=TaskStatus, default=TaskStatus.WAITING)
    order = models.PositiveSmallIntegerField(default=10)
    waits_for_previous = models.BooleanField(default=True)

    objects = FulfilmentTaskQuerySet.as_manager()

    class Meta:
        ordering = ["request", "order", "ticket"]
        indexes = [
            models.Index(fields=["request", "status"], name="servicereq_task_request_idx"),
            models.Index(fields=["status"], name="servicereq_task_status_idx"),
        ]

    def __str__(self) -> str:
        return str(self.ticket)

    def get_absolute_url(self) -> str:
        return reverse("desk:task-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in workflow.OPEN_TASK_STATUSES

    def can_transition_to(self, target: TaskStatus) -> bool:
        return workflow.TASK_WORKFLOW.can(TaskStatus(self.status), target)

    @property
    def allowed_transitions(self) -> list[TaskStatus]:
        return [s for s in TaskStatus if self.can_transition_to(s)]
