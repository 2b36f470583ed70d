"""Alerts API serializers: the Alertmanager webhook payload (input) and what was done."""

from typing import Any

from rest_framework import serializers

from ..choices import AlertAction, AlertStatus
from ..models import Alert

MAX_ALERTS = 1000


class StringMapField(serializers.DictField):
    """A flat map of short string keys to string values (labels, annotations). Keys are
    checked too: PostgreSQL JSON cannot store a NUL character."""

    child = serializers.CharField(allow_blank=True, max_length=10_000, trim_whitespace=False)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict):
            bad = [k for k in data if not isinstance(k, str) or "\x00" in k or len(k) > 200]
            if bad:
                self.fail("invalid_key")
        return super().to_internal_value(data)

    default_error_messages = {
        **serializers.DictField.default_error_messages,
        "invalid_key": "Keys must be 1 to 200 characters, without NUL.",
    }


class AlertInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    labels = StringMapField(help_text="`alertname`, `severity`, `team`, `service`, … .")
    annotations = StringMapField(required=False, default=dict)
    startsAt = serializers.DateTimeField(required=False, allow_null=True)
    endsAt = serializers.DateTimeField(required=False, allow_null=True)
    generatorURL = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    fingerprint = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        help_text="Alertmanager's fingerprint; without it, a hash of the labels.",
    )


class AlertmanagerPayloadInput(serializers.Serializer):
    """Prometheus Alertmanager webhook payload (version 4). Only `alerts` is required."""

    version = serializers.CharField(required=False, allow_blank=True, max_length=10)
    groupKey = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    truncatedAlerts = serializers.IntegerField(required=False, min_value=0)
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    receiver = serializers.CharField(required=False, allow_blank=True, max_length=200)
    groupLabels = StringMapField(required=False)
    commonLabels = StringMapField(required=False)
    commonAnnotations = StringMapField(required=False)
    externalURL = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    alerts = serializers.ListField(
        child=AlertInput(), min_length=1, max_length=MAX_ALERTS, help_text="The alerts."
    )


class AlertOutcomeSerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    action = serializers.ChoiceField(choices=AlertAction.choices)
    incident = serializers.CharField(allow_null=True, help_text="Incident number, if any.")


class AlertReceiptSerializer(serializers.Serializer):
    results = AlertOutcomeSerializer(many=True)


class AlertSerializer(serializers.ModelSerializer):
    incident = serializers.CharField(source="ticket.number", read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "fingerprint",
            "name",
            "status",
            "incident",
            "labels",
            "annotations",
            "generator_url",
            "starts_at",
            "ends_at",
            "received_count",
            "first_received_at",
            "last_received_at",
        ]
        read_only_fields = fields
