import pytest

from core.tasks import ping_task


@pytest.mark.worker
def test_task_round_trips_through_a_real_worker(celery_worker_process):
    # given a real worker consuming from Redis
    celery_worker_process()
    # when
    result = ping_task.delay("hello")
    # then: the worker ran it and stored the result
    assert result.get(timeout=30) == "pong:hello"


def test_every_beat_entry_names_a_registered_task():
    # a typo in CELERY_BEAT_SCHEDULE would only show as a KeyError in the worker's log
    from django.conf import settings

    from servicedesk.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
    assert "servicerequests.tasks.refresh_popular_task" in app.tasks
