"""Celery application: configured from Django settings (namespace CELERY), tasks autodiscovered."""

import os

from celery import Celery
from celery.signals import heartbeat_sent, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

app = Celery("servicedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_KEY = "servicedesk:worker-heartbeat"


def _beat(**_: object) -> None:
    """Record a worker heartbeat in Redis so /healthz can tell whether a worker is alive.

    A Celery signal hooking into a third-party library is the one place signals are allowed
    (STYLE §12)."""
    import time

    try:
        with app.connection_for_write() as conn:
            conn.default_channel.client.set(HEARTBEAT_KEY, str(time.time()), ex=300)
    except Exception:
        return


worker_ready.connect(_beat, weak=False)
heartbeat_sent.connect(_beat, weak=False)
