"""Change management admin: the configuration admins own (standard change templates, the risk
questionnaire, CAB policies, emergency CAB seats, blackout windows) and a read-only view of
changes. Status, risk and approvals change only through the services (the desk and API)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from .models import (
    BlackoutWindow,
    CabPolicyRule,
    CalendarFeedToken,
    Change,
    EmergencyCabSeat,
    RiskQuestion,
    StandardChangeTemplate,
)
from .services import blackout_window_save
from .windows import zone


@admin.register(StandardChangeTemplate)
class StandardChangeTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "risk", "impact", "team", "active"]
    list_filter = ["active", "risk"]
    list_editable = ["active"]
    search_fields = ["name", "description"]
    filter_horizontal = ["services"]


@admin.register(RiskQuestion)
class RiskQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "weight", "order", "active"]
    list_editable = ["weight", "order", "active"]
    list_filter = ["active"]


@admin.register(CabPolicyRule)
class CabPolicyRuleAdmin(admin.ModelAdmin):
    list_display = ["change_type", "risk", "policy"]
    list_editable = ["policy"]


@admin.register(EmergencyCabSeat)
class EmergencyCabSeatAdmin(admin.ModelAdmin):
    list_display = ["user"]
    autocomplete_fields = ["user"]


class BlackoutWindowForm(forms.ModelForm):
    class Meta:
        model = BlackoutWindow
        fields = [
            "name",
            "start",
            "end",
            "timezone",
            "recurrence",
            "until",
            "services",
            "reason",
            "active",
        ]

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"]
        if zone(name).key != name:  # type: ignore[attr-defined]
            raise forms.ValidationError("Unknown time zone.")
        return name


@admin.register(BlackoutWindow)
class BlackoutWindowAdmin(admin.ModelAdmin):
    form = BlackoutWindowForm
    list_display = ["name", "start", "end", "timezone", "recurrence", "until", "active"]
    list_filter = ["active", "recurrence"]
    search_fields = ["name"]
    filter_horizontal = ["services"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = blackout_window_save(
            by=request.user,
            window=obj if change else None,
            name=data["name"],
            start=data["start"],
            end=data["end"],
            timezone_name=data["timezone"],
            recurrence=data["recurrence"],
            until=data.get("until"),
            services=data["services"],
            reason=data.get("reason", ""),
            active=data.get("active", True),
        )
        obj.pk = saved.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # services were set by blackout_window_save


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    list_display = ["ticket", "type", "status", "risk", "planned_start", "planned_end"]
    list_filter = ["type", "status", "risk"]
    search_fields = ["ticket__number", "ticket__title"]
    list_select_related = ["ticket"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(admin.ModelAdmin):
    """Tokens are hashes: an admin can only revoke one (delete), never read it."""

    list_display = ["user", "created_at", "last_used_at"]
    readonly_fields = ["user", "token_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
