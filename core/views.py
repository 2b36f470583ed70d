"""View mixins shared by the front doors: a filtered, sorted, paginated list rooted at a
`visible_to(user)` queryset, so no list can skip the visibility rule."""

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import ListView

#: The largest page a list shows (the API's limit too).
MAX_PAGE_SIZE = 100


class FilteredListView(ListView):
    """A list page: `get_base_queryset()` (must apply visible_to), an optional django-filter
    `filterset_class`, `sort_fields` (URL key → ORM ordering), and pagination."""

    filterset_class: Any = None
    sort_fields: dict[str, str] = {}
    default_sort: str = ""
    paginate_by = 25
    paginator_class = Paginator

    def get_base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_paginate_by(self, queryset: QuerySet) -> int:
        """`?page_size=` from 1 to MAX_PAGE_SIZE; anything else gives the default."""
        raw = self.request.GET.get("page_size", "")
        if raw.isascii() and raw.isdecimal() and 1 <= int(raw) <= MAX_PAGE_SIZE:
            return int(raw)
        return self.paginate_by

    def get_queryset(self) -> QuerySet:
        queryset = self.get_base_queryset()
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.request.GET or None, queryset=queryset, request=self.request
            )
            queryset = self.filterset.qs if self.filterset.is_bound else queryset
        return queryset.order_by(*self.get_ordering_fields())

    def current_sort(self) -> str:
        sort = self.request.GET.get("sort", self.default_sort)
        return sort if sort.lstrip("-") in self.sort_fields else self.default_sort

    def get_ordering_fields(self) -> list[str]:
        sort = self.current_sort()
        if not sort:
            return ["-pk"]
        field = self.sort_fields[sort.lstrip("-")]
        descending = sort.startswith("-")
        if field.startswith("-"):
            field, descending = field[1:], not descending
        direction = "-" if descending else ""
        return [f"{direction}{field}", f"{direction}pk"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        context["querystring_without_page"] = params.urlencode()
        params.pop("sort", None)
        context["querystring_without_sort"] = params.urlencode()
        context["current_sort"] = self.current_sort()
        context["filterset"] = self.filterset
        return context


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
