"""SLA sweep benchmark: prints figures, asserts nothing.

1. Sweep time per tick with N running clocks of which none is due (must stay flat in N:
   the sweep reads the partial index on next_check_at, not the running clocks).
2. Breach latency (deadline → breach recorded) with 100k running clocks of which 1,000
   fall due within the same minute, swept once a second like Celery beat does.

Runs against its own database (BENCH_DATABASE_URL, default the one in DATABASE_URL with the
name `servicedesk_bench`), which it migrates and fills with INSERT … SELECT generate_series.

    python benchmarks/sla_bench.py [--clocks 0,10000,100000,1000000] [--due 1000] [--window 60]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _bench_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk")
    return base.rsplit("/", 1)[0] + "/servicedesk_bench"


def setup_django() -> None:
    os.environ["DATABASE_URL"] = _bench_url()
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings"
    import psycopg

    admin_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'servicedesk_bench'"
        ).fetchone()
        if not exists:
            conn.execute("CREATE DATABASE servicedesk_bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset(policy_id: int) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "TRUNCATE slas_slaevent, slas_escalationevent, slas_clocksegment, slas_slaclock CASCADE"
        )
        c.execute(
            "DELETE FROM tickets_ticketevent WHERE ticket_id IN (SELECT id FROM tickets_ticket WHERE number LIKE 'B%%')"
        )
        c.execute("DELETE FROM tickets_ticket WHERE number LIKE 'B%%'")


def fill(n: int, policy_id: int, requester_id: int, *, due_in_s: float, offset: int = 0) -> None:
    """n tickets with a running resolution clock each, next check `due_in_s` from now."""
    from django.db import connection

    if n == 0:
        return
    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO tickets_ticket (kind, number, title, description, state, priority,
                requester_id, version, tags, created_at, updated_at)
            SELECT 'incident', 'B' || lpad((g + %s)::text, 9, '0'), 'bench ' || g, '', 'open', 3,
                %s, 1, '{}', now(), now()
            FROM generate_series(1, %s) g
            """,
            [offset, requester_id, n],
        )
        c.execute(
            """
            INSERT INTO slas_slaclock (ticket_id, metric, policy_id, state, target, started_at,
                running_since, elapsed, due_at, next_check_at, warnings, match_reason, updated_at)
            SELECT t.id, 'resolution', %s, 'running', interval '30 days', now(), now(), interval '0',
                now() + make_interval(secs => %s), now() + make_interval(secs => %s), '{}', '{}', now()
            FROM tickets_ticket t
            WHERE t.number > 'B' || lpad(%s::text, 9, '0') AND t.number <= 'B' || lpad(%s::text, 9, '0')
            """,
            [policy_id, due_in_s, due_in_s, offset, offset + n],
        )
        c.execute("ANALYZE slas_slaclock")


def fixtures() -> tuple[int, int]:
    from datetime import timedelta

    from accounts.models import User
    from slas.models import BusinessCalendar, SlaPolicy

    user, _ = User.objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    cal, _ = BusinessCalendar.objects.get_or_create(
        name="bench 24x7",
        defaults={"timezone": "UTC", "hours": {str(d): [["00:00", "24:00"]] for d in range(7)}},
    )
    policy, _ = SlaPolicy.objects.get_or_create(
        name="bench",
        defaults={
            "metric": "resolution",
            "target": timedelta(days=30),
            "calendar": cal,
            "warning_thresholds": [],
        },
    )
    return policy.pk, user.pk


def idle_sweeps(sizes: list[int], policy_id: int, user_id: int) -> list[tuple[int, float, float]]:
    from slas.services import sla_sweep

    rows = []
    filled = 0
    reset(policy_id)
    for n in sizes:
        started = time.perf_counter()
        fill(n - filled, policy_id, user_id, due_in_s=86400 * 20, offset=filled)
        fill_s = time.perf_counter() - started
        filled = n
        for _ in range(3):
            sla_sweep()  # warm-up
        samples = []
        for _ in range(50):
            t0 = time.perf_counter()
            sla_sweep()
            samples.append((time.perf_counter() - t0) * 1000)
        rows.append((n, statistics.median(samples), max(samples)))
        print(
            f"  {n:>9,} running clocks, none due: sweep p50 {rows[-1][1]:.2f} ms, max {rows[-1][2]:.2f} ms"
            f"  (filled in {fill_s:.1f} s)",
            flush=True,
        )
    return rows


def breach_latency(
    policy_id: int, user_id: int, running: int, due: int, window: float
) -> list[float]:
    """Sweep once a second (like beat) while `due` clocks fall due spread over `window` s."""
    from django.db import connection

    from slas.models import SlaEvent
    from slas.services import sla_sweep

    reset(policy_id)
    fill(running - due, policy_id, user_id, due_in_s=86400 * 20)
    fill(due, policy_id, user_id, due_in_s=5, offset=running)
    with connection.cursor() as c:  # spread the due clocks over the window
        c.execute(
            "UPDATE slas_slaclock SET due_at = now() + make_interval(secs => 5 + random() * %s), "
            "elapsed = interval '30 days' - make_interval(secs => 5), target = interval '30 days' "
            "WHERE due_at < now() + interval '1 day'",
            [window],
        )
        c.execute(
            "UPDATE slas_slaclock SET running_since = now(), next_check_at = due_at + interval '1 microsecond' WHERE due_at < now() + interval '1 day'"
        )
    deadline = time.monotonic() + window + 15
    tick = time.monotonic()
    while time.monotonic() < deadline and SlaEvent.objects.filter(type="breach").count() < due:
        sla_sweep()
        tick += 1.0
        time.sleep(max(0.0, tick - time.monotonic()))
    lat = [
        (e.recorded_at - e.planned_at).total_seconds()
        for e in SlaEvent.objects.filter(type="breach")
    ]
    return sorted(lat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clocks", default="0,10000,100000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--running", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()
    setup_django()
    policy_id, user_id = fixtures()
    print(
        f"SLA sweep benchmark on {os.cpu_count()} CPUs, database {_bench_url().rsplit('/', 1)[1]}"
    )
    print("1) sweep cost per tick when nothing is due")
    idle_sweeps([int(x) for x in args.clocks.split(",")], policy_id, user_id)
    print(
        f"2) breach latency: {args.running:,} running clocks, {args.due:,} due within {args.window:.0f} s,"
        " one sweep per second"
    )
    lat = breach_latency(policy_id, user_id, args.running, args.due, args.window)
    if lat:
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(
            f"  breaches recorded: {len(lat):,}/{args.due:,}; latency p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
        )
    reset(policy_id)


if __name__ == "__main__":
    main()
