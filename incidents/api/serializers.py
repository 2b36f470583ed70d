"""Incident API serializers: `IncidentSerializer` for output, `Incident<Verb>Input` for input.

Inputs only parse and type-check; the rules live in incidents.services and
incidents.permissions."""

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team, User
from accounts.roles import DESK_ROLES
from catalogue.models import Service
from core.api.fields import FieldsExpandMixin
from tickets.api.serializers import TeamRefSerializer, UserRefSerializer
from tickets.choices import Priority, TicketState

from ..choices import Channel, IncidentStatus, Level, OnHoldReason, ResolutionCode
from ..models import Category, Incident


def _active_users() -> Any:
    return User.objects.filter(is_active=True)


def _agents() -> Any:
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=DESK_ROLES))
        .distinct()
    )


def _root_categories() -> Any:
    return Category.objects.filter(active=True, parent__isnull=True)


def _subcategories() -> Any:
    return Category.objects.filter(active=True, parent__isnull=False)


# ------------------------------------------------------------------ output
class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name"]
        read_only_fields = fields


class ServiceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name"]
        read_only_fields = fields


#: Output fields only agents receive: routing and auto-assignment explanations (team loads).
AGENT_ONLY_FIELDS = ("routing_reason", "assignment_reason")


class IncidentSerializer(FieldsExpandMixin, serializers.ModelSerializer):
    """An incident. `?fields=` picks fields; `?expand=service` gives the whole service."""

    id = serializers.IntegerField(source="pk", read_only=True)
    number = serializers.CharField(source="ticket.number", read_only=True)
    title = serializers.CharField(source="ticket.title", read_only=True)
    description = serializers.CharField(source="ticket.description", read_only=True)
    state = serializers.ChoiceField(
        source="ticket.state", choices=TicketState.choices, read_only=True
    )
    priority = serializers.ChoiceField(
        source="ticket.priority", choices=Priority.choices, read_only=True
    )
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    subcategory = CategoryRefSerializer(read_only=True, allow_null=True)
    service = ServiceRefSerializer(source="ticket.service", read_only=True, allow_null=True)
    requester = UserRefSerializer(source="ticket.requester", read_only=True)
    assignee = UserRefSerializer(source="ticket.assignee", read_only=True, allow_null=True)
    team = TeamRefSerializer(source="ticket.team", read_only=True, allow_null=True)
    parent = serializers.CharField(
        source="parent.ticket.number",
        read_only=True,
        allow_null=True,
        help_text="Number of the parent incident this one follows.",
    )
    # Not read-only only so that the schema marks them optional: requesters never get them.
    routing_reason = serializers.JSONField(
        required=False, help_text="Why the incident went to its team. Agents only."
    )
    assignment_reason = serializers.JSONField(
        required=False,
        help_text="How the assignee was chosen, with the candidates' loads. Agents only.",
    )
    created_at = serializers.DateTimeField(source="ticket.created_at", read_only=True)
    updated_at = serializers.DateTimeField(source="ticket.updated_at", read_only=True)
    first_responded_at = serializers.DateTimeField(
        source="ticket.first_responded_at", read_only=True, allow_null=True
    )
    resolved_at = serializers.DateTimeField(
        source="ticket.resolved_at", read_only=True, allow_null=True
    )
    closed_at = serializers.DateTimeField(
        source="ticket.closed_at", read_only=True, allow_null=True
    )
    version = serializers.IntegerField(
        source="ticket.version", read_only=True, help_text="Send back as If-Match or `version`."
    )
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=IncidentStatus.choices), read_only=True
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "number",
            "title",
            "description",
            "status",
            "state",
            "priority",
            "priority_reason",
            "routing_reason",
            "assignment_reason",
            "impact",
            "urgency",
            "channel",
            "category",
            "subcategory",
            "service",
            "requester",
            "assignee",
            "team",
            "is_major",
            "parent",
            "resolution_code",
            "resolution_notes",
            "on_hold_reason",
            "created_at",
            "updated_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "version",
            "allowed_transitions",
        ]
        read_only_fields = [f for f in fields if f not in AGENT_ONLY_FIELDS]
        expandable_fields = {
            "service": (
                "catalogue.api.serializers.ServiceSerializer",
                {"source": "ticket.service", "allow_null": True},
            )
        }

    def to_representation(self, instance: Incident) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not getattr(getattr(request, "user", None), "is_agent", False):
            for name in AGENT_ONLY_FIELDS:
                data.pop(name, None)
        return data


# ------------------------------------------------------------------ input
class IncidentCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    impact = serializers.ChoiceField(
        choices=Level.choices,
        default=Level.MEDIUM,
        help_text="Agents only; requesters' incidents are always medium impact.",
    )
    urgency = serializers.ChoiceField(choices=Level.choices, default=Level.MEDIUM)
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.filter(active=True), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=_root_categories(), required=False, allow_null=True
    )
    subcategory = serializers.PrimaryKeyRelatedField(
        queryset=_subcategories(), required=False, allow_null=True
    )
    requester = serializers.PrimaryKeyRelatedField(
        queryset=_active_users(),
        required=False,
        help_text="Agents only: the caller the incident is raised for (default: yourself).",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text="Agents only (default api).",
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text="Agents only: skip routing and send to this team.",
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=_agents(),
        required=False,
        allow_null=True,
        help_text="Agents only: skip auto-assignment.",
    )


class IncidentUpdateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.filter(active=True), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=_root_categories(), required=False, allow_null=True
    )
    subcategory = serializers.PrimaryKeyRelatedField(
        queryset=_subcategories(), required=False, allow_null=True
    )
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    urgency = serializers.ChoiceField(choices=Level.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Version you read (or send If-Match)."
    )


class IncidentTransitionInput(serializers.Serializer):
    target = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    on_hold_reason = serializers.ChoiceField(
        choices=OnHoldReason.choices, required=False, allow_blank=True, default=""
    )
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, required=False, allow_blank=True, default=""
    )
    resolution_notes = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, min_value=1)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["me"]}],
        "nullable": True,
        "description": "An agent's id, or `me`.",
    }
)
class AssigneeField(serializers.PrimaryKeyRelatedField):
    """A user id, or `me` for the caller."""

    def to_internal_value(self, data: Any) -> Any:
        if data == "me":
            return self.context["request"].user
        return super().to_internal_value(data)


class IncidentAssignInput(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    assignee = AssigneeField(queryset=_agents(), required=False, allow_null=True, default=None)
    auto = serializers.BooleanField(
        required=False, default=False, help_text="Let the team's assignment method pick."
    )
    version = serializers.IntegerField(required=False, min_value=1)


class IncidentPriorityInput(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: why not the matrix."
    )
    version = serializers.IntegerField(required=False, min_value=1)


class IncidentCommentInput(serializers.Serializer):
    body = serializers.CharField()


class IncidentMajorInput(serializers.Serializer):
    is_major = serializers.BooleanField()
    version = serializers.IntegerField(required=False, min_value=1)
