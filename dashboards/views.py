"""Managers' dashboards. Read only; managers only (core.middleware policy)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .queries import open_counts


def home(request: HttpRequest) -> HttpResponse:
    """Live counts of open tickets by kind and team; HTMX refreshes the tiles every 15 s."""
    template = "dashboards/_counts.html" if request.htmx else "dashboards/home.html"
    return render(request, template, {"counts": open_counts()})
