from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Organization, Team, TeamMembership, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "email", "organization", "is_active"]
    list_filter = ["groups", "organization", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            "Service desk",
            {"fields": ("display_name", "time_zone", "manager", "organization", "phone")},
        ),
    )
    autocomplete_fields = ["manager", "organization"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "email_domain", "share_tickets"]
    search_fields = ["name"]


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "available", "max_open_tickets", "work_days", "work_start", "work_end"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "lead", "assignment_method"]
    search_fields = ["name"]
    inlines = [MembershipInline]
    autocomplete_fields = ["lead"]
