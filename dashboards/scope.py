"""Which tickets a dashboard counts: the scope a manager picks (team, service, priority, kind,
organisation), narrowed to the teams a team lead leads. The same scope becomes a SQL
condition on the read models, a test on live rows, and desk-queue filters for drill-downs, so
the three cannot disagree."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

#: Scope attribute → read-model column.
COLUMNS = {
    "kind": "kind",
    "priority": "priority",
    "service_id": "service_id",
    "organization_id": "organization_id",
}


@dataclass(frozen=True)
class Scope:
    """None means "any". `team_ids` is a tuple of allowed teams (a lead's teams, or the one
    team chosen); a None inside it stands for "no team" (unrouted tickets)."""

    team_ids: tuple[int | None, ...] | None = None
    service_id: int | None = None
    priority: int | None = None
    kind: str | None = None
    organization_id: int | None = None

    def sql(self, alias: str = "r") -> tuple[str, dict[str, Any]]:
        """A WHERE condition on a read-model relation (rollup or facts) and its parameters."""
        parts = ["TRUE"]
        params: dict[str, Any] = {}
        if self.team_ids is not None:
            teams = [t for t in self.team_ids if t is not None]
            condition = f"{alias}.team_id = ANY(%(scope_teams)s)"
            if None in self.team_ids:
                condition = f"({condition} OR {alias}.team_id IS NULL)"
            parts.append(condition)
            params["scope_teams"] = teams
        for attr, column in COLUMNS.items():
            value = getattr(self, attr)
            if value is not None:
                parts.append(f"{alias}.{column} = %(scope_{attr})s")
                params[f"scope_{attr}"] = value
        return " AND ".join(parts), params

    def matches(self, row: Mapping[str, Any]) -> bool:
        """The same condition on a row computed in Python (the live part of today)."""
        if self.team_ids is not None and row["team_id"] not in self.team_ids:
            return False
        return all(
            getattr(self, attr) is None or row[column] == getattr(self, attr)
            for attr, column in COLUMNS.items()
        )

    def q(self, prefix: str = "") -> Q:
        """The same condition as a Q on tickets.Ticket (`prefix` for querysets rooted elsewhere)."""
        q = Q()
        if self.team_ids is not None:
            teams = Q(**{f"{prefix}team_id__in": [t for t in self.team_ids if t is not None]})
            if None in self.team_ids:
                teams |= Q(**{f"{prefix}team__isnull": True})
            q &= teams
        for attr, column in COLUMNS.items():
            if getattr(self, attr) is not None:
                q &= Q(**{f"{prefix}{column}": getattr(self, attr)})
        return q

    def drill_params(self) -> dict[str, list[str]]:
        """The same condition as desk-queue filters (tickets.filtersets.TicketFilterSet)."""
        params: dict[str, list[str]] = {}
        if self.team_ids is not None:
            params["teams"] = ["null" if t is None else str(t) for t in self.team_ids] or ["0"]
        if self.service_id is not None:
            params["service"] = [str(self.service_id)]
        if self.priority is not None:
            params["priority"] = [str(self.priority)]
        if self.kind is not None:
            params["kind"] = [self.kind]
        if self.organization_id is not None:
            params["organization"] = [str(self.organization_id)]
        return params

    def narrowed(self, **changes: Any) -> "Scope":
        """This scope with one more condition (a table row or a chart bar)."""
        values = {
            "team_ids": self.team_ids,
            "service_id": self.service_id,
            "priority": self.priority,
            "kind": self.kind,
            "organization_id": self.organization_id,
        }
        if "team_id" in changes:
            team = changes.pop("team_id")
            values["team_ids"] = (team,)
        values.update(changes)
        return Scope(**values)
