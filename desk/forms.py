"""Desk forms: validation and widgets only; the services decide and write."""

import re
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from accounts.models import Team, User
from accounts.roles import DESK_ROLES
from catalogue.models import Service
from core.forms import MultipleFileField
from incidents.choices import (
    Channel,
    IncidentStatus,
    Level,
    OnHoldReason,
    OutageKind,
    ResolutionCode,
)
from incidents.models import Category
from tickets.choices import LinkKind


class VersionedForm(forms.Form):
    """Carries the ticket version the agent saw, for optimistic locking."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class ReplyForm(VersionedForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    public = forms.BooleanField(required=False, initial=True)
    attachments = MultipleFileField(label="Attach files")
    time_spent_minutes = forms.IntegerField(
        label="Time spent (minutes)",
        required=False,
        min_value=0,
        max_value=1440,
        widget=forms.NumberInput(attrs={"min": 0, "max": 1440, "step": 1, "class": "input-sm"}),
    )


class IncidentFieldsForm(VersionedForm):
    title = forms.CharField(max_length=200)
    service = forms.ModelChoiceField(Service.objects.filter(active=True), required=False)
    category = forms.ModelChoiceField(
        Category.objects.filter(parent=None, active=True), required=False
    )
    subcategory = forms.ModelChoiceField(
        # "Parent › child" labels: the parents come with the choices, not a query each.
        Category.objects.exclude(parent=None).filter(active=True).select_related("parent"),
        required=False,
    )
    impact = forms.ChoiceField(choices=Level.choices)
    urgency = forms.ChoiceField(choices=Level.choices)


class PriorityOverrideForm(VersionedForm):
    priority = forms.TypedChoiceField(coerce=int, choices=[(p, f"P{p}") for p in range(1, 5)])
    reason = forms.CharField(max_length=300)


class TransitionForm(VersionedForm):
    target = forms.ChoiceField(choices=IncidentStatus.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    on_hold_reason = forms.ChoiceField(choices=[("", "—"), *OnHoldReason.choices], required=False)
    resolution_code = forms.ChoiceField(
        choices=[("", "—"), *ResolutionCode.choices], required=False
    )
    resolution_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


def agents() -> QuerySet[User]:
    """Users who work in the desk: the only sensible assignees (never the whole directory)."""
    return User.objects.filter(
        is_active=True, groups__name__in=[r.value for r in DESK_ROLES]
    ).distinct()


class TeamAssignForm(VersionedForm):
    """A team and an agent. Rendered for a ticket, the agent list is the team's members (and
    the current assignee): a short list, never the whole directory."""

    team = forms.ModelChoiceField(Team.objects.all(), required=False)
    assignee = forms.ModelChoiceField(agents(), required=False)

    @classmethod
    def for_ticket(cls, ticket: Any, version: dict[str, int]) -> "TeamAssignForm":
        form = cls(initial={**version, "team": ticket.team_id, "assignee": ticket.assignee_id})
        form.limit_to_team(ticket.team, keep=ticket.assignee_id)
        return form

    def limit_to_team(self, team: Team | None, keep: int | None = None) -> None:
        if team is not None:
            self.fields["assignee"].queryset = agents().filter(
                Q(team_memberships__team=team) | Q(pk=keep)
            )


class AssignForm(TeamAssignForm):
    auto = forms.BooleanField(required=False, label="Let the team's method pick")


class UserLookupField(forms.CharField):
    """A person by username or e-mail: a text box instead of a 5,000-option select."""

    def clean(self, value: str) -> User:
        value = super().clean(value).strip()
        user = (
            User.objects.filter(is_active=True)
            .filter(Q(username__iexact=value) | Q(email__iexact=value))
            .first()
        )
        if user is None:
            raise forms.ValidationError("No active user with that username or e-mail.")
        return user


class OutageForm(forms.Form):
    service = forms.ModelChoiceField(Service.objects.filter(active=True))
    kind = forms.ChoiceField(choices=OutageKind.choices)
    started_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ended_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(max_length=200, required=False)


class LinkChildForm(forms.Form):
    child = forms.CharField(label="Child incident number", max_length=16)


class IncidentCreateForm(forms.Form):
    """An agent raises an incident for a caller (phone channel by default)."""

    requester = UserLookupField(label="Caller", help_text="Username or e-mail address.")
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    service = forms.ModelChoiceField(Service.objects.filter(active=True), required=False)
    category = forms.ModelChoiceField(
        Category.objects.filter(parent=None, active=True), required=False
    )
    impact = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM)
    urgency = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM)
    team = forms.ModelChoiceField(
        Team.objects.all(), required=False, help_text="Empty: routing rules decide."
    )


# ------------------------------------------------------------------ ticket tools (any kind)
class TagsForm(VersionedForm):
    tags = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Separated by commas or spaces: lowercase letters, digits and hyphens.",
    )

    def clean_tags(self) -> list[str]:
        return [t for t in re.split(r"[,\s]+", self.cleaned_data["tags"]) if t]


class WatchForm(forms.Form):
    watch = forms.BooleanField(required=False)


class TicketLinkForm(forms.Form):
    number = forms.CharField(label="Ticket number", max_length=16)
    kind = forms.ChoiceField(
        label="Link",
        choices=[(LinkKind.RELATED, "Relates to"), (LinkKind.DUPLICATE_OF, "Duplicates")],
        initial=LinkKind.RELATED,
    )


class CannedReplyForm(forms.Form):
    """Title, text and scope of a canned reply; `user` limits the teams it may be shared with."""

    title = forms.CharField(max_length=100)
    body = forms.CharField(
        label="Text",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders: {{ requester.first_name }}, {{ requester.name }}, "
        "{{ ticket.number }}, {{ ticket.title }}, {{ agent.first_name }}, {{ agent.name }}, "
        "{{ team.name }}.",
    )
    team = forms.ModelChoiceField(
        Team.objects.none(), required=False, empty_label="— not shared with a team —"
    )
    shared_all = forms.BooleanField(label="Share with every agent", required=False)

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("team") is not None and data.get("shared_all"):
            self.add_error("team", "Share with one team or with everyone, not both.")
        return data
