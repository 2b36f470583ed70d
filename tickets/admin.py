"""Read-only admin for tickets: writes go through services, the journal is never edited."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .mail import notifications_email_retry
from .models import (
    EventDispatch,
    InboundMessage,
    Notification,
    NotificationPreference,
    SatisfactionResponse,
    Ticket,
    TicketEvent,
)
from .tasks import dispatch_event_task


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


# ------------------------------------------------------------------ notifications and e-mail
@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The e-mail outbox: every notification with its e-mail state, attempts and last error."""

    list_display = [
        "created_at",
        "recipient",
        "ticket",
        "event",
        "subject",
        "email_status",
        "email_attempts",
        "email_next_at",
        "read_at",
    ]
    list_filter = ["email_status", "event"]
    search_fields = ["subject", "recipient__username", "recipient__email", "ticket__number"]
    list_select_related = ["recipient", "ticket"]
    raw_id_fields = ["recipient", "ticket", "source_event"]
    date_hierarchy = "created_at"
    actions = ["retry_email"]

    @admin.action(description="Send the e-mail again now (failed or waiting ones only)")
    def retry_email(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = notifications_email_retry(
            notification_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{count} e-mail(s) queued again.", messages.SUCCESS)


@admin.register(EventDispatch)
class EventDispatchAdmin(ReadOnlyAdmin):
    """The notification outbox: journal entries and when they were dispatched (kept a day).
    Rows still waiting more than a minute mean the worker is down or a rule keeps failing."""

    list_display = ["event", "ticket", "type", "created_at", "dispatched_at", "attempts"]
    list_filter = [("dispatched_at", admin.EmptyFieldListFilter), "type"]
    raw_id_fields = ["event", "ticket"]
    actions = ["dispatch_now"]

    @admin.action(description="Dispatch now")
    def dispatch_now(self, request: HttpRequest, queryset: QuerySet[EventDispatch]) -> None:
        ids = list(queryset.filter(dispatched_at__isnull=True).values_list("event_id", flat=True))
        for event_id in ids:
            dispatch_event_task.delay(event_id=event_id)
        self.message_user(request, f"{len(ids)} dispatch(es) queued.", messages.SUCCESS)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_mode", "in_app_only", "muted", "updated_at"]
    list_filter = ["email_mode"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    """Every e-mail the receiver got, and what became of it (raw kept for failures)."""

    list_display = ["received_at", "from_address", "subject", "status", "ticket", "reason"]
    list_filter = ["status"]
    search_fields = ["from_address", "subject", "message_id", "ticket__number"]
    list_select_related = ["ticket"]
    exclude = ["raw"]
    date_hierarchy = "received_at"


@admin.register(SatisfactionResponse)
class SatisfactionResponseAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "ticket", "rating", "respondent", "comment"]
    list_filter = ["rating"]
    search_fields = ["ticket__number", "comment"]
    list_select_related = ["ticket", "respondent"]
