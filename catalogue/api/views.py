"""Catalogue API: read-only, and only what the caller may order (hidden items answer 404)."""

import re

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets

from ..models import CatalogueItem, Category, Service
from .serializers import (
    CatalogueItemDetailSerializer,
    CatalogueItemSerializer,
    CategorySerializer,
    ServiceSerializer,
)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Active catalogue categories, in display order."""

    serializer_class = CategorySerializer
    queryset = Category.objects.filter(active=True).order_by("order", "name")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("category", int, description="Category id (includes subcategories)."),
            OpenApiParameter("q", str, description="Words searched in names and descriptions."),
        ]
    )
)
class CatalogueItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Items the caller may order, with their form on the detail endpoint."""

    filterset_class = None

    def get_serializer_class(self) -> type:
        if self.action == "retrieve":
            return CatalogueItemDetailSerializer
        return CatalogueItemSerializer

    def get_queryset(self) -> QuerySet[CatalogueItem]:
        items = (
            CatalogueItem.objects.orderable_by(self.request.user)
            .select_related("category", "service")
            .prefetch_related("approval_stages__team", "approval_stages__user", "variables")
            .order_by("order", "name", "pk")
        )
        category = self.request.query_params.get("category")
        if category is not None:
            # The schema says an integer: anything else is refused, not ignored.
            if not re.fullmatch(r"-?[0-9]{1,18}", category):
                raise exceptions.ValidationError({"category": ["Give a category id."]})
            items = items.filter(Q(category_id=category) | Q(category__parent_id=category))
        text = self.request.query_params.get("q", "").strip()
        if text:
            items = items.search(text)
        return items


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Services that are not retired (for service questions and ticket forms)."""

    serializer_class = ServiceSerializer

    def get_queryset(self) -> QuerySet[Service]:
        return Service.objects.orderable().select_related("owner", "support_team")
