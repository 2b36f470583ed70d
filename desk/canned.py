"""Canned replies: who may use and edit them, rendering one for a ticket, and the writes.

Rendering is a plain placeholder substitution, deliberately *not* the Django template engine:
a reply body is text typed by agents, and running it as a template would let any agent read
settings or call methods (template injection). Only the names in `PLACEHOLDERS` are replaced;
anything else, `{% ... %}` included, stays in the text exactly as written."""

import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.models import Team
from core.exceptions import DomainError
from tickets.models import Ticket

from .models import CannedReply

MAX_TITLE = 100
MAX_BODY = 10_000


def _first_name(user: Any) -> str:
    if user is None:
        return ""
    if user.first_name:
        return str(user.first_name)
    name = str(user).split()
    return name[0] if name else ""


def _name(user: Any) -> str:
    return "" if user is None else str(user)


#: The placeholders a reply may use, each read from (ticket, agent).
PLACEHOLDERS: dict[str, Callable[[Ticket, Any], str]] = {
    "requester.first_name": lambda t, a: _first_name(t.requester),
    "requester.name": lambda t, a: _name(t.requester),
    "ticket.number": lambda t, a: t.number,
    "ticket.title": lambda t, a: t.title,
    "agent.first_name": lambda t, a: _first_name(a),
    "agent.name": lambda t, a: _name(a),
    "team.name": lambda t, a: t.team.name if t.team_id else "",
}
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


def canned_render(*, body: str, ticket: Ticket, agent: Any) -> str:
    """The body with known placeholders filled in for this ticket and agent. Unknown ones are
    left visible (the agent sees the typo before sending); the result is plain text."""

    def fill(match: re.Match[str]) -> str:
        getter = PLACEHOLDERS.get(match.group(1))
        return match.group(0) if getter is None else getter(ticket, agent)

    return PLACEHOLDER.sub(fill, body)


# ------------------------------------------------------------------ who may use / edit
def canned_replies_for(user: Any) -> QuerySet[CannedReply]:
    """Replies `user` may use: their own, their teams', and those shared with everyone.
    Managers also see every team's shared replies (they curate them)."""
    q = Q(owner=user) | Q(shared_all=True) | Q(team_id__in=list(user.team_ids))
    if user.is_manager:
        q |= Q(team__isnull=False)
    return CannedReply.objects.filter(q).select_related("owner", "team")


def can_edit(user: Any, reply: CannedReply) -> bool:
    """The owner edits their reply; a manager also edits shared ones (never someone's
    personal reply)."""
    if reply.owner_id == user.pk:
        return True
    shared = reply.shared_all or reply.team_id is not None
    return shared and user.is_manager


def share_teams(user: Any) -> QuerySet[Team]:
    """Teams `user` may share a reply with: their own (every team for a manager)."""
    teams = Team.objects.order_by("name")
    return teams if user.is_manager else teams.filter(pk__in=list(user.team_ids))


# ------------------------------------------------------------------ writes
def _clean(
    *,
    by: Any,
    title: str,
    body: str,
    team: Team | None,
    shared_all: bool,
    kept_team_id: int | None = None,
) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title:
        raise DomainError("Give the reply a title.", field="title")
    if len(title) > MAX_TITLE:
        raise DomainError(f"Keep the title under {MAX_TITLE} characters.", field="title")
    if not body:
        raise DomainError("Write the reply text.", field="body")
    if len(body) > MAX_BODY:
        raise DomainError(f"Keep the text under {MAX_BODY} characters.", field="body")
    if team is not None and shared_all:
        raise DomainError("Share with one team or with everyone, not both.", field="team")
    if (
        team is not None
        and team.pk != kept_team_id  # leaving a team does not unshare what was shared
        and not share_teams(by).filter(pk=team.pk).exists()
    ):
        raise DomainError("You can share only with a team you belong to.", field="team")
    return title, body


@transaction.atomic
def canned_reply_create(
    *, by: Any, title: str, body: str, team: Team | None = None, shared_all: bool = False
) -> CannedReply:
    """A new canned reply owned by `by`: personal, or shared with a team or with everyone."""
    if not by.is_agent:
        raise DomainError("Only agents keep canned replies.")
    title, body = _clean(by=by, title=title, body=body, team=team, shared_all=shared_all)
    return CannedReply.objects.create(
        owner=by, title=title, body=body, team=team, shared_all=shared_all
    )


@transaction.atomic
def canned_reply_update(
    *,
    reply: CannedReply,
    by: Any,
    title: str,
    body: str,
    team: Team | None = None,
    shared_all: bool = False,
) -> CannedReply:
    """Change a reply's text or scope: its owner, or a manager for a shared reply."""
    if not can_edit(by, reply):
        raise DomainError("Only the owner or a manager may change this reply.")
    title, body = _clean(
        by=by,
        title=title,
        body=body,
        team=team,
        shared_all=shared_all,
        kept_team_id=reply.team_id,
    )
    reply.title, reply.body, reply.team, reply.shared_all = title, body, team, shared_all
    reply.save(update_fields=["title", "body", "team", "shared_all", "updated_at"])
    return reply


@transaction.atomic
def canned_reply_delete(*, reply: CannedReply, by: Any) -> None:
    """Delete a reply: its owner, or a manager for a shared reply."""
    if not can_edit(by, reply):
        raise DomainError("Only the owner or a manager may delete this reply.")
    reply.delete()
