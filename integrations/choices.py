"""Choices of the API platform: token scopes, webhook events, delivery and alert states."""

from django.db import models


class TokenScope(models.TextChoices):
    """What a personal or service token may do. Write includes read."""

    READ = "read", "Read only (GET, HEAD, OPTIONS)"
    WRITE = "write", "Read and write"


class WebhookEvent(models.TextChoices):
    """Webhook event names, mapped from journal entries by integrations.webhooks."""

    TICKET_CREATED = "ticket.created", "Ticket created"
    TICKET_COMMENT = "ticket.comment", "Public reply"
    TICKET_WORK_NOTE = "ticket.work_note", "Internal work note (internal subscriptions only)"
    TICKET_STATUS_CHANGED = "ticket.status_changed", "Status changed"
    TICKET_ASSIGNED = "ticket.assigned", "Assignee or team changed"
    TICKET_UPDATED = "ticket.updated", "Other field changed"
    SLA_WARNING = "sla.warning", "SLA warning"
    SLA_BREACH = "sla.breach", "SLA breached"
    SLA_ESCALATION = "sla.escalation", "SLA escalation"


#: Events only subscriptions marked internal receive.
INTERNAL_EVENTS = frozenset({WebhookEvent.TICKET_WORK_NOTE})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class AlertAction(models.TextChoices):
    """What the alerts endpoint did with one alert."""

    CREATED = "created", "Incident created"
    UPDATED = "updated", "Incident already open for this alert"
    RESOLVED = "resolved", "Incident resolved"
    IGNORED = "ignored", "Nothing to do"


BADGE_COLOURS: dict[str, str] = {
    DeliveryStatus.PENDING: "yellow",
    DeliveryStatus.SUCCEEDED: "green",
    DeliveryStatus.FAILED: "red",
    AlertStatus.FIRING: "red",
    AlertStatus.RESOLVED: "green",
}
