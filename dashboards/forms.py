"""The dashboards' filter bar (period and scope) and the report subscription form."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.http import QueryDict

from accounts.models import Organization, Team
from catalogue.models import Service
from tickets.choices import Priority, TicketKind

from .choices import Dashboard, Granularity, PeriodPreset
from .periods import MAX_DAYS, Period, local_date, period_for
from .scope import Scope

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class FilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=PeriodPreset.choices, required=False, initial=PeriodPreset.LAST_30
    )
    first = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    last = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    granularity = forms.ChoiceField(
        choices=[("", "Automatic"), *Granularity.choices], required=False, label="Trend"
    )
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="All teams")
    service = forms.ModelChoiceField(
        Service.objects.filter(active=True), required=False, empty_label="All services"
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *Priority.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    kind = forms.ChoiceField(choices=[("", "Any kind"), *TicketKind.choices], required=False)
    organization = forms.ModelChoiceField(
        Organization.objects.all(), required=False, empty_label="All organisations"
    )

    def __init__(self, *args: Any, teams: tuple[int, ...] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.restriction = teams
        if teams is not None:
            field = self.fields["team"]
            field.queryset = Team.objects.filter(pk__in=teams)  # type: ignore[attr-defined]
            field.empty_label = "All my teams"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == PeriodPreset.CUSTOM:
            first, last = data.get("first"), data.get("last")
            if first is None or last is None:
                raise forms.ValidationError("Choose the first and last day of the period.")
            if first > last:
                raise forms.ValidationError("The period must end on or after its first day.")
            if (last - first).days >= MAX_DAYS:
                raise forms.ValidationError(f"A period is at most {MAX_DAYS} days long.")
        return data


@dataclass
class Filters:
    """What a dashboard request asks for, validated (defaults where the form is invalid)."""

    form: FilterForm
    period: Period
    scope: Scope
    granularity: str
    querystring: str
    now: datetime


def filters_from(
    params: QueryDict, *, zone: str, now: datetime, teams: tuple[int, ...] | None
) -> Filters:
    """Read the filter bar; `teams` restricts a team lead to the teams they lead."""
    form = FilterForm(params or None, teams=teams)
    data: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        data = dict(form.cleaned_data)  # the valid fields; invalid ones are left out
        if form.non_field_errors():  # an impossible custom period: use the default
            for key in ("period", "first", "last"):
                data.pop(key, None)
    today = local_date(now, zone)
    preset = data.get("period") or PeriodPreset.LAST_30
    first: date | None = data.get("first")
    period = period_for(preset, zone=zone, today=today, first=first, last=data.get("last"))
    team = data.get("team")
    team_ids = (team.pk,) if team is not None else teams
    service, organization = data.get("service"), data.get("organization")
    scope = Scope(
        team_ids=team_ids,
        service_id=service.pk if service else None,
        priority=data.get("priority"),
        kind=data.get("kind") or None,
        organization_id=organization.pk if organization else None,
    )
    granularity = data.get("granularity") or period.default_granularity()
    clean = QueryDict(mutable=True)
    for key in FilterForm.base_fields:
        for value in params.getlist(key):
            if value:
                clean.appendlist(key, value)
    return Filters(form, period, scope, granularity, clean.urlencode(), now)


class SubscribeForm(forms.Form):
    dashboard = forms.ChoiceField(choices=Dashboard.choices, widget=forms.HiddenInput)
    params = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, initial=0, label="Every")
