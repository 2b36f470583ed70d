from rest_framework.routers import DefaultRouter

from .views import ApprovalViewSet, FulfilmentTaskViewSet, ServiceRequestViewSet

router = DefaultRouter()
router.register("requests", ServiceRequestViewSet, basename="request")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("tasks", FulfilmentTaskViewSet, basename="task")
urlpatterns = router.urls
