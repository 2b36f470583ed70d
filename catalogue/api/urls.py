from rest_framework.routers import DefaultRouter

from .views import CatalogueItemViewSet, CategoryViewSet, ServiceViewSet

router = DefaultRouter()
router.register("catalogue/categories", CategoryViewSet, basename="catalogue-category")
router.register("catalogue/items", CatalogueItemViewSet, basename="catalogue-item")
router.register("catalogue/services", ServiceViewSet, basename="catalogue-service")
urlpatterns = router.urls
