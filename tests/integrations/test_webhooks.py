"""Outbound webhooks: the journal as outbox, signed payloads verifiable with the documented
recipe, retries with backoff against a receiver that fails, auto-disable, SSRF guard."""

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.choices import IncidentStatus
from incidents.services import (
    incident_assign,
    incident_comment,
    incident_create,
    incident_transition,
)
from integrations.admin import WebhookSubscriptionForm
from integrations.choices import DeliveryStatus, WebhookEvent
from integrations.models import WebhookCursor, WebhookDelivery, WebhookSubscription
from integrations.webhooks import (
    UnsafeTarget,
    backoff,
    resolve_target,
    webhook_deliver,
    webhooks_outbox_run,
    webhooks_sweep,
)
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db


def subscribe(url: str, **fields) -> WebhookSubscription:
    fields.setdefault("name", "Chat bot")
    return WebhookSubscription.objects.create(target_url=url, **fields)


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> bool:
    """The recipe from integrations/webhooks.py, written out as a receiver would."""
    timestamp = headers["X-Servicedesk-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Servicedesk-Signature"])


@pytest.fixture
def raise_incident(requester):
    """Raise an incident (after subscribing: earlier events are not sent)."""

    def make(title: str = "VPN drops hourly"):
        return incident_create(requester=requester, by=requester, title=title)

    return make


def deliver_all() -> None:
    for pk in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list(
        "pk", flat=True
    ):
        webhook_deliver(delivery_id=pk)


def test_a_delivery_is_signed_and_verifiable_with_the_documented_recipe(receiver, requester):
    # given
    subscription = subscribe(receiver.url, event_types=[WebhookEvent.TICKET_CREATED])
    created = incident_create(requester=requester, by=requester, title="Printer on fire")
    # when
    webhooks_outbox_run()
    deliver_all()
    # then
    (request,) = receiver.requests
    assert verify(subscription.secret, request.headers, request.body)
    assert not verify("another secret", request.headers, request.body)
    assert not verify(subscription.secret, request.headers, request.body + b" ")
    assert request.headers["X-Servicedesk-Event"] == "ticket.created"
    assert request.headers["Content-Type"] == "application/json"
    payload = request.json
    assert payload["event"] == "ticket.created"
    assert payload["ticket"]["number"] == created.ticket.number
    assert payload["id"] == request.headers["X-Servicedesk-Delivery"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200


def test_journal_entries_map_to_event_names(receiver, raise_incident, agent, network_team):
    # given
    subscribe(receiver.url)
    incident = raise_incident()
    # when an agent works the incident
    incident_assign(incident=incident, by=agent, team=network_team, assignee=agent)
    incident_comment(incident=incident, by=agent, body="Looking into it")
    incident_comment(incident=incident, by=agent, body="Suspect the core switch", public=False)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.RESOLVED,
        resolution_code="fixed",
        resolution_notes="Replaced a cable.",
    )
    webhooks_outbox_run()
    # then
    names = list(WebhookDelivery.objects.order_by("event_id").values_list("event_name", flat=True))
    assert names[0] == WebhookEvent.TICKET_CREATED
    assert {
        WebhookEvent.TICKET_ASSIGNED,
        WebhookEvent.TICKET_COMMENT,
        WebhookEvent.TICKET_STATUS_CHANGED,
    } <= set(names)
    assert WebhookEvent.TICKET_WORK_NOTE not in names


def test_work_notes_and_internal_text_reach_internal_subscriptions_only(
    raise_incident, agent, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    public = subscribe("http://127.0.0.1:9/public")
    internal = subscribe("http://127.0.0.1:9/internal", name="Ops", internal=True)
    incident = raise_incident()
    incident_comment(incident=incident, by=agent, body="SECRET root cause", public=False)
    incident_assign(incident=incident, by=agent, assignee=agent)

    webhooks_outbox_run()

    public_payloads = [d.payload for d in WebhookDelivery.objects.filter(subscription=public)]
    internal_payloads = [d.payload for d in WebhookDelivery.objects.filter(subscription=internal)]
    assert "SECRET" not in str(public_payloads)
    assert "SECRET" in str(internal_payloads)
    assert any(p["event"] == "ticket.work_note" for p in internal_payloads)
    assigned = next(p for p in public_payloads if p["event"] == "ticket.assigned")
    assert assigned["entry"]["data"] == {"field": "assignee", "label": "Assignee"}
    assert assigned["ticket"]["url"].endswith(incident.ticket.portal_url)


def test_each_event_is_delivered_once_per_subscription(receiver, raise_incident, requester):
    subscribe(receiver.url)
    subscribe(receiver.url, name="Second")
    incident = raise_incident()

    webhooks_outbox_run()
    webhooks_outbox_run()
    incident_comment(incident=incident, by=requester, body="Still broken")
    webhooks_outbox_run()

    assert WebhookDelivery.objects.count() == 4  # (created + comment) × 2 subscriptions
    assert WebhookCursor.objects.get().last_event_id >= incident.ticket.events.last().pk


def test_events_before_a_subscription_are_not_sent(receiver, raise_incident, requester):
    subscription = subscribe(receiver.url)
    raise_incident()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        created_at=timezone.now() + timedelta(seconds=1)
    )

    webhooks_outbox_run()

    assert not WebhookDelivery.objects.exists()


def test_subscriptions_choose_their_event_types(receiver, raise_incident, requester):
    subscribe(receiver.url, event_types=[WebhookEvent.TICKET_COMMENT])
    incident = raise_incident()
    incident_comment(incident=incident, by=requester, body="Any news?")
    webhooks_outbox_run()

    assert list(WebhookDelivery.objects.values_list("event_name", flat=True)) == [
        WebhookEvent.TICKET_COMMENT
    ]


def test_an_entry_committed_late_is_still_delivered(receiver, requester):
    # given a cursor that already moved past an entry it could not see yet (a gap)
    subscribe(receiver.url)
    early = incident_create(requester=requester, by=requester, title="Early")
    late = incident_create(requester=requester, by=requester, title="Late")
    early_event = early.ticket.events.get()
    WebhookCursor.objects.create(
        last_event_id=late.ticket.events.get().pk,
        gaps={str(early_event.pk): timezone.now().isoformat()},
    )
    # when
    webhooks_outbox_run()
    # then
    assert list(WebhookDelivery.objects.values_list("event_id", flat=True)) == [early_event.pk]
    assert WebhookCursor.objects.get().gaps == {}


def test_a_gap_is_forgotten_after_its_grace_period(receiver, requester, settings):
    subscribe(receiver.url)
    old = (timezone.now() - timedelta(seconds=settings.WEBHOOK_OUTBOX_GAP_SECONDS + 1)).isoformat()
    WebhookCursor.objects.create(last_event_id=10**12, gaps={"123456789012": old})

    webhooks_outbox_run()

    assert WebhookCursor.objects.get().gaps == {}


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    receiver, raise_incident, settings
):
    # given a receiver that fails twice, then answers 200
    settings.WEBHOOK_BACKOFF_BASE = 5
    receiver.script = [500, 503]
    subscribe(receiver.url, event_types=[WebhookEvent.TICKET_CREATED])
    raise_incident()
    webhooks_outbox_run()
    delivery = WebhookDelivery.objects.get()
    # when
    first = webhook_deliver(delivery_id=delivery.pk)
    early = webhook_deliver(delivery_id=delivery.pk)  # not due yet: nothing is sent
    second = webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(seconds=6))
    third = webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(seconds=11))
    # then
    assert (first.retry_in, second.retry_in) == (5, 10)  # exponential: 5 × 2^(n−1)
    assert not early.attempted
    assert third.delivered
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 3
    assert len(receiver.requests) == 3
    assert len({r.headers["X-Servicedesk-Delivery"] for r in receiver.requests}) == 1
    assert delivery.subscription.consecutive_failures == 0


def test_backoff_is_capped(settings):
    settings.WEBHOOK_BACKOFF_BASE, settings.WEBHOOK_BACKOFF_MAX = 10, 60

    assert [backoff(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_a_delivery_fails_after_its_last_attempt(receiver, raise_incident, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.script = [500] * 5
    subscribe(receiver.url, event_types=[WebhookEvent.TICKET_CREATED])
    raise_incident()
    webhooks_outbox_run()
    delivery = WebhookDelivery.objects.get()

    webhook_deliver(delivery_id=delivery.pk)
    last = webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(hours=1))

    delivery.refresh_from_db()
    assert last.retry_in is None
    assert delivery.status == DeliveryStatus.FAILED
    assert "HTTP 500" in delivery.last_error


def test_a_subscription_is_disabled_after_repeated_failures(receiver, requester, settings):
    # given a receiver that always fails
    settings.WEBHOOK_DISABLE_AFTER = 3
    receiver.script = [500] * 10
    subscription = subscribe(receiver.url, event_types=[WebhookEvent.TICKET_CREATED])
    for n in range(3):
        incident_create(requester=requester, by=requester, title=f"Outage {n}")
    webhooks_outbox_run()
    # when each delivery fails once
    outcomes = [webhook_deliver(delivery_id=d.pk) for d in WebhookDelivery.objects.order_by("pk")]
    # then the third failure in a row disables it, and nothing more is sent or queued
    subscription.refresh_from_db()
    assert [o.disabled for o in outcomes] == [False, False, True]
    assert not subscription.active
    assert "3 failed attempts" in subscription.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.PENDING,
        DeliveryStatus.FAILED,
    }
    deliver_all_later = [
        webhook_deliver(delivery_id=d.pk, now=timezone.now() + timedelta(hours=1))
        for d in WebhookDelivery.objects.all()
    ]
    assert not any(o.attempted for o in deliver_all_later)
    assert len(receiver.requests) == 3
    incident_create(requester=requester, by=requester, title="After")
    assert webhooks_outbox_run().queued == []


def test_the_sweep_requeues_what_a_lost_task_left(receiver, raise_incident, settings, monkeypatch):
    subscribe(receiver.url, event_types=[WebhookEvent.TICKET_CREATED])
    raise_incident()
    webhooks_outbox_run()
    queued = []
    monkeypatch.setattr(
        "integrations.tasks.deliver_webhook_task.delay", lambda **kw: queued.append(kw)
    )
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    assert webhooks_sweep() == 1
    assert queued == [{"delivery_id": WebhookDelivery.objects.get().pk}]


# ------------------------------------------------------------------ SSRF
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://224.0.0.1/",
        "ftp://93.184.216.34/",
        "file:///etc/passwd",
        "http:///nohost",
    ],
)
def test_private_loopback_and_odd_targets_are_refused(url):
    with pytest.raises(UnsafeTarget):
        resolve_target(url)


def test_public_addresses_are_accepted():
    assert resolve_target("https://93.184.216.34/hooks") == ["93.184.216.34"]


def test_the_setting_allows_private_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True

    assert resolve_target("http://127.0.0.1:9/") == ["127.0.0.1"]


def test_a_private_target_is_never_contacted(receiver, raise_incident, settings):
    subscribe(receiver.url, event_types=[WebhookEvent.TICKET_CREATED])
    raise_incident()
    webhooks_outbox_run()
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)

    assert receiver.requests == []
    assert "private" in WebhookDelivery.objects.get().last_error


def test_the_admin_form_refuses_a_private_target():
    form = WebhookSubscriptionForm(
        data={"name": "x", "target_url": "http://10.0.0.5/hook", "active": True}
    )

    assert not form.is_valid()
    assert "target_url" in form.errors


# ------------------------------------------------------------------ real worker
@pytest.mark.worker
def test_beat_and_worker_deliver_with_retries(celery_worker_process, receiver, requester):
    # given a receiver that fails twice, and a worker with beat (outbox every 2 s)
    receiver.script = [500, 500]
    subscription = subscribe(receiver.url, event_types=[WebhookEvent.TICKET_CREATED])
    celery_worker_process(
        beat=True,
        env={"WEBHOOK_ALLOW_PRIVATE_TARGETS": "1", "WEBHOOK_BACKOFF_BASE": "0.3"},
    )
    # when an incident is raised
    created = incident_create(requester=requester, by=requester, title="Real worker")
    # then the worker delivers it on the third attempt, signed
    delivered = wait_until(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).first(),
        timeout=40,
    )
    assert delivered.attempts == 3
    assert len(receiver.requests) == 3
    last = receiver.requests[-1]
    assert verify(subscription.secret, last.headers, last.body)
    assert last.json["ticket"]["number"] == created.ticket.number
