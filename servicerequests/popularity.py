"""Which catalogue items people order most (the catalogue home's "Popular"): orders per item
over the last POPULAR_DAYS, a read model kept in the cache.

Counting the recent orders joins every request of the last 90 days with its ticket (530 ms at
1M tickets); the figure moves slowly, so Celery beat recomputes it every few minutes
(`refresh_popular_counts`) and the page reads the cached dictionary. A cold cache computes it
once."""

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from .models import ServiceRequest

#: "Popular" counts the orders of this many recent days.
POPULAR_DAYS = 90
#: Cache key and lifetime; beat refreshes well within it (settings.CELERY_BEAT_SCHEDULE).
CACHE_KEY = "catalogue:popular-counts:v1"
CACHE_SECONDS = 30 * 60


def _count() -> dict[int, int]:
    since = timezone.now() - timedelta(days=POPULAR_DAYS)
    rows = (
        ServiceRequest.objects.filter(ticket__created_at__gte=since)
        .order_by()
        .values_list("item_id")
        .annotate(n=Count("pk"))
    )
    return {item_id: n for item_id, n in rows if item_id is not None}


def refresh_popular_counts() -> dict[int, int]:
    """Recount and cache the orders per item (beat)."""
    counts = _count()
    cache.set(CACHE_KEY, counts, CACHE_SECONDS)
    return counts


def popular_counts() -> dict[int, int]:
    """Orders per catalogue item id over the last POPULAR_DAYS (cached; computed if cold)."""
    counts = cache.get(CACHE_KEY)
    return refresh_popular_counts() if counts is None else counts
