"""Forms of the unified queue page: saved views, columns, bulk actions and merge."""

from typing import Any

from django import forms
from django.db.models import Q

from accounts.models import Organization, Team, User
from accounts.roles import DESK_ROLES
from catalogue.models import Service
from incidents.choices import OnHoldReason, ResolutionCode
from tickets.choices import Priority
from tickets.models import Ticket
from tickets.search import NUMBER

from .bulk import STATUS_TARGETS, bulk_problems
from .models import QUEUE_COLUMNS


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80, label="View name")
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="Only me", label="Share with"
    )
    make_default = forms.BooleanField(required=False, label="Open the desk with this view")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("name")
        if not user.is_manager:
            teams = teams.filter(pk__in=list(user.team_ids))
        self.fields["team"].queryset = teams


class ColumnsForm(forms.Form):
    columns = forms.MultipleChoiceField(
        choices=list(QUEUE_COLUMNS.items()), widget=forms.CheckboxSelectMultiple
    )


def agent_choices() -> Any:
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=DESK_ROLES) | Q(is_superuser=True))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class BulkForm(forms.Form):
    """One bulk action and the fields it needs; which fields are required depends on it."""

    action = forms.ChoiceField(
        choices=[
            ("assign", "Assign to"),
            ("team", "Move to team"),
            ("status", "Change status"),
            ("priority", "Set priority (incidents)"),
            ("tag", "Add tag"),
        ]
    )
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    assignee_me = forms.BooleanField(required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False)
    target = forms.ChoiceField(
        choices=[("", "—")] + [(k, v[2]) for k, v in STATUS_TARGETS.items()], required=False
    )
    note = forms.CharField(max_length=500, required=False)
    on_hold_reason = forms.ChoiceField(choices=[("", "—"), *OnHoldReason.choices], required=False)
    resolution_code = forms.ChoiceField(
        choices=[("", "—"), *ResolutionCode.choices], required=False
    )
    resolution_notes = forms.CharField(max_length=2000, required=False)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, required=False)
    reason = forms.CharField(max_length=200, required=False)
    tag = forms.CharField(max_length=40, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agent_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, message in bulk_problems(data.get("action", ""), data).items():
            self.add_error(name, message)
        if data.get("action") == "team":
            data["assignee"] = None
        return data


class MergeForm(forms.Form):
    """Merge the selected tickets into one: the target by number (it may be one of them)."""

    target_number = forms.CharField(max_length=16, label="Merge into (number)")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_target_number(self) -> str:
        number = self.cleaned_data["target_number"].strip().upper()
        if not NUMBER.match(number):
            raise forms.ValidationError("Give the number of the ticket to keep, e.g. INC0001234.")
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        number = data.get("target_number")
        if number:
            target = Ticket.objects.visible_to(self.user).filter(number=number).first()
            if target is None:
                self.add_error("target_number", f"No ticket {number}.")
            data["target"] = target
        return data


#: The long selects of the queue page's filter and bulk bars, fetched when they first come into
#: view (hx-trigger="intersect once"): the page itself renders none of their ≈300 options.
#: field → (query of the choices, label of the "none" choice the ticket filter accepts).
LAZY_CHOICES: dict[str, tuple[Any, str]] = {
    "team": (lambda: Team.objects.order_by("name"), ""),
    "service": (lambda: Service.objects.order_by("name"), "No service"),
    "organization": (lambda: Organization.objects.order_by("name"), "No organisation"),
    "assignee": (agent_choices, ""),
}


def lazy_choices(field: str) -> list[tuple[str, str]]:
    """(value, label) of `field`'s options, "null" first when the filter takes it (one query)."""
    query, null_label = LAZY_CHOICES[field]
    options = [("null", null_label)] if null_label else []
    return options + [(str(obj.pk), str(obj)) for obj in query()]
