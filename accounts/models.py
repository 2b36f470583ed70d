"""People and the groups they work in: User, Organization, Team."""

from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower

from .roles import DESK_ROLES, MANAGER_ROLES, Role


class Organization(models.Model):
    """A customer organisation (company, department) that requesters belong to."""

    name = models.CharField(max_length=200, unique=True)
    email_domain = models.CharField(
        max_length=200, blank=True, help_text="New e-mail-only requesters from this domain join it."
    )
    share_tickets = models.BooleanField(
        default=False,
        help_text="Requesters of this organisation see each other's tickets in the portal.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceDeskUserManager(UserManager):
    def get_by_natural_key(self, username: str) -> "User":
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """Everyone who raises or works tickets.

    E-mail-only callers are users with an unusable password."""

    email = models.EmailField("e-mail address", unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    phone = models.CharField(max_length=40, blank=True)
    # Approval delegation: while away, `delegate` decides the approvals waiting on this user
    # (from `delegate_from` to `delegate_until` inclusive; an open end means "until removed").
    delegate = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="delegators",
        help_text="Decides approvals for this user while they are away.",
    )
    delegate_from = models.DateField(null=True, blank=True)
    delegate_until = models.DateField(null=True, blank=True)

    objects = ServiceDeskUserManager()

    class Meta:
        ordering = ["display_name", "username"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def save(self, *args, **kwargs) -> None:
        # Keep the display name filled: every list shows it.
        if not self.display_name:
            self.display_name = self.get_full_name() or self.username
        super().save(*args, **kwargs)

    @cached_property
    def role_names(self) -> frozenset[str]:
        """Names of the user's role groups (one query, cached for the request)."""
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role) -> bool:
        return role.value in self.role_names

    @property
    def is_agent(self) -> bool:
        """Works in the desk."""
        return self.is_active and (self.is_superuser or bool(self.role_names & DESK_ROLES))

    @property
    def is_manager(self) -> bool:
        """Sees the managers' dashboards."""
        return self.is_active and (self.is_superuser or bool(self.role_names & MANAGER_ROLES))

    @cached_property
    def can_see_dashboards(self) -> bool:
        """Managers, and team leads (for their teams' figures)."""
        return self.is_manager or (self.is_active and self.led_teams.exists())

    @cached_property
    def team_ids(self) -> frozenset[int]:
        return frozenset(self.team_memberships.values_list("team_id", flat=True))


class AssignmentMethod(models.TextChoices):
    OFF = "off", "Off (agents take tickets)"
    ROUND_ROBIN = "round_robin", "Round-robin"
    LEAST_LOADED = "least_loaded", "Least loaded (open tickets weighted by priority)"


class Team(models.Model):
    """An assignment group: the team a ticket is routed to."""

    name = models.CharField(max_length=100, unique=True)
    assignment_method = models.CharField(
        max_length=16, choices=AssignmentMethod, default=AssignmentMethod.OFF
    )
    last_assigned = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="Round-robin pointer.",
    )
    email = models.EmailField(blank=True)
    lead = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="led_teams"
    )
    members = models.ManyToManyField(User, through="TeamMembership", related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """A user's place in a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="team_memberships")
    joined_at = models.DateTimeField(auto_now_add=True)
    available = models.BooleanField(
        default=True, help_text="Takes new tickets from auto-assignment (off when away)."
    )
    max_open_tickets = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Cap on open tickets for auto-assignment; empty = no cap."
    )
    work_days = models.CharField(
        max_length=7,
        default="01234",
        help_text="Weekdays worked, 0 = Monday (in the user's time zone).",
    )
    work_start = models.TimeField(null=True, blank=True)
    work_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "user"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="accounts_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"
