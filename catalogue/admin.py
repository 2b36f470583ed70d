"""Catalogue administration. Items are edited with inline editors for their form (questions),
approval stages and fulfilment tasks. The form is validated as a whole on save
(catalogue.formdef), and an edit that removes questions or choices first says what it
removes and asks for confirmation."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import F
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import formdef
from .models import (
    ApprovalStage,
    CatalogueItem,
    Category,
    FormVariable,
    Service,
    TaskTemplate,
)

CONFIRM_KEY = "_confirm_removal"


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "lifecycle", "owner", "support_team", "criticality", "active"]
    list_filter = ["kind", "lifecycle", "criticality", "active"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["owner", "support_team", "parent"]
    list_select_related = ["owner", "support_team"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "icon", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["active", "parent"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["parent"]


# ------------------------------------------------------------------ the form editor
class ChoicesField(forms.CharField):
    """Choices edited as lines of `value | label` (the label may be left out)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40, "placeholder": "standard | Standard"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            lines = []
            for choice in value:
                if not isinstance(choice, dict):
                    continue
                val, label = choice.get("value", ""), choice.get("label", "")
                lines.append(val if not label or label == val else f"{val} | {label}")
            return "\n".join(lines)
        return value

    def to_python(self, value: Any) -> list[dict[str, str]]:
        text = super().to_python(value) or ""
        choices = []
        for line in text.splitlines():
            if not line.strip():
                continue
            val, _sep, label = line.partition("|")
            val = val.strip()
            choices.append({"value": val, "label": label.strip() or val})
        return choices


class BoundField(forms.DecimalField):
    """A number bound shown as typed (1, not 1.000000)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{value.normalize():f}"
        return value


class FormVariableForm(forms.ModelForm):
    choices = ChoicesField(
        required=False,
        help_text="Single and multiple choice only: one per line, “value | label”.",
    )
    min_value = BoundField(required=False, max_digits=18, decimal_places=6, label="Minimum")
    max_value = BoundField(required=False, max_digits=18, decimal_places=6, label="Maximum")

    class Meta:
        model = FormVariable
        fields = [
            "order",
            "name",
            "type",
            "required",
            "label",
            "help_text",
            "choices",
            "default",
            "min_value",
            "max_value",
            "show_if_variable",
            "show_if_operator",
            "show_if_value",
        ]
        widgets = {
            "help_text": forms.TextInput(attrs={"size": 60}),
            "label": forms.TextInput(attrs={"size": 40}),
        }


def _sort_key(pair: tuple[int, forms.ModelForm]) -> tuple[int, float, int]:
    index, form = pair
    order = form.cleaned_data.get("order") or 0
    pk = form.instance.pk if form.instance.pk is not None else float("inf")
    return order, pk, index


class FormVariableFormSet(BaseInlineFormSet):
    """Validates the questions together: unique names, valid choices, bounds, defaults, and
    conditions pointing at earlier questions."""

    def kept_forms(self) -> list[forms.ModelForm]:
        """The forms that will be saved, in the order the questions will be asked."""
        kept = [
            (index, form)
            for index, form in enumerate(self.forms)
            if form.is_valid()
            and not self._should_delete_form(form)
            and (form.instance.pk is not None or form.has_changed())
        ]
        return [form for _index, form in sorted(kept, key=_sort_key)]

    def clean(self) -> None:
        if any(self.errors):
            return
        kept = self.kept_forms()
        problems = formdef.validate_definition([f.instance.to_variable() for f in kept])
        for problem in problems:
            form = kept[problem.index]
            field = problem.field if problem.field in form.fields else None
            form.add_error(field, problem.message)
        if problems:
            raise forms.ValidationError(
                "The form has problems: see the questions marked below. Nothing was saved."
            )
        super().clean()  # then Django's own checks (unique names per item)


class FormVariableInline(admin.StackedInline):
    model = FormVariable
    form = FormVariableForm
    formset = FormVariableFormSet
    extra = 0
    verbose_name = "question"
    verbose_name_plural = "Form (questions, asked in order)"
    fields = [
        ("order", "name", "type", "required"),
        ("label", "help_text"),
        ("choices", "default", "min_value", "max_value"),
        ("show_if_variable", "show_if_operator", "show_if_value"),
    ]


class ApprovalStageInline(admin.TabularInline):
    model = ApprovalStage
    extra = 0
    verbose_name = "approval stage"
    verbose_name_plural = "Approval (stages in order; none = no approval)"
    autocomplete_fields = ["team", "user"]
    fields = ["order", "approver", "team", "team_rule", "user"]


class TaskTemplateInline(admin.TabularInline):
    model = TaskTemplate
    extra = 0
    verbose_name = "fulfilment task"
    verbose_name_plural = "Fulfilment tasks (created on approval)"
    autocomplete_fields = ["team"]
    fields = ["order", "title", "instructions", "team", "waits_for_previous"]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "instructions":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(CatalogueItem)
class CatalogueItemAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "category",
        "fulfilment_team",
        "audience",
        "approval",
        "form_version",
        "featured",
        "active",
    ]
    list_filter = ["active", "featured", "category", "audience", "fulfilment_team"]
    search_fields = ["name", "short_description", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["service", "fulfilment_team"]
    filter_horizontal = ["organizations", "groups"]
    readonly_fields = ["form_version", "created_at", "updated_at"]
    list_select_related = ["category__parent", "fulfilment_team"]
    inlines = [FormVariableInline, ApprovalStageInline, TaskTemplateInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "short_description", "description"]}),
        (
            "Ordering",
            {
                "fields": [
                    ("audience", "active", "featured", "order"),
                    "organizations",
                    "groups",
                    ("price", "cost_note"),
                    "max_quantity",
                ]
            },
        ),
        (
            "Fulfilment and SLA",
            {
                "fields": [
                    ("service", "fulfilment_team"),
                    ("expected_delivery", "priority"),
                    "approval_reminder_hours",
                ]
            },
        ),
        ("History", {"fields": [("form_version", "created_at", "updated_at")]}),
    ]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("approval_stages__team")

    @admin.display(description="Approval")
    def approval(self, obj: CatalogueItem) -> str:
        return obj.approval_summary(list(obj.approval_stages.all()))

    # -------------------------------------------------------------- destructive edits
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST" and object_id and CONFIRM_KEY not in request.POST:
            item = self.get_object(request, unquote(object_id))
            if item is not None and self.has_change_permission(request, item):
                lines = self.pending_removals(request, item)
                if lines:
                    return self.confirm_removal(request, item, lines)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def pending_removals(self, request: HttpRequest, item: CatalogueItem) -> list[str]:
        """What the posted form editor would remove from the item's questions. Empty when
        nothing is removed, or when the edit is invalid (the normal page shows why)."""
        before = {v.pk: v.to_variable() for v in item.variables.all()}
        if not before:
            return []
        formset_class = FormVariableInline(self.model, self.admin_site).get_formset(request, item)
        formset = formset_class(
            request.POST,
            request.FILES,
            instance=item,
            prefix=formset_class.get_default_prefix(),
        )
        if not formset.is_valid():
            return []
        after = {form.instance.pk: form.instance.to_variable() for form in formset.kept_forms()}
        return formdef.removals(before, after)

    def confirm_removal(
        self, request: HttpRequest, item: CatalogueItem, lines: list[str]
    ) -> HttpResponse:
        posted = [
            (key, value)
            for key in request.POST
            if key != "csrfmiddlewaretoken"
            for value in request.POST.getlist(key)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Remove questions or choices?",
            "opts": self.model._meta,
            "object": item,
            "lines": lines,
            "posted": posted,
            "confirm_key": CONFIRM_KEY,
        }
        return TemplateResponse(
            request, "admin/catalogue/catalogueitem/confirm_removal.html", context
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Save the inlines; a changed form definition moves the item to a new form version
        (requests keep the version, and the questions, they were ordered with)."""
        before = formdef.definition_to_json(form.instance.definition()) if change else None
        super().save_related(request, form, formsets, change)
        after = formdef.definition_to_json(form.instance.definition())
        if change and before != after:
            CatalogueItem.objects.filter(pk=form.instance.pk).update(
                form_version=F("form_version") + 1
            )
            form.instance.refresh_from_db(fields=["form_version"])
