"""Template helpers of the desk's collision detection (presence and stale saves)."""

from typing import Any

from django import template
from django.conf import settings
from django.db.models import QuerySet

register = template.Library()


@register.filter
def collab_seen(timeline: Any) -> int:
    """The newest journal entry id on the page: forms send it back as `seen` so a stale save
    can list exactly the entries written since. Evaluates the timeline queryset, whose result
    cache the timeline loop then reuses: no extra query."""
    if isinstance(timeline, QuerySet | list | tuple):
        return max((event.pk for event in timeline), default=0)
    return 0


@register.simple_tag
def presence_poll_seconds() -> int:
    """How often an open ticket page refreshes presence (DESK_PRESENCE_POLL_SECONDS, default
    10); well under the presence TTL so a present agent never blinks out."""
    return int(getattr(settings, "DESK_PRESENCE_POLL_SECONDS", 10))
