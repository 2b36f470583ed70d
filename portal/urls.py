from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.MyTicketsView.as_view(), name="home"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:number>/comment/", views.ticket_comment_view, name="ticket-comment"),
    path("report/", views.report_problem, name="report"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
    path("tickets/<str:number>/reopen/", views.incident_reopen_view, name="incident-reopen"),
    path("tickets/<str:number>/confirm/", views.incident_confirm_view, name="incident-confirm"),
]
