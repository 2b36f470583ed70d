"""The portal's order form for a catalogue item: one input per question (with its show-if
condition for the browser), quantity and "who is it for". Parsing and checking are left to
servicerequests.answers, so the browser, the desk and the API get the same messages."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet

from accounts.models import User
from catalogue import formdef
from catalogue.choices import VariableType as T
from catalogue.models import Service
from core.forms import MultipleFileInput

from .answers import AnswersInvalid, ValidAnswers, answers_validate, people_for

PREFIX = "q-"


def field_name(variable_name: str) -> str:
    return f"{PREFIX}{variable_name}"


class RawField(forms.Field):
    """Renders with its widget and hands the raw value to answers_validate (the one rule)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)


class PersonSelect(forms.Select):
    """A person picker: the select holds active people; the template adds a search box
    that refreshes the options through HTMX."""


def _people_choices(scope: QuerySet[User], selected: Any = None) -> list[tuple[str, str]]:
    """The first people of `scope` by name (the search box finds the others), plus the one
    selected."""
    people = list(scope.order_by("display_name", "pk")[:50])
    if selected and str(selected).isdigit() and all(str(p.pk) != str(selected) for p in people):
        extra = scope.filter(pk=int(selected)).first()
        if extra is not None:
            people.insert(0, extra)
    return [("", "—"), *((str(p.pk), f"{p} ({p.email})") for p in people)]


def _number_widget(variable: formdef.Variable) -> forms.Widget:
    attrs: dict[str, Any] = {"step": "any"}
    if variable.min_value is not None:
        attrs["min"] = f"{variable.min_value.normalize():f}"
    if variable.max_value is not None:
        attrs["max"] = f"{variable.max_value.normalize():f}"
    return forms.NumberInput(attrs=attrs)


def _choice_widget(variable: formdef.Variable) -> forms.Widget:
    options = [(c.value, c.label) for c in variable.choices]
    if len(options) <= 5:
        return forms.RadioSelect(choices=options)
    return forms.Select(choices=[("", "—"), *options])


#: Widget builders: (variable, choices of its kind: services or people) → widget.
_WIDGETS: dict[str, Any] = {
    T.TEXT: lambda v, s: forms.TextInput(attrs={"maxlength": formdef.TEXT_MAX}),
    T.MULTILINE: lambda v, s: forms.Textarea(attrs={"rows": 4, "maxlength": formdef.MULTILINE_MAX}),
    T.NUMBER: lambda v, s: _number_widget(v),
    T.YES_NO: lambda v, s: forms.RadioSelect(choices=[("yes", "Yes"), ("no", "No")]),
    T.CHOICE: lambda v, s: _choice_widget(v),
    T.MULTI_CHOICE: lambda v, s: forms.CheckboxSelectMultiple(
        choices=[(c.value, c.label) for c in v.choices]
    ),
    T.DATE: lambda v, s: forms.DateInput(attrs={"type": "date"}),
    T.USER: lambda v, s: PersonSelect(choices=s),
    T.SERVICE: lambda v, s: forms.Select(choices=[("", "—"), *s]),
    T.ATTACHMENT: lambda v, s: MultipleFileInput(),
}


def _widget(variable: formdef.Variable, options: list[tuple[str, str]]) -> forms.Widget:
    """The input a question is answered with (options: services or people to choose from)."""
    return _WIDGETS.get(variable.type, _WIDGETS[T.TEXT])(variable, options)


def _initial(variable: formdef.Variable) -> Any:
    if not variable.default:
        return None
    try:
        value = formdef.default_value(variable)
    except ValueError:
        return None
    if variable.type == T.YES_NO:
        return "yes" if value else "no"
    return value


@dataclass(frozen=True)
class VariableField:
    """What the template needs to render one question with its show-if condition."""

    variable: formdef.Variable
    field: forms.BoundField
    condition_json: str


class OrderForm(forms.Form):
    """The item's questions plus quantity and "requested for". Field-level parsing is left to
    answers_validate, so the browser, the desk and the API get the same messages."""

    requested_for = forms.IntegerField(
        required=False,
        widget=PersonSelect(),
        label="Who is it for?",
        help_text="Leave as yourself, or choose the colleague it is for.",
    )

    def __init__(
        self, *args: Any, item: Any, variables: Sequence[formdef.Variable], user: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        self.variables = [v for v in variables if v.asked]
        self.user = user
        self.answers: ValidAnswers | None = None
        self.raw_answers: dict[str, Any] = {}
        self.raw_files: dict[str, list[Any]] = {}
        self.people = people_for(user)
        options: dict[str, list[tuple[str, str]]] = {T.SERVICE: [], T.USER: []}
        if any(v.type == T.SERVICE for v in self.variables):
            options[T.SERVICE] = [(str(s.pk), s.name) for s in Service.objects.orderable()]
        if any(v.type == T.USER for v in self.variables):
            options[T.USER] = _people_choices(self.people)
        for variable in self.variables:
            self.fields[field_name(variable.name)] = RawField(
                label=variable.label,
                help_text=variable.help_text,
                widget=_widget(variable, options.get(variable.type, [])),
                initial=_initial(variable),
            )
        selected = self.data.get("requested_for") if self.is_bound else user.pk
        self.fields["requested_for"].widget.choices = _people_choices(self.people, selected)
        self.fields["requested_for"].initial = user.pk
        if item.max_quantity > 1:
            self.fields["quantity"] = forms.IntegerField(
                min_value=1, max_value=item.max_quantity, initial=1, label="Quantity"
            )

    def variable_fields(self) -> list[VariableField]:
        rows = []
        types = {v.name: v.type for v in self.variables}
        for variable in self.variables:
            condition = variable.condition
            condition_json = ""
            if condition is not None:
                condition_json = json.dumps(
                    {
                        "variable": condition.variable,
                        "operator": condition.operator,
                        "value": condition.value,
                        "type": types.get(condition.variable, ""),
                    }
                )
            rows.append(VariableField(variable, self[field_name(variable.name)], condition_json))
        return rows

    def clean_requested_for(self) -> Any:
        pk = self.cleaned_data.get("requested_for")
        if not pk:
            return self.user
        person = self.people.filter(pk=pk).first()
        if person is None:
            raise forms.ValidationError("Choose someone from the list.")
        return person

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        raw = {}
        files: dict[str, list[Any]] = {}
        for variable in self.variables:
            name = field_name(variable.name)
            if variable.type == T.ATTACHMENT:
                files[variable.name] = self.files.getlist(name) if self.files else []
            elif name in cleaned and cleaned[name] not in (None, "", []):
                raw[variable.name] = cleaned[name]
        self.raw_answers, self.raw_files = raw, files
        try:
            self.answers = answers_validate(
                variables=self.variables, raw=raw, files=files, use_defaults=False, by=self.user
            )
        except AnswersInvalid as exc:
            for name, messages in exc.errors.items():
                target = field_name(name)
                for message in messages:
                    self.add_error(target if target in self.fields else None, message)
        return cleaned

    def add_answer_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Show AnswersInvalid raised by the service (a race with an item edit)."""
        for name, messages in errors.items():
            target = field_name(name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
