"""Read models for the dashboards: cross-app aggregates returned as plain data (the only
place selectors live, STYLE §8). One module per dashboard; `reader` reads the rollups."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from accounts.models import Team
from tickets.choices import TicketKind

from ..scope import Scope


@dataclass(frozen=True)
class OpenCounts:
    by_kind: list[tuple[str, str, int]]  # (kind, label, count)
    by_team: list[tuple[int | None, str, int]]  # (team id, name, count)
    total: int


def open_counts(scope: Scope | None = None, *, now: datetime | None = None) -> OpenCounts:
    """Open tickets by kind and by team, from the facts (corrected live, see live.py)."""
    from .live import open_work

    scope = scope or Scope()
    by = open_work(scope, now or timezone.now()).grouped("kind", "team_id")
    kinds: dict[str, int] = defaultdict(int)
    teams: dict[int | None, int] = defaultdict(int)
    for (kind, team), n in by.items():
        kinds[kind] += n
        teams[team] += n
    names = dict(Team.objects.filter(pk__in=[t for t in teams if t]).values_list("pk", "name"))
    by_kind = [(k.value, str(k.label), kinds.get(k.value, 0)) for k in TicketKind]
    ordered = sorted(teams.items(), key=lambda item: (-item[1], names.get(item[0], "")))
    by_team = [(tid, names.get(tid, "Unrouted") if tid else "Unrouted", n) for tid, n in ordered]
    return OpenCounts(by_kind=by_kind, by_team=by_team, total=sum(kinds.values()))
