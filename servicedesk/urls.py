"""Front doors: portal at /, desk at /desk/, dashboards at /dashboards/, API at /api/."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from tickets import views as ticket_views

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("home/", account_views.home, name="home"),
    path("attachments/<int:pk>/", ticket_views.attachment_download, name="attachment"),
    path("admin/", admin.site.urls),
    path("api/", include("servicedesk.api_urls")),
    path("desk/", include("desk.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("", include("portal.urls")),
]

handler404 = "core.views.not_found"
