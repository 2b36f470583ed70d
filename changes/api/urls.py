from rest_framework.routers import DefaultRouter

from .views import (
    BlackoutWindowViewSet,
    ChangeViewSet,
    RiskQuestionViewSet,
    StandardChangeTemplateViewSet,
)

router = DefaultRouter()
router.register("changes", ChangeViewSet, basename="change")
router.register("blackout-windows", BlackoutWindowViewSet, basename="blackout-window")
router.register("change-templates", StandardChangeTemplateViewSet, basename="change-template")
router.register("risk-questions", RiskQuestionViewSet, basename="risk-question")
urlpatterns = router.urls
