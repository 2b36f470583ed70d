"""The shared ticket envelope and its satellites: journal, attachments, approvals, links."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.models import TimeStampedModel

from .choices import (
    ApprovalDecision,
    CsatRating,
    EmailMode,
    EmailStatus,
    EventType,
    InboundStatus,
    LinkKind,
    Priority,
    TicketKind,
    TicketState,
)
from .querysets import TicketEventQuerySet, TicketQuerySet


class Ticket(TimeStampedModel):
    """The envelope every incident, request, task and change shares.

    Never created directly: use a kind's `*_create` service. The kind's own status lives on its
    detail table (one-to-one on this row); `state` is derived from it by the kind's workflow."""

    kind = models.CharField(max_length=16, choices=TicketKind, editable=False)
    number = models.CharField(max_length=16, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=TicketState, default=TicketState.OPEN)
    priority = models.PositiveSmallIntegerField(choices=Priority, default=Priority.P3)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets"
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    service = models.ForeignKey(
        "catalogue.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    # People who asked to hear about public replies and status changes (tickets.dispatch).
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_tickets"
    )
    search_vector = SearchVectorField(null=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("view_all_tickets", "Can see every ticket")]
        indexes = [
            models.Index(fields=["team", "state", "priority"], name="tickets_queue_idx"),
            models.Index(fields=["assignee", "state"], name="tickets_assignee_state_idx"),
            models.Index(fields=["requester", "-created_at"], name="tickets_requester_idx"),
            models.Index(fields=["state", "-updated_at"], name="tickets_state_updated_idx"),
            GinIndex(fields=["search_vector"], name="tickets_search_idx"),
            GinIndex(fields=["tags"], name="tickets_tags_idx"),
            # The open queues sort by priority: page 1 reads 25 index entries, not 30k rows.
            models.Index(
                fields=["priority", "id"],
                name="tickets_open_queue_idx",
                condition=Q(state__in=["open", "on_hold"]),
            ),
            # "Updated this week" (the desk's Recently updated queue and its count).
            models.Index(fields=["updated_at"], name="tickets_updated_idx"),
            # The desk searches within a queue, and the queues are open tickets (3 % of them):
            # a common word matches 3k entries here instead of 100k in the whole index, whose
            # bitmap alone took 40 ms at 1M tickets.
            GinIndex(
                fields=["search_vector"],
                name="tickets_open_search_idx",
                condition=Q(state__in=["open", "on_hold"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in (TicketState.OPEN, TicketState.ON_HOLD)

    @property
    def detail(self) -> models.Model:
        """The kind's detail row (Incident, ServiceRequest, Change…)."""
        return getattr(self, KIND_DETAIL_ATTR[self.kind])

    def get_absolute_url(self) -> str:
        return reverse("desk:ticket", args=[self.number])

    @property
    def portal_url(self) -> str:
        return reverse("portal:ticket", args=[self.number])


#: Reverse one-to-one accessor of each kind's detail table.
KIND_DETAIL_ATTR: dict[str, str] = {
    TicketKind.INCIDENT: "incident",
    TicketKind.REQUEST: "service_request",
    TicketKind.TASK: "fulfilment_task",
    TicketKind.CHANGE: "change",
}


class TicketEvent(models.Model):
    """One journal entry: a public reply, an internal work note, a field or status change, or a
    system event. Written by services through tickets.events; never edited or deleted."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(max_length=20, choices=EventType)
    public = models.BooleanField(
        default=False, help_text="Requesters see public entries only; work notes are never public."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Work logged with a reply or note (minutes); summed on the desk side panel.
    time_spent_minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="tickets_event_timeline_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(type=EventType.WORK_NOTE, public=True),
                name="tickets_event_work_note_private",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} on {self.ticket_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError("Journal entries are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise ValidationError("Journal entries are never deleted.")


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Random storage name: the original name is kept in the row, never trusted as a path."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"attachments/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A file on a ticket, stored outside static and served only after a visibility check."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        TicketEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    public = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("attachment", args=[self.pk])


class Approval(models.Model):
    """One approval step on a ticket (request manager approval, change CAB vote)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="approvals")
    stage = models.PositiveSmallIntegerField(default=1)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approver_team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(
        max_length=12, choices=ApprovalDecision, default=ApprovalDecision.PENDING
    )
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ticket", "stage", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approver__isnull=False) | Q(approver_team__isnull=False),
                name="tickets_approval_has_approver",
            )
        ]

    def __str__(self) -> str:
        return f"Approval {self.stage} on {self.ticket_id}: {self.decision}"


class TicketLink(models.Model):
    """A typed link between two tickets (duplicate of, caused by, related)."""

    source = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="links_in")
    kind = models.CharField(max_length=20, choices=LinkKind)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="tickets_link_unique"
            ),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="tickets_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class Notification(models.Model):
    """One message to one user about a ticket: listed in-app, and e-mailed after commit."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    event = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The journal entry this notification was dispatched from (null when a service called
    # notify() directly, e.g. SLA escalations and approval reminders).
    source_event = models.ForeignKey(
        TicketEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The e-mail outbox: a row is the durable record of one e-mail to send, retried with
    # backoff until sent or failed, visible in admin, and sent at most once.
    email_status = models.CharField(max_length=10, choices=EmailStatus, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_at = models.DateTimeField(
        null=True, blank=True, help_text="Earliest time the next send attempt may run."
    )
    email_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True, help_text="Message-ID sent.")
    # PostgreSQL transaction that created the row: the dispatcher skips people a service
    # already told about the same change in the same transaction (no double e-mails).
    txid = models.BigIntegerField(
        db_default=models.Func(function="txid_current", output_field=models.BigIntegerField()),
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="tickets_notif_unread_idx"),
            models.Index(
                fields=["email_next_at"],
                name="tickets_notif_outbox_idx",
                condition=Q(email_status=EmailStatus.PENDING),
            ),
            models.Index(
                fields=["recipient"],
                name="tickets_notif_digest_idx",
                condition=Q(email_status=EmailStatus.DIGEST),
            ),
            models.Index(fields=["ticket", "txid"], name="tickets_notif_txid_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="tickets_notification_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_id}"


class EventDispatch(models.Model):
    """A journal entry to be turned into notifications (transactional outbox).

    Written in the same transaction as the entry by tickets.events.record and marked
    dispatched by the dispatcher. The transaction id lets the dispatcher see what else that
    transaction journaled (only the last status change of a ticket is told). A sweep
    re-dispatches rows a lost task left, and prunes dispatched rows after a day."""

    event = models.OneToOneField(
        TicketEvent, on_delete=models.CASCADE, primary_key=True, related_name="dispatch"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=20, choices=EventType)
    txid = models.BigIntegerField(
        db_default=models.Func(function="txid_current", output_field=models.BigIntegerField()),
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="tickets_dispatch_pending_idx",
                condition=Q(dispatched_at__isnull=True),
            ),
            models.Index(fields=["ticket", "txid"], name="tickets_dispatch_tx_idx"),
            models.Index(fields=["dispatched_at"], name="tickets_dispatch_done_idx"),
        ]

    def __str__(self) -> str:
        return f"Dispatch of event {self.event_id}"


class NotificationPreference(models.Model):
    """What one user wants to hear about and how. No row means the defaults: every category
    by e-mail and in-app, each e-mail as it happens."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    email_mode = models.CharField(max_length=10, choices=EmailMode, default=EmailMode.IMMEDIATE)
    in_app_only = ArrayField(
        models.CharField(max_length=20), default=list, blank=True, help_text="Never e-mailed."
    )
    muted = ArrayField(
        models.CharField(max_length=20), default=list, blank=True, help_text="Never notified."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user"]

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"


class InboundMessage(models.Model):
    """One e-mail received by the inbound SMTP server, and what became of it."""

    message_id = models.CharField(max_length=250, blank=True)
    mail_from = models.CharField(max_length=250, blank=True, help_text="SMTP envelope sender.")
    from_address = models.CharField(max_length=250, blank=True)
    subject = models.CharField(max_length=250, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=10, choices=InboundStatus)
    reason = models.TextField(blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="inbound_messages"
    )
    event = models.ForeignKey(
        TicketEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    size = models.PositiveIntegerField(default=0)
    raw = models.BinaryField(
        null=True, blank=True, editable=False, help_text="Kept only when processing failed."
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["from_address", "received_at"], name="tickets_inbound_sender_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~Q(message_id="") & ~Q(status=InboundStatus.FAILED),
                name="tickets_inbound_message_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class SatisfactionResponse(models.Model):
    """A requester's answer to the satisfaction survey sent on resolution (CSAT).

    One per (ticket, survey): `survey_key` names the resolution that sent the survey, so a link
    is single-use and a reopened-then-resolved ticket can be rated again. Read by dashboards."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="satisfaction_responses"
    )
    survey_key = models.CharField(max_length=40)
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rating = models.CharField(max_length=8, choices=CsatRating)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "survey_key"], name="tickets_csat_once_per_survey"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on {self.ticket_id}"
