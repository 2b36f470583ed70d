from django.urls import path

from .views import canned as canned_views
from .views import changes, incidents, queue, requests, ticket_tools
from .views.presence import ticket_presence

app_name = "desk"

urlpatterns = [
    path("", queue.queue_view, name="queue"),
    path("queues/counts/", queue.queue_counts_view, name="queue-counts"),
    path("queues/bulk/", queue.bulk_view, name="queue-bulk"),
    path("queues/choices/", queue.queue_choices, name="queue-choices"),
    path("queues/columns/", queue.columns_save, name="queue-columns"),
    path("views/", queue.saved_view_save, name="view-save"),
    path("views/default/", queue.saved_view_default, name="view-default"),
    path("views/<int:pk>/delete/", queue.saved_view_delete_view, name="view-delete"),
    path("tickets/<int:pk>/changed/", queue.ticket_changed, name="ticket-changed"),
    path("tickets/<str:number>/", queue.ticket_redirect, name="ticket"),
    path("tickets/<int:pk>/presence/", ticket_presence, name="ticket-presence"),
    # ticket tools on every kind's desk page, and the canned replies they insert
    path("tickets/<int:pk>/tools/", ticket_tools.ticket_tools_panel, name="ticket-tools"),
    path("tickets/<int:pk>/tags/", ticket_tools.ticket_tags, name="ticket-tags"),
    path("tickets/<int:pk>/watch/", ticket_tools.ticket_watch_toggle, name="ticket-watch"),
    path("tickets/<int:pk>/links/", ticket_tools.ticket_links, name="ticket-links"),
    path(
        "tickets/<int:pk>/links/<int:link_id>/delete/",
        ticket_tools.ticket_unlink_view,
        name="ticket-unlink",
    ),
    path("tickets/<int:pk>/preview/", ticket_tools.ticket_preview, name="ticket-preview"),
    path(
        "tickets/<int:pk>/canned/<int:reply_id>/render/",
        ticket_tools.ticket_canned_render,
        name="ticket-canned-render",
    ),
    path("canned/", canned_views.canned_list, name="canned-list"),
    path("canned/new/", canned_views.canned_create, name="canned-create"),
    path("canned/<int:reply_id>/edit/", canned_views.canned_edit, name="canned-edit"),
    path("canned/<int:reply_id>/delete/", canned_views.canned_delete, name="canned-delete"),
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
