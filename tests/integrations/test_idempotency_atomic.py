"""Idempotency-Key without a duplicate window: the create and its stored answer commit
together, and a request still running keeps its claim (a retry gets 409, not a second create)."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from incidents.models import Incident
from integrations.idempotency import DatabaseIdempotencyStore
from integrations.models import IdempotencyRecord

from .conftest import bearer


def test_a_crash_while_storing_the_answer_rolls_the_create_back(
    db, requester, make_token, monkeypatch
):
    client = bearer(make_token(requester))
    key = str(uuid.uuid4())
    finish = DatabaseIdempotencyStore.finish

    def crash_on_store(self, *, user_id, key, response):
        if response is not None:
            raise RuntimeError("worker killed between the create and the stored answer")
        return finish(self, user_id=user_id, key=key, response=response)

    monkeypatch.setattr(DatabaseIdempotencyStore, "finish", crash_on_store)
    with pytest.raises(RuntimeError):
        client.post("/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    # then nothing was created, and the key is free again
    assert not Incident.objects.exists()
    assert not IdempotencyRecord.objects.filter(key=key).exists()

    monkeypatch.setattr(DatabaseIdempotencyStore, "finish", finish)
    retried = client.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    replayed = client.post(
        "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert retried.status_code == 201
    assert replayed["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_a_slow_request_keeps_its_claim_past_the_takeover_timeout(
    transactional_db, requester, make_token
):
    client = bearer(make_token(requester))
    client.get("/api/v1/tickets/")  # the token's last use is stamped once a minute
    store = DatabaseIdempotencyStore()
    # given a claim older than the takeover timeout whose request is still running
    claim = store.begin(user_id=requester.pk, key="slow", fingerprint="f", method="POST", path="/")
    assert claim is None
    IdempotencyRecord.objects.filter(key="slow").update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    answers: list[int] = []

    def retry() -> None:
        try:
            response = client.post(
                "/api/v1/incidents/", {"title": "X"}, format="json", HTTP_IDEMPOTENCY_KEY="slow"
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    with transaction.atomic():
        store.hold(user_id=requester.pk, key="slow")
        thread = threading.Thread(target=retry)
        thread.start()
        thread.join(timeout=30)

    # then the retry was refused at once instead of running the create a second time
    assert answers == [409]
    assert not Incident.objects.exists()
