"""Desk API: what the queue page does, for scripts and other front ends. Agents only; every
ticket is loaded through visible_to by the same services the page uses (desk.bulk,
desk.saved_views, desk.queues), so the results and refusals are the page's."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.conditional import PROBLEM
from core.exceptions import DomainError
from tickets.models import Ticket
from tickets.services import ticket_link, ticket_unlink

from ..bulk import bulk_apply, tickets_merge
from ..models import SavedView
from ..queues import COUNT_CAP, QUEUES, queue_counts
from ..related import RelatedRow, related_for
from ..saved_views import saved_view_create, saved_view_delete, views_for
from .serializers import (
    BulkInput,
    BulkResultSerializer,
    MergeInput,
    QueueCountSerializer,
    SavedViewSerializer,
    TicketLinkInput,
    TicketLinkSerializer,
)


def _require_agent(request: Request) -> None:
    if not getattr(request.user, "is_agent", False):
        raise exceptions.PermissionDenied()


def _selection(tickets: list[dict[str, int]]) -> list[tuple[int, int]]:
    return [(t["id"], t["version"]) for t in tickets]


class BulkView(APIView):
    @extend_schema(
        request=BulkInput,
        responses={200: BulkResultSerializer, 400: PROBLEM, 403: PROBLEM},
        summary="Apply one action to many tickets",
        description=(
            "Each ticket goes through the same service as its single action, in its own "
            "transaction: the answer lists what was updated and why the rest was refused "
            "(not found, changed since the version you give, not allowed, a rule)."
        ),
    )
    def post(self, request: Request) -> Response:
        _require_agent(request)
        serializer = BulkInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.pop("assignee_me", False):
            data["assignee"], data["assignee_me"] = request.user, True
        result = bulk_apply(
            action=data.pop("action"),
            by=request.user,
            selection=_selection(data.pop("tickets")),
            data=data,
        )
        return Response(BulkResultSerializer(result).data)


class MergeView(APIView):
    @extend_schema(
        request=MergeInput,
        responses={200: BulkResultSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
        summary="Merge duplicates into the ticket you keep",
    )
    def post(self, request: Request) -> Response:
        _require_agent(request)
        serializer = MergeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = (
            Ticket.objects.visible_to(request.user)
            .filter(number=serializer.validated_data["target"])
            .first()
        )
        if target is None:
            raise exceptions.NotFound("No such ticket to merge into.")
        result = tickets_merge(
            target=target,
            by=request.user,
            selection=_selection(serializer.validated_data["tickets"]),
        )
        return Response(BulkResultSerializer(result).data)


class QueueCountsView(APIView):
    @extend_schema(
        responses={200: QueueCountSerializer(many=True), 403: PROBLEM},
        summary="The desk queues and their counts (one query; `capped` past 999)",
    )
    def get(self, request: Request) -> Response:
        _require_agent(request)
        counts = queue_counts(request.user)
        rows = [
            {
                "slug": q.slug,
                "label": q.label,
                "count": min(counts[q.slug], COUNT_CAP),
                "capped": counts[q.slug] > COUNT_CAP,
            }
            for q in QUEUES.values()
        ]
        return Response(QueueCountSerializer(rows, many=True).data)


class SavedViewViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Saved queue views: yours and those shared with your teams. Open one in the desk with
    /desk/?<query>&view=<id>."""

    serializer_class = SavedViewSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[SavedView]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return SavedView.objects.none()
        _require_agent(self.request)
        return views_for(self.request.user)

    @extend_schema(responses={201: SavedViewSerializer, 400: PROBLEM, 403: PROBLEM})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        _require_agent(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        view = saved_view_create(owner=request.user, **serializer.validated_data)
        return Response(self.get_serializer(view).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM})
    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().destroy(request, *args, **kwargs)

    @extend_schema(responses={200: SavedViewSerializer, 403: PROBLEM, 404: PROBLEM})
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def perform_destroy(self, instance: SavedView) -> None:
        saved_view_delete(view=instance, by=self.request.user)


# ------------------------------------------------------------------ related tickets
def _visible_ticket(request: Request, number: str) -> Ticket:
    _require_agent(request)
    ticket = Ticket.objects.visible_to(request.user).filter(number=number.upper()).first()
    if ticket is None:
        raise exceptions.NotFound("No such ticket.")
    return ticket


class TicketLinksView(APIView):
    """A ticket's related tickets, as the desk's side panel shows them."""

    @extend_schema(
        responses={200: TicketLinkSerializer(many=True), 403: PROBLEM, 404: PROBLEM},
        summary="A ticket's links, both ways (tickets you may not see are left out)",
    )
    def get(self, request: Request, number: str) -> Response:
        ticket = _visible_ticket(request, number)
        rows = related_for(ticket=ticket, user=request.user)
        return Response(TicketLinkSerializer(rows, many=True).data)

    @extend_schema(
        request=TicketLinkInput,
        responses={201: TicketLinkSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
        summary="Link this ticket to another (journalled on both)",
    )
    def post(self, request: Request, number: str) -> Response:
        ticket = _visible_ticket(request, number)
        serializer = TicketLinkInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        other_number = serializer.validated_data["number"].strip().upper()
        other = Ticket.objects.visible_to(request.user).filter(number=other_number).first()
        if other is None:  # hidden and missing read the same
            raise DomainError("No ticket with that number.", field="number")
        link = ticket_link(
            source=ticket, target=other, kind=serializer.validated_data["kind"], by=request.user
        )
        row = RelatedRow(link.get_kind_display(), other, link.pk, link.kind)
        return Response(TicketLinkSerializer(row).data, status=status.HTTP_201_CREATED)


class TicketLinkView(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 403: PROBLEM, 404: PROBLEM},
        summary="Remove one of this ticket's links (journalled on both)",
    )
    def delete(self, request: Request, number: str, link_id: int) -> Response:
        ticket = _visible_ticket(request, number)
        try:
            ticket_unlink(ticket=ticket, link_id=link_id, by=request.user)
        except DomainError as exc:
            raise exceptions.NotFound(exc.message) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
