"""Answers to a catalogue item's form: server-side validation (the one rule the portal, the
desk and the API share) and a readable rendering.

`answers_validate` accepts what a browser posts (strings, lists of strings, files) and what
the API sends (JSON numbers, booleans, lists, objects). It checks types, bounds, required,
choices and show-if conditions, drops answers to hidden questions, and either returns clean
answers or raises `AnswersInvalid` with one message list per question. It never writes."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from accounts.models import User
from catalogue import formdef
from catalogue.choices import VariableType as T
from catalogue.models import Service
from core.exceptions import DomainError, UploadRejected
from tickets.services import attachment_check

from .choices import MAX_FILES_PER_QUESTION

MISSING = object()
#: Largest id PostgreSQL's bigint holds; anything larger cannot be a row.
MAX_ID = 2**63 - 1


class AnswersInvalid(DomainError):
    """Some answers do not fit the form. `errors` maps question names to messages."""

    title = "Validation failed"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Some answers are not valid: see each question.")
        self.errors = errors


@dataclass
class ValidAnswers:
    """Clean answers (hidden and unanswered questions left out) and the files to store."""

    values: dict[str, Any] = field(default_factory=dict)
    uploads: dict[str, list[UploadedFile]] = field(default_factory=dict)


def _empty(value: Any) -> bool:
    if value is None or value is MISSING:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and len(value) == 0


def _text(value: Any, *, limit: int, multiline: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("Enter text.")
    text = str(value).replace("\r\n", "\n").strip()
    if not multiline:
        text = " ".join(text.split())
    problem = formdef.storable_text(text)
    if problem:
        raise ValueError(problem)
    if len(text) > limit:
        raise ValueError(f"Keep it under {limit} characters (it has {len(text)}).")
    return text


def _choice_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("Choose one of the options.")
    return str(value).strip()


def _choice(variable: formdef.Variable, value: Any) -> str:
    chosen = _choice_value(value)
    if chosen not in variable.choice_values:
        raise ValueError("Choose one of the options.")
    return chosen


def _choices(variable: formdef.Variable, value: Any) -> list[str]:
    values = [value] if isinstance(value, str | int) and not isinstance(value, bool) else value
    if not isinstance(values, list | tuple):
        raise ValueError("Choose among the options.")
    chosen = {_choice_value(v) for v in values}
    unknown = chosen - set(variable.choice_values)
    if unknown:
        raise ValueError("Choose among the options only.")
    return [v for v in variable.choice_values if v in chosen]


def _reference(value: Any) -> int:
    """A row id from an int, a string of digits or {"id": …}."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ValueError("Choose from the list.")
    return value


def _number(variable: formdef.Variable, value: Any) -> int | float:
    number = formdef.parse_number(value)
    formdef.check_bounds(variable, number)
    return formdef.number_json(number)


def _parse(variable: formdef.Variable, value: Any) -> Any:
    """One answer, clean; ValueError with the message the person reads."""
    kind = variable.type
    if kind == T.TEXT:
        return _text(value, limit=formdef.TEXT_MAX, multiline=False)
    if kind == T.MULTILINE:
        return _text(value, limit=formdef.MULTILINE_MAX, multiline=True)
    if kind == T.NUMBER:
        return _number(variable, value)
    if kind == T.YES_NO:
        return formdef.parse_yes_no(value)
    if kind == T.CHOICE:
        return _choice(variable, value)
    if kind == T.MULTI_CHOICE:
        return _choices(variable, value)
    if kind == T.DATE:
        return formdef.parse_date(value).isoformat()
    if kind in (T.USER, T.SERVICE):
        return {"id": _reference(value)}
    raise ValueError("This question cannot be answered here.")


def _files(variable: formdef.Variable, uploads: Sequence[Any]) -> list[UploadedFile]:
    files = [f for f in uploads if isinstance(f, UploadedFile)]
    if len(files) > MAX_FILES_PER_QUESTION:
        raise ValueError(f"Attach at most {MAX_FILES_PER_QUESTION} files.")
    for upload in files:
        try:
            attachment_check(upload=upload)
        except UploadRejected as exc:
            raise ValueError(exc.message) from None
    return files


def _is_shown(
    variable: formdef.Variable,
    by_name: Mapping[str, formdef.Variable],
    shown: set[str],
    clean: Mapping[str, Any],
) -> bool:
    condition = variable.condition
    if condition is None:
        return True
    source = by_name.get(condition.variable)
    if source is None or source.name not in shown:
        return False
    return formdef.condition_met(source, condition, clean.get(source.name))


def people_for(user: Any) -> QuerySet[User]:
    """The people `user` may pick in a form (a person question, "who is it for", a delegate):
    a member of a customer organisation picks among that organisation's people, so nobody
    browses another customer's staff; agents and people outside any organisation (in-house
    staff) pick among everyone."""
    people = User.objects.filter(is_active=True)
    if user is None or getattr(user, "is_agent", False) or not user.organization_id:
        return people
    return people.filter(organization_id=user.organization_id)


def answers_validate(
    *,
    variables: Sequence[formdef.Variable],
    raw: Any,
    files: Mapping[str, Sequence[Any]] | None = None,
    use_defaults: bool = True,
    by: Any = None,
) -> ValidAnswers:
    """Check answers against a form; raise AnswersInvalid (nothing written) or return them.

    Answers to questions a condition hides are dropped, so are empty optional ones. A
    missing answer takes the question's default when `use_defaults` (the API; the portal
    pre-fills defaults and posts what the person left). Person answers must be people `by`
    may pick (people_for)."""
    if not isinstance(raw, Mapping):
        raise AnswersInvalid({"answers": ["Send the answers as an object of name → answer."]})
    files = files or {}
    errors: dict[str, list[str]] = {}
    by_name = {v.name: v for v in variables}
    for key in raw:
        if key not in by_name:
            errors[str(key)[:60]] = ["There is no such question on this form."]
    result = ValidAnswers()
    shown: set[str] = set()
    for variable in variables:
        if not variable.asked or not _is_shown(variable, by_name, shown, result.values):
            continue
        shown.add(variable.name)
        try:
            _answer_one(variable, raw, files, result, use_defaults=use_defaults)
        except ValueError as exc:
            errors[variable.name] = [str(exc)]
    _resolve_references(variables, result.values, errors, people=people_for(by))
    if errors:
        raise AnswersInvalid(errors)
    return result


def _answer_one(
    variable: formdef.Variable,
    raw: Mapping[str, Any],
    files: Mapping[str, Sequence[Any]],
    result: ValidAnswers,
    *,
    use_defaults: bool,
) -> None:
    if variable.type == T.ATTACHMENT:
        uploads = _files(variable, list(files.get(variable.name) or ()))
        if uploads:
            result.uploads[variable.name] = uploads
            # Placeholder until the files are stored: conditions only ask "answered".
            result.values[variable.name] = [{"name": u.name} for u in uploads]
        elif variable.required:
            raise ValueError("Attach a file.")
        return
    value = raw.get(variable.name, MISSING)
    if value is MISSING and use_defaults and variable.default:
        value = formdef.default_value(variable)
    if _empty(value):
        if variable.required:
            raise ValueError("This question is required.")
        return
    result.values[variable.name] = _parse(variable, value)


def _resolve_references(
    variables: Sequence[formdef.Variable],
    values: dict[str, Any],
    errors: dict[str, list[str]],
    *,
    people: QuerySet[User],
) -> None:
    """Person and service answers must name an active row: one query per kind."""
    for kind, model, label in (
        (T.USER, User, "person"),
        (T.SERVICE, Service, "service"),
    ):
        names = [v.name for v in variables if v.type == kind and v.name in values]
        if not names:
            continue
        ids = {values[name]["id"] for name in names}
        if model is User:
            rows = people.filter(pk__in=ids)
        else:
            rows = Service.objects.orderable().filter(pk__in=ids)
        found = {row.pk: str(row) for row in rows}
        for name in names:
            pk = values[name]["id"]
            if pk in found:
                values[name] = {"id": pk, "label": found[pk]}
            else:
                del values[name]
                errors[name] = [f"Choose an existing {label}."]


# ------------------------------------------------------------------ reading answers
@dataclass(frozen=True)
class AnswerRow:
    name: str
    label: str
    type: str
    text: str
    files: tuple[dict[str, Any], ...] = ()


def answer_text(variable: formdef.Variable, value: Any) -> str:
    """An answer as a person reads it."""
    if variable.type == T.YES_NO:
        return "Yes" if value else "No"
    if variable.type == T.CHOICE:
        return variable.choice_label(value)
    if variable.type == T.MULTI_CHOICE:
        return ", ".join(variable.choice_label(v) for v in value)
    if variable.type in (T.USER, T.SERVICE):
        return str(value.get("label", value.get("id"))) if isinstance(value, dict) else str(value)
    if variable.type == T.ATTACHMENT:
        return ", ".join(str(f.get("name", "")) for f in value)
    if variable.type == T.DATE:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{day.day} {day:%b %Y}"
    return str(value)


def answers_display(
    variables: Sequence[formdef.Variable], answers: Mapping[str, Any]
) -> list[AnswerRow]:
    """The answered questions in form order, with readable values."""
    rows = []
    for variable in variables:
        if variable.name not in answers:
            continue
        value = answers[variable.name]
        files = tuple(value) if variable.type == T.ATTACHMENT else ()
        rows.append(
            AnswerRow(
                name=variable.name,
                label=variable.label,
                type=variable.type,
                text=answer_text(variable, value),
                files=files,
            )
        )
    return rows


def answers_plain(variables: Sequence[formdef.Variable], answers: Mapping[str, Any]) -> str:
    """The answers as plain text lines, for the ticket description and full-text search."""
    lines = []
    for row in answers_display(variables, answers):
        label = row.label if row.label.rstrip().endswith(("?", ":")) else f"{row.label}:"
        lines.append(f"{label} {row.text}")
    return "\n".join(lines)
