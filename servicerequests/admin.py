"""Read-mostly admin for requests and tasks: every change goes through the services (the
desk, the portal or the API), so statuses and answers are never edited here."""

from django.contrib import admin
from django.http import HttpRequest

from .models import FulfilmentTask, ServiceRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TaskInline(admin.TabularInline):
    model = FulfilmentTask
    fk_name = "request"
    extra = 0
    fields = ["ticket", "order", "waits_for_previous", "status"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "item", "status", "requested_for", "form_version", "approval_stage"]
    list_filter = ["status", "item__category", "item"]
    search_fields = ["ticket__number", "ticket__title"]
    list_select_related = ["ticket", "item", "requested_for"]
    inlines = [TaskInline]


@admin.register(FulfilmentTask)
class FulfilmentTaskAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "request", "order", "waits_for_previous", "status"]
    list_filter = ["status"]
    search_fields = ["ticket__number", "ticket__title", "request__ticket__number"]
    list_select_related = ["ticket", "request__ticket"]
