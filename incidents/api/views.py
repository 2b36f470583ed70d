"""Incident API. Reads come from `Incident.objects.visible_to(user)` (hidden → 404); every write
is input serializer → one service → `IncidentSerializer`. Object permissions are the
predicates in incidents.permissions; domain errors map to 400/409/412 in core.api.errors."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.conditional import (
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    PROBLEM,
    detail_response,
    etag_parameter,
)
from core.api.conditional import expected_version as _expected_version
from core.api.fields import expand_related
from core.api.idempotency import IDEMPOTENCY_KEY, idempotent
from core.api.pagination import StandardPagination, TicketCursorPagination
from core.exceptions import StaleWrite
from tickets.api.serializers import TicketEventSerializer
from tickets.models import TicketEvent

from .. import permissions
from ..choices import Channel, IncidentStatus, Level
from ..filtersets import IncidentFilterSet
from ..models import Incident
from ..services import (
    incident_assign,
    incident_comment,
    incident_confirm,
    incident_create,
    incident_mark_major,
    incident_override_priority,
    incident_reopen,
    incident_transition,
    incident_update,
)
from .serializers import (
    IncidentAssignInput,
    IncidentCommentInput,
    IncidentCreateInput,
    IncidentMajorInput,
    IncidentPriorityInput,
    IncidentSerializer,
    IncidentTransitionInput,
    IncidentUpdateInput,
)

#: select_related paths of each `?expand=` name.
EXPAND_RELATED = {"service": ("ticket__service__owner", "ticket__service__support_team")}
#: Create fields only agents may set; a requester always raises for themself.
AGENT_CREATE_FIELDS = ("requester", "channel", "team", "assignee")

ETAG = etag_parameter("incident")
#: The pk is the ticket id (Incident has no `id` field, so spectacular cannot infer it).
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The incident's ticket id.")


def _etag(incident: Incident) -> str:
    return f'"{incident.ticket.version}"'


def _require(allowed: bool) -> None:
    if not allowed:
        raise exceptions.PermissionDenied()


class IncidentViewSet(viewsets.ReadOnlyModelViewSet):
    """Incidents the caller may see, newest first. Looked up by id (the ticket id)."""

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    pagination_class = TicketCursorPagination

    def get_queryset(self) -> QuerySet[Incident]:
        return (
            Incident.objects.visible_to(self.request.user)
            .for_list()
            .select_related("subcategory", "parent__ticket", *self._expanded())
        )

    def _expanded(self) -> list[str]:
        """Joins the `?expand=` relations read (no query per row)."""
        return expand_related(self.request, EXPAND_RELATED)

    def _validated(self, input_class: type, request: Request) -> dict[str, Any]:
        data = input_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _written(self, incident: Incident, status_code: int = status.HTTP_200_OK) -> Response:
        """Re-read what a service wrote, with the list's joins, and answer with its ETag. Not
        through visible_to: a reassignment may take the incident out of the caller's view."""
        incident = (
            Incident.objects.for_list()
            .select_related("subcategory", "parent__ticket", *self._expanded())
            .get(pk=incident.pk)
        )
        serializer = self.get_serializer(incident)
        return Response(serializer.data, status=status_code, headers={"ETag": _etag(incident)})

    # ------------------------------------------------------------------ reads
    @extend_schema(
        parameters=[ID, ETAG, IF_NONE_MATCH],
        responses={200: IncidentSerializer, 304: NOT_MODIFIED},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incident = self.get_object()
        return detail_response(request, _etag(incident), lambda: self.get_serializer(incident).data)

    # ------------------------------------------------------------------ writes
    @extend_schema(
        request=IncidentCreateInput,
        responses={201: IncidentSerializer, 400: PROBLEM},
        parameters=[ETAG, IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = self._validated(IncidentCreateInput, request)
        if request.user.is_agent:
            values.setdefault("requester", request.user)
            values.setdefault("channel", Channel.API)
        else:
            for name in AGENT_CREATE_FIELDS:
                values.pop(name, None)
            values.update(requester=request.user, channel=Channel.API, impact=Level.MEDIUM)
        incident = incident_create(by=request.user, **values)
        return self._written(incident, status.HTTP_201_CREATED)

    @extend_schema(
        request=IncidentUpdateInput,
        responses={200: IncidentSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incident = self.get_object()
        _require(permissions.can_work(request.user, incident))
        fields = self._validated(IncidentUpdateInput, request)
        expected = _expected_version(request, fields.pop("version", None))
        incident = incident_update(
            incident=incident, by=request.user, expected_version=expected, **fields
        )
        return self._written(incident)

    @extend_schema(
        request=IncidentTransitionInput,
        responses={200: IncidentSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Agents move the incident anywhere the lifecycle allows. The requester may confirm a
        resolution (closed), reopen it within the window (in_progress, `note` = what is still
        wrong) or withdraw a new incident (cancelled)."""
        incident = self.get_object()
        data = self._validated(IncidentTransitionInput, request)
        expected = _expected_version(request, data.pop("version", None))
        user, target = request.user, data["target"]
        if permissions.can_work(user, incident):
            incident = incident_transition(
                incident=incident, by=user, expected_version=expected, **data
            )
        elif target == IncidentStatus.CLOSED and permissions.can_confirm(user, incident):
            # incident_confirm takes no expected_version: check the one the caller read here.
            if expected is not None and expected != incident.ticket.version:
                raise StaleWrite(current_version=incident.ticket.version)
            incident = incident_confirm(incident=incident, by=user)
        elif target == IncidentStatus.IN_PROGRESS and permissions.can_reopen(user, incident):
            incident = incident_reopen(
                incident=incident, by=user, reason=data["note"], expected_version=expected
            )
        elif target == IncidentStatus.CANCELLED and permissions.can_cancel(user, incident):
            incident = incident_transition(
                incident=incident,
                by=user,
                target=IncidentStatus.CANCELLED,
                note=data["note"],
                expected_version=expected,
            )
        else:
            raise exceptions.PermissionDenied()
        return self._written(incident)

    @extend_schema(
        request=IncidentAssignInput,
        responses={200: IncidentSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Reassign to a team and/or an agent (`assignee: "me"` takes it)."""
        incident = self.get_object()
        _require(permissions.can_work(request.user, incident))
        data = self._validated(IncidentAssignInput, request)
        expected = _expected_version(request, data.pop("version", None))
        incident = incident_assign(
            incident=incident, by=request.user, expected_version=expected, **data
        )
        return self._written(incident)

    @extend_schema(
        request=IncidentPriorityInput,
        responses={200: IncidentSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def priority(self, request: Request, pk: str | None = None) -> Response:
        """Override the matrix priority; the reason is required and journalled."""
        incident = self.get_object()
        _require(permissions.can_work(request.user, incident))
        data = self._validated(IncidentPriorityInput, request)
        expected = _expected_version(request, data.pop("version", None))
        incident = incident_override_priority(
            incident=incident, by=request.user, expected_version=expected, **data
        )
        return self._written(incident)

    @extend_schema(
        request=IncidentMajorInput,
        responses={200: IncidentSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def major(self, request: Request, pk: str | None = None) -> Response:
        """Flag (or unflag) a major incident."""
        incident = self.get_object()
        _require(permissions.can_work(request.user, incident))
        data = self._validated(IncidentMajorInput, request)
        expected = _expected_version(request, data.pop("version", None))
        incident = incident_mark_major(
            incident=incident, by=request.user, major=data["is_major"], expected_version=expected
        )
        return self._written(incident)

    @extend_schema(
        request=IncidentCommentInput,
        responses={201: TicketEventSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        """A public reply, visible to the requester."""
        incident = self.get_object()
        _require(permissions.can_comment(request.user, incident))
        data = self._validated(IncidentCommentInput, request)
        event = incident_comment(incident=incident, by=request.user, body=data["body"])
        return Response(
            TicketEventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=IncidentCommentInput,
        responses={201: TicketEventSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"], url_path="work-note", url_name="work-note")
    def work_note(self, request: Request, pk: str | None = None) -> Response:
        """An internal work note: agents only, never shown to the requester."""
        incident = self.get_object()
        _require(permissions.can_work(request.user, incident))
        data = self._validated(IncidentCommentInput, request)
        event = incident_comment(
            incident=incident, by=request.user, body=data["body"], public=False
        )
        return Response(
            TicketEventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=None, responses=TicketEventSerializer(many=True), parameters=[ID], filters=False
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=StandardPagination,
        filterset_class=None,
    )
    def journal(self, request: Request, pk: str | None = None) -> Response:
        """The journal, oldest first. Requesters get public entries only (no work notes)."""
        incident = self.get_object()
        events = (
            TicketEvent.objects.filter(ticket_id=incident.pk)
            .for_viewer(request.user)
            .select_related("actor")
            .order_by("created_at", "pk")
        )
        page = self.paginate_queryset(events)
        serializer = TicketEventSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)
