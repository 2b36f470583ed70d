"""Change API serializers: `ChangeSerializer` and friends for output, `Change<Verb>Input` for
input. Inputs only parse and type-check; the rules live in changes.services and
changes.permissions."""

from typing import Any

from django.db.models import Q
from rest_framework import serializers

from accounts.models import Team, User
from accounts.roles import DESK_ROLES
from catalogue.models import Service
from core.api.fields import DateInput, DateTimeInput, FieldsExpandMixin
from tickets.api.serializers import TeamRefSerializer, UserRefSerializer
from tickets.choices import ApprovalDecision, Priority, TicketState
from tickets.models import Approval

from ..choices import (
    CalendarEntryKind,
    ChangeImpact,
    ChangeStatus,
    ChangeType,
    Outcome,
    Recurrence,
    Risk,
)
from ..models import BlackoutWindow, Change, RiskQuestion, StandardChangeTemplate


def _agents() -> Any:
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=DESK_ROLES))
        .distinct()
    )


# ------------------------------------------------------------------ output
class ChangeServiceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name"]
        read_only_fields = fields


class TemplateRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = StandardChangeTemplate
        fields = ["id", "name"]
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer):
    approver = UserRefSerializer(read_only=True, allow_null=True)
    approver_team = TeamRefSerializer(read_only=True, allow_null=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)
    decision = serializers.ChoiceField(choices=ApprovalDecision.choices, read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "stage",
            "approver",
            "approver_team",
            "decision",
            "comment",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class ChangeSerializer(FieldsExpandMixin, serializers.ModelSerializer):
    """A change. `?fields=` picks fields; `?expand=services,template` gives the whole
    services and standard template instead of their ids and names."""

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
    requester = UserRefSerializer(source="ticket.requester", read_only=True)
    assignee = UserRefSerializer(source="ticket.assignee", read_only=True, allow_null=True)
    team = TeamRefSerializer(source="ticket.team", read_only=True, allow_null=True)
    services = ChangeServiceRefSerializer(many=True, read_only=True)
    template = TemplateRefSerializer(read_only=True, allow_null=True)
    approvals = ApprovalSerializer(source="ticket.approvals", many=True, read_only=True)
    created_at = serializers.DateTimeField(source="ticket.created_at", read_only=True)
    updated_at = serializers.DateTimeField(source="ticket.updated_at", read_only=True)
    closed_at = serializers.DateTimeField(
        source="ticket.closed_at", read_only=True, allow_null=True
    )
    version = serializers.IntegerField(
        source="ticket.version", read_only=True, help_text="Send back as If-Match or `version`."
    )
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=ChangeStatus.choices), read_only=True
    )

    class Meta:
        model = Change
        fields = [
            "id",
            "number",
            "title",
            "description",
            "type",
            "status",
            "state",
            "priority",
            "template",
            "services",
            "configuration_items",
            "justification",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "risk",
            "risk_score",
            "risk_overridden",
            "risk_reason",
            "risk_answers",
            "impact",
            "outcome",
            "review_notes",
            "cab_policy",
            "authorised_at",
            "emergency_reason",
            "schedule_override",
            "approvals",
            "requester",
            "assignee",
            "team",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
            "allowed_transitions",
        ]
        read_only_fields = fields
        expandable_fields = {
            "services": ("catalogue.api.serializers.ServiceSerializer", {"many": True}),
            # A zero-argument callable: the template serializer is defined further down.
            "template": lambda: StandardChangeTemplateSerializer(read_only=True, allow_null=True),
        }


class ConflictChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField(source="ticket.number")
    title = serializers.CharField(source="ticket.title")
    status = serializers.ChoiceField(choices=ChangeStatus.choices)
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()


class BlackoutHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="window.pk")
    name = serializers.CharField(source="window.name")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ConflictsSerializer(serializers.Serializer):
    has_conflicts = serializers.SerializerMethodField()
    changes = ConflictChangeSerializer(many=True)
    blackouts = BlackoutHitSerializer(many=True)

    def get_has_conflicts(self, obj: Any) -> bool:
        return bool(obj)


class CalendarEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CalendarEntryKind.choices)
    id = serializers.IntegerField()
    title = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    colour = serializers.CharField()
    number = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True)
    risk = serializers.CharField(allow_blank=True)
    type = serializers.CharField(allow_blank=True)
    team = serializers.CharField(allow_blank=True)
    services = serializers.ListField(child=serializers.CharField())


class BlackoutWindowSerializer(serializers.ModelSerializer):
    services = ChangeServiceRefSerializer(many=True, read_only=True)

    class Meta:
        model = BlackoutWindow
        fields = [
            "id",
            "name",
            "start",
            "end",
            "timezone",
            "recurrence",
            "until",
            "services",
            "reason",
            "active",
        ]
        read_only_fields = fields


class StandardChangeTemplateSerializer(serializers.ModelSerializer):
    services = ChangeServiceRefSerializer(many=True, read_only=True)

    class Meta:
        model = StandardChangeTemplate
        fields = [
            "id",
            "name",
            "description",
            "risk",
            "impact",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "services",
        ]
        read_only_fields = fields


class RiskQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskQuestion
        fields = ["id", "text", "help_text", "weight", "order"]
        read_only_fields = fields


# ------------------------------------------------------------------ input
def _services() -> Any:
    return Service.objects.filter(active=True)


class ChangeCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    type = serializers.ChoiceField(
        choices=ChangeType.choices,
        default=ChangeType.NORMAL,
        help_text="Standard changes are created from a `template`.",
    )
    template = serializers.PrimaryKeyRelatedField(
        queryset=StandardChangeTemplate.objects.filter(active=True),
        required=False,
        allow_null=True,
    )
    services = serializers.PrimaryKeyRelatedField(queryset=_services(), many=True, required=False)
    impact = serializers.ChoiceField(choices=ChangeImpact.choices, required=False)
    configuration_items = serializers.CharField(required=False, allow_blank=True, default="")
    justification = serializers.CharField(required=False, allow_blank=True, default="")
    implementation_plan = serializers.CharField(required=False, allow_blank=True, default="")
    backout_plan = serializers.CharField(required=False, allow_blank=True, default="")
    test_plan = serializers.CharField(required=False, allow_blank=True, default="")
    planned_start = DateTimeInput(required=False, allow_null=True, default=None)
    planned_end = DateTimeInput(required=False, allow_null=True, default=None)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=_agents(), required=False, allow_null=True
    )


class ChangeUpdateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=ChangeType.choices, required=False)
    services = serializers.PrimaryKeyRelatedField(queryset=_services(), many=True, required=False)
    impact = serializers.ChoiceField(choices=ChangeImpact.choices, required=False)
    configuration_items = serializers.CharField(required=False, allow_blank=True)
    justification = serializers.CharField(required=False, allow_blank=True)
    implementation_plan = serializers.CharField(required=False, allow_blank=True)
    backout_plan = serializers.CharField(required=False, allow_blank=True)
    test_plan = serializers.CharField(required=False, allow_blank=True)
    planned_start = DateTimeInput(required=False, allow_null=True)
    planned_end = DateTimeInput(required=False, allow_null=True)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Change managers: why a booked change may move into a conflict.",
    )
    version = serializers.IntegerField(required=False, min_value=1)


class ChangeTransitionInput(serializers.Serializer):
    target = serializers.ChoiceField(choices=ChangeStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Scheduled: a change manager's reason to book into a conflict or blackout.",
    )
    emergency_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Implement (emergency): why work starts before the emergency CAB decided.",
    )
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, required=False, allow_blank=True, default=""
    )
    actual_start = DateTimeInput(required=False, allow_null=True, default=None)
    actual_end = DateTimeInput(required=False, allow_null=True, default=None)
    review_notes = serializers.CharField(required=False, allow_blank=True, default="")
    approvers = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        many=True,
        required=False,
        default=None,
        help_text="Authorize: who sits on the CAB for this change (default: the board).",
    )
    version = serializers.IntegerField(required=False, min_value=1)


class ChangeDecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[(ApprovalDecision.APPROVED, "Approve"), (ApprovalDecision.REJECTED, "Reject")]
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required to reject."
    )
    approval = serializers.IntegerField(
        required=False, help_text="Which of your pending approvals (default: the first)."
    )


class RiskAnswerInput(serializers.Serializer):
    question = serializers.IntegerField()
    answer = serializers.BooleanField()


class ChangeRiskInput(serializers.Serializer):
    answers = RiskAnswerInput(many=True)
    version = serializers.IntegerField(required=False, min_value=1)


class ChangeRiskOverrideInput(serializers.Serializer):
    risk = serializers.ChoiceField(choices=Risk.choices)
    reason = serializers.CharField()
    version = serializers.IntegerField(required=False, min_value=1)


class ChangeAssignInput(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=_agents(), required=False, allow_null=True, default=None
    )
    version = serializers.IntegerField(required=False, min_value=1)


class ChangeCommentInput(serializers.Serializer):
    body = serializers.CharField()


class ChangeLinkInput(serializers.Serializer):
    incident = serializers.CharField(max_length=16, help_text="The incident's number, INC….")


class ConflictQueryInput(serializers.Serializer):
    start = DateTimeInput()
    end = DateTimeInput()
    services = serializers.RegexField(
        r"^[0-9]+(,[0-9]+)*$",
        required=False,
        allow_blank=True,
        default="",
        help_text="Comma-separated service ids.",
    )
    exclude = serializers.IntegerField(
        required=False, help_text="A change to leave out (the one being rescheduled)."
    )

    def validate_services(self, value: str) -> list[int]:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdecimal() for p in parts):
            raise serializers.ValidationError("Comma-separated service ids.")
        return [int(p) for p in parts]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "Must be after start."}, code="business_rule")
        return attrs


class CalendarQueryInput(serializers.Serializer):
    start = DateTimeInput()
    end = DateTimeInput()
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True, default=None
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    colour_by = serializers.ChoiceField(choices=["risk", "state"], default="risk")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "Must be after start."}, code="business_rule")
        if (attrs["end"] - attrs["start"]).days > 92:
            raise serializers.ValidationError(
                {"end": "Ask for at most 92 days at a time."}, code="business_rule"
            )
        return attrs


class BlackoutWindowInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    start = DateTimeInput()
    end = DateTimeInput()
    timezone = serializers.CharField(max_length=64, default="Europe/London")
    recurrence = serializers.ChoiceField(choices=Recurrence.choices, default=Recurrence.NONE)
    until = DateInput(required=False, allow_null=True, default=None)
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), many=True, required=False, default=list
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    active = serializers.BooleanField(required=False, default=True)
