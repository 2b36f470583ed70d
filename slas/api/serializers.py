"""SLA API serializers (output only: policies and calendars are edited in the admin).

Worked and left seconds are computed at one instant per request, passed as
`context["now"]`."""

from datetime import datetime, timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import ClockState
from ..models import (
    BusinessCalendar,
    ClockSegment,
    EscalationRule,
    Holiday,
    SlaClock,
    SlaEvent,
    SlaPolicy,
)
from ..services import worked


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["date", "name"]
        read_only_fields = fields


class BusinessCalendarSerializer(serializers.ModelSerializer):
    hours = serializers.JSONField(
        read_only=True,
        help_text='Weekday (0 = Monday) → intervals, e.g. {"0": [["09:00", "17:00"]]}.',
    )
    holidays = HolidaySerializer(many=True, read_only=True)

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone", "hours", "holidays", "updated_at"]
        read_only_fields = fields


class CalendarRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone"]
        read_only_fields = fields


class EscalationRuleSerializer(serializers.ModelSerializer):
    delay_seconds = serializers.SerializerMethodField()

    class Meta:
        model = EscalationRule
        fields = [
            "id",
            "order",
            "trigger",
            "threshold",
            "delay_seconds",
            "action",
            "team",
            "flag",
            "active",
        ]
        read_only_fields = fields

    def get_delay_seconds(self, rule: EscalationRule) -> float:
        return rule.delay.total_seconds()


class SlaPolicySerializer(serializers.ModelSerializer):
    target_seconds = serializers.SerializerMethodField()
    calendar = CalendarRefSerializer(read_only=True)
    escalation_rules = EscalationRuleSerializer(many=True, read_only=True)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "kind",
            "metric",
            "target_seconds",
            "calendar",
            "order",
            "active",
            "priorities",
            "services",
            "teams",
            "organizations",
            "pause_statuses",
            "warning_thresholds",
            "escalation_rules",
            "updated_at",
        ]
        read_only_fields = fields

    def get_target_seconds(self, policy: SlaPolicy) -> float:
        return policy.target.total_seconds()


class PolicyRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["id", "name"]
        read_only_fields = fields


class ClockSegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClockSegment
        fields = ["running", "started_at", "ended_at", "reason"]
        read_only_fields = fields


class SlaEventSerializer(serializers.ModelSerializer):
    lateness_seconds = serializers.SerializerMethodField()

    class Meta:
        model = SlaEvent
        fields = ["type", "threshold", "planned_at", "recorded_at", "lateness_seconds"]
        read_only_fields = fields

    def get_lateness_seconds(self, event: SlaEvent) -> float:
        return event.lateness.total_seconds()


@extend_schema_field(
    # Inline (inside allOf) so drf-spectacular does not try to share one "StateEnum" with the
    # tickets' state (warning W001 fails `check --deploy`). Once ENUM_NAME_OVERRIDES names
    # "ClockStateEnum": "slas.choices.ClockState", this can be a plain ChoiceField.
    {"allOf": [{"type": "string", "enum": ClockState.values}], "readOnly": True}
)
class ClockStateField(serializers.CharField):
    pass


class _ClockBase(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.number", read_only=True)
    state = ClockStateField(read_only=True)


class SlaClockPublicSerializer(_ClockBase):
    """What a requester sees of their own ticket's clocks."""

    class Meta:
        model = SlaClock
        fields = ["ticket", "metric", "state", "due_at"]
        read_only_fields = fields


class SlaClockSerializer(_ClockBase):
    """A clock as agents see it: numbers computed now, the policy and why it applies, and the
    segments and events that explain them."""

    policy = PolicyRefSerializer(read_only=True)
    calendar = CalendarRefSerializer(source="policy.calendar", read_only=True)
    target_seconds = serializers.SerializerMethodField()
    worked_seconds = serializers.SerializerMethodField()
    left_seconds = serializers.SerializerMethodField()
    running = serializers.SerializerMethodField()
    match_reason = serializers.JSONField(read_only=True)
    segments = ClockSegmentSerializer(many=True, read_only=True)
    events = SlaEventSerializer(many=True, read_only=True)

    class Meta:
        model = SlaClock
        fields = [
            "id",
            "ticket",
            "metric",
            "state",
            "policy",
            "calendar",
            "target_seconds",
            "worked_seconds",
            "left_seconds",
            "running",
            "started_at",
            "due_at",
            "paused_at",
            "stopped_at",
            "breached_at",
            "warnings",
            "match_reason",
            "segments",
            "events",
        ]
        read_only_fields = fields

    def _now(self) -> datetime:
        return self.context.get("now") or timezone.now()

    def _worked(self, clock: SlaClock) -> timedelta:
        cache: dict[int, timedelta] = self.context.setdefault("_worked", {})
        if clock.pk not in cache:
            cache[clock.pk] = worked(clock, self._now())
        return cache[clock.pk]

    def get_target_seconds(self, clock: SlaClock) -> float:
        return clock.target.total_seconds()

    def get_worked_seconds(self, clock: SlaClock) -> float:
        return self._worked(clock).total_seconds()

    @extend_schema_field(serializers.FloatField(help_text="Negative once overdue."))
    def get_left_seconds(self, clock: SlaClock) -> float:
        return (clock.target - self._worked(clock)).total_seconds()

    def get_running(self, clock: SlaClock) -> bool:
        return clock.running_since is not None and clock.is_open
