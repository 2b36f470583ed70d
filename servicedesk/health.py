"""/healthz: database, broker and the last Celery worker heartbeat as JSON (503 if one is down)."""

import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import HEARTBEAT_KEY, app

#: A worker that has not beaten for this long counts as down (Celery beats every 2 s).
HEARTBEAT_MAX_AGE_S = 60


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _check_broker() -> tuple[dict, dict]:
    try:
        with app.connection_for_write() as conn:
            client = conn.default_channel.client
            client.ping()
            beat = client.get(HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}, {"ok": False, "error": "no broker"}
    if beat is None:
        return {"ok": True}, {"ok": False, "error": "no heartbeat seen"}
    age = max(0.0, time.time() - float(beat))
    return {"ok": True}, {"ok": age <= HEARTBEAT_MAX_AGE_S, "last_heartbeat_age_s": round(age, 1)}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _check_database()
    broker, worker = _check_broker()
    ok = database["ok"] and broker["ok"] and worker["ok"]
    body = {
        "status": "ok" if ok else "down",
        "database": database,
        "broker": broker,
        "worker": worker,
    }
    return JsonResponse(body, status=200 if ok else 503)
