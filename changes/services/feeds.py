"""Secret per-user iCalendar feed tokens (stored hashed)."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User

from ..models import CalendarFeedToken


def _token_hash(token: str) -> str:
    # The token is 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_token_rotate(*, user: User) -> str:
    """A new secret feed token for the user (the old URL stops working). Returns the token:
    only its hash is stored, so this is the one time it can be shown."""
    token = secrets.token_urlsafe(32)
    CalendarFeedToken.objects.update_or_create(
        user=user, defaults={"token_hash": _token_hash(token), "last_used_at": None}
    )
    return token


@transaction.atomic
def calendar_feed_token_revoke(*, user: User) -> None:
    """Switch the user's feed off."""
    CalendarFeedToken.objects.filter(user=user).delete()


def calendar_feed_user(*, token: str) -> User | None:
    """The active user a feed token belongs to, or None. Marks the token used (at most once
    an hour, so a calendar polling every few minutes does not write every time)."""
    if not token or len(token) > 100:
        return None
    row = (
        CalendarFeedToken.objects.select_related("user")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    CalendarFeedToken.objects.filter(pk=row.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(hours=1))
    ).update(last_used_at=now)
    return row.user
