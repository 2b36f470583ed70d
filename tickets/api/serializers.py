from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from accounts.models import Team, User
from core.api.fields import FieldsExpandMixin
from tickets.models import Ticket, TicketEvent


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "display_name"]


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class TicketStatusSerializer(serializers.Serializer):
    """The kind's own status (what the portal shows), read from the ticket's detail row."""

    status = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()

    def _detail(self, ticket: Ticket) -> Any:
        try:
            return ticket.detail
        except ObjectDoesNotExist:
            return None

    def get_status(self, ticket: Ticket) -> str:
        return getattr(self._detail(ticket), "status", "")

    def get_status_label(self, ticket: Ticket) -> str:
        detail = self._detail(ticket)
        return detail.get_status_display() if detail is not None else ""


class TicketSerializer(FieldsExpandMixin, serializers.ModelSerializer):
    """A ticket of any kind. `?fields=` picks fields; `?expand=detail` adds the kind's
    status."""

    requester = UserRefSerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True)
    team = TeamRefSerializer(read_only=True)
    service = serializers.StringRelatedField()
    detail = TicketStatusSerializer(source="*", read_only=True, help_text="With ?expand=detail.")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "kind",
            "title",
            "state",
            "priority",
            "requester",
            "assignee",
            "team",
            "service",
            "created_at",
            "updated_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "version",
            "detail",
        ]
        read_only_fields = fields
        expand_only = ("detail",)


class TicketEventSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True)

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "type",
            "public",
            "actor",
            "body",
            "data",
            "time_spent_minutes",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: TicketEvent) -> dict[str, Any]:
        data = super().to_representation(instance)
        # Time logged is the desk's internal accounting: requesters (and callers without a
        # request in the context) get null.
        request = self.context.get("request")
        if not getattr(getattr(request, "user", None), "is_agent", False):
            data["time_spent_minutes"] = None
        return data
