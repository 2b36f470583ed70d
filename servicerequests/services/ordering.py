"""Ordering: answers validated against the item's form, a snapshot of the item, then
approval stage 1 or, without approval, fulfilment."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from catalogue import formdef
from catalogue.models import CatalogueItem
from core.exceptions import DomainError
from tickets.choices import TicketKind
from tickets.models import TicketEvent
from tickets.services import (
    attachments_add,
    ticket_create,
)

from ..answers import answers_plain, answers_validate, people_for
from ..choices import RequestStatus
from ..models import ServiceRequest
from .approving import (
    _approve,
    _stage_rows,
    _start_stage,
)
from .common import (
    NotAllowed,
    _set_status,
    _sync,
    expected_delivery,
)

R = RequestStatus


def item_snapshot(item: CatalogueItem, variables: Sequence[formdef.Variable]) -> dict[str, Any]:
    """What the request keeps of the item, so later edits do not rewrite history."""
    stages = list(item.approval_stages.select_related("team", "user"))
    return {
        "item_id": item.pk,
        "name": item.name,
        "slug": item.slug,
        "category": str(item.category),
        "form_version": item.form_version,
        "variables": formdef.definition_to_json(variables),
        "approval": [stage.snapshot() for stage in stages],
        "tasks": [template.snapshot() for template in item.task_templates.all()],
        "expected_delivery_seconds": int(item.expected_delivery.total_seconds())
        if item.expected_delivery
        else None,
        "price": None if item.price is None else str(item.price),
        "cost_note": item.cost_note,
    }


def _title(item: CatalogueItem, by: Any, requested_for: Any, quantity: int) -> str:
    title = f"{quantity} × {item.name}" if quantity > 1 else item.name
    if requested_for.pk != by.pk:
        title += f" for {requested_for}"
    return title[:200]


@transaction.atomic
def service_request_submit(
    *,
    item: CatalogueItem,
    by: User,
    answers: Any,
    files: Mapping[str, Sequence[UploadedFile]] | None = None,
    requested_for: User | None = None,
    quantity: int = 1,
    use_defaults: bool = True,
) -> ServiceRequest:
    """Order an item. The answers are validated against the item's current form (refused
    with field-level messages, nothing stored); the request keeps a snapshot of the item;
    approval starts (stage 1) or, without approval, fulfilment tasks are created."""
    if not item.active:
        raise DomainError("This item can no longer be ordered.", field="item")
    requested_for = requested_for or by
    if requested_for.pk != by.pk and not people_for(by).filter(pk=requested_for.pk).exists():
        raise DomainError("Choose someone from the list.", field="requested_for")
    if not requested_for.is_active:
        raise DomainError("Choose an active person.", field="requested_for")
    # Agents order on behalf of callers: then the caller's right to order counts.
    if not item.is_orderable_by(by) and not (by.is_agent and item.is_orderable_by(requested_for)):
        raise NotAllowed("You may not order this item.", field="item")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError("Enter a whole number.", field="quantity")
    if not 1 <= quantity <= item.max_quantity:
        raise DomainError(f"Order between 1 and {item.max_quantity}.", field="quantity")
    variables = [v for v in item.definition() if v.asked]
    valid = answers_validate(
        variables=variables, raw=answers, files=files, use_defaults=use_defaults, by=by
    )
    snapshot = item_snapshot(item, item.definition())
    ticket = ticket_create(
        kind=TicketKind.REQUEST,
        title=_title(item, by, requested_for, quantity),
        description=answers_plain(variables, valid.values),
        requester=by,
        by=by,
        priority=item.priority,
        team=item.team,
        service=item.service,
        data={"item": item.name, "form_version": item.form_version},
    )
    request = ServiceRequest.objects.create(
        ticket=ticket,
        item=item,
        item_snapshot=snapshot,
        form_version=item.form_version,
        answers=valid.values,
        requested_for=requested_for,
        quantity=quantity,
        approval_stages_total=len(snapshot["approval"]),
    )
    if valid.uploads:
        _store_uploads(request, by, valid.uploads)
    request.expected_delivery_at = expected_delivery(request, start=timezone.now())
    request.save(update_fields=["expected_delivery_at"])
    if snapshot["approval"]:
        # Check every stage can be decided before anyone is asked (nothing stored if not).
        for stage in snapshot["approval"][1:]:
            _stage_rows(stage, request)
        _set_status(request, R.AWAITING_APPROVAL, None)
        _start_stage(request, 1)
    else:
        _approve(request, by=None, note="No approval needed.")
    _sync(request)
    return request


def _store_uploads(
    request: ServiceRequest, by: Any, uploads: Mapping[str, list[UploadedFile]]
) -> None:
    first = TicketEvent.objects.filter(ticket=request.ticket).order_by("pk").first()
    for name, files in uploads.items():
        stored = attachments_add(ticket=request.ticket, by=by, uploads=files, event=first)
        request.answers[name] = [{"id": a.pk, "name": a.name, "size": a.size} for a in stored]
    request.save(update_fields=["answers"])
