"""What the desk remembers per agent: saved queue views, column and default-view
preferences, and canned replies. Tickets themselves live in `tickets`."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel

#: The queue columns an agent may choose, in display order, with their headings.
QUEUE_COLUMNS: dict[str, str] = {
    "number": "Number",
    "kind": "Kind",
    "title": "Title",
    "requester": "Requester",
    "priority": "Priority",
    "status": "Status",
    "team": "Team",
    "assignee": "Assignee",
    "sla": "SLA left",
    "updated": "Updated",
}
DEFAULT_COLUMNS = list(QUEUE_COLUMNS)


class SavedView(TimeStampedModel):
    """A named queue filter (the query string of the unified queue). Personal unless
    `team` is set, in which case every member of that team sees it."""

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        help_text="Shared with this team; empty means personal.",
    )
    query = models.CharField(
        max_length=2000, blank=True, help_text="The queue's query string, without page."
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="desk_savedview_owner_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shared(self) -> bool:
        return self.team_id is not None


class DeskPreference(models.Model):
    """An agent's queue columns and the saved view the queue opens with."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_preference"
    )
    columns = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    default_view = models.ForeignKey(
        SavedView, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Desk preferences of {self.user}"


class CannedReply(TimeStampedModel):
    """A reusable reply text with placeholders ({{ requester.first_name }}, {{ ticket.number }},
    …). Personal to its owner unless `team` is set (shared with that team) or `shared_all`."""

    title = models.CharField(max_length=100)
    body = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="canned_replies"
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
    )
    shared_all = models.BooleanField(default=False, help_text="Every agent may use it.")

    class Meta:
        ordering = ["title", "pk"]
        verbose_name_plural = "canned replies"
        constraints = [
            models.CheckConstraint(
                condition=~(Q(shared_all=True) & Q(team__isnull=False)),
                name="desk_canned_one_scope",
            )
        ]

    def __str__(self) -> str:
        return self.title
