"""Inbound monitoring alerts: `POST /api/v1/alerts/` takes a Prometheus Alertmanager
webhook payload and creates, updates or resolves one incident per alert fingerprint; the
list shows the alerts received and the incident each raised."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.idempotency import IDEMPOTENCY_KEY, idempotent
from core.api.pagination import TicketCursorPagination
from tickets.models import Ticket

from .. import permissions
from ..alerts import alerts_receive
from ..choices import AlertStatus
from ..models import Alert
from .serializers import AlertmanagerPayloadInput, AlertReceiptSerializer, AlertSerializer

FIRING_EXAMPLE = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "servicedesk",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
    "commonAnnotations": {"summary": "5xx above 5% on checkout"},
    "externalURL": "http://alertmanager.example.com:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "severity": "critical",
                "service": "Online shop",
                "team": "Network",
                "instance": "web-1:9100",
            },
            "annotations": {
                "summary": "5xx above 5% on checkout",
                "description": "Error rate is 7.2% over the last 5 minutes.",
            },
            "startsAt": "2025-03-01T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=...",
            "fingerprint": "b1b6bbd2e8a1c0f3",
        }
    ],
}
RESOLVED_EXAMPLE = {
    **FIRING_EXAMPLE,
    "status": "resolved",
    "alerts": [
        {
            **FIRING_EXAMPLE["alerts"][0],
            "status": "resolved",
            "endsAt": "2025-03-01T10:25:00Z",
        }
    ],
}


class AlertFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    fingerprint = django_filters.CharFilter()
    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Alert
        fields = ["status", "fingerprint", "name"]


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monitoring alerts received and the incident each raised (agents and service
    accounts). Send alerts with POST, in Alertmanager's webhook format."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    # Alertmanager posts JSON; a form encoding cannot carry the nested alerts (so the schema
    # must not offer one).
    parser_classes = [JSONParser]
    pagination_class = TicketCursorPagination
    queryset = Alert.objects.none()

    def get_queryset(self) -> QuerySet[Alert]:
        user = self.request.user
        if not permissions.can_view_alerts(user):
            raise exceptions.PermissionDenied()
        visible = Ticket.objects.visible_to(user).values("pk")
        return Alert.objects.filter(Q(ticket__isnull=True) | Q(ticket__in=visible)).select_related(
            "ticket"
        )

    @extend_schema(
        request=AlertmanagerPayloadInput,
        responses={200: AlertReceiptSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Alertmanager: firing", value=FIRING_EXAMPLE, request_only=True),
            OpenApiExample("Alertmanager: resolved", value=RESOLVED_EXAMPLE, request_only=True),
            OpenApiExample(
                "Outcome",
                value={
                    "results": [
                        {
                            "fingerprint": "b1b6bbd2e8a1c0f3",
                            "action": "created",
                            "incident": "INC0001042",
                        }
                    ]
                },
                response_only=True,
            ),
        ],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Point an Alertmanager `webhook_configs` receiver here, with a service account's
        write token as `Authorization: Bearer …` (`http_config.authorization.credentials`).
        One incident per alert fingerprint: repeated notifications are deduplicated, a
        resolved alert resolves its incident, a new firing episode raises a new incident.
        Labels used: `severity` (critical/major/error/warning/minor/info → impact and
        urgency), `team` and `service` (names), `alertname` and `instance` (title)."""
        if not permissions.can_post_alerts(request.user):
            raise exceptions.PermissionDenied("Alerts come from service accounts or agents.")
        data = AlertmanagerPayloadInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcomes = alerts_receive(alerts=data.validated_data["alerts"], by=request.user)
        body = AlertReceiptSerializer({"results": outcomes}).data
        return Response(body, status=status.HTTP_200_OK)

    @extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)
