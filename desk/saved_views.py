"""Saved queue views and desk preferences: selection and the write services behind the
queue's "Save view", "Columns" and "Make default" controls."""

from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from accounts.models import Team
from core.exceptions import DomainError

from .models import DEFAULT_COLUMNS, QUEUE_COLUMNS, DeskPreference, SavedView

#: Query parameters that describe a position in a list, not a view of it.
_TRANSIENT = {"after", "before", "page", "view", "fp"}


def clean_query(query: str) -> str:
    """The view-defining part of a queue query string (no cursor or page), normalised."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in _TRANSIENT]
    return urlencode(pairs)[:2000]


def views_for(user: Any) -> QuerySet[SavedView]:
    """The views an agent may open: their own, and those shared with one of their teams."""
    return (
        SavedView.objects.filter(Q(owner=user) | Q(team_id__in=list(user.team_ids)))
        .select_related("owner", "team")
        .order_by("name", "pk")
    )


def preference_for(user: Any) -> DeskPreference:
    """The agent's preferences, unsaved defaults when they have none yet (no write on GET)."""
    try:
        return DeskPreference.objects.select_related("default_view").get(user=user)
    except DeskPreference.DoesNotExist:
        return DeskPreference(user=user, columns=list(DEFAULT_COLUMNS))


def columns_for(preference: DeskPreference) -> list[str]:
    chosen = [c for c in QUEUE_COLUMNS if c in (preference.columns or [])]
    return chosen or list(DEFAULT_COLUMNS)


@transaction.atomic
def saved_view_create(*, owner: Any, name: str, query: str, team: Team | None = None) -> SavedView:
    """Save the current queue as a view, personal or shared with one of the owner's teams."""
    name = name.strip()
    if not name:
        raise DomainError("Give the view a name.", field="name")
    if team is not None and team.pk not in set(owner.team_ids) and not owner.is_manager:
        raise DomainError("You can share a view only with a team you belong to.", field="team")
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                owner=owner, name=name[:80], team=team, query=clean_query(query)
            )
    except IntegrityError:
        raise DomainError(f"You already have a view called “{name}”.", field="name") from None


@transaction.atomic
def saved_view_delete(*, view: SavedView, by: Any) -> None:
    """Delete a view; only its owner (or a manager, for shared ones) may."""
    if view.owner_id != by.pk and not (view.team_id and by.is_manager):
        raise DomainError("Only the owner can delete this view.")
    view.delete()


@transaction.atomic
def preference_set(
    *, user: Any, columns: list[str] | None = None, default_view: SavedView | bool | None = False
) -> DeskPreference:
    """Change the agent's columns and/or default view (`default_view=None` clears it;
    `False`, the default, leaves it)."""
    preference, _ = DeskPreference.objects.select_for_update().get_or_create(
        user=user, defaults={"columns": list(DEFAULT_COLUMNS)}
    )
    if columns is not None:
        unknown = set(columns) - set(QUEUE_COLUMNS)
        if unknown or not columns:
            raise DomainError("Choose at least one known column.", field="columns")
        preference.columns = [c for c in QUEUE_COLUMNS if c in columns]
    if default_view is not False:
        if default_view is not None and not views_for(user).filter(pk=default_view.pk).exists():
            raise DomainError("That view is not available to you.", field="default_view")
        preference.default_view = default_view or None
    preference.save()
    return preference
