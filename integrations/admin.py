"""Admin of the API platform: service accounts and their tokens, webhook subscriptions and
the delivery log, alerts received. Writes go through the app's functions."""

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.roles import Role
from core.exceptions import DomainError

from .choices import TokenScope, WebhookEvent
from .models import (
    Alert,
    ApiToken,
    IdempotencyRecord,
    ServiceAccount,
    WebhookDelivery,
    WebhookSubscription,
)
from .tokens import api_token_create, api_token_revoke, service_account_create
from .webhooks import (
    UnsafeTarget,
    resolve_target,
    webhook_delivery_retry,
    webhook_subscription_enable,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ------------------------------------------------------------------ service accounts, tokens
class ServiceAccountForm(forms.ModelForm):
    name = forms.CharField(max_length=150, help_text="The integration, e.g. “Prometheus”.")
    roles = forms.MultipleChoiceField(
        choices=[(role.value, role.value) for role in Role],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None (or requester) is enough to raise incidents and post alerts; agent "
        "lets it work the tickets of its teams through the API.",
    )

    class Meta:
        model = ServiceAccount
        fields = ["description"]


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    fk_name = "user"
    extra = 0
    fields = ["name", "prefix", "scope", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    """Users for integrations. Tokens are created with the actions (shown once)."""

    list_display = ["user", "description", "created_at"]
    search_fields = ["user__display_name", "user__username"]
    actions = ["create_write_token", "create_read_token"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ServiceAccountForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["user", "created_by", "created_at"] if obj else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["name", "description", "roles"]
        return ["user", "description", "created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        account = service_account_create(
            name=form.cleaned_data["name"],
            description=form.cleaned_data.get("description", ""),
            roles=tuple(form.cleaned_data.get("roles") or ()),
            by=request.user,
        )
        obj.pk, obj.user = account.pk, account.user
        obj._state.adding = False

    def _create_token(self, request: HttpRequest, queryset: QuerySet, scope: str) -> None:
        for account in queryset.select_related("user"):
            try:
                _token, raw = api_token_create(
                    user=account.user,
                    name=f"{account.user} ({timezone.now():%Y-%m-%d})",
                    scope=scope,
                    expires_at=timezone.now() + timedelta(days=365),
                    by=request.user,
                )
            except DomainError as exc:
                self.message_user(request, f"{account}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"Token for {account} (shown once, copy it now): {raw}",
                messages.WARNING,
            )

    @admin.action(description="Create a write token (valid one year, shown once)")
    def create_write_token(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._create_token(request, queryset, TokenScope.WRITE)

    @admin.action(description="Create a read token (valid one year, shown once)")
    def create_read_token(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._create_token(request, queryset, TokenScope.READ)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Every token (hashes only). Revoke with the action."""

    list_display = ["name", "user", "prefix", "scope", "status", "expires_at", "last_used_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__display_name"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and request.user.is_superuser  # the action needs it

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for token in queryset:
            api_token_revoke(token=token, by=request.user)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")


# ------------------------------------------------------------------ webhooks
class WebhookSubscriptionForm(forms.ModelForm):
    target_url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event this subscription may receive.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "target_url", "event_types", "internal", "active"]

    def clean_target_url(self) -> str:
        url = self.cleaned_data["target_url"]
        try:
            resolve_target(url)
        except UnsafeTarget as exc:
            raise forms.ValidationError(exc.message) from None
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = [
        "name",
        "target_url",
        "active",
        "internal",
        "consecutive_failures",
        "disabled_at",
    ]
    list_filter = ["active", "internal"]
    search_fields = ["name", "target_url"]
    readonly_fields = [
        "secret",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
    ]
    actions = ["enable"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Enable again (reset the failure count)")
    def enable(self, request: HttpRequest, queryset: QuerySet) -> None:
        for subscription in queryset:
            webhook_subscription_enable(subscription=subscription)
        self.message_user(request, f"{queryset.count()} subscription(s) enabled.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: one row per event and subscription, with every attempt's outcome."""

    list_display = [
        "created_at",
        "event_name",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "last_duration_ms",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_name", "subscription"]
    search_fields = ["uuid", "last_error"]
    list_select_related = ["subscription"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and request.user.is_superuser  # the action needs it

    @admin.action(description="Send again now")
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        for delivery in queryset:
            webhook_delivery_retry(delivery=delivery)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued.")


# ------------------------------------------------------------------ alerts, idempotency
@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["name", "fingerprint", "status", "ticket", "received_count", "last_received_at"]
    list_filter = ["status"]
    search_fields = ["fingerprint", "name", "ticket__number"]
    list_select_related = ["ticket"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "method", "path", "status_code", "created_at", "expires_at"]
    search_fields = ["key", "path"]
    list_select_related = ["user"]
