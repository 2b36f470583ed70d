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
