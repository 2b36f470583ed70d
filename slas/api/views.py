"""SLA API, read-only. Clocks are visible exactly when their ticket is
(`Ticket.objects.visible_to`): a hidden ticket gives an empty list or 404, never a hint.
Requesters see a reduced clock (metric, state, due); policies and calendars are for agents."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer

from ..filtersets import SlaClockFilterSet
from ..models import BusinessCalendar, EscalationRule, SlaClock, SlaPolicy
from ..querysets import clocks_for_display, clocks_visible_to
from .serializers import (
    BusinessCalendarSerializer,
    SlaClockPublicSerializer,
    SlaClockSerializer,
    SlaPolicySerializer,
)

PROBLEM = OpenApiResponse(description="Error in the one problem format (type, title, …).")


class IsAgent(permissions.BasePermission):
    """Desk roles only; requesters get 403."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(getattr(request.user, "is_agent", False))


@extend_schema_view(
    list=extend_schema(
        description=(
            "SLA clocks of the tickets you may see, worked and left time computed now. "
            "Filter by `ticket` (number). Requesters receive only ticket, metric, state "
            "and due_at."
        ),
    ),
    retrieve=extend_schema(responses={200: SlaClockSerializer, 404: PROBLEM}),
)
class SlaClockViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SlaClockSerializer
    filterset_class = SlaClockFilterSet

    def get_queryset(self) -> QuerySet[SlaClock]:
        return clocks_for_display(clocks_visible_to(self.request.user)).order_by("ticket_id", "pk")

    def get_serializer_class(self) -> type[BaseSerializer]:
        if getattr(self, "swagger_fake_view", False) or getattr(
            self.request.user, "is_agent", False
        ):
            return SlaClockSerializer  # the schema documents the full form
        return SlaClockPublicSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}


@extend_schema_view(
    list=extend_schema(responses={200: SlaPolicySerializer(many=True), 403: PROBLEM}),
    retrieve=extend_schema(responses={200: SlaPolicySerializer, 403: PROBLEM, 404: PROBLEM}),
)
class SlaPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA policies in precedence order (agents only)."""

    serializer_class = SlaPolicySerializer
    permission_classes = [permissions.IsAuthenticated, IsAgent]
    filterset_fields = ["kind", "metric", "active"]

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return (
            SlaPolicy.objects.select_related("calendar")
            .prefetch_related(
                "services",
                "teams",
                "organizations",
                Prefetch(
                    "escalation_rules", queryset=EscalationRule.objects.order_by("order", "pk")
                ),
            )
            .order_by("kind", "metric", "order", "pk")
        )


@extend_schema_view(
    list=extend_schema(responses={200: BusinessCalendarSerializer(many=True), 403: PROBLEM}),
    retrieve=extend_schema(responses={200: BusinessCalendarSerializer, 403: PROBLEM, 404: PROBLEM}),
)
class BusinessCalendarViewSet(viewsets.ReadOnlyModelViewSet):
    """Business calendars with their holidays (agents only)."""

    serializer_class = BusinessCalendarSerializer
    permission_classes = [permissions.IsAuthenticated, IsAgent]
    filterset_class = None

    def get_queryset(self) -> QuerySet[BusinessCalendar]:
        return BusinessCalendar.objects.prefetch_related("holidays").order_by("name")
