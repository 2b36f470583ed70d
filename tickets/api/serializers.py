from rest_framework import serializers

from accounts.models import Team, User
from tickets.models import Ticket, TicketEvent


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "display_name"]


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class TicketSerializer(serializers.ModelSerializer):
    requester = UserRefSerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True)
    team = TeamRefSerializer(read_only=True)
    service = serializers.StringRelatedField()

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
        ]
        read_only_fields = fields


class TicketEventSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "type", "public", "actor", "body", "data", "created_at"]
        read_only_fields = fields
