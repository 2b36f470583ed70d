"""Change API. Reads come from `Change.objects.visible_to(user)` (hidden → 404); every write is
input serializer → one service → `ChangeSerializer`. Object permissions are the predicates in
changes.permissions; domain errors map to 400/409/412 in core.api.errors."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
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
from tickets.api.serializers import TicketEventSerializer
from tickets.choices import ApprovalDecision, TicketKind
from tickets.models import Approval, Ticket, TicketEvent

from .. import permissions, services
from ..calendar import calendar_entries
from ..conflicts import conflicts_of, find_conflicts
from ..filtersets import ChangeFilterSet
from ..models import BlackoutWindow, Change, RiskQuestion, StandardChangeTemplate
from .serializers import (
    BlackoutWindowInput,
    BlackoutWindowSerializer,
    CalendarEntrySerializer,
    CalendarQueryInput,
    ChangeAssignInput,
    ChangeCommentInput,
    ChangeCreateInput,
    ChangeDecisionInput,
    ChangeLinkInput,
    ChangeRiskInput,
    ChangeRiskOverrideInput,
    ChangeSerializer,
    ChangeTransitionInput,
    ChangeUpdateInput,
    ConflictQueryInput,
    ConflictsSerializer,
    RiskQuestionSerializer,
    StandardChangeTemplateSerializer,
)

ETAG = etag_parameter("change")
#: The pk is the ticket id (Change has no `id` field, so spectacular cannot infer it).
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The change's ticket id.")


def _etag(change: Change) -> str:
    return f'"{change.ticket.version}"'


def _require(allowed: bool) -> None:
    if not allowed:
        raise exceptions.PermissionDenied()


#: prefetch_related paths of each `?expand=` name.
EXPAND_RELATED = {
    "services": ("services__owner", "services__support_team"),
    "template": ("template__services",),
}


def _with_details(queryset: QuerySet[Change], request: Request) -> QuerySet[Change]:
    return (
        queryset.for_list()
        .select_related("template")
        .prefetch_related(
            *expand_related(request, EXPAND_RELATED),
            Prefetch(
                "ticket__approvals",
                queryset=Approval.objects.select_related(
                    "approver", "approver_team", "decided_by"
                ).order_by("stage", "pk"),
            ),
        )
    )


class ChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Changes the caller may see, newest first. Looked up by id (the ticket id)."""

    serializer_class = ChangeSerializer
    filterset_class = ChangeFilterSet
    pagination_class = TicketCursorPagination

    def get_queryset(self) -> QuerySet[Change]:
        return _with_details(Change.objects.visible_to(self.request.user), self.request)

    def _validated(self, input_class: type, request: Request, data: Any = None) -> dict[str, Any]:
        serializer = input_class(
            data=request.data if data is None else data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _written(self, change: Change, status_code: int = status.HTTP_200_OK) -> Response:
        """Re-read what a service wrote with the list's joins, and answer with its ETag."""
        change = _with_details(Change.objects.all(), self.request).get(pk=change.pk)
        serializer = self.get_serializer(change)
        return Response(serializer.data, status=status_code, headers={"ETag": _etag(change)})

    # ------------------------------------------------------------------ reads
    @extend_schema(
        parameters=[ID, ETAG, IF_NONE_MATCH],
        responses={200: ChangeSerializer, 304: NOT_MODIFIED},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        change = self.get_object()
        return detail_response(request, _etag(change), lambda: self.get_serializer(change).data)

    # ------------------------------------------------------------------ writes
    @extend_schema(
        request=ChangeCreateInput,
        responses={201: ChangeSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ETAG, IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Draft a change (agents). With `template` it is a standard change."""
        _require(getattr(request.user, "is_agent", False))
        values = self._validated(ChangeCreateInput, request)
        change = services.change_create(by=request.user, **values)
        return self._written(change, status.HTTP_201_CREATED)

    @extend_schema(
        request=ChangeUpdateInput,
        responses={200: ChangeSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit fields, plans, services and the window. A booked change moved into a conflict
        answers 409 unless a change manager gives `override_reason`."""
        change = self.get_object()
        _require(permissions.can_work(request.user, change))
        fields = self._validated(ChangeUpdateInput, request)
        expected = _expected_version(request, fields.pop("version", None))
        change = services.change_update(
            change=change, by=request.user, expected_version=expected, **fields
        )
        return self._written(change)

    @extend_schema(
        request=ChangeTransitionInput,
        responses={200: ChangeSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the change through its lifecycle. `authorize` is the change manager approving
        and sending it to the CAB (`approvers` optional); the other guards are documented on
        each field."""
        change = self.get_object()
        _require(permissions.can_work(request.user, change))
        data = self._validated(ChangeTransitionInput, request)
        expected = _expected_version(request, data.pop("version", None))
        change = services.change_transition(
            change=change, by=request.user, expected_version=expected, **data
        )
        return self._written(change)

    @extend_schema(
        request=ChangeDecisionInput,
        responses={200: ChangeSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, pk: str | None = None) -> Response:
        """Approve or reject as one of the change's approvers (a comment is required to
        reject). Any rejection stops the change."""
        change = self.get_object()
        data = self._validated(ChangeDecisionInput, request)
        pending = Approval.objects.filter(ticket_id=change.pk, decision=ApprovalDecision.PENDING)
        if data.get("approval") is not None:
            pending = pending.filter(pk=data["approval"])
        approval = next(
            (a for a in pending.order_by("stage", "pk") if services.is_approver(request.user, a)),
            None,
        )
        if approval is None or not permissions.can_decide(request.user, change, approval):
            raise exceptions.PermissionDenied("You have no pending approval on this change.")
        change = services.change_decide(
            change=change,
            approval=approval,
            by=request.user,
            decision=data["decision"],
            comment=data["comment"],
        )
        return self._written(change)

    @extend_schema(
        request=ChangeRiskInput,
        responses={200: ChangeSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def risk(self, request: Request, pk: str | None = None) -> Response:
        """Answer the risk questionnaire (unanswered questions count as "no")."""
        change = self.get_object()
        _require(permissions.can_assess_risk(request.user, change))
        data = self._validated(ChangeRiskInput, request)
        expected = _expected_version(request, data.pop("version", None))
        answers = {a["question"]: a["answer"] for a in data["answers"]}
        change = services.change_answer_risk(
            change=change, by=request.user, answers=answers, expected_version=expected
        )
        return self._written(change)

    @extend_schema(
        request=ChangeRiskOverrideInput,
        responses={200: ChangeSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"], url_path="risk-override", url_name="risk-override")
    def risk_override(self, request: Request, pk: str | None = None) -> Response:
        """A change manager sets the risk with a reason."""
        change = self.get_object()
        _require(permissions.can_override_risk(request.user, change))
        data = self._validated(ChangeRiskOverrideInput, request)
        expected = _expected_version(request, data.pop("version", None))
        change = services.change_override_risk(
            change=change, by=request.user, expected_version=expected, **data
        )
        return self._written(change)

    @extend_schema(
        request=ChangeAssignInput,
        responses={200: ChangeSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Give the change to a team and/or an implementer."""
        change = self.get_object()
        _require(permissions.can_work(request.user, change))
        data = self._validated(ChangeAssignInput, request)
        expected = _expected_version(request, data.pop("version", None))
        change = services.change_assign(
            change=change, by=request.user, expected_version=expected, **data
        )
        return self._written(change)

    @extend_schema(
        request=ChangeLinkInput,
        responses={200: ChangeSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"], url_path="fixes", url_name="fixes")
    def fixes(self, request: Request, pk: str | None = None) -> Response:
        """Record that this change fixes an incident (by number; hidden incidents are 404)."""
        change = self.get_object()
        _require(permissions.can_work(request.user, change))
        data = self._validated(ChangeLinkInput, request)
        incident = get_object_or_404(
            Ticket.objects.visible_to(request.user).filter(kind=TicketKind.INCIDENT),
            number=data["incident"].strip().upper(),
        )
        services.change_link_incident(change=change, by=request.user, incident=incident)
        return self._written(change)

    @extend_schema(
        request=ChangeCommentInput,
        responses={201: TicketEventSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        """A public reply on the change."""
        change = self.get_object()
        _require(permissions.can_work(request.user, change))
        data = self._validated(ChangeCommentInput, request)
        event = services.change_comment(change=change, by=request.user, body=data["body"])
        return Response(
            TicketEventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=ChangeCommentInput,
        responses={201: TicketEventSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"], url_path="work-note", url_name="work-note")
    def work_note(self, request: Request, pk: str | None = None) -> Response:
        """An internal work note (agents only)."""
        change = self.get_object()
        _require(permissions.can_work(request.user, change))
        data = self._validated(ChangeCommentInput, request)
        event = services.change_comment(
            change=change, by=request.user, body=data["body"], public=False
        )
        return Response(
            TicketEventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=None, responses=TicketEventSerializer(many=True), parameters=[ID], filters=False
    )
    @action(detail=True, methods=["get"], pagination_class=StandardPagination, filterset_class=None)
    def journal(self, request: Request, pk: str | None = None) -> Response:
        """The journal, oldest first (requesters and CAB members who are not agents get the
        public entries only)."""
        change = self.get_object()
        entries = (
            TicketEvent.objects.filter(ticket_id=change.pk)
            .for_viewer(request.user)
            .select_related("actor")
            .order_by("created_at", "pk")
        )
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(
            TicketEventSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=None,
        responses=ConflictsSerializer,
        parameters=[ID],
        filters=False,
        operation_id="v1_changes_own_conflicts",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="conflicts",
        url_name="own-conflicts",
        filterset_class=None,
    )
    def own_conflicts(self, request: Request, pk: str | None = None) -> Response:
        """Booked changes and blackouts overlapping this change's planned window."""
        change = self.get_object()
        return Response(ConflictsSerializer(conflicts_of(change)).data)

    @extend_schema(
        parameters=[ConflictQueryInput],
        responses={200: ConflictsSerializer, 400: PROBLEM},
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def conflicts(self, request: Request) -> Response:
        """Conflicts of a proposed window: `?start=…&end=…&services=1,2` (ISO 8601 times).
        Booked changes hidden from the caller are still counted but not named."""
        data = self._validated(ConflictQueryInput, request, data=request.query_params)
        found = find_conflicts(
            start=data["start"],
            end=data["end"],
            service_ids=data["services"],
            exclude_pk=data.get("exclude"),
        )
        visible = set(
            Change.objects.visible_to(request.user)
            .filter(pk__in=[c.pk for c in found.changes])
            .values_list("pk", flat=True)
        )
        hidden = [c for c in found.changes if c.pk not in visible]
        found.changes = [c for c in found.changes if c.pk in visible]
        body = ConflictsSerializer(found).data
        body["has_conflicts"] = bool(found) or bool(hidden)
        body["hidden_changes"] = len(hidden)
        return Response(body)

    @extend_schema(
        parameters=[CalendarQueryInput],
        responses={200: CalendarEntrySerializer(many=True), 400: PROBLEM},
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def calendar(self, request: Request) -> Response:
        """Change windows and blackout occurrences overlapping [start, end) (at most 92 days),
        filtered by service and team. Constant queries whatever the range holds."""
        _require(permissions.can_use_calendar(request.user))
        data = self._validated(CalendarQueryInput, request, data=request.query_params)
        entries = calendar_entries(user=request.user, **data)
        return Response(CalendarEntrySerializer(entries, many=True).data)


class BlackoutWindowViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Blackout windows: agents read them; change managers define them."""

    serializer_class = BlackoutWindowSerializer
    pagination_class = StandardPagination
    queryset = BlackoutWindow.objects.prefetch_related("services").order_by("start", "pk")

    def get_queryset(self) -> QuerySet[BlackoutWindow]:
        _require(permissions.can_use_calendar(self.request.user))
        return super().get_queryset()

    def _save(self, request: Request, window: BlackoutWindow | None, partial: bool) -> Response:
        _require(permissions.can_manage_blackouts(request.user))
        data: Any = request.data
        if partial and window is not None:
            current = {
                "name": window.name,
                "start": window.start,
                "end": window.end,
                "timezone": window.timezone,
                "recurrence": window.recurrence,
                "until": window.until,
                "services": [s.pk for s in window.services.all()],
                "reason": window.reason,
                "active": window.active,
            }
            data = {**current, **request.data}
        serializer = BlackoutWindowInput(data=data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        saved = services.blackout_window_save(
            by=request.user,
            window=window,
            timezone_name=values.pop("timezone"),
            **values,
        )
        saved = self.get_queryset().get(pk=saved.pk)
        code = status.HTTP_201_CREATED if window is None else status.HTTP_200_OK
        return Response(BlackoutWindowSerializer(saved).data, status=code)

    @extend_schema(request=BlackoutWindowInput, responses={201: BlackoutWindowSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._save(request, None, partial=False)

    @extend_schema(request=BlackoutWindowInput, responses={200: BlackoutWindowSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._save(request, self.get_object(), partial=kwargs.get("partial", False))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require(permissions.can_manage_blackouts(request.user))
        services.blackout_window_delete(window=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StandardChangeTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue of standard (pre-approved) changes."""

    serializer_class = StandardChangeTemplateSerializer
    pagination_class = StandardPagination
    queryset = StandardChangeTemplate.objects.filter(active=True).prefetch_related("services")


class RiskQuestionViewSet(viewsets.ReadOnlyModelViewSet):
    """The active risk questionnaire."""

    serializer_class = RiskQuestionSerializer
    pagination_class = None
    queryset = RiskQuestion.objects.filter(active=True)
