"""Service request API. Reads come from `visible_to(user)` (hidden → 404); every write is
input serializer → one service → output serializer. Object permissions are the predicates
in servicerequests.permissions; domain errors map to 400/403/409/412 in core.api.errors, and
invalid answers to field-level messages `answers.<question>`."""

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalogue.models import CatalogueItem
from core.api.conditional import (
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    PROBLEM,
    detail_response,
    etag_parameter,
    version_etag,
)
from core.api.conditional import expected_version as _expected_version
from core.api.fields import expand_related
from core.api.idempotency import IDEMPOTENCY_KEY, idempotent
from core.api.pagination import StandardPagination, TicketCursorPagination
from tickets.api.serializers import TicketEventSerializer
from tickets.choices import TicketKind
from tickets.models import Approval

from .. import permissions
from ..answers import AnswersInvalid
from ..approvals import approvals_decided_by, approvals_waiting_on, approver_q
from ..choices import Decision, TaskStatus
from ..filtersets import FulfilmentTaskFilterSet, ServiceRequestFilterSet
from ..models import FulfilmentTask, ServiceRequest
from ..services import (
    approval_decide,
    service_request_cancel,
    service_request_close,
    service_request_comment,
    service_request_submit,
    task_assign,
    task_comment,
    task_transition,
)
from .serializers import (
    CommentInput,
    DecisionInput,
    FulfilmentTaskSerializer,
    MyApprovalSerializer,
    ReasonInput,
    ServiceRequestCreateInput,
    ServiceRequestMultipartInput,
    ServiceRequestSerializer,
    TaskAssignInput,
    TaskCommentInput,
    TaskTransitionInput,
)

ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The ticket id.")
#: select_related paths of each `?expand=` name (requests and tasks alike).
EXPAND_RELATED = {"service": ("ticket__service__owner", "ticket__service__support_team")}
#: A join for_list() already makes: `select_related()` with no names would instead replace
#: for_list()'s joins with "every non-null foreign key".
_SAME = ("ticket",)
TASK_EXPAND_RELATED = {"service": ("ticket__service__owner", "ticket__service__support_team")}


def _require(allowed: bool) -> None:
    if not allowed:
        raise exceptions.PermissionDenied()


def _validated(input_class: type, request: Request) -> dict[str, Any]:
    data = input_class(data=request.data, context={"request": request})
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _requests(request: Request) -> QuerySet[ServiceRequest]:
    approvals = Approval.objects.select_related("approver", "approver_team", "decided_by")
    tasks = FulfilmentTask.objects.select_related("ticket__team", "ticket__assignee").order_by(
        "order", "pk"
    )
    return (
        ServiceRequest.objects.for_list()
        .select_related(*expand_related(request, EXPAND_RELATED) or _SAME)
        .prefetch_related(
            Prefetch("ticket__approvals", queryset=approvals), Prefetch("tasks", queryset=tasks)
        )
    )


class ServiceRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """Service requests the caller may see (their own, their teams', the ones they approve),
    newest first. Create one by ordering a catalogue item with answers to its form."""

    serializer_class = ServiceRequestSerializer
    filterset_class = ServiceRequestFilterSet
    pagination_class = TicketCursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[ServiceRequest]:
        return _requests(self.request).visible_to(self.request.user)

    def _written(self, request: ServiceRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = _requests(self.request).get(pk=request.pk)
        data = self.get_serializer(fresh).data
        return Response(data, status=code, headers={"ETag": f'"{fresh.ticket.version}"'})

    @extend_schema(
        parameters=[ID, etag_parameter("request"), IF_NONE_MATCH],
        responses={200: ServiceRequestSerializer, 304: NOT_MODIFIED},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        return detail_response(
            request, version_etag(obj.ticket.version), lambda: self.get_serializer(obj).data
        )

    @extend_schema(
        request={
            "application/json": ServiceRequestCreateInput,
            "multipart/form-data": ServiceRequestMultipartInput,
        },
        responses={201: ServiceRequestSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Order an item. Answers are checked like in the portal (types, bounds, required,
        choices, show-if conditions); a bad answer is refused with `answers.<name>` errors
        and nothing is stored."""
        data = _validated(ServiceRequestCreateInput, request)
        item = CatalogueItem.objects.orderable_by(request.user).filter(pk=data["item"]).first()
        if item is None:
            raise exceptions.ValidationError(
                {"item": ["No item you may order has this id."]}, code="business_rule"
            )
        files = {key: request.FILES.getlist(key) for key in request.FILES}
        try:
            created = service_request_submit(
                item=item,
                by=request.user,
                answers=data["answers"],
                files=files,
                requested_for=data.get("requested_for"),
                quantity=data["quantity"],
            )
        except AnswersInvalid as exc:
            raise exceptions.ValidationError(
                {f"answers.{name}": messages for name, messages in exc.errors.items()}
            ) from None
        return self._written(created, status.HTTP_201_CREATED)

    @extend_schema(
        request=ReasonInput,
        responses={200: ServiceRequestSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM},
        parameters=[ID, IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """The requester withdraws it before fulfilment starts; agents cancel with a reason."""
        obj = self.get_object()
        _require(permissions.can_cancel(request.user, obj))
        data = _validated(ReasonInput, request)
        expected = _expected_version(request, data.get("version"))
        obj = service_request_cancel(
            request=obj, by=request.user, reason=data["reason"], expected_version=expected
        )
        return self._written(obj)

    @extend_schema(
        request=None,
        responses={200: ServiceRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        parameters=[ID, IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Confirm a fulfilled request (requester) or close it (agent)."""
        obj = self.get_object()
        _require(permissions.can_close(request.user, obj))
        obj = service_request_close(
            request=obj, by=request.user, expected_version=_expected_version(request, None)
        )
        return self._written(obj)

    @extend_schema(
        request=CommentInput,
        responses={201: TicketEventSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        """A public reply on the request."""
        obj = self.get_object()
        _require(permissions.can_comment(request.user, obj))
        data = _validated(CommentInput, request)
        event = service_request_comment(request=obj, by=request.user, body=data["body"])
        return Response(
            TicketEventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=["pending", "decided"],
                description="pending (default): waiting on you now; decided: decided by you.",
            )
        ]
    )
)
class ApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Request approvals: what waits on you (as approver, delegate or team member), and what
    you decided. Decide one with `decide`."""

    serializer_class = MyApprovalSerializer
    pagination_class = StandardPagination
    filterset_class = None
    queryset = Approval.objects.none()

    def get_queryset(self) -> QuerySet[Approval]:
        user = self.request.user
        if self.action == "list":
            state = self.request.query_params.get("state", "pending")
            if state not in ("pending", "decided"):  # the schema's enum: refused, not ignored
                raise exceptions.ValidationError({"state": ["Give pending or decided."]})
            if state == "decided":
                approvals = approvals_decided_by(user)
            else:
                approvals = approvals_waiting_on(user)
        else:
            approvals = Approval.objects.filter(ticket__kind=TicketKind.REQUEST).filter(
                approver_q(user) | Q(decided_by=user)
            )
        return approvals.select_related(
            "approver",
            "approver_team",
            "decided_by",
            "ticket__requester",
            "ticket__service_request__requested_for",
        ).order_by("-created_at", "-pk")

    @extend_schema(
        request=DecisionInput,
        responses={200: MyApprovalSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Approve or reject (a rejection needs a comment; the requester reads it)."""
        approval = self.get_object()
        data = _validated(DecisionInput, request)
        service_request = approval.ticket.service_request
        _require(permissions.can_decide(request.user, approval, service_request))
        approval_decide(
            approval=approval,
            by=request.user,
            approve=data["decision"] == Decision.APPROVE,
            comment=data["comment"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=approval.pk)).data)


class FulfilmentTaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Fulfilment tasks the caller may see (their teams', assigned to them)."""

    serializer_class = FulfilmentTaskSerializer
    filterset_class = FulfilmentTaskFilterSet
    pagination_class = TicketCursorPagination

    def get_queryset(self) -> QuerySet[FulfilmentTask]:
        return (
            FulfilmentTask.objects.visible_to(self.request.user)
            .for_list()
            .select_related("ticket__service", *expand_related(self.request, TASK_EXPAND_RELATED))
        )

    @extend_schema(
        parameters=[ID, etag_parameter("task"), IF_NONE_MATCH],
        responses={200: FulfilmentTaskSerializer, 304: NOT_MODIFIED},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        task = self.get_object()
        return detail_response(
            request, version_etag(task.ticket.version), lambda: self.get_serializer(task).data
        )

    def _written(self, task: FulfilmentTask) -> Response:
        fresh = (
            FulfilmentTask.objects.for_list()
            .select_related("ticket__service", *expand_related(self.request, TASK_EXPAND_RELATED))
            .get(pk=task.pk)
        )
        return Response(
            self.get_serializer(fresh).data, headers={"ETag": f'"{fresh.ticket.version}"'}
        )

    @extend_schema(
        request=TaskTransitionInput,
        responses={200: FulfilmentTaskSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM},
        parameters=[ID, IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Start, finish (done), reopen or cancel (with a note) a task."""
        task = self.get_object()
        _require(permissions.can_work_task(request.user, task))
        data = _validated(TaskTransitionInput, request)
        task = task_transition(
            task=task,
            by=request.user,
            target=TaskStatus(data["target"]),
            note=data["note"],
            expected_version=_expected_version(request, data.get("version")),
        )
        return self._written(task)

    @extend_schema(
        request=TaskAssignInput,
        responses={200: FulfilmentTaskSerializer, 400: PROBLEM, 403: PROBLEM, 412: PROBLEM},
        parameters=[ID, IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Give the task to a team and/or an agent."""
        task = self.get_object()
        _require(permissions.can_work_task(request.user, task))
        data = _validated(TaskAssignInput, request)
        task = task_assign(
            task=task,
            by=request.user,
            team=data["team"],
            assignee=data["assignee"],
            expected_version=_expected_version(request, data.get("version")),
        )
        return self._written(task)

    @extend_schema(
        request=TaskCommentInput,
        responses={201: TicketEventSerializer, 400: PROBLEM, 403: PROBLEM},
        parameters=[ID],
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        """A work note (default) or a public reply."""
        task = self.get_object()
        _require(permissions.can_work_task(request.user, task))
        data = _validated(TaskCommentInput, request)
        event = task_comment(task=task, by=request.user, body=data["body"], public=data["public"])
        return Response(
            TicketEventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
