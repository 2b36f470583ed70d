"""Webhook and idempotency tasks: thin, each calls one function of the app; idempotent, so
acks_late redelivery and the sweep's re-queueing never send twice."""

from celery import shared_task
from django.conf import settings

from .idempotency import idempotency_records_purge
from .webhooks import webhook_deliver, webhooks_outbox_run, webhooks_sweep


@shared_task(acks_late=True)
def webhooks_outbox_task() -> dict[str, int]:
    """Beat, every 2 s: new journal entries → deliveries; re-queue deliveries a lost task or
    a long backoff left behind."""
    result = webhooks_outbox_run()
    swept = webhooks_sweep()
    return {"read": result.read, "queued": len(result.queued), "swept": swept}


@shared_task(acks_late=True)
def deliver_webhook_task(*, delivery_id: int) -> bool:
    """One attempt at one delivery. A failure is re-queued after its backoff when that is
    short; longer waits are left to the sweep (Redis redelivers long countdowns)."""
    outcome = webhook_deliver(delivery_id=delivery_id)
    max_countdown = getattr(settings, "WEBHOOK_RETRY_MAX_COUNTDOWN", 300)
    if outcome.retry_in is not None and outcome.retry_in <= max_countdown:
        deliver_webhook_task.apply_async(
            kwargs={"delivery_id": delivery_id}, countdown=outcome.retry_in
        )
    return outcome.delivered


@shared_task(acks_late=True)
def purge_idempotency_records_task() -> int:
    """Beat, hourly: forget Idempotency-Key records older than their 24 hours."""
    return idempotency_records_purge()
