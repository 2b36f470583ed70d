"""A large, deterministic data set for benchmarks: `manage.py seed_scale --tickets 1000000`.

20 organisations, 5,000 requesters, 200 agents in 25 teams, 60 services, categories, a
catalogue of 40 items, and two years of tickets of every kind in a real desk's proportions
(≈55 % incidents, 30 % service requests, 10 % fulfilment tasks, 5 % changes) with each kind's
own statuses from its workflow, ≈3 % open, 0-8 journal entries each, SLA clocks in every state
(running ones due over the next weeks) and attachment metadata. Text comes from a vocabulary
of a few thousand words with a Zipf-like frequency, so a search word matches a small share of
tickets, as in a real desk. Bulk rows go through PostgreSQL COPY; columns come from the models,
so fields added later get their defaults. Same --seed, same data (ids aside)."""

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from psycopg.types.json import Jsonb

from accounts.models import AssignmentMethod, Organization, Team, TeamMembership, User
from catalogue.models import CatalogueItem, Service
from catalogue.models import Category as CatalogueCategory
from changes.models import Change
from dashboards.rollups import rollups_rebuild
from incidents.models import Category, Incident
from servicerequests.models import FulfilmentTask, ServiceRequest
from slas.models import BusinessCalendar, SlaClock, SlaPolicy
from tickets.models import Attachment, Ticket, TicketEvent

#: The most frequent words: what a desk's tickets are about. They head the Zipf ranking.
DOMAIN_WORDS = [
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
    "mailbox",
    "calendar",
    "meeting",
    "headset",
    "docking",
    "station",
    "badge",
    "building",
    "payroll",
    "report",
    "dashboard",
    "browser",
    "chrome",
    "citrix",
    "desktop",
    "share",
    "folder",
    "drive",
    "sync",
    "mobile",
    "tablet",
    "token",
    "mfa",
]
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "ce",
    "ci",
    "co",
    "cu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "fa",
    "fe",
    "fi",
    "fo",
    "ga",
    "ge",
    "gi",
    "go",
    "ka",
    "ke",
    "ki",
    "ko",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "pa",
    "pe",
    "pi",
    "po",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "va",
    "ve",
    "vi",
    "vo",
    "za",
    "ze",
    "zi",
    "zo",
    "str",
    "pl",
    "tr",
    "gr",
    "kl",
    "br",
]
VOCABULARY_SIZE = 4000
#: Flattens the head of the Zipf curve: the commonest word is in ≈10 % of tickets, a word of
#: rank 500 in ≈1 %, the tail in a handful (real desk text behaves like this once stop words
#: are removed).
ZIPF_OFFSET = 50

#: Share of tickets per kind. Tasks are created with their request (≈1 per 3 requests).
KIND_WEIGHTS = {"incident": 55, "request": 30, "change": 5}
TASKS_PER_STARTED_REQUEST = ([0, 1, 2, 3], [72, 20, 6, 2])
STATUS_OPEN = ["new", "in_progress", "on_hold"]
PRIORITY_WEIGHTS = [(1, 2), (2, 10), (3, 55), (4, 33)]
TARGETS = {  # priority: (response, resolution)
    1: (timedelta(minutes=15), timedelta(hours=4)),
    2: (timedelta(hours=1), timedelta(hours=8)),
    3: (timedelta(hours=4), timedelta(hours=30)),
    4: (timedelta(hours=8), timedelta(hours=50)),
}
#: Which clocks each kind runs (changes have none: they are planned, not timed).
KIND_METRICS = {
    "incident": ("response", "resolution"),
    "request": ("response", "resolution"),
    "task": ("resolution",),
    "change": (),
}
NUMBER_PREFIX = {"incident": "INC", "request": "REQ", "task": "TASK", "change": "CHG"}
#: Detail status → ticket state, per kind (copied from each kind's workflow.py TICKET_STATE).
INCIDENT_STATE = {
    "new": "open",
    "in_progress": "open",
    "on_hold": "on_hold",
    "resolved": "resolved",
    "closed": "closed",
    "cancelled": "closed",
}
REQUEST_OPEN = (["submitted", "awaiting_approval", "approved", "in_fulfilment"], [15, 25, 10, 50])
REQUEST_DONE = (["fulfilled", "closed", "rejected", "cancelled"], [6, 84, 4, 6])
REQUEST_STATE = {
    "submitted": "open",
    "awaiting_approval": "on_hold",
    "approved": "open",
    "in_fulfilment": "open",
    "fulfilled": "resolved",
    "closed": "closed",
    "rejected": "closed",
    "cancelled": "closed",
}
TASK_STATE = {
    "waiting": "on_hold",
    "open": "open",
    "in_progress": "open",
    "done": "closed",
    "cancelled": "closed",
}
CHANGE_OPEN = (["draft", "assess", "authorize", "scheduled", "implement"], [20, 20, 20, 30, 10])
CHANGE_DONE = (["review", "closed", "rejected", "cancelled"], [5, 80, 5, 10])
CHANGE_STATE = {
    "draft": "open",
    "assess": "open",
    "authorize": "open",
    "scheduled": "open",
    "implement": "open",
    "review": "resolved",
    "closed": "closed",
    "rejected": "closed",
    "cancelled": "closed",
}


def vocabulary(seed: int, size: int = VOCABULARY_SIZE) -> list[str]:
    """`size` distinct words, the desk's domain words first, then pronounceable made-up words
    (2-4 syllables) from a seeded generator: the same seed gives the same list."""
    rng = random.Random(seed)
    words = list(DOMAIN_WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


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
        self.words = vocabulary(seed)
        self.cum_weights = list(
            accumulate(1 / (rank + ZIPF_OFFSET) for rank in range(1, len(self.words) + 1))
        )
        with transaction.atomic():
            ref = self._reference()
        self.ref_policies = ref["policies"]
        self.stdout.write(f"reference data ready in {time.monotonic() - started:.1f} s")
        done = 0
        self.counts: dict[str, int] = dict.fromkeys(NUMBER_PREFIX, 0)
        while done < tickets:
            n = min(batch, tickets - done)
            with transaction.atomic():
                self._batch(ref, n)
            done += n
            self.stdout.write(
                f"  {done:,}/{tickets:,} tickets ({time.monotonic() - started:.0f} s)"
            )
        self._finish()
        mix = ", ".join(f"{n:,} {kind}s" for kind, n in self.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"seeded {tickets:,} tickets ({mix}) in {time.monotonic() - started:.1f} s"
            )
        )

    def text(self, k: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cum_weights, k=k))

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
        items = []
        for i in range(40):
            category = CatalogueCategory.objects.get_or_create(
                slug=f"scale-catalogue-{i % 5}", defaults={"name": f"Scale catalogue {i % 5}"}
            )[0]
            item = CatalogueItem.objects.get_or_create(
                slug=f"scale-item-{i:02d}",
                defaults={
                    "name": f"Scale item {i:02d} {DOMAIN_WORDS[i]}",
                    "short_description": f"Order a {DOMAIN_WORDS[i]}",
                    "category": category,
                    "service": services[i % 60],
                    "fulfilment_team": teams[i % 25],
                    "priority": 3 + i % 2,
                },
            )[0]
            items.append((item.pk, Jsonb({"name": item.name, "version": 1, "variables": []})))
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
        pause = {"incident": ["on_hold"], "request": ["awaiting_approval"], "task": ["waiting"]}
        for kind, metrics in KIND_METRICS.items():
            for p, (response, resolution) in TARGETS.items():
                for metric in metrics:
                    target = response if metric == "response" else resolution
                    if kind != "incident":  # requests and tasks are slower than incidents
                        target *= 3
                    name = f"Scale P{p} {metric}" + ("" if kind == "incident" else f" {kind}")
                    policies[(kind, p, metric)] = SlaPolicy.objects.get_or_create(
                        name=name,
                        kind=kind,
                        defaults={
                            "metric": metric,
                            "target": target,
                            "calendar": always if p == 1 else office,
                            "priorities": [p],
                            "order": 1000 + p,
                            "pause_statuses": pause[kind],
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
            "items": items,
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

    def _numbers(self, kind: str, n: int) -> Iterator[str]:
        if not n:
            return iter(())
        with connection.cursor() as c:
            c.execute(f"SELECT nextval('tickets_number_{kind}') FROM generate_series(1, %s)", [n])
            return iter([f"{NUMBER_PREFIX[kind]}{r[0]:07d}" for r in c.fetchall()])

    def _batch(self, ref: dict[str, Any], n: int) -> None:
        rng = ref["rng"]
        first = self._next_ids(Ticket, n)
        self.rows: list[dict] = []
        self.details: dict[str, list[dict]] = {k: [] for k in NUMBER_PREFIX}
        self.journal: list[dict] = []
        self.clocks: list[dict] = []
        self.files: list[dict] = []
        kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
        pk = first
        while pk < first + n:
            kind = rng.choices(kinds, weights)[0]
            base = self._envelope(ref, pk, kind)
            if kind == "incident":
                self._incident(ref, base)
            elif kind == "change":
                self._change(ref, base)
            else:
                status = self._request(ref, base)
                if status in ("in_fulfilment", "fulfilled", "closed"):
                    tasks = rng.choices(*TASKS_PER_STARTED_REQUEST)[0]
                    for order in range(1, min(tasks, first + n - pk - 1) + 1):
                        pk += 1
                        self._task(ref, self._envelope(ref, pk, "task", parent=base), base, order)
            pk += 1
        numbers = {kind: self._numbers(kind, self.counts_in_batch(kind)) for kind in NUMBER_PREFIX}
        for row in self.rows:
            row["number"] = next(numbers[row["kind"]])
            self.counts[row["kind"]] += 1
        Copier(Ticket).copy(iter(self.rows))
        Copier(Incident).copy(iter(self.details["incident"]))
        Copier(ServiceRequest).copy(iter(self.details["request"]))
        Copier(FulfilmentTask).copy(iter(self.details["task"]))
        Copier(Change).copy(iter(self.details["change"]))
        self._copy_with_ids(TicketEvent, self.journal)
        self._copy_with_ids(SlaClock, self.clocks)
        self._copy_with_ids(Attachment, self.files)

    def counts_in_batch(self, kind: str) -> int:
        return sum(1 for row in self.rows if row["kind"] == kind)

    def _envelope(
        self, ref: dict[str, Any], pk: int, kind: str, parent: dict | None = None
    ) -> dict[str, Any]:
        """The ticket row's shared fields; the kind fills state, dates and its detail."""
        rng = ref["rng"]
        if parent is None:
            priority = rng.choices(
                [p for p, _ in PRIORITY_WEIGHTS], [w for _, w in PRIORITY_WEIGHTS]
            )[0]
            recent = rng.random() < 0.06
            age = rng.uniform(0, 20 * 86400) if recent else rng.uniform(0, 730 * 86400)
            created = self.now - timedelta(seconds=age)
            requester = rng.choice(ref["requesters"])
            service = rng.choice(ref["services"])
        else:  # a task: its request's requester and service, created once it was approved
            priority, recent = parent["priority"], parent["_recent"]
            created = min(parent["created_at"] + timedelta(hours=rng.uniform(1, 48)), self.now)
            requester, service = parent["requester_id"], parent["service_id"]
        team = rng.choice(ref["teams"])
        row = {
            "id": pk,
            "created_at": created,
            "kind": kind,
            "title": self.text(rng.randint(3, 6)).capitalize(),
            "description": self.text(rng.randint(8, 30)),
            "priority": priority,
            "requester_id": requester,
            "team_id": team,
            "assignee_id": rng.choice(ref["agents_by_team"][team]) if rng.random() < 0.85 else None,
            "service_id": service,
            "version": 1,
            "tags": [],
            "_recent": recent,
        }
        self.rows.append(row)
        if rng.random() < 0.15:
            self.files.append(
                {
                    "ticket_id": pk,
                    "file": f"attachments/seed/{pk}.png",
                    "name": rng.choice(["screenshot.png", "error.png", "photo.png"]),
                    "size": rng.randint(20_000, 900_000),
                    "content_type": "image/png",
                    "public": True,
                    "created_at": created,
                }
            )
        return row

    def _close(self, row: dict, state: str, status: str, open_: bool, unassign: bool) -> None:
        """Ticket state and its timestamps, then the journal and the SLA clocks."""
        rng = self.rng
        created = row["created_at"]
        if unassign:
            row["assignee_id"] = None
        row["state"] = state
        responded = None if unassign else created + timedelta(minutes=rng.expovariate(1 / 90))
        resolved = None if open_ else created + timedelta(hours=rng.expovariate(1 / 20))
        closed = resolved + timedelta(days=3) if state == "closed" and resolved else None
        # Nothing happens in the future: a ticket raised an hour ago was not closed tomorrow
        # (a future updated_at also looked "changed since the last sync" to the dashboards).
        responded, resolved, closed = (
            min(t, self.now) if t else t for t in (responded, resolved, closed)
        )
        row.update(
            first_responded_at=responded,
            resolved_at=resolved,
            closed_at=closed,
            updated_at=closed or resolved or responded or created,
        )
        self.journal.extend(self._journal(row["id"], created, status, resolved))
        self.clocks.extend(self._clocks(row, status, responded, resolved))

    def _incident(self, ref: dict[str, Any], row: dict) -> None:
        rng = ref["rng"]
        is_open = row["_recent"] and rng.random() < 0.5  # ≈3 % open
        status = (
            rng.choice(STATUS_OPEN)
            if is_open
            else rng.choices(["resolved", "closed", "cancelled"], [8, 87, 5])[0]
        )
        self._close(row, INCIDENT_STATE[status], status, is_open, status == "new")
        cat, sub = rng.choice(ref["cats"])
        self.details["incident"].append(
            {
                "ticket_id": row["id"],
                "status": status,
                "category_id": cat,
                "subcategory_id": sub,
                "channel": rng.choice(["portal", "portal", "email", "phone", "api"]),
                "on_hold_reason": "awaiting_caller" if status == "on_hold" else "",
                "resolution_code": "fixed" if row["resolved_at"] else "",
                "is_major": row["priority"] == 1 and rng.random() < 0.02,
            }
        )

    def _request(self, ref: dict[str, Any], row: dict) -> str:
        rng = ref["rng"]
        is_open = row["_recent"] and rng.random() < 0.5
        status = rng.choices(*(REQUEST_OPEN if is_open else REQUEST_DONE))[0]
        row["priority"] = rng.choice([3, 4, 4])  # requests come from items of priority 3-4
        self._close(row, REQUEST_STATE[status], status, is_open, status == "submitted")
        item, snapshot = rng.choice(ref["items"])
        staged = status not in ("submitted", "cancelled")
        approved = status not in ("submitted", "awaiting_approval", "rejected", "cancelled")
        self.details["request"].append(
            {
                "ticket_id": row["id"],
                "status": status,
                "item_id": item,
                "item_snapshot": snapshot,
                "answers": Jsonb({}),
                "requested_for_id": row["requester_id"],
                "quantity": 1,
                "approval_stage": 1 if staged else 0,
                "approval_stages_total": 1 if staged else 0,
                "approved_at": row["created_at"] + timedelta(hours=2) if approved else None,
                "outcome_reason": "Not needed any more" if status == "cancelled" else "",
            }
        )
        return status

    def _task(self, ref: dict[str, Any], row: dict, request: dict, order: int) -> None:
        rng = ref["rng"]
        parent = self.details["request"][-1]["status"]
        if parent == "in_fulfilment":
            status = "waiting" if order > 1 else rng.choice(["open", "in_progress"])
        else:  # fulfilled or closed: every task finished
            status = rng.choices(["done", "cancelled"], [95, 5])[0]
        is_open = status in ("waiting", "open", "in_progress")
        self._close(row, TASK_STATE[status], status, is_open, status in ("waiting", "open"))
        self.details["task"].append(
            {
                "ticket_id": row["id"],
                "request_id": request["id"],
                "status": status,
                "order": order * 10,
                "waits_for_previous": True,
            }
        )

    def _change(self, ref: dict[str, Any], row: dict) -> None:
        rng = ref["rng"]
        is_open = row["_recent"] and rng.random() < 0.5
        status = rng.choices(*(CHANGE_OPEN if is_open else CHANGE_DONE))[0]
        change_type = rng.choices(["standard", "normal", "emergency"], [45, 50, 5])[0]
        self._close(row, CHANGE_STATE[status], status, is_open, False)
        planned = status in ("scheduled", "implement", "review", "closed")
        start = row["created_at"] + timedelta(days=rng.uniform(1, 14))
        end = start + timedelta(hours=rng.choice([1, 2, 4, 8]))
        done = status in ("review", "closed")
        self.details["change"].append(
            {
                "ticket_id": row["id"],
                "type": change_type,
                "status": status,
                "planned_start": start if planned else None,
                "planned_end": end if planned else None,
                "actual_start": start if done or status == "implement" else None,
                "actual_end": end if done else None,
                "risk": rng.choices(["low", "moderate", "high"], [60, 30, 10])[0],
                "impact": rng.choices(["low", "medium", "high"], [40, 45, 15])[0],
                "justification": self.text(rng.randint(8, 20)),
                "implementation_plan": self.text(rng.randint(10, 30)),
                "backout_plan": self.text(rng.randint(5, 15)),
                "test_plan": self.text(rng.randint(5, 15)),
                "outcome": "successful" if status == "closed" else "",
                "risk_answers": Jsonb([]),
                "risk_reason": Jsonb({}),
                "schedule_override": Jsonb({}),
            }
        )

    def _copy_with_ids(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        first = self._next_ids(model, len(rows))
        for k, row in enumerate(rows):
            row["id"] = first + k
        Copier(model).copy(iter(rows))

    def _journal(self, pk: int, created: datetime, status: str, resolved) -> list[dict]:
        rng = self.rng
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
                    "body": self.text(rng.randint(5, 20)),
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
                    "data": Jsonb({"old": "in_progress", "new": status}),
                }
            )
        return entries[:9]

    def _clocks(self, ticket: dict, status: str, responded, resolved) -> list[dict]:
        rng = self.rng
        kind, pk, created = ticket["kind"], ticket["id"], ticket["created_at"]
        result = []
        for metric in KIND_METRICS[kind]:
            stop = (responded or resolved) if metric == "response" else resolved
            policy = self.ref_policies[(kind, ticket["priority"], metric)]
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
            if status in ("cancelled", "rejected"):
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
            elif ticket["state"] == "on_hold":
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
        # A live desk keeps the dashboards' read models current (beat syncs them); a bulk
        # load must rebuild them, or the SLA overview falls back to scanning the raw tables.
        started = time.monotonic()
        result = rollups_rebuild()
        self.stdout.write(
            f"dashboard read models ({result.tickets:,} tickets, {result.days} days) "
            f"in {time.monotonic() - started:.1f} s"
        )
