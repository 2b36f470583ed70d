"""Read models for the dashboards: cross-app aggregates returned as plain data."""

from dataclasses import dataclass

from django.db.models import Count

from tickets.choices import TicketKind
from tickets.models import Ticket


@dataclass(frozen=True)
class OpenCounts:
    by_kind: list[tuple[str, str, int]]  # (kind, label, count)
    by_team: list[tuple[int | None, str, int]]  # (team id, name, count)
    total: int


def open_counts() -> OpenCounts:
    """Open tickets by kind and by team: two grouped queries, whatever the volume."""
    base = Ticket.objects.open()
    kinds = dict(base.values_list("kind").annotate(n=Count("pk")).order_by())
    by_kind = [(k.value, str(k.label), kinds.get(k.value, 0)) for k in TicketKind]
    teams = base.values_list("team_id", "team__name").annotate(n=Count("pk")).order_by("-n")
    by_team = [(tid, name or "Unrouted", n) for tid, name, n in teams]
    return OpenCounts(by_kind=by_kind, by_team=by_team, total=sum(kinds.values()))
