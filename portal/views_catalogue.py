"""Portal pages of the service catalogue: browse and search the catalogue, order an item
through its form, follow "My requests", and decide "My approvals" (with delegation).

Every list starts from a visibility rule (`orderable_by`, `visible_to`, the approvals the
user may decide); hidden objects answer 404. Each POST calls one service."""

from collections import Counter
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from catalogue.models import CatalogueItem, Category
from catalogue.templatetags.catalogue_ui import working_time
from core.exceptions import DomainError
from core.views import FilteredListView
from servicerequests import permissions
from servicerequests.answers import AnswersInvalid, answers_display, people_for
from servicerequests.approvals import (
    approvals_decided_by,
    approvals_waiting_on,
    approver_q,
    delegation_active,
)
from servicerequests.forms import OrderForm
from servicerequests.models import ServiceRequest
from servicerequests.popularity import popular_counts
from servicerequests.progress import progress_for
from servicerequests.services import (
    approval_decide,
    delegation_set,
    service_request_cancel,
    service_request_close,
    service_request_submit,
)
from servicerequests.workflow import OPEN_REQUEST_STATUSES
from tickets.choices import ApprovalDecision, TicketKind
from tickets.models import Approval, Attachment

#: How many popular items the catalogue home shows.
POPULAR_COUNT = 6


# ------------------------------------------------------------------ catalogue
def catalogue_home(request: HttpRequest) -> HttpResponse:
    """Categories with what the user may order in them, popular items, and search across
    names and descriptions. A constant number of queries whatever the catalogue's size."""
    orderable = CatalogueItem.objects.orderable_by(request.user)
    text = request.GET.get("q", "").strip()
    counts: Counter[int] = Counter()
    for category_id, parent_id in orderable.values_list("category_id", "category__parent_id"):
        counts[parent_id or category_id] += 1
    categories = [
        c for c in Category.objects.filter(active=True, parent__isnull=True) if counts.get(c.pk)
    ]
    for category in categories:
        category.item_count = counts[category.pk]
    # Featured first, then the most ordered lately (servicerequests.popularity, cached).
    recent = popular_counts()
    candidates = orderable.values_list("pk", "featured", "order", "name")
    top = sorted(candidates, key=lambda c: (not c[1], -recent.get(c[0], 0), c[2], c[3]))
    top_ids = [c[0] for c in top[:POPULAR_COUNT]]
    by_id = CatalogueItem.objects.select_related("category").in_bulk(top_ids)
    popular = [by_id[pk] for pk in top_ids]
    for item in popular:
        item.recent = recent.get(item.pk, 0)
    results = None
    if text:
        results = list(orderable.search(text).select_related("category").order_by("name")[:50])
    context = {"categories": categories, "popular": popular, "results": results, "q": text}
    return render(request, "portal/catalogue/home.html", context)


def catalogue_category(request: HttpRequest, slug: str) -> HttpResponse:
    """A category's items, grouped by its subcategories."""
    category = get_object_or_404(Category.objects.filter(active=True), slug=slug)
    items = list(
        CatalogueItem.objects.orderable_by(request.user)
        .filter(Q(category=category) | Q(category__parent=category))
        .select_related("category")
        .order_by("category__order", "category__name", "order", "name")
    )
    groups: dict[Category, list[CatalogueItem]] = {}
    for item in items:
        groups.setdefault(item.category, []).append(item)
    context = {"category": category, "groups": list(groups.items())}
    return render(request, "portal/catalogue/category.html", context)


def _orderable_item(request: HttpRequest, slug: str) -> CatalogueItem:
    items = (
        CatalogueItem.objects.orderable_by(request.user)
        .select_related("category__parent", "service")
        .prefetch_related("variables", "approval_stages__team", "approval_stages__user")
    )
    return get_object_or_404(items, slug=slug)


def catalogue_item(request: HttpRequest, slug: str) -> HttpResponse:
    """The item page and its order form; the server checks every answer again."""
    item = _orderable_item(request, slug)
    variables = item.definition()
    posted = request.method == "POST"
    form = OrderForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        item=item,
        variables=variables,
        user=request.user,
    )
    if posted and form.is_valid():
        try:
            created = service_request_submit(
                item=item,
                by=request.user,
                answers=form.raw_answers,
                files=form.raw_files,
                requested_for=form.cleaned_data["requested_for"],
                quantity=form.cleaned_data.get("quantity") or 1,
                use_defaults=False,
            )
        except AnswersInvalid as exc:
            form.add_answer_errors(exc.errors)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("portal:request-ordered", created.ticket.number)
    context = {
        "item": item,
        "form": form,
        "approval": item.approval_summary(list(item.approval_stages.all())),
        "delivery": working_time(item.expected_delivery),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/catalogue/item.html", context, status=status)


@require_GET
def people_search(request: HttpRequest) -> HttpResponse:
    """Options for a person picker (HTMX): active people matching the words typed."""
    text = request.GET.get("q", "").strip()
    people = people_for(request.user)
    for word in text.split()[:4]:
        people = people.filter(
            Q(display_name__icontains=word) | Q(username__icontains=word) | Q(email__icontains=word)
        )
    rows = people.order_by("display_name", "pk")[:30]
    options = format_html_join(
        "", '<option value="{}">{} ({})</option>', ((p.pk, str(p), p.email) for p in rows)
    )
    return HttpResponse(format_html('<option value="">—</option>{}', options))


# ------------------------------------------------------------------ my requests
def _own_request(request: HttpRequest, number: str) -> ServiceRequest:
    queryset = ServiceRequest.objects.visible_to(request.user).select_related(
        "ticket__requester", "requested_for", "item"
    )
    return get_object_or_404(queryset, ticket__number=number.upper())


def request_ordered(request: HttpRequest, number: str) -> HttpResponse:
    """The confirmation after ordering: the number, what happens next, when it should arrive."""
    service_request = _own_request(request, number)
    approvals = list(
        Approval.objects.filter(ticket_id=service_request.pk).select_related(
            "approver", "approver_team"
        )
    )
    tasks = list(service_request.tasks.all())
    context = {
        "sr": service_request,
        "ticket": service_request.ticket,
        "progress": progress_for(service_request, approvals=approvals, tasks=tasks),
        "answers": answers_display(service_request.variables(), service_request.answers),
    }
    return render(request, "portal/requests/ordered.html", context)


class MyRequestsView(FilteredListView):
    """The user's requests with their progress: approval stage, tasks done of total, expected
    delivery. Constant queries: counts are annotated, pending approvals prefetched."""

    template_name = "portal/requests/list.html"
    sort_fields = {
        "number": "ticket__number",
        "updated": "ticket__updated_at",
        "created": "ticket__created_at",
        "delivery": "expected_delivery_at",
    }
    default_sort = "-updated"
    paginate_by = 20

    def get_base_queryset(self) -> QuerySet[ServiceRequest]:
        user = self.request.user
        pending = Approval.objects.filter(decision=ApprovalDecision.PENDING).select_related(
            "approver", "approver_team"
        )
        queryset = (
            ServiceRequest.objects.visible_to(user)
            .filter(Q(ticket__requester=user) | Q(requested_for=user))
            .for_list()
            .with_progress()
            .prefetch_related(Prefetch("ticket__approvals", queryset=pending))
        )
        show = self.request.GET.get("show", "open")
        if show == "open":
            queryset = queryset.filter(status__in=OPEN_REQUEST_STATUSES)
        elif show == "closed":
            queryset = queryset.exclude(status__in=OPEN_REQUEST_STATUSES)
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [
            (sr, progress_for(sr, approvals=sr.ticket.approvals.all()))
            for sr in context["page_obj"].object_list
        ]
        return context


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why?", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


@require_POST
def request_cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    service_request = _own_request(request, number)
    if not permissions.can_cancel(request.user, service_request):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        service_request_cancel(request=service_request, by=request.user, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your request is cancelled.")
    return redirect(service_request.ticket.portal_url)


@require_POST
def request_close_view(request: HttpRequest, number: str) -> HttpResponse:
    service_request = _own_request(request, number)
    if not permissions.can_close(request.user, service_request):
        raise PermissionDenied
    try:
        service_request_close(
            request=service_request, by=request.user, note="Receipt confirmed by the requester."
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Thanks for confirming. The request is closed.")
    return redirect(service_request.ticket.portal_url)


# ------------------------------------------------------------------ my approvals
class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        label="Who decides for me",
        empty_label="Nobody (I decide myself)",
    )
    delegate_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    delegate_until = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = people_for(user).exclude(pk=user.pk)


def _approval_rows(approvals: QuerySet[Approval]) -> QuerySet[Approval]:
    return approvals.select_related(
        "approver",
        "approver_team",
        "decided_by",
        "ticket__requester",
        "ticket__service_request__requested_for",
    )


class MyApprovalsView(FilteredListView):
    """What waits on the user's decision (as approver, delegate or team member), what they
    decided lately, and their delegation while away."""

    template_name = "portal/approvals/list.html"
    paginate_by = 25
    sort_fields = {"waiting": "created_at"}
    default_sort = "waiting"

    def get_base_queryset(self) -> QuerySet[Approval]:
        return _approval_rows(approvals_waiting_on(self.request.user))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["decided"] = list(
            _approval_rows(approvals_decided_by(user)).order_by("-decided_at", "-pk")[:10]
        )
        context["delegation_form"] = DelegationForm(
            user=user,
            initial={
                "delegate": user.delegate_id,
                "delegate_from": user.delegate_from,
                "delegate_until": user.delegate_until,
            },
        )
        context["delegating"] = delegation_active(user)
        context["delegators"] = list(
            User.objects.filter(delegate=user, is_active=True).order_by("display_name")
        )
        return context


@require_POST
def delegation_view(request: HttpRequest) -> HttpResponse:
    form = DelegationForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            delegation_set(
                user=request.user,
                delegate=data["delegate"],
                start=data["delegate_from"],
                end=data["delegate_until"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            who = data["delegate"]
            messages.success(
                request,
                f"{who} now decides your approvals for those dates."
                if who
                else "You decide your approvals yourself again.",
            )
    else:
        messages.error(request, "Check the dates.")
    return redirect("portal:my-approvals")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you reject: the requester reads it.",
    )


def _approval(request: HttpRequest, pk: int) -> Approval:
    """An approval the user may decide (now) or decided; anything else answers 404."""
    user = request.user
    approval = get_object_or_404(
        _approval_rows(
            Approval.objects.filter(ticket__kind=TicketKind.REQUEST).filter(
                approver_q(user) | Q(decided_by=user)
            )
        ),
        pk=pk,
    )
    if not permissions.can_view_approval(user, approval):
        raise Http404
    return approval


def approval_file(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """A file answered on the form, for its approver (who may not see the ticket itself)."""
    approval = _approval(request, pk)
    attachment = get_object_or_404(
        Attachment.objects.filter(ticket_id=approval.ticket_id, public=True), pk=attachment_id
    )
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name
    )
    response["Content-Type"] = "application/octet-stream"  # never rendered inline
    return response


def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An approval: the request with its answers and the approvals so far; approve or reject."""
    user = request.user
    approval = _approval(request, pk)
    service_request = approval.ticket.service_request
    form = DecisionForm(request.POST if request.method == "POST" else None)
    can_decide = permissions.can_decide(user, approval, service_request)
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        if form.is_valid():
            try:
                approval_decide(
                    approval=approval,
                    by=user,
                    approve=form.cleaned_data["decision"] == "approve",
                    comment=form.cleaned_data["comment"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                verb = "approved" if form.cleaned_data["decision"] == "approve" else "rejected"
                messages.success(request, f"You {verb} {approval.ticket.number}.")
                return redirect("portal:my-approvals")
    context = {
        "approval": approval,
        "sr": service_request,
        "ticket": approval.ticket,
        "answers": answers_display(service_request.variables(), service_request.answers),
        "history": list(
            Approval.objects.filter(ticket_id=approval.ticket_id).select_related(
                "approver", "approver_team", "decided_by"
            )
        ),
        "form": form,
        "can_decide": can_decide,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/approvals/detail.html", context, status=status)
