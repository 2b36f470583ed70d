"""Service request API serializers: `<Model>Serializer` for output, `<Verb>Input` for input.

Inputs only parse and type-check; the rules (answer validation, approvals, lifecycles) live
in servicerequests.services and servicerequests.permissions."""

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team, User
from catalogue.models import Service
from core.api.fields import FieldsExpandMixin
from tickets.api.serializers import TeamRefSerializer, UserRefSerializer
from tickets.choices import Priority, TicketState
from tickets.models import Approval

from ..answers import answers_display
from ..choices import Decision, RequestStatus, TaskStatus
from ..models import FulfilmentTask, ServiceRequest


# ------------------------------------------------------------------ output
class AnswerSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    text = serializers.CharField(help_text="The answer as a person reads it.")


class RequestApprovalSerializer(serializers.ModelSerializer):
    approver = UserRefSerializer(read_only=True, allow_null=True)
    approver_team = TeamRefSerializer(read_only=True, allow_null=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)

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


class TaskRefSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    number = serializers.CharField(source="ticket.number", read_only=True)
    title = serializers.CharField(source="ticket.title", read_only=True)
    team = TeamRefSerializer(source="ticket.team", read_only=True, allow_null=True)
    assignee = UserRefSerializer(source="ticket.assignee", read_only=True, allow_null=True)

    class Meta:
        model = FulfilmentTask
        fields = [
            "id",
            "number",
            "title",
            "status",
            "order",
            "waits_for_previous",
            "team",
            "assignee",
        ]
        read_only_fields = fields


class RequestServiceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name"]
        read_only_fields = fields


#: `?expand=service`: the whole service instead of its id and name (a superset of the ref).
EXPAND_SERVICE = {
    "service": (
        "catalogue.api.serializers.ServiceSerializer",
        {"source": "ticket.service", "allow_null": True},
    )
}


class ItemRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The item's name when it was ordered.")
    form_version = serializers.IntegerField()


class ServiceRequestSerializer(FieldsExpandMixin, serializers.ModelSerializer):
    """A service request. `?fields=` picks fields; `?expand=service` gives the whole
    service."""

    id = serializers.IntegerField(source="pk", read_only=True)
    number = serializers.CharField(source="ticket.number", read_only=True)
    title = serializers.CharField(source="ticket.title", read_only=True)
    state = serializers.ChoiceField(
        source="ticket.state", choices=TicketState.choices, read_only=True
    )
    priority = serializers.ChoiceField(
        source="ticket.priority", choices=Priority.choices, read_only=True
    )
    item = serializers.SerializerMethodField()
    answers_display = serializers.SerializerMethodField()
    requester = UserRefSerializer(source="ticket.requester", read_only=True)
    requested_for = UserRefSerializer(read_only=True)
    service = RequestServiceRefSerializer(source="ticket.service", read_only=True, allow_null=True)
    team = TeamRefSerializer(source="ticket.team", read_only=True, allow_null=True)
    assignee = UserRefSerializer(source="ticket.assignee", read_only=True, allow_null=True)
    approvals = RequestApprovalSerializer(source="ticket.approvals", many=True, read_only=True)
    tasks = TaskRefSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(source="ticket.created_at", read_only=True)
    updated_at = serializers.DateTimeField(source="ticket.updated_at", read_only=True)
    resolved_at = serializers.DateTimeField(
        source="ticket.resolved_at", read_only=True, allow_null=True
    )
    closed_at = serializers.DateTimeField(
        source="ticket.closed_at", read_only=True, allow_null=True
    )
    version = serializers.IntegerField(source="ticket.version", read_only=True)

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "number",
            "title",
            "status",
            "state",
            "priority",
            "item",
            "form_version",
            "answers",
            "answers_display",
            "quantity",
            "requester",
            "requested_for",
            "service",
            "team",
            "assignee",
            "approval_stage",
            "approval_stages_total",
            "approvals",
            "tasks",
            "approved_at",
            "expected_delivery_at",
            "outcome_reason",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "version",
        ]
        read_only_fields = fields
        expandable_fields = EXPAND_SERVICE

    @extend_schema_field(ItemRefSerializer)
    def get_item(self, request: ServiceRequest) -> dict[str, Any]:
        return {
            "id": request.item_id,
            "name": request.item_name,
            "form_version": request.form_version,
        }

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers_display(self, request: ServiceRequest) -> list[dict[str, Any]]:
        rows = answers_display(request.variables(), request.answers)
        return [{"name": r.name, "label": r.label, "type": r.type, "text": r.text} for r in rows]


class ApprovalRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField(source="ticket.number")
    title = serializers.CharField(source="ticket.title")
    item = serializers.CharField(source="item_name")
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    requester = UserRefSerializer(source="ticket.requester")
    requested_for = UserRefSerializer()
    quantity = serializers.IntegerField()
    answers_display = serializers.SerializerMethodField()

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers_display(self, request: ServiceRequest) -> list[dict[str, Any]]:
        rows = answers_display(request.variables(), request.answers)
        return [{"name": r.name, "label": r.label, "type": r.type, "text": r.text} for r in rows]


class MyApprovalSerializer(RequestApprovalSerializer):
    request = ApprovalRequestSerializer(source="ticket.service_request", read_only=True)

    class Meta(RequestApprovalSerializer.Meta):
        fields = [*RequestApprovalSerializer.Meta.fields, "request"]
        read_only_fields = fields


class FulfilmentTaskSerializer(FieldsExpandMixin, serializers.ModelSerializer):
    """A fulfilment task. `?fields=` picks fields; `?expand=service` gives the whole
    service."""

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
    request = serializers.CharField(source="request.ticket.number", read_only=True)
    request_id = serializers.IntegerField(read_only=True)
    service = RequestServiceRefSerializer(source="ticket.service", read_only=True, allow_null=True)
    team = TeamRefSerializer(source="ticket.team", read_only=True, allow_null=True)
    assignee = UserRefSerializer(source="ticket.assignee", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(source="ticket.created_at", read_only=True)
    updated_at = serializers.DateTimeField(source="ticket.updated_at", read_only=True)
    closed_at = serializers.DateTimeField(
        source="ticket.closed_at", read_only=True, allow_null=True
    )
    version = serializers.IntegerField(source="ticket.version", read_only=True)
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=TaskStatus.choices), read_only=True
    )

    class Meta:
        model = FulfilmentTask
        fields = [
            "id",
            "number",
            "title",
            "description",
            "status",
            "state",
            "priority",
            "order",
            "waits_for_previous",
            "request",
            "request_id",
            "service",
            "team",
            "assignee",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
            "allowed_transitions",
        ]
        read_only_fields = fields
        expandable_fields = EXPAND_SERVICE


# ------------------------------------------------------------------ input
@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "Question name → answer (see the item's form). In a multipart request, "
        "a JSON string; attach files under the question's name.",
    }
)
class AnswersField(serializers.Field):
    """An object of answers, or (multipart) the same object as a JSON string."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError("Send valid JSON.") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("Send an object of name → answer.")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ServiceRequestCreateInput(serializers.Serializer):
    item = serializers.IntegerField(help_text="Id of a catalogue item you may order.")
    answers = AnswersField(required=False, default=dict)
    requested_for = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Who it is for (default: yourself).",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=1000, default=1)


class ServiceRequestMultipartInput(ServiceRequestCreateInput):
    """The same order as multipart/form-data (to attach files), as the schema describes it:
    a form field cannot carry null, so `requested_for` is an id or left out."""

    requested_for = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="Who it is for (default: yourself).",
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    version = serializers.IntegerField(required=False, min_value=1)


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=20000)


class TaskCommentInput(CommentInput):
    public = serializers.BooleanField(
        default=False, help_text="A public reply (default: an internal work note)."
    )


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text="Required when rejecting: the requester reads it.",
    )


class TaskTransitionInput(serializers.Serializer):
    target = serializers.ChoiceField(choices=TaskStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    version = serializers.IntegerField(required=False, min_value=1)


class TaskAssignInput(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    version = serializers.IntegerField(required=False, min_value=1)
