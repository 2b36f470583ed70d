"""API platform models: tokens, service accounts, idempotency records, webhooks, alerts."""

import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import INTERNAL_EVENTS, AlertStatus, DeliveryStatus, TokenScope, WebhookEvent

#: Methods a read-only token may use.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ServiceAccount(models.Model):
    """A user created for one integration (monitoring, HR system, chat bot). It has no usable
    password: it acts only through its API tokens. Its roles are the user's groups."""

    # One-to-one on the user: the account *is* a user, so visibility, roles and journal
    # attribution work unchanged. PROTECT: the tickets it raised keep their requester.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="service_account",
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__display_name"]

    def __str__(self) -> str:
        return str(self.user)


class ApiToken(models.Model):
    """A personal (or service account) API token. Only its SHA-256 is stored: the secret is
    shown once, when it is created. Revoked and expired tokens stay for the audit trail."""

    # CASCADE: a token is a credential of its user and means nothing without it (users are
    # deactivated, not deleted, in normal operation).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for.")
    prefix = models.CharField(max_length=16, editable=False, help_text="Start of the token.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=8, choices=TokenScope, default=TokenScope.READ)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="integrations_token_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)

    def allows(self, method: str) -> bool:
        """Read scope: safe methods only. Write scope: whatever the user may do anyway."""
        return self.scope == TokenScope.WRITE or method.upper() in SAFE_METHODS

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class IdempotencyRecord(models.Model):
    """The first answer to a create sent with an `Idempotency-Key`, kept for 24 hours: the
    same key with the same request is answered from here; with another request it is 422."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )  # CASCADE: a cache of the user's own responses
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty while the first request is still running."
    )
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="integrations_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


def _webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookSubscription(models.Model):
    """An outbound webhook: journal events of the chosen types are POSTed, signed with the
    secret (HMAC-SHA256 over timestamp and body), to the target URL."""

    name = models.CharField(max_length=100)
    target_url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=128, default=_webhook_secret, help_text="Shared secret for the signature."
    )
    event_types = ArrayField(
        models.CharField(max_length=40, choices=WebhookEvent),
        default=list,
        blank=True,
        help_text="Empty: every event this subscription may receive.",
    )
    internal = models.BooleanField(
        default=False,
        help_text="Receives internal work notes and the text of internal entries. Only for "
        "systems run by the service desk itself.",
    )
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=200, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_name: str) -> bool:
        """Whether this subscription receives that event (work notes: internal only)."""
        if event_name in INTERNAL_EVENTS and not self.internal:
            return False
        return not self.event_types or event_name in self.event_types


class WebhookDelivery(models.Model):
    """One journal event to one subscription: the payload frozen when it was queued, and
    the outcome of each attempt. Unique per (subscription, event): never sent twice."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        "tickets.TicketEvent", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    event_name = models.CharField(max_length=40, choices=WebhookEvent)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="integrations_delivery_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="integrations_delivery_due_idx",
                condition=Q(status=DeliveryStatus.PENDING),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.subscription_id} ({self.status})"


class WebhookCursor(models.Model):
    """The single row saying how far the webhook outbox has read the journal.

    `last_event_id` is the highest journal id handled; `gaps` holds lower ids that were not
    visible yet when a higher one was (a transaction still running, or rolled back), with
    when they were first missed, so a late commit is still delivered."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_event_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="integrations_cursor_one")]

    def __str__(self) -> str:
        return f"Webhook outbox at journal entry {self.last_event_id}"


class Alert(models.Model):
    """A monitoring alert, by fingerprint, and the incident it raised (one per firing
    episode: repeated notifications update this row; a resolved notification resolves the
    incident; firing again afterwards raises a new incident)."""

    fingerprint = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=AlertStatus, default=AlertStatus.FIRING)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    generator_url = models.CharField(max_length=1000, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    received_count = models.PositiveIntegerField(default=0)
    first_received_at = models.DateTimeField(default=timezone.now)
    last_received_at = models.DateTimeField(default=timezone.now)
    source = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-last_received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name or self.fingerprint} ({self.status})"
