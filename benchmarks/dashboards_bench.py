"""Dashboards benchmark: prints figures, asserts nothing.

Fills its own database (BENCH_DATABASE_URL, default DATABASE_URL's server with the name
`servicedesk_dash_bench`) with two years of tickets by INSERT … SELECT generate_series (kinds,
priorities, 8 teams, 30 services, 50 organisations, 20 categories, SLA clocks with met/
breached outcomes, replies and reopens; 0.2 % of tickets older than a month still open, most
of the last week's), then for each size:

1. rebuilds the read models (`rollups_rebuild`) and times it;
2. times the SLA overview page (GET /dashboards/ through the Django test client, as a
   manager: query, rollups, live day, template) for several periods and scopes, median of
   `--runs`; the same for the backlog and volumes pages;
3. times the incremental sync after touching `--touch` tickets.

    python benchmarks/dashboards_bench.py [--sizes 10000,100000,1000000] [--runs 7]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAME = "servicedesk_dash_bench"


def _bench_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk")
    return base.rsplit("/", 1)[0] + f"/{NAME}"


def setup_django() -> None:
    os.environ["DATABASE_URL"] = _bench_url()
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings"
    import psycopg

    admin_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fixtures() -> dict:
    """Teams, services, organisations, categories, people, a 24x7 calendar and two policies."""
    from datetime import timedelta

    from django.contrib.auth.models import Group

    from accounts.models import Organization, Team, TeamMembership, User
    from catalogue.models import Service
    from incidents.models import Category
    from slas.models import BusinessCalendar, SlaPolicy

    teams = [Team.objects.get_or_create(name=f"Bench team {i}")[0] for i in range(8)]
    services = [
        Service.objects.get_or_create(
            name=f"Bench service {i}", defaults={"support_team": teams[i % 8]}
        )[0]
        for i in range(30)
    ]
    orgs = [Organization.objects.get_or_create(name=f"Bench org {i}")[0] for i in range(50)]
    categories = [
        Category.objects.get_or_create(name=f"Bench cat {i}", parent=None)[0] for i in range(20)
    ]
    requesters = [
        User.objects.get_or_create(
            username=f"bench-req-{i}",
            defaults={"email": f"bench-req-{i}@example.com", "organization": orgs[i % 50]},
        )[0]
        for i in range(200)
    ]
    agents = []
    for i in range(40):
        agent, _ = User.objects.get_or_create(
            username=f"bench-agent-{i}", defaults={"email": f"bench-agent-{i}@example.com"}
        )
        TeamMembership.objects.get_or_create(team=teams[i % 8], user=agent)
        agents.append(agent)
    manager, _created = User.objects.get_or_create(
        username="bench-manager",
        defaults={"email": "bench-manager@example.com", "time_zone": "Europe/London"},
    )
    manager.groups.add(Group.objects.get_or_create(name="service desk manager")[0])
    cal, _ = BusinessCalendar.objects.get_or_create(
        name="bench 24x7",
        defaults={"timezone": "UTC", "hours": {str(d): [["00:00", "24:00"]] for d in range(7)}},
    )
    policies = {
        metric: SlaPolicy.objects.get_or_create(
            name=f"bench {metric}",
            defaults={"metric": metric, "target": target, "calendar": cal},
        )[0]
        for metric, target in (
            ("response", timedelta(hours=4)),
            ("resolution", timedelta(hours=24)),
        )
    }
    return {
        "teams": [t.pk for t in teams],
        "services": [s.pk for s in services],
        "orgs": [o.pk for o in orgs],
        "categories": [c.pk for c in categories],
        "requesters": [u.pk for u in requesters],
        "agents": [u.pk for u in agents],
        "manager": manager,
        "policies": {m: p.pk for m, p in policies.items()},
    }


def _extra_columns(table: str, known: set[str]) -> tuple[str, str]:
    """NOT NULL columns other apps may have added since (filled with 1 / '' / '{}')."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL",
            [table],
        )
        extra = [(n, t) for n, t in c.fetchall() if n not in known and n != "id"]
    values = {"integer": "1", "smallint": "1", "bigint": "1", "boolean": "false", "jsonb": "'{}'"}
    names = "".join(f", {n}" for n, _ in extra)
    fills = "".join(f", {values.get(t, chr(39) * 2)}" for _, t in extra)
    return names, fills


def fill(start: int, end: int, fx: dict) -> None:
    """Tickets numbered start..end-1 with clocks, incident rows and journal entries."""
    from django.db import connection

    arr = lambda xs: "ARRAY[" + ",".join(map(str, xs)) + "]::bigint[]"  # noqa: E731
    with connection.cursor() as c:
        c.execute("SELECT setseed(%s)", [(start % 1000) / 1000])
        c.execute(
            f"""
            CREATE TEMP TABLE bench_rows ON COMMIT DROP AS
            SELECT g,
                   (ARRAY['incident','incident','incident','request','request','change'])[1 + (g %% 6)] AS kind,
                   1 + (random() * 3.6)::int %% 4 AS priority,
                   now() - (random() ^ 1.3) * interval '730 days' AS created,
                   random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                   ({arr(fx["teams"])})[1 + (g %% 8)] AS team,
                   ({arr(fx["services"])})[1 + (g * 7 %% 30)] AS service,
                   ({arr(fx["requesters"])})[1 + (g * 13 %% 200)] AS requester,
                   ({arr(fx["orgs"])})[1 + (g * 13 %% 200) %% 50] AS org,
                   ({arr(fx["agents"])})[1 + (g %% 40)] AS agent
            FROM generate_series(%s, %s - 1) g
            """,
            [start, end],
        )
        c.execute(
            """
            ALTER TABLE bench_rows ADD COLUMN responded timestamptz, ADD COLUMN resolved timestamptz,
                ADD COLUMN state varchar;
            UPDATE bench_rows SET
                responded = CASE WHEN r1 < 0.95 THEN created + r2 * interval '8 hours' END,
                resolved = CASE WHEN r3 < (CASE WHEN created < now() - interval '30 days' THEN 0.998
                                                WHEN created < now() - interval '7 days' THEN 0.97
                                                WHEN created < now() - interval '1 day' THEN 0.8
                                                ELSE 0.4 END)
                                THEN created + interval '20 minutes' + (r4 ^ 2) * interval '5 days' END;
            UPDATE bench_rows SET resolved = NULL WHERE resolved > now();
            UPDATE bench_rows SET responded = NULL WHERE responded > now();
            UPDATE bench_rows SET state = CASE WHEN resolved IS NULL THEN (CASE WHEN r2 < 0.2 THEN 'on_hold' ELSE 'open' END)
                                              WHEN resolved < now() - interval '3 days' THEN 'closed' ELSE 'resolved' END;
            """
        )
        c.execute(
            """
            INSERT INTO tickets_ticket (kind, number, title, description, state, priority,
                requester_id, organization_id, team_id, service_id, assignee_id, created_at,
                updated_at, first_responded_at, resolved_at, closed_at, version, tags)
            SELECT kind, 'D' || lpad(g::text, 9, '0'), 'bench ticket ' || g, '', state, priority,
                requester, org, team, service, agent, created,
                greatest(created, responded, resolved) + interval '1 minute', responded, resolved,
                CASE WHEN state = 'closed' THEN resolved + interval '3 days' END, 1, '{}'
            FROM bench_rows
            """
        )
        c.execute(
            "CREATE TEMP TABLE bench_ids ON COMMIT DROP AS SELECT t.id, b.* FROM bench_rows b "
            "JOIN tickets_ticket t ON t.number = 'D' || lpad(b.g::text, 9, '0')"
        )
        names, fills = _extra_columns(
            "incidents_incident",
            {
                "ticket_id",
                "status",
                "on_hold_reason",
                "channel",
                "impact",
                "urgency",
                "priority_overridden",
                "priority_reason",
                "routing_reason",
                "assignment_reason",
                "resolution_code",
                "resolution_notes",
                "is_major",
                "category_id",
            },
        )
        c.execute(
            f"""
            INSERT INTO incidents_incident (ticket_id, status, on_hold_reason, channel, impact,
                urgency, priority_overridden, priority_reason, routing_reason, assignment_reason,
                resolution_code, resolution_notes, is_major, category_id{names})
            SELECT id, CASE state WHEN 'open' THEN 'in_progress' ELSE state END, '',
                (ARRAY['portal','email','phone','desk','api'])[1 + (g % 5)], 'medium', 'medium',
                false, '{{}}', '{{}}', '{{}}', '', '', false,
                ({arr(fx["categories"])})[1 + (g * 3 % 20)]{fills}
            FROM bench_ids WHERE kind = 'incident'
            """
        )
        names, fills = _extra_columns(
            "slas_slaclock",
            {
                "metric",
                "state",
                "target",
                "started_at",
                "running_since",
                "elapsed",
                "stopped_at",
                "breached_at",
                "warnings",
                "match_reason",
                "updated_at",
                "ticket_id",
                "policy_id",
                "due_at",
                "next_check_at",
                "paused_at",
            },
        )
        for metric, stop, target, policy in (
            ("response", "responded", "4 hours", fx["policies"]["response"]),
            ("resolution", "resolved", "24 hours", fx["policies"]["resolution"]),
        ):
            c.execute(
                f"""
                INSERT INTO slas_slaclock (ticket_id, metric, policy_id, state, target, started_at,
                    running_since, elapsed, stopped_at, breached_at, warnings, match_reason,
                    updated_at, due_at{names})
                SELECT id, %s, %s,
                    CASE WHEN {stop} IS NULL THEN
                            CASE WHEN now() - created > interval '{target}' THEN 'breached' ELSE 'running' END
                         WHEN ({stop} - created) * (0.3 + r4 * 0.7) > interval '{target}' THEN 'breached'
                         ELSE 'met' END,
                    interval '{target}', created,
                    CASE WHEN {stop} IS NULL THEN created END,
                    CASE WHEN {stop} IS NULL THEN interval '0' ELSE ({stop} - created) * (0.3 + r4 * 0.7) END,
                    {stop},
                    CASE WHEN {stop} IS NULL AND now() - created > interval '{target}'
                           THEN created + interval '{target}'
                         WHEN ({stop} - created) * (0.3 + r4 * 0.7) > interval '{target}'
                           THEN {stop} END,
                    CASE WHEN {stop} IS NULL AND now() - created > interval '{target}' * 0.9
                           THEN ARRAY[50, 75, 90] ELSE '{{}}' END,
                    '{{}}', greatest(created, {stop}), created + interval '{target}'{fills}
                FROM bench_ids WHERE r1 < 0.85
                """,
                [metric, policy],
            )
        c.execute(
            """
            INSERT INTO tickets_ticketevent (ticket_id, type, public, body, data, created_at, actor_id)
            SELECT id, 'comment', true, 'Looking into it.', '{}'::jsonb, responded, agent
            FROM bench_ids WHERE responded IS NOT NULL
            UNION ALL
            SELECT id, 'comment', true, 'More details?', '{}', responded + interval '1 hour', agent
            FROM bench_ids WHERE responded IS NOT NULL AND r2 < 0.3
            UNION ALL
            SELECT id, 'system', true, 'Reopened.', '{"code": "reopened"}', resolved, requester
            FROM bench_ids WHERE resolved IS NOT NULL AND r3 < 0.04
            """
        )


def grow(size: int, fx: dict) -> None:
    from django.db import connection, transaction

    from tickets.models import Ticket

    have = Ticket.objects.filter(number__startswith="D").count()
    step = 100_000
    started = time.monotonic()
    for start in range(have, size, step):
        with transaction.atomic():
            fill(start, min(size, start + step), fx)
    with connection.cursor() as c:
        for table in (
            "tickets_ticket",
            "slas_slaclock",
            "tickets_ticketevent",
            "incidents_incident",
        ):
            c.execute(f"ANALYZE {table}")
    if size > have:
        print(f"  filled {size - have:,} tickets in {time.monotonic() - started:.1f} s")


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--touch", type=int, default=500)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client

    from dashboards.rollups import rollups_rebuild, rollups_sync

    fx = fixtures()
    client = Client()
    client.force_login(fx["manager"])
    team = fx["teams"][0]
    pages = [
        ("overview last 7 days", "/dashboards/?period=last_7"),
        ("  its live counts (HTMX)", "/dashboards/counts/"),
        ("overview last 30 days", "/dashboards/?period=last_30"),
        ("overview last 90 days", "/dashboards/?period=last_90"),
        ("overview this quarter", "/dashboards/?period=this_quarter"),
        ("overview 365 days", "/dashboards/?period=custom&first={y}&last={t}"),
        ("overview 30 d, one team", f"/dashboards/?period=last_30&team={team}"),
        ("overview 30 d, team+P2", f"/dashboards/?period=last_30&team={team}&priority=2"),
        ("backlog last 30 days", "/dashboards/backlog/?period=last_30"),
        ("volumes last 30 days", "/dashboards/volumes/?period=last_30"),
        ("availability 90 days", "/dashboards/availability/?period=last_90"),
    ]
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"\n== {size:,} tickets")
        grow(size, fx)
        t = time.perf_counter()
        result = rollups_rebuild()
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM dashboards_dailyrollup")
            (rollups,) = c.fetchone()
            # autovacuum's steady state (visibility map set: index-only scans)
            for table in (
                "dashboards_dailyrollup",
                "dashboards_dailyteamrollup",
                "dashboards_ticketfact",
                "tickets_ticket",
                "slas_slaclock",
            ):
                c.execute(f"VACUUM ANALYZE {table}")
        print(
            f"  rebuild: {(time.perf_counter() - t):.1f} s ({result.tickets:,} facts, "
            f"{rollups:,} rollup rows in {result.zones_built} zones)"
        )
        print(f"  {'page':<28} {'median ms':>10} {'max ms':>8}")
        for name, url in pages:
            url = url.format(y=today - timedelta(days=364), t=today)
            assert client.get(url, HTTP_HOST="127.0.0.1").status_code == 200
            median, worst = timed(lambda url=url: client.get(url, HTTP_HOST="127.0.0.1"), args.runs)
            print(f"  {name:<28} {median:>10.0f} {worst:>8.0f}")
        with connection.cursor() as c:
            c.execute(
                "UPDATE tickets_ticket SET updated_at = now() WHERE id IN "
                "(SELECT id FROM tickets_ticket ORDER BY random() LIMIT %s)",
                [args.touch],
            )
        t = time.perf_counter()
        sync = rollups_sync()
        print(
            f"  incremental sync after touching {args.touch} tickets: "
            f"{(time.perf_counter() - t) * 1000:.0f} ms ({sync.tickets} tickets, {sync.days} days)"
        )
        t = time.perf_counter()
        rollups_sync()
        print(f"  idle sync (nothing changed): {(time.perf_counter() - t) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
