"""Desk API shapes: bulk actions and merge (with per-ticket results), saved views, queue counts."""

from typing import Any

from rest_framework import serializers

from accounts.models import Team
from incidents.choices import OnHoldReason, ResolutionCode
from tickets.choices import LinkKind, Priority

from ..bulk import ACTIONS, MAX_BULK, STATUS_TARGETS, bulk_problems
from ..models import SavedView
from ..queue_forms import agent_choices


class TicketRefInput(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The version you saw; a newer one is refused."
    )


class BulkInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(ACTIONS))
    tickets = serializers.ListField(child=TicketRefInput(), min_length=1, max_length=MAX_BULK)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=agent_choices(), required=False, allow_null=True, default=None
    )
    assignee_me = serializers.BooleanField(required=False, default=False)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    target = serializers.ChoiceField(
        choices=sorted(STATUS_TARGETS), required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    on_hold_reason = serializers.ChoiceField(
        choices=OnHoldReason.choices, required=False, allow_blank=True, default=""
    )
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, required=False, allow_blank=True, default=""
    )
    resolution_notes = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    tag = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems = bulk_problems(attrs["action"], attrs)
        if problems:
            # The schema cannot say "a tag is required when the action is tag".
            raise serializers.ValidationError(problems, code="business_rule")
        if attrs["action"] == "team":
            attrs["assignee"] = None
        return attrs


class MergeInput(serializers.Serializer):
    target = serializers.RegexField(
        r"^(INC|REQ|TASK|CHG)\d{7}$", help_text="Number of the ticket to keep."
    )
    tickets = serializers.ListField(child=TicketRefInput(), min_length=1, max_length=MAX_BULK)


class RefusedSerializer(serializers.Serializer):
    number = serializers.CharField()
    reason = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    summary = serializers.CharField()
    updated = serializers.ListField(child=serializers.CharField())
    refused = RefusedSerializer(many=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "summary": instance.summary,
            "updated": instance.updated,
            "refused": [{"number": n, "reason": r} for n, r in instance.refused],
        }


class SavedViewSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    query = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="The desk queue's query string, e.g. queue=mine&priority=1.",
    )

    class Meta:
        model = SavedView
        fields = ["id", "name", "query", "team", "owner", "created_at"]
        read_only_fields = ["id", "owner", "created_at"]
        extra_kwargs = {"name": {"max_length": 80}}


class QueueCountSerializer(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Up to 999; see `capped`.")
    capped = serializers.BooleanField(help_text="More tickets than `count` (counting stops).")


class LinkedTicketSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.CharField()


class TicketLinkSerializer(serializers.Serializer):
    """One link (a desk.related.RelatedRow), read from the ticket in the URL: "this ticket
    <label> <ticket>"."""

    id = serializers.IntegerField(source="link_id")
    kind = serializers.ChoiceField(choices=LinkKind.choices)
    label = serializers.CharField(help_text='From this ticket\'s side, e.g. "Duplicated by".')
    ticket = LinkedTicketSerializer(source="other")


class TicketLinkInput(serializers.Serializer):
    number = serializers.CharField(max_length=16, help_text="The other ticket's number.")
    kind = serializers.ChoiceField(
        choices=LinkKind.choices, help_text="This ticket is <kind> the other one."
    )
