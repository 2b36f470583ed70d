from django.contrib import admin

from .models import Service


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "support_team", "criticality", "active"]
    list_filter = ["criticality", "active"]
    search_fields = ["name"]
    autocomplete_fields = ["owner", "support_team"]
