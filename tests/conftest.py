"""Personas (Healthchecks alice/bob style) and real-component fixtures (Celery worker)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import MembershipFactory, OrganizationFactory, TeamFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_popular_counts():
    """The catalogue's popular counts are a cached read model: each test counts its own orders
    (the cache outlives the test database's rollback)."""
    from django.core.cache import cache

    from servicerequests.popularity import CACHE_KEY

    cache.delete(CACHE_KEY)


@pytest.fixture
def org():
    return OrganizationFactory(name="Acme")


@pytest.fixture
def requester(org):
    return UserFactory(username="rita", display_name="Rita Requester", organization=org)


@pytest.fixture
def other_requester(org):
    return UserFactory(username="oscar", display_name="Oscar Other", organization=org)


@pytest.fixture
def network_team():
    return TeamFactory(name="Network")


@pytest.fixture
def database_team():
    return TeamFactory(name="Database")


@pytest.fixture
def agent(network_team):
    user = UserFactory(username="alice", display_name="Alice Agent", roles=["agent"])
    MembershipFactory(team=network_team, user=user)
    return user


@pytest.fixture
def other_agent(database_team):
    user = UserFactory(username="bob", display_name="Bob Agent", roles=["agent"])
    MembershipFactory(team=database_team, user=user)
    return user


@pytest.fixture
def manager():
    return UserFactory(
        username="maria", display_name="Maria Manager", roles=["agent", "service desk manager"]
    )


def wait_until(predicate, *, timeout: float = 20.0, interval: float = 0.05, message: str = ""):
    """Poll `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        time.sleep(interval)


def _worker_env() -> dict[str, str]:
    """The worker must talk to the test database pytest-django created, not the dev one."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="servicedesk.settings_test",
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.CELERY_BROKER_URL,
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real Celery worker (and optionally beat) subprocess on the real broker."""
    procs: list[subprocess.Popen] = []

    def start(
        *, beat: bool = False, queues: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        from servicedesk.celery import app

        app.control.purge()
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            args.append("--beat")
            args += ["--schedule", str(tmp_path / f"beat-schedule-{len(procs)}")]
        if queues:
            args += ["-Q", queues]
        # A session of its own: `--beat` forks the scheduler, which outlived a terminated
        # worker (an orphan sending the sweep to the test broker every second).
        proc = subprocess.Popen(
            args, cwd=ROOT, env=_worker_env() | (env or {}), start_new_session=True
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        _signal_group(proc, signal.SIGKILL)  # whatever of the group is left


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone
        os.killpg(proc.pid, sig)
