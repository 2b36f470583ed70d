"""Which read model computes which dashboard (shared by the pages, CSV exports and reports)."""

from typing import Any

from .choices import Dashboard
from .forms import Filters
from .queries.availability import availability
from .queries.backlog import backlog
from .queries.sla import sla_overview
from .queries.volumes import volumes


def compute(dashboard: str, filters: Filters) -> Any:
    """The dashboard's figures: an object with `tiles` and `tables` (and page extras)."""
    if dashboard == Dashboard.OVERVIEW:
        return sla_overview(
            period=filters.period,
            scope=filters.scope,
            now=filters.now,
            granularity=filters.granularity,
        )
    if dashboard == Dashboard.BACKLOG:
        return backlog(
            period=filters.period,
            scope=filters.scope,
            now=filters.now,
            granularity=filters.granularity,
        )
    if dashboard == Dashboard.AVAILABILITY:
        return availability(period=filters.period, scope=filters.scope, now=filters.now)
    if dashboard == Dashboard.VOLUMES:
        return volumes(period=filters.period, scope=filters.scope, now=filters.now)
    raise ValueError(f"unknown dashboard {dashboard!r}")
