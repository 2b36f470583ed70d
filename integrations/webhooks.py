"""Outbound webhooks: the journal as an outbox, signed deliveries, retries, auto-disable.

How events leave
    Every ticket change is already written to the journal (tickets.TicketEvent) by the
    services. A beat task (`webhooks_outbox_task`, every 2 s) reads the entries past a stored
    cursor (one row, locked), maps each to an event name (EVENT MAP below), and creates one
    WebhookDelivery per active subscription that wants it, in the same transaction that
    moves the cursor; delivery tasks are queued after commit. A (subscription, entry) pair is
    unique, so nothing is delivered twice. Journal ids are assigned before their transaction
    commits, so an id can become visible after a higher one: such gaps are remembered and
    re-read for WEBHOOK_OUTBOX_GAP_SECONDS.

Event map
    created → ticket.created; comment → ticket.comment; work_note → ticket.work_note
    (internal subscriptions only); status_changed → ticket.status_changed; field_changed of
    assignee or team → ticket.assigned, of any other field → ticket.updated; system "sla"
    entries → sla.warning / sla.breach / sla.escalation. Other entries are not sent.
    A subscription that is not internal never receives work notes, nor the text and data of
    internal entries (only which field changed).

Request
    POST <target_url>, `Content-Type: application/json`, body:
        {"id": "<delivery uuid>", "event": "ticket.comment", "created_at": "…",
         "ticket": {"id", "number", "kind", "title", "state", "priority", "requester",
                    "team", "assignee", "created_at", "updated_at", "url"},
         "entry": {"id", "type", "public", "actor", "created_at", "body", "data"}}
    Headers: X-Servicedesk-Event, X-Servicedesk-Delivery (uuid, the same on every retry),
    X-Servicedesk-Timestamp (Unix seconds of this attempt), X-Servicedesk-Signature.

Verifying the signature (the recipe)
    signed  = timestamp + "." + raw_body          (bytes, the body exactly as received)
    digest  = HMAC-SHA256(key=secret, msg=signed), hex
    header  = "v1=" + digest
    Compare in constant time, and refuse timestamps more than 5 minutes old (replays).
    Python:
        expected = "v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + body,
                                    hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, request.headers["X-Servicedesk-Signature"])

Retries
    Any answer other than 2xx, a timeout or a connection error is a failed attempt, retried
    after WEBHOOK_BACKOFF_BASE × 2^(attempt−1) seconds (capped at WEBHOOK_BACKOFF_MAX) up to
    WEBHOOK_MAX_ATTEMPTS attempts. After WEBHOOK_DISABLE_AFTER consecutive failed attempts
    the subscription is disabled (re-enable it in admin). Redirects are not followed.

SSRF
    Targets must be http(s) and resolve only to public addresses (no loopback, private,
    link-local, shared or reserved ranges); the connection goes to the address that was
    checked (no DNS rebinding between check and connect). WEBHOOK_ALLOW_PRIVATE_TARGETS
    lifts the address check (tests, or a desk whose receivers are on its own network)."""

import hashlib
import hmac
import http.client
import ipaddress
import itertools
import json
import logging
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from core.exceptions import DomainError
from tickets.choices import EventType
from tickets.models import Ticket, TicketEvent

from .choices import DeliveryStatus, WebhookEvent
from .models import WebhookCursor, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

EVENT_HEADER = "X-Servicedesk-Event"
DELIVERY_HEADER = "X-Servicedesk-Delivery"
TIMESTAMP_HEADER = "X-Servicedesk-Timestamp"
SIGNATURE_HEADER = "X-Servicedesk-Signature"
USER_AGENT = "ServiceDesk-Webhooks/1"
OUTBOX_BATCH = 500
MAX_TRACKED_GAPS = 1000
RESPONSE_EXCERPT = 500
#: Fields of an internal entry's data a non-internal subscription still receives.
PUBLIC_DATA_KEYS = frozenset({"field", "label", "sla", "metric", "threshold", "code"})
#: Field changes that mean "assigned".
ASSIGNMENT_FIELDS = frozenset({"assignee", "team"})


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# ------------------------------------------------------------------ signing
def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for one attempt (see the recipe above)."""
    message = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# ------------------------------------------------------------------ SSRF
class UnsafeTarget(DomainError):
    """A webhook target that is not a public http(s) address."""

    title = "Webhook target refused"


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_target(url: str) -> list[str]:
    """Check a target URL and return the addresses to connect to; raise UnsafeTarget when
    it is not http(s), has no host, or resolves to a non-public address."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget(f"Not a valid URL: {exc}.", field="target_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("Use an http:// or https:// URL with a host.", field="target_url")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(f"Cannot resolve {parts.hostname}: {exc}.", field="target_url") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not _setting("WEBHOOK_ALLOW_PRIVATE_TARGETS", False):
        refused = [a for a in addresses if not _address_allowed(a)]
        if refused or not addresses:
            raise UnsafeTarget(
                f"{parts.hostname} resolves to a private, loopback or reserved address "
                f"({', '.join(refused) or 'none'}); webhooks only go to public addresses.",
                field="target_url",
            )
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS says now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass
class AttemptResult:
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def http_post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> AttemptResult:
    """POST once; never raises for network or target errors (they are the result)."""
    started = time.monotonic()
    result = AttemptResult()
    try:
        address = resolve_target(url)[0]
        parts = urlsplit(url)
        https = parts.scheme == "https"
        connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
        connection = connection_class(
            parts.hostname or "",
            parts.port or (443 if https else 80),
            address=address,
            timeout=timeout,
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            result.status_code = response.status
            excerpt = response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
            if not result.ok:
                result.error = f"HTTP {response.status}: {excerpt}".strip()
        finally:
            connection.close()
    except UnsafeTarget as exc:
        result.error = exc.message
    except (OSError, http.client.HTTPException) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


# ------------------------------------------------------------------ event map and payloads
def event_name(event: TicketEvent) -> str | None:
    """The webhook event a journal entry stands for, or None when it is not sent."""
    data = event.data or {}
    if event.type == EventType.FIELD_CHANGED:
        if data.get("field") in ASSIGNMENT_FIELDS:
            return WebhookEvent.TICKET_ASSIGNED
        return WebhookEvent.TICKET_UPDATED
    if event.type == EventType.SYSTEM:
        if data.get("code") == "sla":
            return {
                "warning": WebhookEvent.SLA_WARNING,
                "breach": WebhookEvent.SLA_BREACH,
                "escalation": WebhookEvent.SLA_ESCALATION,
            }.get(data.get("sla", ""))
        return None
    return {
        EventType.CREATED: WebhookEvent.TICKET_CREATED,
        EventType.COMMENT: WebhookEvent.TICKET_COMMENT,
        EventType.WORK_NOTE: WebhookEvent.TICKET_WORK_NOTE,
        EventType.STATUS_CHANGED: WebhookEvent.TICKET_STATUS_CHANGED,
    }.get(event.type)


def _person(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "display_name": str(user)}


def _ticket(ticket: Ticket, *, internal: bool) -> dict[str, Any]:
    url = ticket.get_absolute_url() if internal else ticket.portal_url
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "kind": ticket.kind,
        "title": ticket.title,
        "state": ticket.state,
        "priority": ticket.priority,
        "requester": _person(ticket.requester),
        "team": None if ticket.team is None else {"id": ticket.team.pk, "name": ticket.team.name},
        "assignee": _person(ticket.assignee),
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "url": settings.SITE_URL.rstrip("/") + url,
    }


def build_payload(
    *, event: TicketEvent, name: str, internal: bool, delivery_id: str
) -> dict[str, Any]:
    """The JSON body of one delivery. Internal text stays out unless `internal`."""
    shown = internal or event.public
    data = event.data or {}
    if not shown:
        data = {key: value for key, value in data.items() if key in PUBLIC_DATA_KEYS}
    entry = {
        "id": event.pk,
        "type": event.type,
        "public": event.public,
        "actor": _person(event.actor),
        "created_at": event.created_at.isoformat(),
        "body": event.body if shown else "",
        "data": data,
    }
    return {
        "id": delivery_id,
        "event": name,
        "created_at": event.created_at.isoformat(),
        "ticket": _ticket(event.ticket, internal=internal),
        "entry": entry,
    }


# ------------------------------------------------------------------ outbox
@dataclass
class OutboxResult:
    read: int = 0
    queued: list[int] = field(default_factory=list)
    swept: int = 0


def _cursor(subscriptions: list[WebhookSubscription]) -> WebhookCursor | None:
    """The locked cursor row; created on first use just before the oldest subscription's
    events (no history is replayed), or None while there is nothing to do."""
    cursor = WebhookCursor.objects.select_for_update().filter(pk=1).first()
    if cursor is not None:
        return cursor
    if not subscriptions:
        return None
    since = min(s.created_at for s in subscriptions)
    first = TicketEvent.objects.filter(created_at__gte=since).aggregate(m=Min("pk"))["m"]
    last = TicketEvent.objects.aggregate(m=Max("pk"))["m"] or 0
    start = first - 1 if first is not None else last
    WebhookCursor.objects.get_or_create(pk=1, defaults={"last_event_id": start})
    return WebhookCursor.objects.select_for_update().get(pk=1)


def _journal(cursor: WebhookCursor) -> list[TicketEvent]:
    gap_ids = [int(key) for key in cursor.gaps]
    return list(
        TicketEvent.objects.filter(Q(pk__gt=cursor.last_event_id) | Q(pk__in=gap_ids))
        .select_related("ticket__requester", "ticket__team", "ticket__assignee", "actor")
        .order_by("pk")[:OUTBOX_BATCH]
    )


def _advance(cursor: WebhookCursor, events: list[TicketEvent], now: datetime) -> None:
    """Move the cursor past what was read; remember ids skipped on the way (gaps) and drop
    gaps older than WEBHOOK_OUTBOX_GAP_SECONDS (rolled back, not in flight)."""
    seen = {event.pk for event in events}
    gaps = {int(key): at for key, at in cursor.gaps.items() if int(key) not in seen}
    newest = max(seen, default=cursor.last_event_id)
    if newest > cursor.last_event_id:
        missing = (i for i in range(newest - 1, cursor.last_event_id, -1) if i not in seen)
        for pk in itertools.islice(missing, MAX_TRACKED_GAPS):
            gaps.setdefault(pk, now.isoformat())
        cursor.last_event_id = newest
    horizon = now - timedelta(seconds=_setting("WEBHOOK_OUTBOX_GAP_SECONDS", 300))
    kept = sorted(
        (pk for pk, at in gaps.items() if datetime.fromisoformat(at) > horizon), reverse=True
    )
    cursor.gaps = {str(pk): gaps[pk] for pk in kept[:MAX_TRACKED_GAPS]}
    cursor.save(update_fields=["last_event_id", "gaps", "updated_at"])


def _deliveries_for(
    events: Iterable[TicketEvent], subscriptions: list[WebhookSubscription], now: datetime
) -> list[WebhookDelivery]:
    rows = []
    for event in events:
        name = event_name(event)
        if name is None:
            continue
        payloads: dict[bool, dict[str, Any]] = {}
        for subscription in subscriptions:
            if not subscription.wants(name) or event.created_at < subscription.created_at:
                continue
            delivery = WebhookDelivery(
                subscription=subscription, event=event, event_name=name, next_attempt_at=now
            )
            internal = subscription.internal
            if internal not in payloads:
                payloads[internal] = build_payload(
                    event=event, name=name, internal=internal, delivery_id=""
                )
            delivery.payload = {**payloads[internal], "id": str(delivery.uuid)}
            rows.append(delivery)
    return rows


@transaction.atomic
def webhooks_outbox_run(*, now: datetime | None = None) -> OutboxResult:
    """Turn new journal entries into deliveries (one per wanting subscription), move the
    cursor in the same transaction, and queue the deliveries after commit. Safe to run
    concurrently: the cursor row lock serialises runs."""
    now = now or timezone.now()
    subscriptions = list(WebhookSubscription.objects.filter(active=True).order_by("pk"))
    cursor = _cursor(subscriptions)
    result = OutboxResult()
    if cursor is None:
        return result
    events = _journal(cursor)
    result.read = len(events)
    if not subscriptions:
        events = []  # nothing wants them: just move on
        newest = TicketEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        cursor.last_event_id, cursor.gaps = max(cursor.last_event_id, newest), {}
        cursor.save(update_fields=["last_event_id", "gaps", "updated_at"])
        return result
    rows = _deliveries_for(events, subscriptions, now)
    if rows:
        done = set(
            WebhookDelivery.objects.filter(event_id__in={r.event_id for r in rows}).values_list(
                "subscription_id", "event_id"
            )
        )
        fresh = [r for r in rows if (r.subscription_id, r.event_id) not in done]
        created = WebhookDelivery.objects.bulk_create(fresh)
        result.queued = [delivery.pk for delivery in created]
    _advance(cursor, events, now)
    _enqueue_after_commit(result.queued)
    return result


def _enqueue_after_commit(delivery_ids: list[int]) -> None:
    from .tasks import deliver_webhook_task

    for pk in delivery_ids:
        transaction.on_commit(partial(deliver_webhook_task.delay, delivery_id=pk))


def webhooks_sweep(*, now: datetime | None = None) -> int:
    """Re-queue pending deliveries whose time came and went (a lost task, or a backoff too
    long for a Celery countdown). The delivery claims itself, so a double queue is harmless."""
    now = now or timezone.now()
    grace = timedelta(seconds=_setting("WEBHOOK_SWEEP_GRACE_SECONDS", 30))
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:OUTBOX_BATCH]
    )
    from .tasks import deliver_webhook_task

    for pk in due:
        deliver_webhook_task.delay(delivery_id=pk)
    return len(due)


# ------------------------------------------------------------------ delivery
@dataclass
class DeliveryOutcome:
    attempted: bool = False
    delivered: bool = False
    retry_in: float | None = None
    disabled: bool = False


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (exponential, capped)."""
    base = float(_setting("WEBHOOK_BACKOFF_BASE", 10))
    return min(base * 2 ** (attempts - 1), float(_setting("WEBHOOK_BACKOFF_MAX", 3600)))


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Take a due delivery for one attempt: count it and push its time out by a lease, so
    the sweep does not queue it again while the request is in flight."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None  # not due yet (an early or duplicate task)
        if not delivery.subscription.active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "Not sent: the subscription is disabled."
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
            return None
        lease = timedelta(seconds=float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10)) + 60)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + lease
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
        return delivery


@transaction.atomic
def _record(delivery: WebhookDelivery, result: AttemptResult) -> DeliveryOutcome:
    now = timezone.now()
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    outcome = DeliveryOutcome(attempted=True, delivered=result.ok)
    locked.last_status_code = result.status_code
    locked.last_error = result.error[:2000]
    locked.last_duration_ms = result.duration_ms
    if result.ok:
        locked.status, locked.delivered_at, locked.next_attempt_at = (
            DeliveryStatus.SUCCEEDED,
            now,
            None,
        )
        subscription.consecutive_failures = 0
    else:
        subscription.consecutive_failures += 1
        limit = int(_setting("WEBHOOK_DISABLE_AFTER", 15))
        if subscription.active and subscription.consecutive_failures >= limit:
            subscription.active = False
            subscription.disabled_at = now
            subscription.disabled_reason = (
                f"Disabled after {subscription.consecutive_failures} failed attempts in a row; "
                f"last: {result.error[:120]}"
            )
            outcome.disabled = True
            logger.warning("Webhook subscription %s disabled", subscription.pk)
        if not subscription.active or locked.attempts >= int(_setting("WEBHOOK_MAX_ATTEMPTS", 8)):
            locked.status, locked.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            outcome.retry_in = backoff(locked.attempts)
            locked.next_attempt_at = now + timedelta(seconds=outcome.retry_in)
    locked.save()
    subscription.save(
        update_fields=[
            "consecutive_failures",
            "active",
            "disabled_at",
            "disabled_reason",
            "updated_at",
        ]
    )
    return outcome


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> DeliveryOutcome:
    """One attempt at one delivery: claim it, POST it signed (outside any transaction, so no
    lock is held during the request), record the result, back off or disable on failure."""
    delivery = _claim(delivery_id, now or timezone.now())
    if delivery is None:
        return DeliveryOutcome()
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event_name,
        DELIVERY_HEADER: str(delivery.uuid),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret=delivery.subscription.secret, timestamp=timestamp, body=body),
    }
    result = http_post(
        url=delivery.subscription.target_url,
        body=body,
        headers=headers,
        timeout=float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10)),
    )
    return _record(delivery, result)


@transaction.atomic
def webhook_subscription_enable(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """Re-enable a disabled subscription (admin action) with a clean failure count."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    locked.active, locked.consecutive_failures = True, 0
    locked.disabled_at, locked.disabled_reason = None, ""
    locked.save()
    return locked


@transaction.atomic
def webhook_delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again now (admin action)."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    locked.status, locked.next_attempt_at = DeliveryStatus.PENDING, timezone.now()
    locked.save(update_fields=["status", "next_attempt_at"])
    _enqueue_after_commit([locked.pk])
    return locked
