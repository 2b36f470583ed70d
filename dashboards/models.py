"""Read models of the managers' dashboards, and report subscriptions.

Why dashboards has tables (DESIGN says "no models" for front doors): the figures must answer
in well under a second at a million tickets, and the raw tables cannot: the SLA overview
would scan every clock stopped in the period (no index on `stopped_at`), re-read the journal
for reopens and replies, and sort every duration for the 90th percentile. So two derived
tables are kept, both disposable and rebuilt from scratch by `manage.py rebuild_dashboards`:

* `TicketFact`: one narrow row per ticket with what the dashboards read (dimensions, the
  outcome and durations of its stopped SLA clocks, reopens, replies), indexed by every instant
  a figure is dated by.
* `DailyRollup` / `DailyTeamRollup`: per time zone, local day and combination of
  dimensions (all of them / kind, priority and team only), the sums of those facts and the
  sorted durations behind them (so percentiles stay exact). A period reads one row per day
  and combination instead of one per ticket; the team rollup stays small whatever the
  volume and serves the usual scopes.

Both are maintained incrementally by a Celery beat task (`dashboards.rollups.rollups_sync`,
every minute) from the tickets changed since the last run. On every request the few tickets
saved since that run are re-derived from the raw tables and swapped in for their stored
facts (dashboards.queries.reader), so today — and any older day a late change touches — is
exact live. Nothing here is a source of truth: `manage.py rebuild_dashboards` truncates both
and rebuilds them from the raw tables."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from .choices import Dashboard, ReportFormat


class TicketFact(models.Model):
    """What the dashboards need to know about one ticket (derived, see module docstring).

    Durations are integer microseconds (exact sums and percentiles); `*_state` is "met",
    "breached" or "" when the metric's clock is not stopped (or there is none)."""

    # No database constraint: derived rows, rebuilt in bulk (a million FK checks saved), and
    # tickets are never deleted.
    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    kind = models.CharField(max_length=16)
    priority = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16)
    team_id = models.BigIntegerField(null=True)
    service_id = models.BigIntegerField(null=True)
    organization_id = models.BigIntegerField(null=True)
    assignee_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True)
    reopens = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    resp_state = models.CharField(max_length=10, blank=True)
    resp_stopped_at = models.DateTimeField(null=True)
    resp_work = models.BigIntegerField(null=True)
    resp_cal = models.BigIntegerField(null=True)
    res_state = models.CharField(max_length=10, blank=True)
    res_stopped_at = models.DateTimeField(null=True)
    res_work = models.BigIntegerField(null=True)
    res_cal = models.BigIntegerField(null=True)
    stamp = models.DateTimeField(
        null=True, help_text="The ticket's updated_at when derived: unchanged tickets are skipped."
    )

    class Meta:
        ordering = ["ticket"]
        indexes = [
            models.Index(fields=["created_at"], name="dashboards_fact_created"),
            # Resolved in a period per assignee/team (workload): answered from the index.
            models.Index(
                fields=["resolved_at"],
                name="dashboards_fact_resolved",
                include=[
                    "ticket",
                    "kind",
                    "priority",
                    "team_id",
                    "assignee_id",
                    "service_id",
                    "organization_id",
                ],
            ),
            models.Index(fields=["resp_stopped_at"], name="dashboards_fact_resp_stop"),
            models.Index(fields=["res_stopped_at"], name="dashboards_fact_res_stop"),
            # Open work now (backlog, workload, live counts): a few thousand entries that
            # answer those counts without visiting the table (index-only scans).
            models.Index(
                fields=["created_at"],
                name="dashboards_fact_open",
                include=[
                    "ticket",
                    "kind",
                    "priority",
                    "team_id",
                    "assignee_id",
                    "service_id",
                    "organization_id",
                ],
                condition=models.Q(state__in=["open", "on_hold"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Facts of ticket {self.ticket_id}"


class RollupMeasures(models.Model):
    """The measures every rollup row carries: sums of `TicketFact` for one local day (in
    `zone`) and one combination of dimensions.

    Each measure is dated by its own instant: `created` by creation, `resolved`/`reopened`/
    `fcr` by resolution, `resp_*`/`res_*` by the clock's stop. `*_work`/`*_cal` hold the
    sorted durations (µs) behind the sums, for exact percentiles."""

    zone = models.CharField(max_length=64)
    day = models.DateField()
    kind = models.CharField(max_length=16)
    priority = models.PositiveSmallIntegerField()
    team_id = models.BigIntegerField(null=True)
    created = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    fcr = models.PositiveIntegerField(default=0)
    resp_met = models.PositiveIntegerField(default=0)
    resp_breached = models.PositiveIntegerField(default=0)
    resp_work_sum = models.BigIntegerField(default=0)
    resp_cal_sum = models.BigIntegerField(default=0)
    resp_work = ArrayField(models.BigIntegerField(), default=list)
    resp_cal = ArrayField(models.BigIntegerField(), default=list)
    res_met = models.PositiveIntegerField(default=0)
    res_breached = models.PositiveIntegerField(default=0)
    res_work_sum = models.BigIntegerField(default=0)
    res_cal_sum = models.BigIntegerField(default=0)
    res_work = ArrayField(models.BigIntegerField(), default=list)
    res_cal = ArrayField(models.BigIntegerField(), default=list)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"Rollup {self.zone} {self.day}"


class DailyRollup(RollupMeasures):
    """Rollup by every dimension a dashboard filters or breaks down by (service, organisation,
    category and channel too): read when the scope or the breakdown needs them."""

    service_id = models.BigIntegerField(null=True)
    organization_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["zone", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "zone",
                    "day",
                    "kind",
                    "priority",
                    "team_id",
                    "service_id",
                    "organization_id",
                    "category_id",
                    "channel",
                ],
                nulls_distinct=False,
                name="dashboards_rollup_grain",
            )
        ]


class DailyTeamRollup(RollupMeasures):
    """The same sums by kind, priority and team only: a few hundred rows a day whatever the
    volume, which is what the SLA overview and the backlog read for their usual scopes."""

    class Meta:
        ordering = ["zone", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "day", "kind", "priority", "team_id"],
                nulls_distinct=False,
                name="dashboards_team_rollup_grain",
            )
        ]


class RollupZone(models.Model):
    """A time zone the rollups are kept in (one per zone managers work in). Until `ready_at`
    is set, dashboards in that zone read `TicketFact` directly (slower, same figures)."""

    zone = models.CharField(max_length=64, unique=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zone"]

    def __str__(self) -> str:
        return self.zone


class RollupState(models.Model):
    """The single bookkeeping row of the read models: how far the facts are synced."""

    watermark = models.DateTimeField(
        null=True, blank=True, help_text="Tickets changed before this instant are in the facts."
    )
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_sync_tickets = models.PositiveIntegerField(default=0)
    last_sync_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Dashboards synced to {self.watermark}"


class ReportSubscription(models.Model):
    """A manager's weekly e-mail of one dashboard, with the filters they chose."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    dashboard = models.CharField(max_length=16, choices=Dashboard)
    params = models.JSONField(default=dict, blank=True, help_text="The dashboard's filters.")
    format = models.CharField(max_length=8, choices=ReportFormat, default=ReportFormat.CSV)
    weekday = models.PositiveSmallIntegerField(
        default=0, help_text="0 = Monday, in the subscriber's time zone."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "dashboard", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="dashboards_subscription_weekday"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_dashboard_display()} for {self.user}"
