"""The unified desk queue (every kind, six queues with live counts, filters that live in the
URL, saved views, chosen columns, keyset pages), its live refresh, bulk actions and the
ticket jump. Agents only (core.middleware policy); every row comes from visible_to."""

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.postgres.search import SearchHeadline, SearchRank
from django.db.models import F, FloatField, QuerySet, Value
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.keyset import Key, paginate
from tickets.filtersets import BREACHING, TicketFilterSet
from tickets.models import Ticket
from tickets.search import NUMBER, text_query

from ..bulk import MAX_BULK, STATUS_TARGETS, bulk_apply, tickets_merge
from ..models import QUEUE_COLUMNS
from ..queue_forms import (
    LAZY_CHOICES,
    BulkForm,
    ColumnsForm,
    MergeForm,
    SavedViewForm,
    lazy_choices,
)
from ..queues import DEFAULT_QUEUE, QUEUES, SORTS, queue_counts, queue_sort_keys, queue_tickets
from ..saved_views import (
    clean_query,
    columns_for,
    preference_for,
    preference_set,
    saved_view_create,
    saved_view_delete,
    views_for,
)

PAGE_SIZES = (25, 50, 100)
#: Parameters that belong to the queue page itself rather than to the ticket filter.
_PAGE_PARAMS = {"queue", "sort", "after", "before", "page_size", "view", "fp", "page"}


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("page_size", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return min(max(size, 1), PAGE_SIZES[-1])


def _queue_slug(request: HttpRequest) -> str:
    slug = request.GET.get("queue", DEFAULT_QUEUE)
    return slug if slug in QUEUES else DEFAULT_QUEUE


def _sort(request: HttpRequest, slug: str, searching: bool) -> str:
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") in SORTS:
        return sort
    return "rank" if searching else QUEUES[slug].default_sort


def _filter_data(request: HttpRequest) -> QueryDict:
    data = request.GET.copy()
    for key in _PAGE_PARAMS:
        data.pop(key, None)
    return data


def _rows(request: HttpRequest, visible: QuerySet[Ticket]) -> dict[str, Any]:
    """The queue's rows and everything the table needs; one query for the rows."""
    slug = _queue_slug(request)
    text = request.GET.get("q", "").strip()
    searching = bool(text) and not NUMBER.match(text)
    sort = _sort(request, slug, searching)
    tickets = queue_tickets(slug, request.user, sort=sort, visible=visible)
    data = _filter_data(request)
    filterset = TicketFilterSet(data or None, queryset=tickets, request=request)
    if filterset.is_bound:
        tickets = filterset.qs if filterset.is_valid() else tickets.none()
    if sort == "rank":
        query = text_query(text)
        tickets = tickets.annotate(
            rank=SearchRank(F("search_vector"), query) if query else Value(0.0, FloatField())
        )
        keys = [Key("rank", descending=True), Key("id", descending=True)]
    else:
        keys = queue_sort_keys(slug, sort)
    page = paginate(
        tickets,
        keys=keys,
        size=_page_size(request),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        # The live poll (`fp`) stays one query, as the issue asks of a refresh; a page load
        # reads the keys first, then the page's rows (core.keyset.paginate).
        late_rows=not request.GET.get("fp"),
    )
    snippets = _snippets(page.rows, text) if searching else {}
    # The text of the filter's chosen team/service/organisation (its options load lazily).
    chosen = filterset.form.cleaned_data if filterset.is_bound and filterset.is_valid() else {}
    filter_labels = {
        name: LAZY_CHOICES[name][1] if value == "null" else str(value)
        for name, value in chosen.items()
        if name in LAZY_CHOICES and value not in (None, "")
    }
    # Filtered lists (a dashboard drill-down, a search) say how many match; the plain queues
    # show their counts on the tabs instead of paying a COUNT on every page.
    total = tickets.count() if filterset.is_bound else None
    fingerprint = hashlib.sha1(
        repr([(t.pk, t.version, t.sla_sort) for t in page.rows]).encode(), usedforsecurity=False
    ).hexdigest()[:16]
    return {
        "queue": QUEUES[slug],
        "page": page,
        "rows": [(t, snippets.get(t.pk), _detail_url(t)) for t in page.rows],
        "breaching": slug == BREACHING,
        "filterset": filterset,
        "current_sort": sort,
        "fingerprint": fingerprint,
        "searching": searching,
        "total": total,
        "filters_on": bool(set(data) - {"q"}),
        "filter_labels": filter_labels,
    }


def _snippets(rows: list[Ticket], text: str) -> dict[int, str]:
    """Highlighted extracts for the page's rows only (one query, whatever the match count)."""
    query = text_query(text)
    if not rows or query is None:
        return {}
    headlines = Ticket.objects.filter(pk__in=[t.pk for t in rows]).annotate(
        snippet=SearchHeadline(
            "description",
            query,
            config="english",
            start_sel="<mark>",
            stop_sel="</mark>",
            max_words=18,
            min_words=6,
            highlight_all=False,
        )
    )
    # ts_headline copies the description verbatim: escape it, then restore only our marks.
    out = {}
    for pk, snippet in headlines.values_list("pk", "snippet"):
        safe = escape(snippet or "").replace("&lt;mark&gt;", "<mark>")
        out[pk] = safe.replace("&lt;/mark&gt;", "</mark>")
    return out


def _links(request: HttpRequest, context: dict[str, Any]) -> dict[str, str]:
    params = request.GET.copy()
    for key in ("after", "before", "fp"):
        params.pop(key, None)
    base = params.urlencode()
    page = context["page"]
    links = {"base": base}
    prefix = f"?{base}&" if base else "?"
    if page.next_cursor:
        links["next"] = f"{prefix}after={page.next_cursor}"
    if page.prev_cursor:
        links["prev"] = f"{prefix}before={page.prev_cursor}"
    no_sort = params.copy()
    no_sort.pop("sort", None)
    links["without_sort"] = no_sort.urlencode()
    return links


def queue_view(request: HttpRequest) -> HttpResponse:
    """GET /desk/: the agent's default saved view when the URL says nothing, a ticket number
    straight to its ticket, otherwise the queue page (or, for HTMX, just its results)."""
    preference = preference_for(request.user)
    if not request.GET and preference.default_view_id:
        view = preference.default_view
        return redirect(f"{reverse('desk:queue')}?{view.query}&view={view.pk}")
    text = request.GET.get("q", "").strip()
    if NUMBER.match(text):
        ticket = Ticket.objects.visible_to(request.user).filter(number=text.upper()).first()
        if ticket is not None:
            return redirect(_detail_url(ticket))
    visible = Ticket.objects.visible_to(request.user)  # the approvals lookup runs once
    context = _rows(request, visible)
    context["columns"] = columns_for(preference)
    context["show"] = dict.fromkeys(context["columns"], True)
    context["links"] = _links(request, context)
    if request.htmx and request.htmx.target == "queue-results":
        if request.GET.get("fp") == context["fingerprint"]:
            return HttpResponse(status=204)  # nothing changed: htmx keeps the table as it is
        return render(request, "desk/_queue_results.html", context)
    views = list(views_for(request.user))
    context.update(
        counts=None,  # fetched by the tabs after the page loads (_queue_tabs.html)
        queues=QUEUES.values(),
        views=views,
        current_view=next((v for v in views if str(v.pk) == request.GET.get("view")), None),
        preference=preference,
        all_columns=QUEUE_COLUMNS,
        view_form=SavedViewForm(user=request.user),
        bulk_form=BulkForm(auto_id="bulk-%s"),
        status_targets=STATUS_TARGETS,
        page_sizes=PAGE_SIZES,
        max_bulk=MAX_BULK,
    )
    return render(request, "desk/queue.html", context)


def queue_counts_view(request: HttpRequest) -> HttpResponse:
    """The queue tabs with their counts, polled by the queue page (one query)."""
    context = {
        "counts": queue_counts(request.user),
        "queues": QUEUES.values(),
        "queue": QUEUES[_queue_slug(request)],
    }
    return render(request, "desk/_queue_tabs.html", context)


def queue_choices(request: HttpRequest) -> HttpResponse:
    """The options of one long select of the queue page (`?field=team|service|organization|
    assignee`, `&selected=` the value to keep selected), loaded when the select comes into
    view."""
    field = request.GET.get("field", "")
    if field not in LAZY_CHOICES:
        return HttpResponse(status=404)
    context = {
        "options": lazy_choices(field),
        "selected": request.GET.get("selected", ""),
        "empty": request.GET.get("empty", "—"),
    }
    return render(request, "desk/_options.html", context)


# ------------------------------------------------------------------ saved views, columns
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST, user=request.user)
    query = clean_query(request.POST.get("query", ""))
    if form.is_valid():
        try:
            view = saved_view_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                team=form.cleaned_data["team"],
                query=query,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if form.cleaned_data["make_default"]:
                preference_set(user=request.user, default_view=view)
            messages.success(request, f"View “{view.name}” saved.")
            return redirect(f"{reverse('desk:queue')}?{view.query}&view={view.pk}")
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(f"{reverse('desk:queue')}?{query}")


@require_POST
def saved_view_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(views_for(request.user), pk=pk)
    try:
        saved_view_delete(view=view, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"View “{view.name}” deleted.")
    return redirect("desk:queue")


@require_POST
def saved_view_default(request: HttpRequest) -> HttpResponse:
    """Make a view (or, with no view, the plain queue) what /desk/ opens with."""
    pk = request.POST.get("view", "")
    view = get_object_or_404(views_for(request.user), pk=pk) if pk else None
    preference_set(user=request.user, default_view=view)
    messages.success(
        request, f"/desk/ now opens “{view.name}”." if view else "/desk/ opens All open."
    )
    if view is None:
        return redirect(f"{reverse('desk:queue')}?queue={DEFAULT_QUEUE}")
    return redirect(f"{reverse('desk:queue')}?{view.query}&view={view.pk}")


@require_POST
def columns_save(request: HttpRequest) -> HttpResponse:
    form = ColumnsForm(request.POST)
    back = request.POST.get("back", "")
    if form.is_valid():
        preference_set(user=request.user, columns=form.cleaned_data["columns"])
        messages.success(request, "Columns saved.")
    else:
        messages.error(request, "Choose at least one column.")
    return redirect(f"{reverse('desk:queue')}?{clean_query(back)}")


# ------------------------------------------------------------------ bulk
def _selection(request: HttpRequest) -> list[tuple[int, int]]:
    """`ticket` values are "id:version" (the version the agent saw in the queue)."""
    selection = []
    for value in request.POST.getlist("ticket"):
        pk, _, version = value.partition(":")
        if pk.isdecimal() and version.isdecimal():
            selection.append((int(pk), int(version)))
    return selection


def _report(request: HttpRequest, result: Any) -> None:
    if result.refused:
        reasons = "; ".join(f"{number}: {why}" for number, why in result.refused[:10])
        messages.warning(request, f"{result.summary} {reasons}")
    else:
        messages.success(request, result.summary)


@require_POST
def bulk_view(request: HttpRequest) -> HttpResponse:
    """Apply one action to the selected rows, through each kind's own service."""
    back = f"{reverse('desk:queue')}?{clean_query(request.POST.get('back', ''))}"
    selection = _selection(request)
    if not selection:
        messages.error(request, "Select at least one ticket.")
        return redirect(back)
    if request.POST.get("action") == "merge":
        form = MergeForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
            return redirect(back)
        try:
            result = tickets_merge(
                target=form.cleaned_data["target"], by=request.user, selection=selection
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            _report(request, result)
        return redirect(back)
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(back)
    data = dict(form.cleaned_data)
    if data.get("assignee_me"):
        data["assignee"] = request.user
    result = bulk_apply(action=data.pop("action"), by=request.user, selection=selection, data=data)
    _report(request, result)
    return redirect(back)


# ------------------------------------------------------------------ ticket jump and live check
def _detail_url(ticket: Ticket) -> str:
    """The desk page of the ticket's kind (the queue for a kind without one)."""
    name = DETAIL_URLS.get(ticket.kind)
    return reverse(name, args=[ticket.pk]) if name else reverse("desk:queue")


def ticket_redirect(request: HttpRequest, number: str) -> HttpResponse:
    """/desk/tickets/INC0001001/ → the kind's own page (404 when hidden)."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), number=number.upper())
    return redirect(_detail_url(ticket))


def ticket_changed(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled by an open ticket page with the version it shows: 204 while nothing changed
    (one indexed query), else a notice offering to reload."""
    row = (
        Ticket.objects.visible_to(request.user)
        .filter(pk=pk)
        .values("version", "number", "updated_at")
        .first()
    )
    if row is None:
        return HttpResponse(status=404)
    if request.GET.get("version") == str(row["version"]):
        return HttpResponse(status=204)
    return render(request, "desk/_ticket_changed.html", {"row": row, "pk": pk})


#: The desk page of each kind; kinds register theirs as they land.
DETAIL_URLS: dict[str, str] = {
    "incident": "desk:incident-detail",
    "change": "desk:change-detail",
    "request": "desk:request-detail",
    "task": "desk:task-detail",
}
