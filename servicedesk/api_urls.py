"""Collects each app's API router under /api/v1/, plus the OpenAPI schema and docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.errors import api_not_found

app_name = "api"

urlpatterns = [
    path("v1/", include("tickets.api.urls")),
    path("v1/", include("incidents.api.urls")),
    path("v1/", include("changes.api.urls")),
    path("v1/", include("slas.api.urls")),
    path("v1/", include("catalogue.api.urls")),
    path("v1/", include("servicerequests.api.urls")),
    path("v1/", include("integrations.api.urls")),
    path("v1/", include("desk.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="api-docs"),
    # Last: any other /api/…/ URL is a JSON 404 (one error format), not the HTML page.
    re_path(r"^.*/$", api_not_found, name="not-found"),
]
