from django.db import models


class IncidentStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


#: What the requester reads in the portal for each status.
PLAIN_STATUS: dict[str, str] = {
    IncidentStatus.NEW: "Received, waiting for an agent",
    IncidentStatus.IN_PROGRESS: "Being worked on",
    IncidentStatus.ON_HOLD: "Waiting",
    IncidentStatus.RESOLVED: "Solved: please confirm",
    IncidentStatus.CLOSED: "Closed",
    IncidentStatus.CANCELLED: "Cancelled",
}


class OnHoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", "Awaiting caller"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"
    AWAITING_CHANGE = "awaiting_change", "Awaiting change"


class Level(models.TextChoices):
    """Impact and urgency."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


#: The portal asks for urgency in plain words.
URGENCY_PLAIN = [
    (Level.HIGH, "I can't work"),
    (Level.MEDIUM, "I can work, slowly"),
    (Level.LOW, "It's an inconvenience"),
]

#: ITIL default impact × urgency → priority; admins edit it as PriorityMatrixCell rows.
DEFAULT_MATRIX: dict[tuple[str, str], int] = {
    (Level.HIGH, Level.HIGH): 1,
    (Level.HIGH, Level.MEDIUM): 2,
    (Level.HIGH, Level.LOW): 3,
    (Level.MEDIUM, Level.HIGH): 2,
    (Level.MEDIUM, Level.MEDIUM): 3,
    (Level.MEDIUM, Level.LOW): 4,
    (Level.LOW, Level.HIGH): 3,
    (Level.LOW, Level.MEDIUM): 4,
    (Level.LOW, Level.LOW): 4,
}


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    DESK = "desk", "Desk"
    EMAIL = "email", "E-mail"
    API = "api", "API"
    PHONE = "phone", "Phone"


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", "Fixed"
    WORKAROUND = "workaround", "Workaround provided"
    USER_ERROR = "user_error", "User error / advice given"
    NOT_REPRODUCIBLE = "not_reproducible", "Could not reproduce"
    DUPLICATE = "duplicate", "Duplicate"
    SOLVED_BY_CHANGE = "solved_by_change", "Solved by a change"


class OutageKind(models.TextChoices):
    FULL = "full", "Full outage"
    DEGRADED = "degraded", "Degraded"
