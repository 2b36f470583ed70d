"""The embedded-servers runtime: real PostgreSQL and Redis processes in a temp directory.

These tests never use the Django database; they construct the servers directly in tmp_path
so they behave the same whether or not DATABASE_URL is set."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

from servicedesk.runtime import (
    REPO_ROOT,
    EmbeddedPostgres,
    EmbeddedRedis,
    ensure_services,
    port_accepts,
    wait_until,
)

TIMEOUT = 60.0


def _gone(pid: int) -> bool:
    """True once ``pid`` no longer exists (or is only a zombie)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _processes_in(directory: Path) -> list[psutil.Process]:
    """Live processes whose working directory is ``directory`` (servers chdir into it)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if Path(proc.cwd()) == directory.resolve() and not _gone(proc.pid):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _assert_stopped(port: int, pid: int, directory: Path) -> None:
    assert not port_accepts(port)
    assert wait_until(lambda: _gone(pid), TIMEOUT)
    assert wait_until(lambda: not _processes_in(directory), TIMEOUT)


@contextlib.contextmanager
def _listening(port: int) -> Iterator[None]:
    """Hold a listening socket on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield


def _select_one(url: str) -> int:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row is not None
    return int(row[0])


def test_postgres_starts_creates_database_stops_and_keeps_data(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg")
    pg.start()
    port, pid = pg.port, pg.pid()
    assert port is not None
    assert pid is not None
    try:
        assert pg.url("x") == f"postgres://postgres@127.0.0.1:{port}/x"
        assert _select_one(pg.url()) == 1
        pg.ensure_database("rt_demo")
        pg.ensure_database("rt_demo")  # idempotent
        with psycopg.connect(pg.url("rt_demo")) as conn:
            assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
            conn.execute("CREATE TABLE kept (v text)")
            conn.execute("INSERT INTO kept VALUES ('from run 1')")
    finally:
        pg.stop()
    _assert_stopped(port, pid, pg.cluster_dir)

    again = EmbeddedPostgres(tmp_path / "pg")
    again.start()
    try:
        assert again.port == port  # remembered in the data dir
        with psycopg.connect(again.url("rt_demo")) as conn:
            assert conn.execute("SELECT v FROM kept").fetchall() == [("from run 1",)]
    finally:
        again.stop()
    assert wait_until(lambda: not _processes_in(again.cluster_dir), TIMEOUT)


def test_postgres_reuses_a_live_server_and_recovers_from_a_stale_pid_file(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path / "pg")
    first.start()
    pid = first.pid()
    assert pid is not None
    with psycopg.connect(first.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE survivor (v int)")
        conn.execute("INSERT INTO survivor VALUES (42)")
        conn.execute("CHECKPOINT")

    # A live server left behind by a killed run is adopted, not restarted.
    adopter = EmbeddedPostgres(tmp_path / "pg")
    adopter.start()
    assert (adopter.pid(), adopter.port) == (pid, first.port)

    # The postmaster dies hard: postmaster.pid is stale and PostgreSQL must recover.
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not _processes_in(first.cluster_dir), TIMEOUT)
    assert (first.cluster_dir / "postmaster.pid").exists()
    recovered = EmbeddedPostgres(tmp_path / "pg")
    recovered.start()
    try:
        assert recovered.pid() not in (None, pid)
        with psycopg.connect(recovered.url()) as conn:
            assert conn.execute("SELECT v FROM survivor").fetchall() == [(42,)]
    finally:
        recovered.stop()
    assert wait_until(lambda: not _processes_in(recovered.cluster_dir), TIMEOUT)
    assert not (recovered.cluster_dir / "postmaster.pid").exists()


def test_redis_starts_answers_stops_and_avoids_a_taken_port(tmp_path: Path) -> None:
    rd = EmbeddedRedis(tmp_path / "redis")
    rd.start()
    port, pid = rd.port, rd.pid()
    assert port is not None
    assert pid is not None
    try:
        assert rd.url() == f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(rd.url(3))
        assert client.ping()
        client.set("k", "v")
        assert client.get("k") == b"v"
        client.close()
    finally:
        rd.stop()
    _assert_stopped(port, pid, rd.data_dir)

    with _listening(port):
        moved = EmbeddedRedis(tmp_path / "redis")
        moved.start()
        try:
            assert moved.port not in (None, port)
            assert redis.Redis.from_url(moved.url()).ping()
        finally:
            moved.stop()
    assert wait_until(lambda: not _processes_in(moved.data_dir), TIMEOUT)


def test_ensure_services_returns_given_urls_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = {"DATABASE_URL": "postgres://u@db.invalid:1/x", "REDIS_URL": "redis://r.invalid:2/0"}
    for key, value in given.items():
        monkeypatch.setenv(key, value)
    env, stop = ensure_services(tmp_path)
    assert env == given
    assert list(tmp_path.iterdir()) == []
    stop()


def test_ensure_services_starts_both_when_urls_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    env, stop = ensure_services(tmp_path)
    try:
        assert env["DATABASE_URL"].startswith("postgres://postgres@127.0.0.1:")
        assert env["DATABASE_URL"].endswith("/servicedesk")
        assert _select_one(env["DATABASE_URL"]) == 1
        assert redis.Redis.from_url(env["REDIS_URL"]).ping()
    finally:
        stop()
        stop()  # idempotent
    assert wait_until(lambda: not _processes_in(tmp_path / "pg" / "cluster"), TIMEOUT)
    assert wait_until(lambda: not _processes_in(tmp_path / "redis"), TIMEOUT)


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _cli(data_dir: Path, *command: str) -> list[str]:
    return [sys.executable, "-m", "servicedesk.runtime", "--data-dir", str(data_dir), "exec",
            "--", *command]  # fmt: skip


def test_exec_propagates_exit_code_and_stops_servers(tmp_path: Path) -> None:
    script = (
        "import os, sys, psycopg, redis;"
        "psycopg.connect(os.environ['DATABASE_URL']).execute('SELECT 1');"
        "redis.Redis.from_url(os.environ['REDIS_URL']).ping();"
        "sys.exit(7)"
    )
    result = subprocess.run(
        _cli(tmp_path, "python", "-c", script), env=_cli_env(), cwd=REPO_ROOT, timeout=TIMEOUT
    )
    assert result.returncode == 7
    assert not _processes_in(tmp_path / "pg" / "cluster")
    assert not _processes_in(tmp_path / "redis")


def test_exec_forwards_sigterm_and_cleans_up(tmp_path: Path) -> None:
    script = "import sys; print('ready', flush=True); sys.stdin.read()"
    runner = subprocess.Popen(
        _cli(tmp_path, "python", "-c", script),
        env=_cli_env(), cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert runner.stdout is not None
        assert runner.stdout.readline() == b"ready\n"
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(TIMEOUT) == 128 + signal.SIGTERM
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.communicate()
    assert not _processes_in(tmp_path / "pg" / "cluster")
    assert not _processes_in(tmp_path / "redis")
