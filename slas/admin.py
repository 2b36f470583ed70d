"""SLA admin: calendars (with holidays and a public-holiday import), policies (with
escalation rules), and read-only clocks, events, escalations and recalculation jobs.

Saving a policy or calendar that has open clocks recalculates them in the background
(a RecalculationJob, progress in its list); deactivating a policy stops its clocks at once."""

from typing import Any

import holidays as holidays_lib
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from .models import (
    BusinessCalendar,
    ClockSegment,
    EscalationEvent,
    EscalationRule,
    Holiday,
    OlaClock,
    OlaPolicy,
    RecalculationJob,
    SlaClock,
    SlaEvent,
    SlaPolicy,
    WhatIfRun,
)
from .replay import clock_replay
from .services import (
    holidays_import,
    recalculation_request,
    sla_calendar_version,
    sla_policy_deactivated,
    sla_policy_version,
    whatif_request,
)
from .tester import DeadlineTesterForm, WhatIfForm, deadline_answer

MAX_IMPORT_YEARS = 10


# ------------------------------------------------------------------ helpers
def _job_message(request: HttpRequest, job: RecalculationJob | None, what: str) -> None:
    if job is None:
        return
    url = reverse("admin:slas_recalculationjob_change", args=[job.pk])
    messages.info(
        request,
        format_html(
            'Open clocks of {} are being recalculated in the background: <a href="{}">job #{}</a>.',
            what,
            url,
            job.pk,
        ),
    )


def _edited(form: forms.ModelForm, formsets: list[BaseInlineFormSet]) -> bool:
    return form.has_changed() or any(formset.has_changed() for formset in formsets)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the engine writes: look, never touch."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ------------------------------------------------------------------ calendars
class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1
    fields = ["date", "name"]


class HolidayImportForm(forms.Form):
    country = forms.ChoiceField(
        choices=[],
        help_text="ISO 3166 country code, e.g. GB or DE.",
    )
    subdivision = forms.CharField(
        required=False, max_length=10, help_text="Optional region, e.g. ENG (GB) or BY (DE)."
    )
    year_from = forms.IntegerField(min_value=1970, max_value=2100)
    year_to = forms.IntegerField(min_value=1970, max_value=2100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        supported = holidays_lib.list_supported_countries()
        self.fields["country"].choices = [
            (code, code) for code in sorted(supported) if len(code) == 2
        ]
        self._supported = supported

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("year_from"), data.get("year_to")
        if start is not None and end is not None:
            if end < start:
                self.add_error("year_to", "Must not be before the first year.")
            elif end - start >= MAX_IMPORT_YEARS:
                self.add_error("year_to", f"At most {MAX_IMPORT_YEARS} years at a time.")
        country, subdivision = data.get("country"), data.get("subdivision", "").strip().upper()
        if country and subdivision and subdivision not in self._supported.get(country, []):
            known = ", ".join(self._supported.get(country, [])) or "none"
            self.add_error("subdivision", f"Not a subdivision of {country} (known: {known}).")
        data["subdivision"] = subdivision
        return data


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "holiday_count", "updated_at"]
    search_fields = ["name"]
    inlines = [HolidayInline]
    change_list_template = "admin/slas/businesscalendar/change_list.html"
    actions = ["import_holidays"]

    def get_urls(self) -> list:
        extra = [
            path(
                "deadline-tester/",
                self.admin_site.admin_view(self.deadline_tester),
                name="slas_deadline_tester",
            )
        ]
        return extra + super().get_urls()

    def deadline_tester(self, request: HttpRequest) -> HttpResponse:
        """Pick a calendar, a start and a target: see the deadline and what makes it up."""
        form = DeadlineTesterForm(request.GET or None)
        answer = None
        if form.is_valid():
            answer = deadline_answer(
                calendar=form.cleaned_data["calendar"],
                start=form.cleaned_data["start"],
                zone=form.cleaned_data["zone"],
                target=form.cleaned_data["target"],
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Deadline tester",
            "form": form,
            "answer": answer,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/slas/deadline_tester.html", context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessCalendar]:
        return super().get_queryset(request).annotate(holiday_total=Count("holidays"))

    @admin.display(description="Holidays", ordering="holiday_total")
    def holiday_count(self, calendar: BusinessCalendar) -> int:
        return calendar.holiday_total  # type: ignore[attr-defined]

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool
    ) -> None:
        """Hours, time zone or holidays (the inline) edited: recalculate open clocks."""
        super().save_related(request, form, formsets, change)
        calendar = form.instance
        version = sla_calendar_version(calendar=calendar, by=request.user)
        if change and _edited(form, formsets):
            self.message_user(request, f"Saved as version {version}.", messages.INFO)
            _job_message(request, recalculation_request(calendar=calendar), f"“{calendar.name}”")

    @admin.action(description="Import public holidays")
    def import_holidays(
        self, request: HttpRequest, queryset: QuerySet[BusinessCalendar]
    ) -> HttpResponse | None:
        """Intermediate page: country, optional subdivision, year range."""
        if "apply" in request.POST:
            form = HolidayImportForm(request.POST)
            if form.is_valid():
                self._import(request, queryset, form.cleaned_data)
                return None
        else:
            this_year = timezone.localdate().year
            form = HolidayImportForm(initial={"year_from": this_year, "year_to": this_year + 1})
        context = {
            **self.admin_site.each_context(request),
            "title": "Import public holidays",
            "opts": self.model._meta,
            "form": form,
            "calendars": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/slas/businesscalendar/import_holidays.html", context
        )

    def _import(
        self, request: HttpRequest, queryset: QuerySet[BusinessCalendar], data: dict[str, Any]
    ) -> None:
        years = range(data["year_from"], data["year_to"] + 1)
        where = data["country"] + (f"-{data['subdivision']}" if data["subdivision"] else "")
        with transaction.atomic():
            for calendar in queryset:
                added = holidays_import(
                    calendar=calendar,
                    country=data["country"],
                    years=years,
                    subdivision=data["subdivision"],
                )
                self.message_user(
                    request,
                    f"{added} public holiday{'s' if added != 1 else ''} of {where} "
                    f"({years.start}–{years.stop - 1}) added to “{calendar.name}”.",
                    messages.SUCCESS,
                )
                if added:
                    _job_message(
                        request, recalculation_request(calendar=calendar), f"“{calendar.name}”"
                    )


# ------------------------------------------------------------------ policies
class EscalationRuleInline(admin.StackedInline):
    model = EscalationRule
    extra = 0
    fields = [
        ("order", "active"),
        ("trigger", "threshold", "delay"),
        "action",
        "team",
        "users",
        "flag",
    ]
    autocomplete_fields = ["team", "users"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "metric", "target", "calendar", "order", "active", "version"]
    list_filter = ["active", "kind", "metric", "calendar"]
    list_select_related = ["calendar"]
    search_fields = ["name"]
    filter_horizontal = ["services", "teams", "organizations"]
    inlines = [EscalationRuleInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    ("kind", "metric"),
                    "target",
                    "calendar",
                    ("order", "active"),
                    "version",
                ]
            },
        ),
        (
            "Conditions (empty = any)",
            {"fields": ["priorities", "services", "teams", "organizations"]},
        ),
        ("Clock", {"fields": ["pause_statuses", "warning_thresholds", "retroactive"]}),
    ]
    readonly_fields = ["version"]

    def get_urls(self) -> list:
        extra = [
            path(
                "<int:pk>/whatif/",
                self.admin_site.admin_view(self.whatif),
                name="slas_policy_whatif",
            ),
            path(
                "whatif/<int:run_id>/",
                self.admin_site.admin_view(self.whatif_run),
                name="slas_policy_whatif_run",
            ),
        ]
        return extra + super().get_urls()

    def whatif(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Propose new settings; a background task computes what would change."""
        policy = SlaPolicy.objects.select_related("calendar").get(pk=pk)
        form = WhatIfForm(request.POST or None, initial=WhatIfForm.initial_for(policy))
        if request.method == "POST" and form.is_valid():
            run = whatif_request(policy=policy, **form.cleaned_data)
            return redirect("admin:slas_policy_whatif_run", run_id=run.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"What-if preview: {policy.name}",
            "form": form,
            "policy": policy,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/slas/whatif_form.html", context)

    def whatif_run(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = WhatIfRun.objects.select_related("policy").get(pk=run_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"What-if preview: {run.policy.name}",
            "run": run,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/slas/whatif_run.html", context)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool
    ) -> None:
        """Deactivated: stop its clocks now (no stale escalations). Otherwise edited:
        recalculate its open clocks in the background."""
        super().save_related(request, form, formsets, change)
        policy = form.instance
        version = sla_policy_version(
            policy=policy, by=request.user, changed=list(form.changed_data)
        )
        if change and "active" not in form.changed_data and version > 1:
            self.message_user(request, f"Saved as version {version}.", messages.INFO)
        if not change or not _edited(form, formsets):
            return
        if "active" in form.changed_data and not policy.active:
            count = sla_policy_deactivated(policy=policy)
            if count:
                self.message_user(
                    request,
                    f"Policy deactivated: {count} open clock{'s' if count != 1 else ''} stopped "
                    "and their pending escalations cancelled; other policies may have taken over.",
                    messages.WARNING,
                )
            return
        _job_message(request, recalculation_request(policy=policy), f"“{policy.name}”")


# ------------------------------------------------------------------ what the engine writes
class ClockSegmentInline(ReadOnlyInline):
    model = ClockSegment
    fields = ["running", "started_at", "ended_at", "reason"]


class SlaEventInline(ReadOnlyInline):
    model = SlaEvent
    fields = ["type", "threshold", "planned_at", "recorded_at"]


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "metric", "state", "policy", "due_at", "breached_at", "next_check_at"]
    list_filter = ["state", "metric", "policy"]
    list_select_related = ["ticket", "policy"]
    search_fields = ["ticket__number"]
    date_hierarchy = "started_at"
    inlines = [ClockSegmentInline, SlaEventInline]
    actions = ["replay"]

    @admin.action(description="Replay from the journal (dry run first)")
    def replay(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """Show what a replay would change; the page's Apply button rewrites those clocks."""
        apply = request.POST.get("apply") == "yes"
        results = [
            clock_replay(clock_id=pk, apply=apply, by=request.user)
            for pk in queryset.values_list("pk", flat=True)[:500]
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Replay applied" if apply else "Replay (dry run)",
            "results": results,
            "differing": [r for r in results if r.differences],
            "applied": apply,
            "queryset": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/slas/replay.html", context)


@admin.register(SlaEvent)
class SlaEventAdmin(ReadOnlyAdmin):
    list_display = ["clock", "type", "threshold", "planned_at", "recorded_at", "lateness"]
    list_filter = ["type"]
    list_select_related = ["clock"]
    search_fields = ["clock__ticket__number"]


@admin.register(EscalationEvent)
class EscalationEventAdmin(ReadOnlyAdmin):
    list_display = [
        "clock",
        "rule",
        "planned_at",
        "recorded_at",
        "enqueued_at",
        "done_at",
        "cancelled_at",
        "attempts",
        "outcome",
    ]
    list_filter = ["rule__action"]
    list_select_related = ["clock", "rule"]
    search_fields = ["clock__ticket__number", "outcome"]


@admin.register(RecalculationJob)
class RecalculationJobAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "progress", "created_at", "started_at", "finished_at"]
    list_select_related = ["policy", "calendar"]
    fields = [
        "policy",
        "calendar",
        "progress",
        "total",
        "done",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields


@admin.register(OlaPolicy)
class OlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "target", "calendar", "active"]
    list_filter = ["active", "calendar"]
    autocomplete_fields = ["team"]


@admin.register(OlaClock)
class OlaClockAdmin(ReadOnlyAdmin):
    list_display = [
        "ticket",
        "team",
        "started_at",
        "stopped_at",
        "elapsed",
        "target",
        "breached_at",
    ]
    list_filter = ["team"]
    list_select_related = ["ticket", "team"]
    search_fields = ["ticket__number"]
