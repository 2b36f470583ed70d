from django.urls import path

from .views import changes, incidents, queue, requests

app_name = "desk"

urlpatterns = [
    path("", queue.QueueView.as_view(), name="queue"),
    path("tickets/<str:number>/", queue.ticket_redirect, name="ticket"),
    path("incidents/", incidents.IncidentListView.as_view(), name="incident-list"),
    path("incidents/new/", incidents.incident_create_view, name="incident-create"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/sla/", incidents.incident_sla, name="incident-sla"),
    path("incidents/<int:pk>/<str:action>/", incidents.incident_action, name="incident-action"),
    path("requests/", requests.RequestListView.as_view(), name="request-list"),
    path("requests/approvals/", requests.ApprovalQueueView.as_view(), name="request-approvals"),
    path("requests/<int:pk>/", requests.request_detail, name="request-detail"),
    path("requests/<int:pk>/<str:action>/", requests.request_action, name="request-action"),
    path("tasks/", requests.TaskListView.as_view(), name="task-list"),
    path("tasks/<int:pk>/", requests.task_detail, name="task-detail"),
    path("tasks/<int:pk>/<str:action>/", requests.task_action, name="task-action"),
    path("changes/", changes.ChangeListView.as_view(), name="change-list"),
    path("changes/new/", changes.change_create_view, name="change-create"),
    path("changes/conflicts/", changes.change_conflicts_check, name="change-conflicts"),
    path("changes/calendar/", changes.change_calendar, name="change-calendar"),
    path(
        "changes/calendar/feed/",
        changes.change_calendar_feed_token,
        name="change-calendar-feed-token",
    ),
    path(
        "changes/calendar/feed/<str:token>.ics",
        changes.change_calendar_feed,
        name="change-calendar-feed",
    ),
    path("changes/<int:pk>/", changes.change_detail, name="change-detail"),
    path("changes/<int:pk>/<str:action>/", changes.change_action, name="change-action"),
]
