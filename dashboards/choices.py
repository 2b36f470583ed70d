"""Choices of the dashboards: which dashboard, which period, which report format."""

from django.db import models


class Dashboard(models.TextChoices):
    OVERVIEW = "overview", "SLA overview"
    BACKLOG = "backlog", "Backlog"
    AVAILABILITY = "availability", "Service availability"
    VOLUMES = "volumes", "Volumes"


class PeriodPreset(models.TextChoices):
    THIS_WEEK = "this_week", "This week"
    LAST_7 = "last_7", "Last 7 days"
    LAST_30 = "last_30", "Last 30 days"
    LAST_90 = "last_90", "Last 90 days"
    THIS_QUARTER = "this_quarter", "This quarter"
    CUSTOM = "custom", "Custom"


class ReportFormat(models.TextChoices):
    # PDF would need a rendering stack (WeasyPrint: Pango/Cairo system libraries); CSV
    # attachments carry exactly the numbers of every table and need nothing.
    CSV = "csv", "CSV attachments"


class Granularity(models.TextChoices):
    DAY = "day", "Per day"
    WEEK = "week", "Per week"
