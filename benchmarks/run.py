"""HTTP benchmark of the hot paths: gunicorn on loopback against a seeded database, a real
HTTP client, p50/p95/p99 latency and requests/s per page, peak RSS, SLA sweep cost.

    python manage.py seed_scale --tickets 100000      # once, into DATABASE_URL
    python benchmarks/run.py [--requests 200] [--seconds 10] [--concurrency 4] [--workers 2]

Prints a table and writes benchmarks/results/<date>-<tickets>.json. Figures, never asserts.
Every request goes to 127.0.0.1; loops are bounded by count and time."""

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-pass-2026"


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()


def bench_users() -> dict[str, str]:
    """An agent with assigned work, a requester with tickets, a manager: passwords set."""
    from django.contrib.auth.models import Group
    from django.db.models import Count

    from accounts.models import User
    from tickets.models import Ticket

    agent_id = (
        Ticket.objects.open()
        .exclude(assignee=None)
        .values("assignee")
        .annotate(n=Count("pk"))
        .order_by("-n")[0]["assignee"]
    )
    requester_id = (
        Ticket.objects.values("requester").annotate(n=Count("pk")).order_by("-n")[0]["requester"]
    )
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"email": "bench-manager@example.com"}
    )
    manager.groups.add(*Group.objects.filter(name__in=["agent", "service desk manager"]))
    users = {
        "agent": User.objects.get(pk=agent_id),
        "requester": User.objects.get(pk=requester_id),
        "manager": manager,
    }
    for user in users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return {role: u.username for role, u in users.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ) | {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get(
            "DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop"
        ),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SESSION_COOKIE_SECURE": "0",
        "DJANGO_CSRF_COOKIE_SECURE": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "servicedesk.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=10).status_code
                == 200
            ):
                return proc
        except requests.RequestException:  # not listening yet, or a cold first request
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def session(base: str, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = s.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    r.raise_for_status()
    s.headers["X-CSRFToken"] = s.cookies.get("csrftoken", "")
    s.headers["Referer"] = f"{base}/"
    return s


class RssSampler(threading.Thread):
    """Peak resident memory of the largest process in a tree (a gunicorn worker, a Celery
    worker), sampled every 100 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                self.peak = max([self.peak] + [p.memory_info().rss for p in procs])
            except psutil.Error:
                pass
            time.sleep(0.1)


def measure(
    sess: requests.Session,
    method: str,
    url: str,
    *,
    n: int,
    seconds: float,
    concurrency: int,
    body=None,
) -> dict:
    for _ in range(3):  # warm-up
        sess.request(method, url, json=body() if body else None)
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    def one(_: int) -> None:
        nonlocal errors
        if time.monotonic() > deadline:
            return
        t0 = time.perf_counter()
        r = sess.request(method, url, json=body() if body else None)
        latencies.append((time.perf_counter() - t0) * 1000)
        errors += r.status_code >= 400

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(len(latencies) * p))]
            if latencies
            else float("nan")
        )

    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(pct(0.5), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "rps": round(len(latencies) / wall, 1) if wall else 0,
    }


def pages(base: str, users: dict[str, str]) -> list[tuple[str, str, str, str, object]]:
    from incidents.models import Incident
    from tickets.models import Ticket

    open_incident = (
        Incident.objects.filter(ticket__state="open")
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    number = Ticket.objects.order_by("-pk").values_list("number", flat=True).first()
    counter = iter(range(10**9))
    return [
        ("agent", "desk queue: my work", "GET", f"{base}/desk/?assignee=me", None),
        ("agent", "desk queue: unassigned", "GET", f"{base}/desk/?assignee=unassigned", None),
        ("agent", "desk queue: breaching soon", "GET", f"{base}/desk/?queue=breaching", None),
        ("manager", "desk queue: all open p1", "GET", f"{base}/desk/", None),
        ("manager", "desk queue: all open p20", "GET", f"{base}/desk/?page=20", None),
        ("manager", "ticket page", "GET", f"{base}/desk/incidents/{open_incident}/", None),
        ("manager", "search: number", "GET", f"{base}/desk/?q={number}", None),
        ("manager", "search: text", "GET", f"{base}/desk/?q=printer", None),
        ("requester", "portal: my tickets", "GET", f"{base}/", None),
        ("requester", "catalogue home", "GET", f"{base}/catalogue/", None),
        ("manager", "API: incident list", "GET", f"{base}/api/v1/incidents/", None),
        (
            "manager",
            "API: create incident",
            "POST",
            f"{base}/api/v1/incidents/",
            lambda: {
                "title": f"bench {next(counter)}",
                "description": "created by the benchmark",
                "impact": "low",
                "urgency": "low",
            },
        ),
        ("manager", "dashboards: overview", "GET", f"{base}/dashboards/", None),
    ]


def sweep_figures() -> dict:
    from slas.models import SlaClock
    from slas.services import sla_sweep

    running = SlaClock.objects.filter(state="running").count()
    for _ in range(3):
        sla_sweep()
    samples = []
    for _ in range(50):
        t0 = time.perf_counter()
        sla_sweep()
        samples.append((time.perf_counter() - t0) * 1000)
    return {
        "running_clocks": running,
        "sweep_p50_ms": round(statistics.median(samples), 2),
        "sweep_max_ms": round(max(samples), 2),
    }


def celery_sweep_rss(due: int = 10_000) -> dict:
    """Peak RSS of a real Celery worker while its sweep records `due` breaches."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from servicedesk.celery import app
    from slas.models import SlaClock, SlaEvent
    from slas.tasks import sweep_task

    ids = list(
        SlaClock.objects.filter(state="running", stopped_at=None).values_list("pk", flat=True)[:due]
    )
    now = timezone.now()
    with connection.cursor() as c:  # make them overdue (target already exceeded)
        c.execute(
            "UPDATE slas_slaclock SET running_since = %s, elapsed = target + interval '1 minute', due_at = %s, "
            "next_check_at = %s WHERE id = ANY(%s)",
            [
                now - timedelta(minutes=1),
                now - timedelta(minutes=1),
                now - timedelta(minutes=1),
                ids,
            ],
        )
    before = SlaEvent.objects.filter(type="breach").count()
    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(
        [
            str(celery),
            "-A",
            "servicedesk",
            "worker",
            "--pool=solo",
            "-Q",
            "celery",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    )
    sampler = RssSampler(worker.pid)
    sampler.start()
    try:
        app.control.purge()
        started = time.perf_counter()
        sweep_task.delay()  # ignore_result: wait on the database, with a deadline
        deadline = time.monotonic() + 600
        while (
            SlaEvent.objects.filter(type="breach").count() - before < len(ids)
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        took = time.perf_counter() - started
    finally:
        sampler.stop.set()
        worker.terminate()
        worker.wait(timeout=30)
    rss = sampler.peak
    return {
        "due_clocks": len(ids),
        "breaches": SlaEvent.objects.filter(type="breach").count() - before,
        "sweep_s": round(took, 2),
        "worker_peak_rss_mib": round(rss / 2**20, 1),
    }


def versions() -> dict:
    import django
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SHOW server_version")
        pg = c.fetchone()[0]
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    django_setup()
    from tickets.models import Ticket

    tickets = Ticket.objects.count()
    users = bench_users()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers)
    sampler = RssSampler(server.pid)
    sampler.start()
    results = []
    try:
        sessions = {role: session(base, name) for role, name in users.items()}
        print(
            f"{tickets:,} tickets, {os.cpu_count()} CPUs, gunicorn {args.workers} workers, concurrency {args.concurrency}"
        )
        print(f"{'page':<32}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}{'n':>6}{'err':>5}")
        for role, name, method, url, body in pages(base, users):
            row = {
                "page": name,
                "url": url.replace(base, ""),
                **measure(
                    sessions[role],
                    method,
                    url,
                    n=args.requests,
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    body=body,
                ),
            }
            results.append(row)
            print(
                f"{name:<32}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}{row['rps']:>9}{row['requests']:>6}{row['errors']:>5}",
                flush=True,
            )
    finally:
        sampler.stop.set()
        server.terminate()
        server.wait(timeout=30)
    sweep = sweep_figures()
    celery_rss = celery_sweep_rss()
    print(
        f"Celery worker sweeping {celery_rss['due_clocks']:,} due clocks: {celery_rss['breaches']:,} breaches "
        f"in {celery_rss['sweep_s']} s, peak RSS {celery_rss['worker_peak_rss_mib']} MiB"
    )
    print(
        f"SLA sweep with {sweep['running_clocks']:,} running clocks: p50 {sweep['sweep_p50_ms']} ms, max {sweep['sweep_max_ms']} ms"
    )
    print(f"peak RSS of a gunicorn worker: {sampler.peak / 2**20:.0f} MiB")
    out = ROOT / "benchmarks" / "results" / f"{datetime.now(UTC):%Y-%m-%d}-{tickets}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "tickets": tickets,
                "when": datetime.now(UTC).isoformat(),
                "versions": versions(),
                "settings": vars(args),
                "pages": results,
                "sweep": sweep,
                "web_worker_peak_rss_mib": round(sampler.peak / 2**20, 1),
            },
            indent=2,
        )
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
