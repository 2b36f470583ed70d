"""Choices shared by every ticket kind, with their badge colours."""

from django.db import models


class TicketKind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Service request"
    TASK = "task", "Fulfilment task"
    CHANGE = "change", "Change"


#: Human number prefix per kind: INC0001001, REQ…, TASK…, CHG….
NUMBER_PREFIX: dict[str, str] = {
    TicketKind.INCIDENT: "INC",
    TicketKind.REQUEST: "REQ",
    TicketKind.TASK: "TASK",
    TicketKind.CHANGE: "CHG",
}


class TicketState(models.TextChoices):
    """Coarse cross-kind state (cf. iTop operational_status) used by queues, SLAs and dashboards."""

    OPEN = "open", "Open"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATES = (TicketState.OPEN, TicketState.ON_HOLD)


class Priority(models.IntegerChoices):
    P1 = 1, "P1 Critical"
    P2 = 2, "P2 High"
    P3 = 3, "P3 Moderate"
    P4 = 4, "P4 Low"


class EventType(models.TextChoices):
    CREATED = "created", "Created"
    COMMENT = "comment", "Public reply"
    WORK_NOTE = "work_note", "Work note"
    FIELD_CHANGED = "field_changed", "Field changed"
    STATUS_CHANGED = "status_changed", "Status changed"
    ATTACHMENT = "attachment", "Attachment added"
    SYSTEM = "system", "System event"


class ApprovalDecision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class LinkKind(models.TextChoices):
    RELATED = "related", "Related to"
    DUPLICATE_OF = "duplicate_of", "Duplicate of"
    CAUSED_BY = "caused_by", "Caused by"


#: Badge colour per choice value, read by the `badge` template tag.
BADGE_COLOURS: dict[str, str] = {
    TicketState.OPEN: "blue",
    TicketState.ON_HOLD: "yellow",
    TicketState.RESOLVED: "green",
    TicketState.CLOSED: "grey",
    TicketKind.INCIDENT: "red",
    TicketKind.REQUEST: "blue",
    TicketKind.TASK: "purple",
    TicketKind.CHANGE: "orange",
    ApprovalDecision.PENDING: "yellow",
    ApprovalDecision.APPROVED: "green",
    ApprovalDecision.REJECTED: "red",
    ApprovalDecision.CANCELLED: "grey",
}
