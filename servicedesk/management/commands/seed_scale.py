"""A large, deterministic data set for benchmarks: `manage.py seed_scale --tickets 1000000`.

20 organisations, 5,000 requesters, 200 agents in 25 teams, 60 services, categories, two
years of tickets with ≈3 % open, 0-8 journal entries each, SLA clocks in every state (running
ones due over the next weeks) and attachment metadata. Bulk rows go through PostgreSQL COPY;
columns come from the models, so fields added later get their defaults."""

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from psycopg.types.json import Jsonb

from accounts.models import AssignmentMethod, Organization, Team, TeamMembership, User
from catalogue.models import Service
from incidents.models import Category, Incident
from slas.models import BusinessCalendar, SlaClock, SlaPolicy
from tickets.models import Attachment, Ticket, TicketEvent

WORDS = [
    "printer",
    "vpn",
    "laptop",
    "password",
    "outlook",
    "email",
    "wifi",
    "network",
    "slow",
    "crash",
    "error",
    "login",
    "access",
    "screen",
    "keyboard",
    "invoice",
    "erp",
    "database",
    "timeout",
    "backup",
    "server",
    "disk",
    "license",
    "teams",
    "phone",
    "monitor",
    "certificate",
    "firewall",
    "proxy",
    "sharepoint",
    "excel",
    "update",
    "install",
    "permission",
    "account",
]
STATUS_OPEN = ["new", "in_progress", "on_hold"]
PRIORITY_WEIGHTS = [(1, 2), (2, 10), (3, 55), (4, 33)]
TARGETS = {  # priority: (response, resolution)
    1: (timedelta(minutes=15), timedelta(hours=4)),
    2: (timedelta(hours=1), timedelta(hours=8)),
    3: (timedelta(hours=4), timedelta(hours=30)),
    4: (timedelta(hours=8), timedelta(hours=50)),
}


class Copier:
    """COPY rows of one model: the caller gives the known columns, the rest get defaults."""

    def __init__(self, model: type[models.Model]) -> None:
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.table = model._meta.db_table
        self.defaults = {f.column: self._default(f) for f in self.fields}

    @staticmethod
    def _default(field: models.Field) -> Any:
        if field.has_default():
            value = field.get_default()
            return Jsonb(value) if isinstance(field, models.JSONField) else value
        if isinstance(field, models.JSONField):
            return Jsonb({})
        if field.null:
            return None
        if isinstance(field, models.CharField | models.TextField):
            return ""
        if isinstance(field, models.BooleanField):
            return False
        return None

    def copy(self, rows: Iterator[dict[str, Any]]) -> int:
        n = 0
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with (
            connection.cursor() as cursor,
            cursor.connection.cursor().copy(f'COPY "{self.table}" ({cols}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row([row.get(c, self.defaults[c]) for c in self.columns])
                n += 1
        return n


class Command(BaseCommand):
    help = "Seed N tickets of realistic, deterministic data for benchmarks (PostgreSQL COPY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch", type=int, default=50_000)

    def handle(self, *args: Any, tickets: int, seed: int, batch: int, **options: Any) -> None:
        started = time.monotonic()
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        with transaction.atomic():
            ref = self._reference()
        self.stdout.write(f"reference data ready in {time.monotonic() - started:.1f} s")
        done = 0
        while done < tickets:
            n = min(batch, tickets - done)
            with transaction.atomic():
                self._batch(ref, done, n)
            done += n
            self.stdout.write(
                f"  {done:,}/{tickets:,} tickets ({time.monotonic() - started:.0f} s)"
            )
        self._finish()
        self.stdout.write(
            self.style.SUCCESS(f"seeded {tickets:,} tickets in {time.monotonic() - started:.1f} s")
        )

    # ------------------------------------------------------------------ reference data
    def _reference(self) -> dict[str, Any]:
        rng = self.rng
        orgs = [Organization.objects.get_or_create(name=f"Scale Org {i:02d}")[0] for i in range(20)]
        teams = [
            Team.objects.get_or_create(
                name=f"Scale Team {i:02d}",
                defaults={"assignment_method": AssignmentMethod.LEAST_LOADED},
            )[0]
            for i in range(25)
        ]
        existing = set(
            User.objects.filter(username__startswith="scale-").values_list("username", flat=True)
        )
        users = [
            User(
                username=name,
                email=f"{name}@scale.example",
                display_name=name.replace("-", " ").title(),
                organization=orgs[i % 20] if name.startswith("scale-req") else None,
                password="!",
            )
            for i, name in enumerate(
                [f"scale-req{i:04d}" for i in range(5000)]
                + [f"scale-agent{i:03d}" for i in range(200)]
            )
            if name not in existing
        ]
        User.objects.bulk_create(users, batch_size=2000)
        requesters = list(
            User.objects.filter(username__startswith="scale-req")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        agents = list(User.objects.filter(username__startswith="scale-agent").order_by("pk"))
        from django.contrib.auth.models import Group

        Group.objects.get(name="agent").user_set.add(*agents)
        TeamMembership.objects.bulk_create(
            [TeamMembership(team=teams[i % 25], user=a) for i, a in enumerate(agents)],
            ignore_conflicts=True,
        )
        services = [
            Service.objects.get_or_create(
                name=f"Scale Service {i:02d}", defaults={"support_team": teams[i % 25]}
            )[0]
            for i in range(60)
        ]
        cats = []
        for i in range(8):
            parent = Category.objects.get_or_create(name=f"Scale Category {i}", parent=None)[0]
            cats += [
                (
                    parent.pk,
                    Category.objects.get_or_create(name=f"Sub {i}.{j}", parent=parent)[0].pk,
                )
                for j in range(4)
            ]
        always = BusinessCalendar.objects.get_or_create(
            name="Scale 24x7",
            defaults={"timezone": "UTC", "hours": {str(d): [["00:00", "24:00"]] for d in range(7)}},
        )[0]
        office = BusinessCalendar.objects.get_or_create(
            name="Scale office",
            defaults={
                "timezone": "Europe/London",
                "hours": {str(d): [["08:00", "18:00"]] for d in range(5)},
            },
        )[0]
        policies = {}
        for p, (response, resolution) in TARGETS.items():
            for metric, target in (("response", response), ("resolution", resolution)):
                policies[(p, metric)] = SlaPolicy.objects.get_or_create(
                    name=f"Scale P{p} {metric}",
                    defaults={
                        "metric": metric,
                        "target": target,
                        "calendar": always if p == 1 else office,
                        "priorities": [p],
                        "order": 1000 + p,
                        "pause_statuses": ["on_hold"],
                    },
                )[0]
        agents_by_team = {
            t.pk: [a.pk for i, a in enumerate(agents) if i % 25 == k] for k, t in enumerate(teams)
        }
        return {
            "requesters": requesters,
            "teams": [t.pk for t in teams],
            "agents_by_team": agents_by_team,
            "services": [s.pk for s in services],
            "cats": cats,
            "policies": policies,
            "rng": rng,
        }

    # ------------------------------------------------------------------ tickets
    def _next_ids(self, model: type[models.Model], n: int) -> int:
        """Reserve n ids from the model's sequence (concurrent-safe, no gaps needed)."""
        table = model._meta.db_table
        with connection.cursor() as c:
            c.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                "FROM generate_series(1, %s)",
                [n],
            )
            ids = [r[0] for r in c.fetchall()]
        return ids[0] if ids == list(range(ids[0], ids[0] + n)) else self._fail_ids()

    def _fail_ids(self) -> int:
        raise RuntimeError("id sequence is shared with another writer: run seed_scale alone")

    def _batch(self, ref: dict[str, Any], offset: int, n: int) -> None:
        rng = ref["rng"]
        first = self._next_ids(Ticket, n)
        with connection.cursor() as c:
            c.execute("SELECT nextval('tickets_number_incident') FROM generate_series(1, %s)", [n])
            numbers = [r[0] for r in c.fetchall()]
        rows, details, journal, clocks, files = [], [], [], [], []
        span = 730 * 86400
        for i in range(n):
            pk = first + i
            priority = rng.choices(
                [p for p, _ in PRIORITY_WEIGHTS], [w for _, w in PRIORITY_WEIGHTS]
            )[0]
            recent = rng.random() < 0.06
            age = rng.uniform(0, 20 * 86400) if recent else rng.uniform(0, span)
            created = self.now - timedelta(seconds=age)
            is_open = recent and rng.random() < 0.5  # ≈3 % open
            team = rng.choice(ref["teams"])
            assignee = rng.choice(ref["agents_by_team"][team]) if rng.random() < 0.85 else None
            status = (
                rng.choice(STATUS_OPEN)
                if is_open
                else rng.choices(["resolved", "closed", "cancelled"], [8, 87, 5])[0]
            )
            if status == "new":
                assignee = None
            state = {
                "new": "open",
                "in_progress": "open",
                "on_hold": "on_hold",
                "resolved": "resolved",
            }.get(status, "closed")
            responded = (
                None if status == "new" else created + timedelta(minutes=rng.expovariate(1 / 90))
            )
            resolved = None if is_open else created + timedelta(hours=rng.expovariate(1 / 20))
            closed = (
                resolved + timedelta(days=3)
                if status in ("closed", "cancelled") and resolved
                else None
            )
            title = " ".join(rng.choices(WORDS, k=4)).capitalize()
            rows.append(
                {
                    "id": pk,
                    "created_at": created,
                    "updated_at": closed or resolved or responded or created,
                    "kind": "incident",
                    "number": f"INC{numbers[i]:07d}",
                    "title": title,
                    "description": " ".join(rng.choices(WORDS, k=rng.randint(8, 30))),
                    "state": state,
                    "priority": priority,
                    "requester_id": rng.choice(ref["requesters"]),
                    "team_id": team,
                    "assignee_id": assignee,
                    "service_id": rng.choice(ref["services"]),
                    "first_responded_at": responded,
                    "resolved_at": resolved,
                    "closed_at": closed,
                    "version": 1,
                    "tags": [],
                }
            )
            cat, sub = rng.choice(ref["cats"])
            details.append(
                {
                    "ticket_id": pk,
                    "status": status,
                    "category_id": cat,
                    "subcategory_id": sub,
                    "channel": rng.choice(["portal", "portal", "email", "phone", "api"]),
                    "on_hold_reason": "awaiting_caller" if status == "on_hold" else "",
                    "resolution_code": "fixed" if resolved else "",
                    "is_major": priority == 1 and rng.random() < 0.02,
                }
            )
            journal.extend(self._journal(pk, created, rng, status, responded, resolved))
            clocks.extend(
                self._clocks(pk, created, priority, status, responded, resolved, ref, rng)
            )
            if rng.random() < 0.15:
                files.append(
                    {
                        "ticket_id": pk,
                        "file": f"attachments/seed/{pk}.png",
                        "name": "screenshot.png",
                        "size": rng.randint(20_000, 900_000),
                        "content_type": "image/png",
                        "public": True,
                        "created_at": created,
                    }
                )
        Copier(Ticket).copy(iter(rows))
        Copier(Incident).copy(iter(details))
        self._copy_with_ids(TicketEvent, journal)
        self._copy_with_ids(SlaClock, clocks)
        self._copy_with_ids(Attachment, files)

    def _copy_with_ids(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        first = self._next_ids(model, len(rows))
        for k, row in enumerate(rows):
            row["id"] = first + k
        Copier(model).copy(iter(rows))

    def _journal(
        self, pk: int, created: datetime, rng: random.Random, status: str, responded, resolved
    ) -> list[dict]:
        entries = [
            {
                "ticket_id": pk,
                "type": "created",
                "public": True,
                "created_at": created,
                "data": Jsonb({"channel": "portal"}),
            }
        ]
        for k in range(rng.randint(0, 7)):
            at = created + timedelta(minutes=30 * (k + 1))
            public = rng.random() < 0.6
            entries.append(
                {
                    "ticket_id": pk,
                    "type": "comment" if public else "work_note",
                    "public": public,
                    "created_at": at,
                    "body": " ".join(rng.choices(WORDS, k=rng.randint(5, 20))),
                    "data": Jsonb({}),
                }
            )
        if resolved:
            entries.append(
                {
                    "ticket_id": pk,
                    "type": "status_changed",
                    "public": True,
                    "created_at": resolved,
                    "data": Jsonb({"old": "in_progress", "new": "resolved", "state": "resolved"}),
                }
            )
        return entries[:9]

    def _clocks(self, pk, created, priority, status, responded, resolved, ref, rng) -> list[dict]:
        result = []
        for metric, stop in (("response", responded or resolved), ("resolution", resolved)):
            policy = ref["policies"][(priority, metric)]
            target = policy.target
            row = {
                "ticket_id": pk,
                "metric": metric,
                "policy_id": policy.pk,
                "target": target,
                "started_at": created,
                "updated_at": self.now,
                "warnings": [],
                "match_reason": Jsonb({"policy": policy.name}),
                "policy_version": 1,
            }
            if status == "cancelled":
                row.update(state="cancelled", stopped_at=resolved or created, elapsed=timedelta(0))
            elif stop is not None:
                elapsed = min(stop - created, target * rng.uniform(0.1, 1.4))
                breached = elapsed > target
                row.update(
                    state="breached" if breached else "met",
                    stopped_at=stop,
                    elapsed=elapsed,
                    due_at=created + target,
                    breached_at=created + target if breached else None,
                )
            elif status == "on_hold":
                row.update(
                    state="paused",
                    paused_at=self.now - timedelta(hours=rng.randint(1, 48)),
                    elapsed=target * rng.uniform(0.1, 0.6),
                )
            else:
                # running, due over the next weeks (a few already overdue and breached)
                due = self.now + timedelta(seconds=rng.uniform(-2 * 86400, 21 * 86400))
                breached = due < self.now
                row.update(
                    state="breached" if breached else "running",
                    running_since=created,
                    elapsed=timedelta(0),
                    due_at=due,
                    breached_at=due if breached else None,
                    next_check_at=None if breached else due + timedelta(microseconds=1),
                )
            result.append(row)
        return result

    def _finish(self) -> None:
        started = time.monotonic()
        with connection.cursor() as c:
            c.execute(
                "UPDATE tickets_ticket SET search_vector = "
                "setweight(to_tsvector('english', number), 'A') "
                "|| setweight(to_tsvector('english', title), 'A') "
                "|| setweight(to_tsvector('english', description), 'B') WHERE search_vector IS NULL"
            )
            c.execute("ANALYZE")
        self.stdout.write(f"search vectors and statistics in {time.monotonic() - started:.1f} s")
