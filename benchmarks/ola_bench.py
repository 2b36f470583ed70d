"""Team OLA figures benchmark (issue #5): prints figures, asserts nothing.

Uses benchmarks/dashboards_bench.py to fill its own database with N tickets (two years), then
writes OLA clocks for them by INSERT … SELECT (resolved tickets: two stretches, a first team
until the reply and the ticket's team until resolution; open ones: one open stretch), and
times dashboards.queries.ola.ola_figures / ola_table (median of --runs) for several periods and
scopes, plus the whole SLA overview page.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk_c_olabench \
      .venv/bin/python benchmarks/ola_bench.py --size 100000
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import dashboards_bench as bench  # noqa: E402


def ola_fill(fx: dict) -> None:
    from datetime import timedelta

    from django.db import connection, transaction

    from accounts.models import Team
    from slas.models import BusinessCalendar, OlaClock, OlaPolicy

    if OlaClock.objects.exists():
        return
    calendar = BusinessCalendar.objects.order_by("pk").first()
    teams = list(Team.objects.filter(pk__in=fx["teams"]))
    for team in teams:
        OlaPolicy.objects.get_or_create(
            team=team, defaults={"target": timedelta(hours=4), "calendar": calendar}
        )
    desk = teams[0].pk
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            """
            INSERT INTO slas_olaclock (ticket_id, team_id, policy_id, target, started_at,
                running_since, paused_at, elapsed, due_at, next_check_at, stopped_at,
                stop_reason, breached_at)
            SELECT t.id, %(desk)s, p.id, p.target, t.created_at, NULL, NULL,
                   least(t.first_responded_at - t.created_at, interval '9 hours'),
                   NULL, NULL, t.first_responded_at, 'handed on',
                   CASE WHEN t.first_responded_at - t.created_at > p.target
                        THEN t.created_at + p.target END
            FROM tickets_ticket t JOIN slas_olapolicy p ON p.team_id = %(desk)s
            WHERE t.first_responded_at IS NOT NULL AND t.resolved_at IS NOT NULL
              AND t.number LIKE 'D%%'
            """,
            {"desk": desk},
        )
        c.execute(
            """
            INSERT INTO slas_olaclock (ticket_id, team_id, policy_id, target, started_at,
                running_since, paused_at, elapsed, due_at, next_check_at, stopped_at,
                stop_reason, breached_at)
            SELECT t.id, t.team_id, p.id, p.target, t.first_responded_at, NULL, NULL,
                   least(t.resolved_at - t.first_responded_at, interval '30 hours') / 3,
                   NULL, NULL, t.resolved_at, 'resolved',
                   CASE WHEN (t.resolved_at - t.first_responded_at) / 3 > p.target
                        THEN t.first_responded_at + p.target END
            FROM tickets_ticket t JOIN slas_olapolicy p ON p.team_id = t.team_id
            WHERE t.first_responded_at IS NOT NULL AND t.resolved_at IS NOT NULL
              AND t.team_id <> %(desk)s AND t.number LIKE 'D%%'
            """,
            {"desk": desk},
        )
        c.execute(
            """
            INSERT INTO slas_olaclock (ticket_id, team_id, policy_id, target, started_at,
                running_since, paused_at, elapsed, due_at, next_check_at, stopped_at,
                stop_reason, breached_at)
            SELECT t.id, t.team_id, p.id, p.target, t.created_at, t.created_at, NULL,
                   interval '0', t.created_at + p.target, t.created_at + p.target, NULL, '',
                   CASE WHEN t.created_at + p.target < now() THEN t.created_at + p.target END
            FROM tickets_ticket t JOIN slas_olapolicy p ON p.team_id = t.team_id
            WHERE t.resolved_at IS NULL AND t.number LIKE 'D%%'
            """
        )
        c.execute("ANALYZE slas_olaclock")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    bench.setup_django()

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from dashboards.choices import PeriodPreset
    from dashboards.periods import Period
    from dashboards.queries.ola import ola_figures, ola_table
    from dashboards.scope import Scope
    from slas.models import OlaClock

    fx = bench.fixtures()
    bench.grow(args.size, fx)
    ola_fill(fx)
    print(f"tickets: {args.size:,}  OLA clocks: {OlaClock.objects.count():,}")
    today = timezone.localdate()
    from datetime import timedelta

    cases = {
        "last 7 days, all teams": (7, Scope()),
        "last 30 days, all teams": (30, Scope()),
        "last 90 days, all teams": (90, Scope()),
        "last 365 days, all teams": (365, Scope()),
        "last 30 days, one team (lead)": (30, Scope(team_ids=(fx["teams"][1],))),
        "last 30 days, priority 1": (30, Scope(priority=1)),
    }
    for name, (days, scope) in cases.items():
        period = Period("UTC", today - timedelta(days=days - 1), today, PeriodPreset.CUSTOM)
        median, worst = bench.timed(
            lambda p=period, s=scope: ola_figures(period=p, scope=s), args.runs
        )
        table_median, _ = bench.timed(
            lambda p=period, s=scope: ola_table(period=p, scope=s), args.runs
        )
        print(
            f"  {name:32} ola_figures median {median:7.1f} ms (max {worst:7.1f})  "
            f"ola_table {table_median:7.1f} ms"
        )
    with connection.cursor() as c:
        c.execute(
            "EXPLAIN ANALYZE SELECT c.team_id, count(*) FROM slas_olaclock c "
            "JOIN tickets_ticket t ON t.id = c.ticket_id "
            "WHERE c.stopped_at >= now() - interval '30 days' AND c.stopped_at < now() "
            "GROUP BY c.team_id"
        )
        print("\n".join("    " + r[0] for r in c.fetchall()[:12]))
    manager = User.objects.filter(username="bench-manager").first()
    if manager is not None:
        # The page as dashboards_bench times it: read models rebuilt first, then the page
        # with and without the OLA table (the difference is what the OLA table costs).
        import dashboards.queries.sla as sla_module
        from dashboards.charts import Table
        from dashboards.rollups import rollups_rebuild

        rollups_rebuild()
        client = Client()
        client.force_login(manager)
        real = sla_module.ola_table
        for label, table in (
            ("with", real),
            ("without", lambda **kw: Table("ola_by_team", "", [])),
        ):
            sla_module.ola_table = table
            for period in ("last_30", "last_90"):
                median, worst = bench.timed(
                    lambda p=period: client.get(f"/dashboards/?period={p}"), args.runs
                )
                print(
                    f"  SLA overview page {label} the OLA table, {period}: median {median:.1f} ms"
                )
        sla_module.ola_table = real


if __name__ == "__main__":
    main()
