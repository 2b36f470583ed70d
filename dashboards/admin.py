from django.contrib import admin

from .models import ReportSubscription, RollupState, RollupZone


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "dashboard", "weekday", "format", "active", "last_sent_at"]
    list_filter = ["dashboard", "active"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(RollupZone)
class RollupZoneAdmin(admin.ModelAdmin):
    """Read only: zones are added by the sync as dashboard users appear."""

    list_display = ["zone", "ready_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RollupState)
class RollupStateAdmin(admin.ModelAdmin):
    list_display = ["watermark", "last_sync_at", "last_sync_tickets", "last_sync_ms", "rebuilt_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
