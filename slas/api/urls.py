from rest_framework.routers import DefaultRouter

from .views import BusinessCalendarViewSet, SlaClockViewSet, SlaPolicyViewSet

router = DefaultRouter()
router.register("sla-clocks", SlaClockViewSet, basename="sla-clock")
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("calendars", BusinessCalendarViewSet, basename="calendar")
urlpatterns = router.urls
