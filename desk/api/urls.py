from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import (
    BulkView,
    MergeView,
    QueueCountsView,
    SavedViewViewSet,
    TicketLinksView,
    TicketLinkView,
)

router = DefaultRouter()
router.register("desk/views", SavedViewViewSet, basename="saved-view")
urlpatterns = [
    path("desk/bulk/", BulkView.as_view(), name="desk-bulk"),
    path("desk/merge/", MergeView.as_view(), name="desk-merge"),
    path("desk/queues/", QueueCountsView.as_view(), name="desk-queues"),
    path("desk/tickets/<str:number>/links/", TicketLinksView.as_view(), name="desk-links"),
    path(
        "desk/tickets/<str:number>/links/<int:link_id>/",
        TicketLinkView.as_view(),
        name="desk-link",
    ),
    *router.urls,
]
