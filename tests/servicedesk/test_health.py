import pytest

from tests.conftest import wait_until


@pytest.mark.worker
def test_healthz_reports_database_broker_and_worker(client, celery_worker_process):
    celery_worker_process()

    def healthy():
        response = client.get("/healthz")
        return response if response.status_code == 200 else None

    response = wait_until(healthy, timeout=30, message="worker heartbeat never seen")
    body = response.json()
    assert body["database"]["ok"]
    assert body["broker"]["ok"]
    assert body["worker"]["ok"]


def test_healthz_is_503_when_the_broker_is_down(client, db, monkeypatch):
    from celery import Celery

    from servicedesk import health

    # A real Celery app whose broker is a port nothing listens on.
    dead = Celery("dead", broker="redis://127.0.0.1:1/0", set_as_current=False)
    dead.conf.broker_connection_timeout = 1
    monkeypatch.setattr(health, "app", dead)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
    assert response.json()["database"]["ok"] is True
