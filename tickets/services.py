"""Writes on the shared envelope. Kind services (incidents, requests, changes) call these
inside their own transaction; nothing else writes tickets."""

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import SearchVector
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.exceptions import DomainError, StaleWrite, UploadRejected
from core.workflow import Workflow

from . import events
from .choices import NUMBER_PREFIX, EventType, LinkKind, TicketKind, TicketState
from .models import Attachment, Ticket, TicketEvent, TicketLink

#: Envelope fields that services may change through `ticket_change_fields`.
CHANGEABLE_FIELDS = frozenset(
    {"title", "description", "priority", "team", "assignee", "service", "requester"}
)
#: Changes to these are shown to the requester in the public timeline.
PUBLIC_FIELDS = frozenset({"title", "priority"})
#: Longest work one journal entry may log: a day.
MAX_TIME_SPENT_MINUTES = 1440
#: Tag rules: lowercase letters, digits and hyphens; short; a handful per ticket.
TAG_PATTERN = re.compile(r"^[a-z0-9-]+$")
MAX_TAG_LENGTH = 40
MAX_TAGS = 20


def ticket_number_next(*, kind: str) -> str:
    """Next human number for a kind, from its own PostgreSQL sequence (never collides,
    may leave gaps when a transaction rolls back)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [f"tickets_number_{kind}"])
        (value,) = cursor.fetchone()
    return f"{NUMBER_PREFIX[kind]}{value:07d}"


# No savepoint: callers always run this inside their own transaction (the kind's create), and
# an error here aborts that whole create anyway; the savepoint cost two round-trips per ticket.
@transaction.atomic(savepoint=False)
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
    number = ticket_number_next(kind=kind)
    title = title.strip()
    ticket = Ticket.objects.create(
        kind=kind,
        number=number,
        title=title,
        description=description,
        requester=requester,
        organization_id=requester.organization_id,
        created_by=by,
        priority=priority,
        team=team,
        assignee=assignee,
        service=service,
        state=state,
        # The vector ticket_reindex would write (a new ticket has no replies yet), computed in
        # the INSERT itself: one round-trip less per created ticket.
        search_vector=_text_vector(number, weight="A")
        + _text_vector(title, weight="A")
        + _text_vector(description, weight="B"),
    )
    # As before: the instance does not hold the vector (it held None after ticket_reindex too).
    ticket.search_vector = None
    events.created(ticket=ticket, actor=by, data=data)
    return ticket


def _text_vector(text: str, *, weight: str) -> SearchVector:
    return SearchVector(
        Value(text, output_field=models.TextField()), weight=weight, config="english"
    )


def ticket_reindex(*, ticket: Ticket) -> None:
    """Refresh the full-text vector: number and title (A) weigh more than the description (B),
    which weighs more than the public replies (C). Work notes stay out: a word from an internal
    note must never make a ticket match a requester's search."""
    replies = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"), type=EventType.COMMENT, public=True)
        .order_by()
        .values("ticket")
        .annotate(text=StringAgg("body", delimiter="\n"))
        .values("text")
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        search_vector=SearchVector("number", weight="A", config="english")
        + SearchVector("title", weight="A", config="english")
        + SearchVector("description", weight="B", config="english")
        + SearchVector(
            Coalesce(Subquery(replies), Value(""), output_field=models.TextField()),
            weight="C",
            config="english",
        )
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
    *,
    ticket: Ticket,
    by: Any,
    body: str,
    public: bool,
    uploads: Iterable[UploadedFile] = (),
    time_spent_minutes: int | None = None,
) -> TicketEvent:
    """Add a public reply or an internal work note, with optional attachments and the minutes
    of work it logs. The first public reply of an agent who is not the requester stamps
    first_responded_at."""
    body = body.strip()
    uploads = list(uploads)
    if not body and not uploads:
        raise DomainError("Write something or attach a file.", field="body")
    if time_spent_minutes is not None and not 0 <= time_spent_minutes <= MAX_TIME_SPENT_MINUTES:
        raise DomainError(
            f"Time spent is 0 to {MAX_TIME_SPENT_MINUTES} minutes.", field="time_spent_minutes"
        )
    minutes = time_spent_minutes or None  # 0 logs nothing: keep the journal row clean
    locked = ticket_lock(ticket_id=ticket.pk)
    if public:
        event = events.comment(ticket=locked, actor=by, body=body, time_spent_minutes=minutes)
    else:
        event = events.work_note(ticket=locked, actor=by, body=body, time_spent_minutes=minutes)
    attachments_add(ticket=locked, by=by, uploads=uploads, event=event)
    fields = []
    if public and locked.first_responded_at is None and _is_agent_response(locked, by):
        locked.first_responded_at = timezone.now()
        fields.append("first_responded_at")
    ticket_save(ticket=locked, fields=fields)
    if public:
        ticket_reindex(ticket=locked)  # replies are searchable (weight C)
    ticket.refresh_from_db()
    return event


def _is_agent_response(ticket: Ticket, by: Any) -> bool:
    return bool(getattr(by, "is_agent", False)) and by.pk != ticket.requester_id


# ------------------------------------------------------------------ tags, watchers, links
def tags_clean(raw: Iterable[str]) -> list[str]:
    """Normalise tags (trimmed, lowercase, duplicates dropped, order kept) and check the rules:
    [a-z0-9-] only, at most MAX_TAG_LENGTH characters each, at most MAX_TAGS tags."""
    tags: list[str] = []
    for value in raw:
        tag = value.strip().lower()
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise DomainError(
                f"“{tag[:20]}…” is longer than {MAX_TAG_LENGTH} characters.", field="tags"
            )
        if not TAG_PATTERN.match(tag):
            raise DomainError(
                f"“{tag}”: tags use only lowercase letters, digits and hyphens.", field="tags"
            )
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise DomainError(f"At most {MAX_TAGS} tags per ticket.", field="tags")
    return tags


@transaction.atomic
def ticket_set_tags(
    *, ticket: Ticket, by: Any, tags: Iterable[str], expected_version: int | None = None
) -> list[str]:
    """Replace the ticket's tags (validated by `tags_clean`), journalled as a field change.
    Checks the version the caller saw; returns the tags now on the ticket."""
    new = tags_clean(tags)
    locked = ticket_lock(ticket_id=ticket.pk, expected_version=expected_version)
    old = list(locked.tags)
    if new != old:
        locked.tags = new
        events.field_changed(
            ticket=locked,
            actor=by,
            field="tags",
            label="Tags",
            old=", ".join(old),
            new=", ".join(new),
        )
        ticket_save(ticket=locked, fields=["tags"])
    ticket.refresh_from_db(fields=["tags", "version", "updated_at"])
    return new


def _check_visible(ticket: Ticket, user: Any, message: str, field: str | None = None) -> None:
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise DomainError(message, field=field)


@transaction.atomic
def ticket_watch(*, ticket: Ticket, by: Any, watching: bool = True) -> bool:
    """Start (or stop) watching a ticket: watchers hear about public replies and status
    changes. Journalled when it changes anything; returns whether `by` now watches."""
    locked = ticket_lock(ticket_id=ticket.pk)  # serialise with concurrent watch clicks
    is_watching = locked.watchers.filter(pk=by.pk).exists()
    if watching == is_watching:
        return is_watching
    if watching:
        # Only someone who may read the ticket can hear about it.
        _check_visible(locked, by, "You cannot watch a ticket you may not see.")
        locked.watchers.add(by)
    else:
        locked.watchers.remove(by)
    events.record(
        ticket=locked,
        type=EventType.SYSTEM,
        actor=by,
        body="started watching" if watching else "stopped watching",
        data={"code": "watch" if watching else "unwatch"},
    )
    return watching


#: Link kinds offered in the desk, with how the other side reads them.
LINK_INVERSE_LABEL: dict[str, str] = {
    LinkKind.RELATED: "Related to",
    LinkKind.DUPLICATE_OF: "Duplicated by",
    LinkKind.CAUSED_BY: "Causes",
    LinkKind.FIXES: "Fixed by",
}


@transaction.atomic
def ticket_link(*, source: Ticket, target: Ticket, kind: str, by: Any) -> TicketLink:
    """Link two tickets ("source is <kind> target"), journalled on both. `by` must see both;
    a ticket is never linked to itself, and the same link (or, for "related", the same pair
    either way) is refused twice."""
    kind = LinkKind(kind)
    if source.pk == target.pk:
        raise DomainError("A ticket cannot be linked to itself.", field="number")
    _check_visible(target, by, "No ticket with that number.", field="number")
    _check_visible(source, by, "No ticket with that number.", field="number")
    # Lock both in id order so two agents linking the same pair cannot deadlock.
    first, second = sorted([source.pk, target.pk])
    ticket_lock(ticket_id=first)
    ticket_lock(ticket_id=second)
    existing = TicketLink.objects.filter(source=source, target=target, kind=kind)
    if kind == LinkKind.RELATED:
        existing = existing | TicketLink.objects.filter(source=target, target=source, kind=kind)
    if existing.exists():
        raise DomainError(f"{source.number} is already linked to {target.number}.", field="number")
    link = TicketLink.objects.create(source=source, target=target, kind=kind, created_by=by)
    _journal_link(link, by=by, code="linked", verb="linked this ticket")
    return link


def _journal_link(link: TicketLink, *, by: Any, code: str, verb: str) -> None:
    """One system entry on each of the link's tickets, each read from its own side."""
    kind = LinkKind(link.kind)
    data = {"code": code, "kind": str(kind), "link_id": link.pk}
    sides = (
        (link.source, kind.label, link.target),
        (link.target, LINK_INVERSE_LABEL[kind], link.source),
    )
    for ticket, label, other in sides:
        events.record(
            ticket=ticket,
            type=EventType.SYSTEM,
            actor=by,
            body=f"{verb}: {label.lower()} {other.number}",
            data={**data, "other": other.number},
        )


@transaction.atomic
def ticket_unlink(*, ticket: Ticket, link_id: int, by: Any) -> TicketLink:
    """Remove one of `ticket`'s links (either side of it), journalled on both tickets: the
    history keeps that they were linked, by whom and when it was undone. `by` must see both
    tickets; a link that is not this ticket's, or one to a ticket `by` cannot see, reads as
    missing."""
    link = (
        TicketLink.objects.filter(pk=link_id)
        .filter(models.Q(source=ticket) | models.Q(target=ticket))
        .select_related("source", "target")
        .first()
    )
    if link is None:
        raise DomainError("No such link on this ticket.")
    _check_visible(link.source, by, "No such link on this ticket.")
    _check_visible(link.target, by, "No such link on this ticket.")
    first, second = sorted([link.source_id, link.target_id])
    ticket_lock(ticket_id=first)
    ticket_lock(ticket_id=second)
    _journal_link(link, by=by, code="unlinked", verb="removed the link")
    link.delete()  # a link row, not a ticket: the journal above is its record
    return link
