from django.urls import path

from . import views, views_catalogue, views_changes, views_notifications, views_tokens

app_name = "portal"

urlpatterns = [
    path("", views.MyTicketsView.as_view(), name="home"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:number>/comment/", views.ticket_comment_view, name="ticket-comment"),
    path("report/", views.report_problem, name="report"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
    path(
        "notifications/settings/",
        views_notifications.notification_preferences_view,
        name="notification-preferences",
    ),
    path(
        "notifications/<int:pk>/open/",
        views_notifications.notification_open_view,
        name="notification-open",
    ),
    path(
        "notifications/<int:pk>/read/",
        views_notifications.notification_read_view,
        name="notification-read",
    ),
    path("survey/<str:token>/", views_notifications.csat_view, name="csat"),
    path("profile/tokens/", views_tokens.tokens_view, name="tokens"),
    path("profile/tokens/<int:pk>/revoke/", views_tokens.token_revoke_view, name="token-revoke"),
    path("tickets/<str:number>/reopen/", views.incident_reopen_view, name="incident-reopen"),
    path("tickets/<str:number>/confirm/", views.incident_confirm_view, name="incident-confirm"),
    path("catalogue/", views_catalogue.catalogue_home, name="catalogue"),
    path(
        "catalogue/category/<slug:slug>/",
        views_catalogue.catalogue_category,
        name="catalogue-category",
    ),
    path("catalogue/<slug:slug>/", views_catalogue.catalogue_item, name="catalogue-item"),
    path("people/", views_catalogue.people_search, name="people-search"),
    path("requests/", views_catalogue.MyRequestsView.as_view(), name="my-requests"),
    path(
        "requests/<str:number>/ordered/",
        views_catalogue.request_ordered,
        name="request-ordered",
    ),
    path(
        "requests/<str:number>/cancel/",
        views_catalogue.request_cancel_view,
        name="request-cancel",
    ),
    path("requests/<str:number>/close/", views_catalogue.request_close_view, name="request-close"),
    path("approvals/", views_catalogue.MyApprovalsView.as_view(), name="my-approvals"),
    path("approvals/delegation/", views_catalogue.delegation_view, name="delegation"),
    path("approvals/<int:pk>/", views_catalogue.approval_detail, name="approval"),
    path(
        "approvals/<int:pk>/files/<int:attachment_id>/",
        views_catalogue.approval_file,
        name="approval-file",
    ),
    path("approvals/changes/", views_changes.change_approvals, name="change-approvals"),
    path(
        "approvals/changes/<int:pk>/",
        views_changes.change_approval_detail,
        name="change-approval",
    ),
    path(
        "approvals/changes/<int:pk>/decide/",
        views_changes.change_approval_decide,
        name="change-approval-decide",
    ),
]
