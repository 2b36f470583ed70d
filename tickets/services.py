"""Writes on the shared envelope. Kind services (incidents, requests, changes) call these
inside their own transaction; nothing else writes tickets."""

from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.utils import timezone

from core.exceptions import DomainError, StaleWrite, UploadRejected
from core.workflow import Workflow

from . import events
from .choices import NUMBER_PREFIX, TicketKind, TicketState
from .models import Attachment, Ticket, TicketEvent

#: Envelope fields that services may change through `ticket_change_fields`.
CHANGEABLE_FIELDS = frozenset(
    {"title", "description", "priority", "team", "assignee", "service", "requester"}
)
#: Changes to these are shown to the requester in the public timeline.
PUBLIC_FIELDS = frozenset({"title", "priority"})


def ticket_number_next(*, kind: str) -> str:
    """Next human number for a kind, from its own PostgreSQL sequence (never collides,
    may leave gaps when a transaction rolls back)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [f"tickets_number_{kind}"])
        (value,) = cursor.fetchone()
    return f"{NUMBER_PREFIX[kind]}{value:07d}"


@transaction.atomic
def ticket_create(
    *,
    kind: TicketKind,
    title: str,
    requester: Any,
    by: Any,
    description: str = "",
    priority: int = 3,
    team: Any = None,
    assignee: Any = None,
    service: Any = None,
    state: TicketState = TicketState.OPEN,
    data: dict[str, Any] | None = None,
) -> Ticket:
    """Create the envelope with its number and a "created" journal entry. The caller creates
    the detail row in the same transaction."""
    ticket = Ticket.objects.create(
        kind=kind,
        number=ticket_number_next(kind=kind),
        title=title.strip(),
        description=description,
        requester=requester,
        organization_id=requester.organization_id,
        created_by=by,
        priority=priority,
        team=team,
        assignee=assignee,
        service=service,
        state=state,
    )
    ticket_reindex(ticket=ticket)
    events.created(ticket=ticket, actor=by, data=data)
    return ticket


def ticket_reindex(*, ticket: Ticket) -> None:
    """Refresh the full-text vector: title weighs more than description."""
    Ticket.objects.filter(pk=ticket.pk).update(
        search_vector=SearchVector("number", weight="A", config="english")
        + SearchVector("title", weight="A", config="english")
        + SearchVector("description", weight="B", config="english")
    )


def ticket_lock(*, ticket_id: int, expected_version: int | None = None) -> Ticket:
    """Lock the envelope row for this transaction and check the caller saw the latest version."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if expected_version is not None and ticket.version != expected_version:
        raise StaleWrite(current_version=ticket.version)
    return ticket


def ticket_save(*, ticket: Ticket, fields: Iterable[str]) -> None:
    """Save changed envelope fields and bump the optimistic-locking version."""
    ticket.version += 1
    ticket.save(update_fields=[*set(fields), "version", "updated_at"])


def _display(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"id": value.pk, "label": str(value)}
    if isinstance(value, Enum):
        return value.value
    return value


def ticket_change_fields(
    *, ticket: Ticket, by: Any, changes: Mapping[str, Any], reason: str = ""
) -> list[str]:
    """Apply envelope field changes, one journal entry per changed field (old → new).

    The ticket must already be locked by the caller (`ticket_lock`). Returns the names of the
    fields that really changed; saves nothing when none did."""
    changed: list[str] = []
    for field, new in changes.items():
        if field not in CHANGEABLE_FIELDS:
            raise ValueError(f"{field} cannot be changed here")
        old = getattr(ticket, field)
        if old == new or (hasattr(new, "pk") and old is not None and old.pk == new.pk):
            continue
        setattr(ticket, field, new)
        label = str(Ticket._meta.get_field(field).verbose_name).capitalize()
        if field == "priority":
            old, new = f"P{old}", f"P{new}"
        events.field_changed(
            ticket=ticket,
            actor=by,
            field=field,
            label=label,
            old=_display(old),
            new=_display(new),
            public=field in PUBLIC_FIELDS,
            reason=reason,
        )
        changed.append(field)
    if changed:
        ticket_save(ticket=ticket, fields=changed)
        if {"title", "description"} & set(changed):
            ticket_reindex(ticket=ticket)
    return changed


def ticket_set_status(
    *, ticket: Ticket, detail: Any, workflow: Workflow, target: Any, by: Any, note: str = ""
) -> None:
    """Move a kind's detail row to `target` through its workflow table, derive the envelope
    state and timestamps, and journal it. The caller holds the lock and saves extra fields."""
    status_enum = type(target)
    current = status_enum(detail.status)
    workflow.check_transition(current, target)
    now = timezone.now()
    new_state = workflow.state_of(target)
    detail.status = target
    ticket.state = new_state
    fields = {"state"}
    if new_state == TicketState.RESOLVED:
        ticket.resolved_at = now
        fields.add("resolved_at")
    elif new_state == TicketState.CLOSED:
        ticket.closed_at = now
        fields.add("closed_at")
        if ticket.resolved_at is None:
            ticket.resolved_at = now
            fields.add("resolved_at")
    elif new_state in (TicketState.OPEN, TicketState.ON_HOLD):
        ticket.resolved_at = None
        ticket.closed_at = None
        fields |= {"resolved_at", "closed_at"}
    detail.save(update_fields=["status"])
    ticket_save(ticket=ticket, fields=fields)
    events.status_changed(
        ticket=ticket,
        actor=by,
        old=current.value,
        new=target.value,
        old_label=str(current.label),
        new_label=str(target.label),
        note=note,
        state=str(new_state),
    )


def attachment_check(*, upload: UploadedFile) -> None:
    """Refuse files over the size limit or of a type not on the allow-list."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise UploadRejected(
            f"“{upload.name}” is {upload.size / 1048576:.1f} MB; the limit is "
            f"{limit / 1048576:.0f} MB.",
            field="attachments",
        )
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix not in settings.ATTACHMENT_ALLOWED_TYPES:
        allowed = ", ".join(settings.ATTACHMENT_ALLOWED_TYPES)
        raise UploadRejected(
            f"“{upload.name}” is not an allowed file type. Allowed: {allowed}.",
            field="attachments",
        )


def attachments_add(
    *, ticket: Ticket, by: Any, uploads: Iterable[UploadedFile], event: TicketEvent | None = None
) -> list[Attachment]:
    """Store uploads on a ticket. Every file is checked before any is stored; the files are
    removed again if the transaction rolls back."""
    uploads = list(uploads)
    for upload in uploads:
        attachment_check(upload=upload)
    public = event.public if event is not None else True
    stored = []
    for upload in uploads:
        attachment = Attachment(
            ticket=ticket,
            event=event,
            name=PurePath(upload.name or "file").name[:255],
            size=upload.size or 0,
            content_type=(upload.content_type or "application/octet-stream")[:100],
            public=public,
            uploaded_by=by,
        )
        attachment.file.save(upload.name or "file", upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


@transaction.atomic
def ticket_reply(
    *, ticket: Ticket, by: Any, body: str, public: bool, uploads: Iterable[UploadedFile] = ()
) -> TicketEvent:
    """Add a public reply or an internal work note, with optional attachments. The first public
    reply of an agent who is not the requester stamps first_responded_at."""
    body = body.strip()
    uploads = list(uploads)
    if not body and not uploads:
        raise DomainError("Write something or attach a file.", field="body")
    locked = ticket_lock(ticket_id=ticket.pk)
    if public:
        event = events.comment(ticket=locked, actor=by, body=body)
    else:
        event = events.work_note(ticket=locked, actor=by, body=body)
    attachments_add(ticket=locked, by=by, uploads=uploads, event=event)
    fields = []
    if public and locked.first_responded_at is None and _is_agent_response(locked, by):
        locked.first_responded_at = timezone.now()
        fields.append("first_responded_at")
    ticket_save(ticket=locked, fields=fields)
    ticket.refresh_from_db()
    return event


def _is_agent_response(ticket: Ticket, by: Any) -> bool:
    return bool(getattr(by, "is_agent", False)) and by.pk != ticket.requester_id
