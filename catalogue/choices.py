"""Choices of the service catalogue: services, items, approval stages and form variables."""

from django.db import models


class Criticality(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ServiceKind(models.TextChoices):
    BUSINESS = "business", "Business service"
    TECHNICAL = "technical", "Technical service"


class Lifecycle(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


class Audience(models.TextChoices):
    """Who may order a catalogue item."""

    EVERYONE = "everyone", "Everyone"
    ORGANIZATIONS = "organizations", "Members of the chosen organisations"
    GROUPS = "groups", "Members of the chosen groups"


class Approver(models.TextChoices):
    """Who decides one approval stage of an item."""

    MANAGER = "manager", "The requester's manager"
    SERVICE_OWNER = "service_owner", "The owner of the item's service"
    TEAM = "team", "A named team"
    USER = "user", "A named person"


class TeamRule(models.TextChoices):
    ANY = "any", "Any one member"
    ALL = "all", "Every member"


class VariableType(models.TextChoices):
    TEXT = "text", "Text (one line)"
    MULTILINE = "multiline", "Text (several lines)"
    NUMBER = "number", "Number"
    YES_NO = "yes_no", "Yes / no"
    CHOICE = "choice", "Single choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    DATE = "date", "Date"
    USER = "user", "Person"
    SERVICE = "service", "Service"
    ATTACHMENT = "attachment", "Attachment"


class Operator(models.TextChoices):
    """How a show-if condition compares the answer of an earlier variable."""

    EQUALS = "equals", "equals"
    NOT_EQUALS = "not_equals", "does not equal"
    CONTAINS = "contains", "contains"
    GREATER_THAN = "greater_than", "is greater than"
    LESS_THAN = "less_than", "is less than"
    ANSWERED = "answered", "is answered"


#: The priority a request for an item gets (an SLA hint: policies match on priority).
PRIORITY_CHOICES = [(1, "P1 Critical"), (2, "P2 High"), (3, "P3 Moderate"), (4, "P4 Low")]
