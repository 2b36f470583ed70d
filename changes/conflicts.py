"""Schedule conflicts: other booked changes and blackout windows that overlap a proposed
window. Read-only selection; changes.services decides what a conflict blocks.

Two changes conflict when their planned windows overlap (half-open: end = start is fine) and
they share a service, or one touches a parent or child of the other's service. A blackout
applies when it overlaps and has no services (it covers everything) or shares one the same
way. Parent/child needs `catalogue.Service.parent`; without that field only shared services
count."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q

from catalogue.models import Service

from .choices import Recurrence
from .models import BlackoutWindow, Change
from .windows import overlaps, weekly_occurrences, zone

#: Deepest service tree walked when looking for parents and children.
MAX_SERVICE_DEPTH = 10


def service_tree_supported() -> bool:
    """True when catalogue.Service has a `parent` (the service hierarchy)."""
    return any(f.name == "parent" for f in Service._meta.get_fields())


def related_service_ids(service_ids: Iterable[int]) -> set[int]:
    """The services plus their ancestors and descendants: a change to a parent service
    affects its children and the other way round. Siblings are not related."""
    ids = set(service_ids)
    if not ids or not service_tree_supported():
        return ids
    related = set(ids)
    frontier = set(ids)
    for _ in range(MAX_SERVICE_DEPTH):  # ancestors
        parents = set(
            Service.objects.filter(pk__in=frontier, parent__isnull=False).values_list(
                "parent_id", flat=True
            )
        )
        frontier = parents - related
        if not frontier:
            break
        related |= frontier
    frontier = set(ids)
    for _ in range(MAX_SERVICE_DEPTH):  # descendants
        children = set(Service.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier = children - related
        if not frontier:
            break
        related |= frontier
    return related


@dataclass(frozen=True)
class BlackoutHit:
    """One occurrence of a blackout window that overlaps the proposed window."""

    window: BlackoutWindow
    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.window.pk,
            "name": self.window.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass
class Conflicts:
    """What stands in a proposed window's way."""

    changes: list[Change] = field(default_factory=list)
    blackouts: list[BlackoutHit] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.blackouts)

    def as_dict(self) -> dict[str, Any]:
        """A journal-friendly summary (numbers and names, no objects)."""
        return {
            "changes": [
                {
                    "id": c.pk,
                    "number": c.ticket.number,
                    "title": c.ticket.title,
                    "start": c.planned_start.isoformat() if c.planned_start else None,
                    "end": c.planned_end.isoformat() if c.planned_end else None,
                }
                for c in self.changes
            ],
            "blackouts": [hit.as_dict() for hit in self.blackouts],
        }

    def summary(self) -> str:
        parts = [c.ticket.number for c in self.changes] + [
            f"blackout “{hit.window.name}”" for hit in self.blackouts
        ]
        return ", ".join(parts)


def blackout_hits(
    *,
    start: datetime,
    end: datetime,
    service_ids: set[int] | None,
    windows: Iterable[BlackoutWindow] | None = None,
) -> list[BlackoutHit]:
    """Blackout occurrences overlapping [start, end). `service_ids=None` means "any service"
    (the calendar shows every blackout); a set means the related services of a change."""
    if windows is None:
        windows = blackout_candidates(start=start, end=end)
    hits = []
    for window in windows:
        window_services = {s.pk for s in window.services.all()}
        if service_ids is not None and window_services and not (window_services & service_ids):
            continue
        if window.recurrence == Recurrence.WEEKLY:
            for occ_start, occ_end in weekly_occurrences(
                start=window.start,
                end=window.end,
                tz=zone(window.timezone),
                range_start=start,
                range_end=end,
                until=window.until,
            ):
                hits.append(BlackoutHit(window, occ_start, occ_end))
        elif overlaps(window.start, window.end, start, end):
            hits.append(BlackoutHit(window, window.start, window.end))
    hits.sort(key=lambda h: (h.start, h.window.pk))
    return hits


def blackout_candidates(*, start: datetime, end: datetime) -> Any:
    """Active blackouts that may overlap [start, end), services prefetched (two queries).
    Weekly ones are narrowed further in Python, occurrence by occurrence."""
    return (
        BlackoutWindow.objects.filter(active=True, start__lt=end)
        .filter(
            Q(recurrence=Recurrence.NONE, end__gt=start)
            | Q(recurrence=Recurrence.WEEKLY, until__isnull=True)
            # `until` is a local date: one day of slack covers any time zone.
            | Q(recurrence=Recurrence.WEEKLY, until__gte=start.date() - timedelta(days=1))
        )
        .prefetch_related(Prefetch("services", queryset=Service.objects.only("pk", "name")))
    )


def conflicting_changes(
    *, start: datetime, end: datetime, service_ids: set[int], exclude_pk: int | None = None
) -> list[Change]:
    """Scheduled or implementing changes overlapping [start, end) on a related service."""
    if not service_ids:
        return []
    queryset = (
        Change.objects.booked()
        .in_window(start, end)
        .filter(
            pk__in=Change.services.through.objects.filter(service_id__in=service_ids).values(
                "change_id"
            )
        )
        .select_related("ticket")
        .order_by("planned_start", "pk")
    )
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return list(queryset)


def find_conflicts(
    *,
    start: datetime,
    end: datetime,
    service_ids: Iterable[int],
    exclude_pk: int | None = None,
) -> Conflicts:
    """Everything that overlaps a proposed window for these services."""
    related = related_service_ids(service_ids)
    return Conflicts(
        changes=conflicting_changes(
            start=start, end=end, service_ids=related, exclude_pk=exclude_pk
        ),
        blackouts=blackout_hits(start=start, end=end, service_ids=related),
    )


def conflicts_of(change: Change) -> Conflicts:
    """Conflicts of a change's own planned window (empty without a window)."""
    if not change.has_window:
        return Conflicts()
    return find_conflicts(
        start=change.planned_start,
        end=change.planned_end,
        service_ids=[s.pk for s in change.services.all()],
        exclude_pk=change.pk,
    )
