"""Managers' dashboards. Read only (apart from report subscriptions). Managers see all;
team leads see the teams they lead (dashboards.permissions)."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.exceptions import DomainError

from .choices import Dashboard
from .forms import WEEKDAYS, Filters, SubscribeForm, filters_from
from .models import ReportSubscription, RollupState
from .pages import compute
from .periods import zone_or_utc
from .permissions import dashboard_access, team_restriction
from .queries import open_counts
from .services import report_subscribe, report_unsubscribe

TEMPLATES = {
    Dashboard.OVERVIEW: "dashboards/home.html",
    Dashboard.BACKLOG: "dashboards/backlog.html",
    Dashboard.AVAILABILITY: "dashboards/availability.html",
    Dashboard.VOLUMES: "dashboards/volumes.html",
}


def _filters(request: HttpRequest) -> Filters:
    return filters_from(
        request.GET,
        zone=zone_or_utc(request.user.time_zone),
        now=timezone.now(),
        teams=team_restriction(request.user),
    )


def _page(request: HttpRequest, dashboard: str) -> HttpResponse:
    filters = _filters(request)
    extra: dict[str, Any] = {
        "availability": dashboard == Dashboard.AVAILABILITY,
        "trend": dashboard in (Dashboard.OVERVIEW, Dashboard.BACKLOG),
    }
    context = {
        "dashboard": dashboard,
        "dashboard_label": Dashboard(dashboard).label,
        "filters": filters,
        "form": filters.form,
        "page": compute(dashboard, filters),
        "subscribe_form": SubscribeForm(
            initial={"dashboard": dashboard, "params": filters.querystring}
        ),
        "sync": RollupState.objects.filter(pk=1).first(),
        **extra,
    }
    return render(request, TEMPLATES[Dashboard(dashboard)], context)


@dashboard_access
def home(request: HttpRequest) -> HttpResponse:
    """SLA overview; the live open counts load (and refresh every 15 s) through HTMX."""
    if request.htmx:
        return counts(request)
    return _page(request, Dashboard.OVERVIEW)


def _counts_context(filters: Filters) -> dict[str, Any]:
    scope_qs = urlencode(filters.scope.drill_params(), doseq=True)
    return {"live_counts": open_counts(filters.scope), "scope_qs": scope_qs}


@dashboard_access
def counts(request: HttpRequest) -> HttpResponse:
    """Live counts of open tickets by kind and team (the overview's self-refreshing tiles)."""
    context = _counts_context(_filters(request))
    return render(request, "dashboards/_counts.html", {"counts": context["live_counts"], **context})


@dashboard_access
def backlog(request: HttpRequest) -> HttpResponse:
    return _page(request, Dashboard.BACKLOG)


@dashboard_access
def availability(request: HttpRequest) -> HttpResponse:
    return _page(request, Dashboard.AVAILABILITY)


@dashboard_access
def volumes(request: HttpRequest) -> HttpResponse:
    return _page(request, Dashboard.VOLUMES)


@dashboard_access
def table_csv(request: HttpRequest, dashboard: str, key: str) -> HttpResponse:
    """One table of a dashboard as CSV: exactly the rows and cells the page shows."""
    if dashboard not in Dashboard.values:
        raise Http404
    filters = _filters(request)
    page = compute(dashboard, filters)
    table = next((t for t in page.tables if t.key == key), None)
    if table is None:
        raise Http404
    period = filters.period
    name = f"{dashboard}-{key}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@dashboard_access
def subscriptions(request: HttpRequest) -> HttpResponse:
    """The user's weekly reports; POST subscribes to the dashboard the form came from."""
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        if form.is_valid():
            try:
                report_subscribe(
                    user=request.user,
                    dashboard=form.cleaned_data["dashboard"],
                    querystring=form.cleaned_data["params"],
                    weekday=form.cleaned_data["weekday"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Subscribed: the report will arrive by e-mail weekly.")
        else:
            messages.error(request, "Choose a day of the week for the report.")
        return redirect("dashboards:subscriptions")
    rows = ReportSubscription.objects.filter(user=request.user).order_by("dashboard", "pk")
    return render(
        request,
        "dashboards/subscriptions.html",
        {"subscriptions": rows, "weekdays": WEEKDAYS},
    )


@require_POST
@dashboard_access
def unsubscribe(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(ReportSubscription, pk=pk, user=request.user)
    report_unsubscribe(subscription=subscription, by=request.user)
    messages.success(request, "Unsubscribed.")
    return redirect("dashboards:subscriptions")
