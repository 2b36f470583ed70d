"""The one POST-action dispatcher of the desk ticket pages (incidents, requests, tasks,
changes). Each kind keeps its ACTIONS table and small run functions; this module does the
rest the same way for all of them:

look up the action → load the ticket through the kind's visible_to loader (hidden → 404) →
check the permission predicate → bind and validate the form → call the run function (which
calls one service) → on DomainError show it on the form; on StaleWrite show what changed
since the agent's version and keep their input → HTMX re-renders the panel in place, a plain
POST redirects back (PRG) or re-renders with 422.

Nothing is overwritten silently: a form that carries a `version` is compared with the ticket
before the run function is called (the services check again under the row lock; the early
check also covers replies and notes, whose services only append and take no version)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from core.exceptions import DomainError, StaleWrite
from tickets.models import TicketEvent

T = TypeVar("T")

#: The most journal entries a stale notice lists (the timeline below shows the rest).
STALE_EVENTS_MAX = 20
#: Fields of the agent's POST that are not their input: never resubmitted as such.
_NOT_INPUT = frozenset({"csrfmiddlewaretoken", "version", "seen"})
STALE_POINTER = (
    "Not saved: someone changed this ticket after you opened it. Your input is kept here; "
    "see what changed above, then apply yours anyway or discard it."
)


@dataclass(frozen=True)
class Action:
    """One POST action of a ticket page.

    `form` builds the bound form from (data, files); `run` calls the service with the cleaned
    data (or the form itself when `pass_form`); `form_key` is the form slot re-rendered with
    errors; `done` the success message; `predicate` replaces the kind's default permission
    check (e.g. approvers, who need not work the ticket)."""

    form: Callable[..., forms.Form]
    run: Callable[[HttpRequest, Any, Any], None]
    form_key: str
    done: str
    predicate: Callable[[Any, Any], bool] | None = None
    pass_form: bool = False


@dataclass(frozen=True)
class Stale:
    """What the stale notice (templates/desk/_stale.html) shows and resubmits."""

    events: list[TicketEvent]
    exact: bool  # False: no `seen` marker came with the form; events are the latest ones
    theirs: int
    current: int
    action_url: str
    target: str
    discard_url: str
    resubmit: list[tuple[str, str]]
    yours: list[tuple[str, str]]  # the agent's input, labelled, for reading
    dropped_files: bool


class Renderer(Protocol):
    def __call__(
        self,
        request: HttpRequest,
        obj: Any,
        *,
        bound: dict[str, forms.Form] | None = ...,
        status: int = ...,
        stale: Stale | None = ...,
    ) -> HttpResponse: ...


def anyone(user: Any, obj: Any) -> bool:
    """Predicate for actions that check their own permission inside `run`."""
    return True


def run_action(
    request: HttpRequest,
    *,
    actions: Mapping[str, Action],
    action: str,
    load: Callable[[], T],
    can: Callable[[Any, T], bool],
    render: Renderer,
    panel: str,
) -> HttpResponse:
    """Dispatch POST `action` on the ticket `load()` returns; `can` is the kind's default
    predicate and `panel` the CSS selector of the panel HTMX swaps."""
    spec = actions.get(action)
    if spec is None:
        raise Http404
    obj = load()
    predicate = spec.predicate or can
    if not predicate(request.user, obj):
        raise PermissionDenied
    form = spec.form(request.POST, request.FILES)
    if form.is_valid():
        try:
            _check_version(form, obj)
            spec.run(request, obj, form if spec.pass_form else dict(form.cleaned_data))
        except StaleWrite:
            fresh = load()
            stale = _stale(request, fresh, form, panel)
            # A button-only form ("Assign to me") has no input to keep: leave its slot (which
            # may hold a different, fuller form) fresh; the notice offers to post it again.
            kept = set(form.fields) - _NOT_INPUT
            bound = {spec.form_key: _rebind(spec, request, stale.current)} if kept else None
            status = 200 if request.htmx else 422
            return render(request, fresh, bound=bound, status=status, stale=stale)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, spec.done)
            if not request.htmx:
                return redirect(obj.get_absolute_url())  # type: ignore[attr-defined]
            return render(request, load())
    status = 200 if request.htmx else 422  # htmx swaps only 2xx by default
    return render(request, load(), bound={spec.form_key: form}, status=status)


def _check_version(form: forms.Form, obj: Any) -> None:
    expected = form.cleaned_data.get("version") if "version" in form.fields else None
    current = obj.ticket.version
    if expected is not None and expected != current:
        raise StaleWrite(current_version=current)


def _seen(request: HttpRequest) -> int | None:
    """The newest journal entry id of the page the agent loaded (added to every ticket POST by
    static/js/desk-collab.js, and carried by the stale notice's own form)."""
    value = request.POST.get("seen", "")
    return int(value) if value.isdigit() else None


def _stale(request: HttpRequest, fresh: Any, form: forms.Form, panel: str) -> Stale:
    ticket = fresh.ticket
    theirs = int(form.cleaned_data.get("version") or 0)
    journal = TicketEvent.objects.filter(ticket_id=ticket.pk).for_viewer(request.user)
    seen = _seen(request)
    if seen is not None:
        events = list(
            journal.filter(pk__gt=seen).select_related("actor").order_by("pk")[:STALE_EVENTS_MAX]
        )
    else:
        # No marker (JavaScript off): every save bumps the version once and journals at least
        # one entry, so the last (current - theirs) entries are the least that changed.
        count = min(max(ticket.version - theirs, 1), STALE_EVENTS_MAX)
        events = list(journal.select_related("actor").order_by("-pk")[:count])[::-1]
    newest = journal.order_by("-pk").values_list("pk", flat=True).first()
    resubmit = [
        (name, value)
        for name in request.POST
        if name not in _NOT_INPUT
        for value in request.POST.getlist(name)
    ]
    resubmit += [("version", str(ticket.version)), ("seen", str(newest or 0))]
    return Stale(
        events=events,
        exact=seen is not None,
        theirs=theirs,
        current=ticket.version,
        action_url=request.path,
        target=panel,
        discard_url=fresh.get_absolute_url(),
        resubmit=resubmit,
        yours=_yours(form),
        dropped_files=bool(request.FILES),
    )


def _yours(form: forms.Form) -> list[tuple[str, str]]:
    """The agent's non-empty input as (label, text); files and hidden fields are left out."""
    shown: list[tuple[str, str]] = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if name in _NOT_INPUT or isinstance(field.widget, forms.HiddenInput):
            continue
        if isinstance(field, forms.FileField) or value in (None, "", False):
            continue
        if isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
            labels = dict(getattr(field, "choices", ())) if not hasattr(value, "model") else {}
            text = ", ".join(str(labels.get(v, v)) for v in value)
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            text = str(dict(field.choices).get(value, value))
        elif value is True:
            text = "Yes"
        else:
            text = str(value)
        if text:
            shown.append((str(form[name].label), text))
    return shown


def _rebind(spec: Action, request: HttpRequest, current: int) -> forms.Form:
    """The agent's form again, with their input and the current version: saving it as it
    stands applies their change on top of what they have now been shown."""
    data: QueryDict = request.POST.copy()
    data["version"] = str(current)
    form = spec.form(data, request.FILES)
    form.is_valid()
    form.add_error(None, STALE_POINTER)
    return form
