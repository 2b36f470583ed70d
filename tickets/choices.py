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
    FIXES = "fixes", "Fixes"


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


# ------------------------------------------------------------------ notifications and e-mail
class NotificationCategory(models.TextChoices):
    """What a notification is about: the unit users choose in their preferences."""

    CREATED = "created", "Tickets I raised: received"
    ASSIGNED = "assigned", "Assigned to me or my team"
    REPLY = "reply", "Public replies"
    MENTION = "mention", "@mentions in work notes"
    STATUS = "status", "Status changes"
    RESOLVED = "resolved", "Resolved (with the satisfaction survey)"
    APPROVAL = "approval", "Approvals requested and decided"
    SLA = "sla", "SLA warnings, breaches and escalations"
    CHANGE = "change", "Change schedule and conflicts"
    OTHER = "other", "Everything else"


class CategoryDelivery(models.TextChoices):
    """Per category: where a user hears about it."""

    EMAIL = "email", "E-mail and in-app"
    IN_APP = "in_app", "In-app only"
    OFF = "off", "Off"


class EmailMode(models.TextChoices):
    """How a user's e-mails are sent."""

    IMMEDIATE = "immediate", "Each as it happens"
    DIGEST = "digest", "One daily digest"
    NONE = "none", "No e-mail (in-app only)"


class EmailStatus(models.TextChoices):
    """Where one notification's e-mail is: the outbox state an operator sees in admin."""

    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (retries used up)"
    DIGEST = "digest", "Waiting for the daily digest"
    NONE = "none", "No e-mail (in-app only or no address)"


class InboundStatus(models.TextChoices):
    """What happened to one received e-mail."""

    COMMENT = "comment", "Added as a reply"
    CREATED = "created", "Raised a ticket"
    IGNORED = "ignored", "Ignored (automatic, loop or duplicate)"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class CsatRating(models.TextChoices):
    GOOD = "good", "Good"
    BAD = "bad", "Bad"


BADGE_COLOURS.update(
    {
        EmailStatus.PENDING: "yellow",
        EmailStatus.SENT: "green",
        EmailStatus.FAILED: "red",
        EmailStatus.DIGEST: "blue",
        EmailStatus.NONE: "grey",
        InboundStatus.COMMENT: "green",
        InboundStatus.CREATED: "blue",
        InboundStatus.IGNORED: "grey",
        InboundStatus.REJECTED: "orange",
        InboundStatus.FAILED: "red",
        CsatRating.GOOD: "green",
        CsatRating.BAD: "red",
    }
)
