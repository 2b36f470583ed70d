"""Read-only admin for tickets: writes go through services, the journal is never edited."""

from django.contrib import admin

from .models import Ticket, TicketEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "kind",
        "title",
        "state",
        "priority",
        "team",
        "assignee",
        "created_at",
    ]
    list_filter = ["kind", "state", "priority", "team"]
    search_fields = ["number", "title"]
    list_select_related = ["team", "assignee"]


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "type", "public", "actor", "created_at"]
    list_filter = ["type", "public"]
    list_select_related = ["ticket", "actor"]
