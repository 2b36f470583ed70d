from django.contrib import admin

from .models import Category, PriorityMatrixCell, RoutingRule


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "order", "active"]
    list_filter = ["active", "parent"]
    search_fields = ["name"]


@admin.register(PriorityMatrixCell)
class PriorityMatrixCellAdmin(admin.ModelAdmin):
    list_display = ["impact", "urgency", "priority"]
    list_editable = ["priority"]

    def has_add_permission(self, request) -> bool:
        return False  # the nine cells exist from the migration

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "category", "service", "team", "active"]
    list_editable = ["order", "active"]
    list_filter = ["active", "team"]
