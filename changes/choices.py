"""Change choices and their badge / calendar colours."""

from django.db import models


class ChangeType(models.TextChoices):
    STANDARD = "standard", "Standard"
    NORMAL = "normal", "Normal"
    EMERGENCY = "emergency", "Emergency"


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ASSESS = "assess", "Assess"
    AUTHORIZE = "authorize", "Authorize"
    SCHEDULED = "scheduled", "Scheduled"
    IMPLEMENT = "implement", "Implement"
    REVIEW = "review", "Review"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class Risk(models.TextChoices):
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class ChangeImpact(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Outcome(models.TextChoices):
    SUCCESSFUL = "successful", "Successful"
    SUCCESSFUL_WITH_ISSUES = "successful_with_issues", "Successful with issues"
    FAILED = "failed", "Failed"
    BACKED_OUT = "backed_out", "Backed out"


#: Outcomes after which the desk offers to raise an incident.
BAD_OUTCOMES = frozenset({Outcome.FAILED, Outcome.BACKED_OUT})


class CabPolicy(models.TextChoices):
    """How many CAB approvals authorise a change. Any rejection always stops it."""

    ALL = "all", "All must approve"
    MAJORITY = "majority", "Majority"
    ANY = "any", "Any one"


#: Used when an admin has not defined a rule for a (type, risk) pair.
DEFAULT_CAB_POLICY: dict[tuple[str, str], str] = {
    (ChangeType.NORMAL, Risk.LOW): CabPolicy.ANY,
    (ChangeType.NORMAL, Risk.MODERATE): CabPolicy.MAJORITY,
    (ChangeType.NORMAL, Risk.HIGH): CabPolicy.ALL,
    (ChangeType.EMERGENCY, Risk.LOW): CabPolicy.ANY,
    (ChangeType.EMERGENCY, Risk.MODERATE): CabPolicy.ANY,
    (ChangeType.EMERGENCY, Risk.HIGH): CabPolicy.MAJORITY,
}


class CalendarEntryKind(models.TextChoices):
    CHANGE = "change", "Change"
    BLACKOUT = "blackout", "Blackout"


class Recurrence(models.TextChoices):
    NONE = "none", "Does not repeat"
    WEEKLY = "weekly", "Every week"


#: Risk thresholds, in percent of the questionnaire's maximum weighted score.
RISK_THRESHOLDS: tuple[tuple[int, Risk], ...] = ((60, Risk.HIGH), (30, Risk.MODERATE))

#: Approval stages on tickets.Approval for a change.
STAGE_CHANGE_MANAGER = 1
STAGE_CAB = 2

#: Badge colour per choice value (read by the changes_ui `change_badge` tag).
CHANGE_COLOURS: dict[str, str] = {
    ChangeStatus.DRAFT: "grey",
    ChangeStatus.ASSESS: "blue",
    ChangeStatus.AUTHORIZE: "yellow",
    ChangeStatus.SCHEDULED: "purple",
    ChangeStatus.IMPLEMENT: "orange",
    ChangeStatus.REVIEW: "blue",
    ChangeStatus.CLOSED: "green",
    ChangeStatus.REJECTED: "red",
    ChangeStatus.CANCELLED: "grey",
    ChangeType.STANDARD: "green",
    ChangeType.NORMAL: "blue",
    ChangeType.EMERGENCY: "red",
    Outcome.SUCCESSFUL: "green",
    Outcome.SUCCESSFUL_WITH_ISSUES: "yellow",
    Outcome.FAILED: "red",
    Outcome.BACKED_OUT: "orange",
}
#: Risk has its own map: "low"/"high" would collide with impact values in one dict.
RISK_COLOURS: dict[str, str] = {Risk.LOW: "green", Risk.MODERATE: "yellow", Risk.HIGH: "red"}
