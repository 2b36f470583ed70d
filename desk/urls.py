from django.urls import path

from .views import incidents, queue

app_name = "desk"

urlpatterns = [
    path("", queue.QueueView.as_view(), name="queue"),
    path("tickets/<str:number>/", queue.ticket_redirect, name="ticket"),
    path("incidents/", incidents.IncidentListView.as_view(), name="incident-list"),
    path("incidents/new/", incidents.incident_create_view, name="incident-create"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/sla/", incidents.incident_sla, name="incident-sla"),
    path("incidents/<int:pk>/<str:action>/", incidents.incident_action, name="incident-action"),
]
