"""The database store behind core.api.idempotency (settings.API_IDEMPOTENCY_STORE).

A key is claimed by inserting its row (unique per user and key) before the create runs, in
its own short transaction, so a concurrent retry sees the claim and gets 409 instead of
creating twice. A claim left by a crashed request is taken over after IN_PROGRESS_TIMEOUT;
while its request runs, the claim row is locked (`hold`), so a slow request is never taken
over, and a retry meanwhile gets 409 at once (NOWAIT) instead of waiting."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.api.idempotency import IdempotencyInProgress, IdempotencyKeyReused, StoredResponse

from .models import IdempotencyRecord

IN_PROGRESS_TIMEOUT = timedelta(seconds=60)
#: PostgreSQL's SQLSTATE for a NOWAIT lock that is held by another transaction.
LOCK_NOT_AVAILABLE = "55P03"


def _retention() -> timedelta:
    return timedelta(hours=getattr(settings, "API_IDEMPOTENCY_HOURS", 24))


class DatabaseIdempotencyStore:
    def begin(
        self, *, user_id: int, key: str, fingerprint: str, method: str, path: str
    ) -> StoredResponse | None:
        try:
            return self._begin(
                user_id=user_id, key=key, fingerprint=fingerprint, method=method, path=path
            )
        except DatabaseError as exc:
            # The claim row is locked: its request is running now (see `hold`).
            if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise IdempotencyInProgress() from None
            raise

    def _begin(
        self, *, user_id: int, key: str, fingerprint: str, method: str, path: str
    ) -> StoredResponse | None:
        now = timezone.now()
        with transaction.atomic():
            claims = IdempotencyRecord.objects.select_for_update(nowait=True)
            record, created = claims.get_or_create(
                user_id=user_id,
                key=key,
                defaults={
                    "fingerprint": fingerprint,
                    "method": method,
                    "path": path,
                    "created_at": now,
                    "expires_at": now + _retention(),
                },
            )
            if created:
                return None
            expired = record.expires_at <= now
            abandoned = record.status_code is None and record.created_at < now - IN_PROGRESS_TIMEOUT
            if expired or abandoned:
                record.fingerprint, record.method, record.path = fingerprint, method, path
                record.status_code, record.response_body, record.response_headers = None, None, {}
                record.created_at, record.expires_at = now, now + _retention()
                record.save()
                return None
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if record.status_code is None:
                raise IdempotencyInProgress()
            return StoredResponse(
                status_code=record.status_code,
                body=record.response_body,
                headers=dict(record.response_headers),
            )

    def hold(self, *, user_id: int, key: str) -> None:
        """Lock the claim row until the caller's transaction ends."""
        list(
            IdempotencyRecord.objects.select_for_update()
            .filter(user_id=user_id, key=key)
            .values_list("pk", flat=True)
        )

    def finish(self, *, user_id: int, key: str, response: StoredResponse | None) -> None:
        records = IdempotencyRecord.objects.filter(
            user_id=user_id, key=key, status_code__isnull=True
        )
        if response is None:
            records.delete()
        else:
            records.update(
                status_code=response.status_code,
                response_body=response.body,
                response_headers=response.headers,
            )


def idempotency_records_purge(*, now: object = None) -> int:
    """Delete records past their retention (beat, hourly)."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
