from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.home, name="home"),
    path("counts/", views.counts, name="counts"),
    path("backlog/", views.backlog, name="backlog"),
    path("availability/", views.availability, name="availability"),
    path("volumes/", views.volumes, name="volumes"),
    path("reports/", views.subscriptions, name="subscriptions"),
    path("reports/<int:pk>/delete/", views.unsubscribe, name="unsubscribe"),
    path("<str:dashboard>/<slug:key>.csv", views.table_csv, name="table-csv"),
]
