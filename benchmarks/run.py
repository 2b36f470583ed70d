"""HTTP benchmark of the hot paths (issue #12): gunicorn on loopback against a seeded database,
a real HTTP client, p50/p95/p99 latency and requests/s for the desk queues (My work,
Unassigned, Breaching soon, All open page 1 and a deep page), the ticket page, search (number,
common and typical word), portal My tickets, catalogue home, API list and create incident (at
concurrency 2 and 4), dashboards SLA overview; then the SLA sweep per tick with the running
clocks none due, breach latency with a real Celery worker and beat, the peak RSS of a web
worker and of a Celery worker sweeping 10k due clocks. Records the load average (the machine
may be shared), CPU count and versions.

    python manage.py seed_scale --tickets 100000      # once, into DATABASE_URL (a *bench* db)
    python benchmarks/run.py [--requests 200] [--seconds 10] [--concurrency 2] [--workers 2]

Prints a table and writes benchmarks/results/<date>-<tickets>.json. Figures, never asserts.
Every request goes to 127.0.0.1; loops are bounded by count and time. It modifies the
database (clocks made due, breaches): re-seed before the next run."""

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


def deep_queue_url(sess: requests.Session, base: str, target: int = 200) -> tuple[str, str]:
    """A deep page of the all-open desk queue: `?after=<cursor>` reached by following the
    keyset "next" links `target` times when the desk paginates by keyset (issue #8), else
    `?page=N` with N = min(target, last page). Returns (url, how it was reached)."""
    url = f"{base}/desk/"
    html = sess.get(url).text
    if re.search(r"[?&;]after=", html):
        hops = 0
        while hops < target:
            m = re.search(r'href="([^"]*[?&;]after=[^"]+)"[^>]*rel="next"', html) or re.search(
                r'rel="next"[^>]*href="([^"]*[?&;]after=[^"]+)"', html
            )
            if not m:
                break
            url = requests.compat.urljoin(f"{base}/desk/", m.group(1).replace("&amp;", "&"))
            html = sess.get(url).text
            hops += 1
        return url, f"keyset cursor after {hops} next links"
    pages = [int(n) for n in re.findall(r"[?&;]page=(\d+)", html)]
    last = max(pages, default=1)
    page = min(target, last)
    return f"{base}/desk/?page={page}", f"?page={page} of {last} (no keyset cursor in the desk yet)"


def search_words() -> dict[str, str]:
    """A common word (the seed's commonest: in ≈10 % of tickets) and a typical one (rank
    300 of the seed's vocabulary: in ≈1 %)."""
    from servicedesk.management.commands.seed_scale import vocabulary

    words = vocabulary(2026)
    return {"common": words[0], "typical": words[300]}


def pages(
    base: str, users: dict[str, str], deep_url: str
) -> list[tuple[str, str, str, str, object]]:
    from incidents.models import Incident
    from tickets.models import Ticket

    open_incident = (
        Incident.objects.filter(ticket__state="open")
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    number = Ticket.objects.order_by("-pk").values_list("number", flat=True).first()
    words = search_words()
    counter = iter(range(10**9))
    return [
        ("agent", "desk queue: my work", "GET", f"{base}/desk/?assignee=me", None),
        ("agent", "desk queue: unassigned", "GET", f"{base}/desk/?assignee=unassigned", None),
        ("agent", "desk queue: breaching soon", "GET", f"{base}/desk/?queue=breaching", None),
        ("manager", "desk: breaching soon (all)", "GET", f"{base}/desk/?queue=breaching", None),
        ("manager", "desk queue: all open p1", "GET", f"{base}/desk/", None),
        ("manager", "desk queue: all open deep", "GET", deep_url, None),
        ("manager", "ticket page", "GET", f"{base}/desk/incidents/{open_incident}/", None),
        ("manager", "search: number", "GET", f"{base}/desk/?q={number}", None),
        ("manager", "search: common word", "GET", f"{base}/desk/?q={words['common']}", None),
        ("manager", "search: typical word", "GET", f"{base}/desk/?q={words['typical']}", None),
        (
            "manager",
            "search: two words",
            "GET",
            f"{base}/desk/?q={words['common']}+{words['typical'][:4]}",
            None,
        ),
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
        ("manager", "dashboards: SLA overview", "GET", f"{base}/dashboards/", None),
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


def breach_latency(due: int = 300, window: float = 30.0) -> dict:
    """Deadline → breach recorded, with the real thing: a Celery worker and Celery beat (the
    sweep every second). Once both run (the worker answers a ping, beat has ticked), `due` of
    the seeded running clocks are made to fall due spread over the next `window` seconds
    (on the 24x7 calendar, so office hours do not defer them)."""
    from django.db import connection

    from servicedesk.celery import app
    from slas.models import SlaClock, SlaEvent, SlaPolicy
    from slas.querysets import RUNNING_UNBREACHED

    policy = SlaPolicy.objects.filter(calendar__name="Scale 24x7").order_by("pk").first()
    ids = list(
        SlaClock.objects.filter(RUNNING_UNBREACHED)
        .order_by("-pk")
        .values_list("pk", flat=True)[:due]
    )
    if len(ids) < due:  # a small seed: reopen met clocks (a disposable benchmark database)
        ids += list(
            SlaClock.objects.filter(state="met")
            .order_by("-pk")
            .values_list("pk", flat=True)[: due - len(ids)]
        )
    with connection.cursor() as c:  # running, due in a month until the sweep runs
        c.execute(
            "UPDATE slas_slaclock SET state = 'running', stopped_at = NULL, breached_at = NULL, "
            "paused_at = NULL, policy_id = %s, target = interval '30 days', warnings = '{}', "
            "elapsed = interval '0', running_since = now(), due_at = now() + interval '30 days', "
            "next_check_at = now() + interval '30 days' WHERE id = ANY(%s)",
            [policy.pk, ids],
        )
    # Tasks queued by the HTTP run (a notification dispatch per API-created incident) and
    # never consumed: the sweep shares their queue, so a backlog delays it (reported).
    backlog = app.control.purge()
    env = dict(os.environ)
    bindir = Path(sys.executable).parent
    schedule = Path(f"/tmp/bench-beat-{os.getpid()}")
    worker = subprocess.Popen(
        [
            str(bindir / "celery"),
            "-A",
            "servicedesk",
            "worker",
            "--pool=solo",
            "-Q",
            "celery",
            "--loglevel=WARNING",
            "-n",
            f"bench-breach-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    beat = subprocess.Popen(
        [
            str(bindir / "celery"),
            "-A",
            "servicedesk",
            "beat",
            "--loglevel=WARNING",
            "-s",
            str(schedule),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        ready = time.monotonic() + 120
        while not app.control.ping(timeout=1.0) and time.monotonic() < ready:
            pass
        time.sleep(3)  # beat's first ticks: the sweep is now running every second
        with connection.cursor() as c:
            # Consistent clocks: `elapsed` plus the time until due_at is exactly the target.
            c.execute(
                "UPDATE slas_slaclock SET running_since = now(), "
                "due_at = now() + make_interval(secs => 2 + random() * %s) WHERE id = ANY(%s)",
                [window, ids],
            )
            c.execute(
                "UPDATE slas_slaclock SET elapsed = target - (due_at - running_since), "
                "next_check_at = due_at + interval '1 microsecond' WHERE id = ANY(%s)",
                [ids],
            )
        deadline = time.monotonic() + window + 60
        breaches = SlaEvent.objects.filter(clock_id__in=ids, type="breach")
        while breaches.count() < len(ids) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for proc in (beat, worker):
            proc.terminate()
        for proc in (beat, worker):
            proc.wait(timeout=30)
        for leftover in schedule.parent.glob(schedule.name + "*"):
            leftover.unlink()
    lat = sorted((e.recorded_at - e.planned_at).total_seconds() for e in breaches)

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(len(lat) * p))] * 1000) if lat else float("nan")

    return {
        "due_clocks": len(ids),
        "purged_backlog_tasks": backlog,
        "window_s": window,
        "breaches": len(lat),
        "latency_p50_ms": pct(0.5),
        "latency_p99_ms": pct(0.99),
        "latency_max_ms": round(lat[-1] * 1000) if lat else float("nan"),
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
    if len(ids) < due:
        # A small seed has fewer running clocks than `due` (≈2.5k at 100k tickets): reopen
        # met clocks of closed tickets to make up the number (a disposable benchmark database).
        ids += list(
            SlaClock.objects.filter(state="met")
            .order_by("-pk")
            .values_list("pk", flat=True)[: due - len(ids)]
        )
    now = timezone.now()
    with connection.cursor() as c:  # make them overdue (target already exceeded)
        c.execute(
            "UPDATE slas_slaclock SET state = 'running', stopped_at = NULL, breached_at = NULL, "
            "paused_at = NULL, running_since = %s, elapsed = target + interval '1 minute', "
            "due_at = %s, next_check_at = %s WHERE id = ANY(%s)",
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
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "gunicorn": version("gunicorn"),
        "celery": version("celery"),
        "psycopg": version("psycopg"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    # Latency figures at one request in flight per worker (no queueing in the figures);
    # API create throughput at each of --create-concurrency.
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--create-concurrency", default="2,4")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--breach-clocks", type=int, default=300)
    parser.add_argument("--celery-due", type=int, default=10_000)
    # While working on one path: only the pages whose name contains PAGE, and no SLA phases
    # (nothing is written: a results file always has every figure).
    parser.add_argument("--page", action="append", default=[], help="only pages containing this")
    parser.add_argument("--http-only", action="store_true", help="skip sweep, breach, Celery")
    args = parser.parse_args()
    django_setup()
    from django.db.models import Count

    from tickets.models import Ticket

    # The machine may be shared: the load average goes with the figures.
    load_before = [round(x, 2) for x in os.getloadavg()]
    tickets = Ticket.objects.count()
    kinds = dict(Ticket.objects.values_list("kind").annotate(n=Count("pk")).order_by("kind"))
    users = bench_users()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers)
    sampler = RssSampler(server.pid)
    sampler.start()
    results = []
    try:
        sessions = {role: session(base, name) for role, name in users.items()}
        deep_url, deep_how = deep_queue_url(sessions["manager"], base)
        print(
            f"{tickets:,} tickets {kinds}, {os.cpu_count()} CPUs, load average {load_before}, "
            f"gunicorn {args.workers} workers, concurrency {args.concurrency}"
        )
        print(f"deep page of the all-open queue: {deep_how}")
        print(f"{'page':<32}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}{'n':>6}{'err':>5}")
        runs = []
        for role, name, method, url, body in pages(base, users, deep_url):
            if args.page and not any(p in name for p in args.page):
                continue
            if method == "POST":  # throughput: the issue asks for concurrency 2 to 4
                levels = [int(c) for c in args.create_concurrency.split(",")]
                runs += [(role, f"{name} (c={c})", method, url, body, c) for c in levels]
            else:
                runs.append((role, name, method, url, body, args.concurrency))
        for role, name, method, url, body, concurrency in runs:
            if name.startswith("dashboards"):
                # Beat syncs the dashboards' read models every minute; the HTTP run above
                # changed tickets (API creates) and no beat runs here: sync as it would.
                from dashboards.rollups import rollups_sync

                rollups_sync()
            row = {
                "page": name,
                "url": url.replace(base, ""),
                "concurrency": concurrency,
                **measure(
                    sessions[role],
                    method,
                    url,
                    n=args.requests,
                    seconds=args.seconds,
                    concurrency=concurrency,
                    body=body,
                ),
            }
            results.append(row)
            print(
                f"{name:<32}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
                f"{row['rps']:>9}{row['requests']:>6}{row['errors']:>5}",
                flush=True,
            )
    finally:
        sampler.stop.set()
        server.terminate()
        server.wait(timeout=30)
    load_http = [round(x, 2) for x in os.getloadavg()]
    if args.http_only or args.page:
        print(f"peak RSS of a gunicorn worker: {sampler.peak / 2**20:.0f} MiB (no results file)")
        return
    sweep = sweep_figures()
    print(
        f"SLA sweep with {sweep['running_clocks']:,} running clocks, none due: "
        f"p50 {sweep['sweep_p50_ms']} ms, max {sweep['sweep_max_ms']} ms"
    )
    breach = breach_latency(due=args.breach_clocks)
    print(
        f"breach latency (Celery worker + beat, {breach['due_clocks']} clocks due over "
        f"{breach['window_s']:.0f} s): {breach['breaches']} recorded, p50 {breach['latency_p50_ms']} ms, "
        f"p99 {breach['latency_p99_ms']} ms, max {breach['latency_max_ms']} ms"
    )
    celery_rss = celery_sweep_rss(due=args.celery_due)
    print(
        f"Celery worker sweeping {celery_rss['due_clocks']:,} due clocks: "
        f"{celery_rss['breaches']:,} breaches in {celery_rss['sweep_s']} s, "
        f"peak RSS {celery_rss['worker_peak_rss_mib']} MiB"
    )
    print(f"peak RSS of a gunicorn worker: {sampler.peak / 2**20:.0f} MiB")
    load_after = [round(x, 2) for x in os.getloadavg()]
    print(f"load average: before {load_before}, after HTTP {load_http}, at the end {load_after}")
    out = ROOT / "benchmarks" / "results" / f"{datetime.now(UTC):%Y-%m-%d}-{tickets}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "tickets": tickets,
                "kinds": kinds,
                "when": datetime.now(UTC).isoformat(),
                "versions": versions(),
                "load_average": {
                    "before": load_before,
                    "after_http": load_http,
                    "end": load_after,
                },
                "settings": vars(args),
                "deep_page": deep_how,
                "pages": results,
                "sweep": sweep,
                "breach_latency": breach,
                "celery_sweep": celery_rss,
                "web_worker_peak_rss_mib": round(sampler.peak / 2**20, 1),
            },
            indent=2,
        )
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
