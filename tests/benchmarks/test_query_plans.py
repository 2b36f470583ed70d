"""SQL discipline at scale: every list query behind the hot pages uses an index at 100k
tickets (EXPLAIN shows no sequential scan of the ticket, clock or journal tables)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from desk.queues import queue_counts
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from slas.models import SlaClock
from slas.querysets import BREACHING_SOON_KEYS, breaching_soon, with_sla_deadlines
from tickets.filtersets import TicketFilterSet
from tickets.models import Ticket, TicketEvent

BIG_TABLES = ("tickets_ticket", "incidents_incident", "slas_slaclock", "tickets_ticketevent")


@pytest.mark.django_db
def test_hot_list_queries_use_indexes_at_100k_tickets():
    # given 100k seeded tickets with journals and clocks
    call_command("seed_scale", tickets=100_000, stdout=StringIO())
    agent_id = (
        Ticket.objects.open()
        .exclude(assignee=None)
        .values("assignee")
        .annotate(n=Count("pk"))
        .order_by("-n")[0]["assignee"]
    )
    agent = User.objects.get(pk=agent_id)
    request = RequestFactory().get("/")
    request.user = agent
    some = Ticket.objects.order_by("-pk").first()

    def queue(params: dict) -> object:
        base = Ticket.objects.visible_to(agent).open().for_queue()
        return TicketFilterSet(params, queryset=base, request=request).qs.order_by(
            "priority", "pk"
        )[:25]

    queries = {
        "desk my work": queue({"assignee": "me"}),
        "desk unassigned": queue({"assignee": "unassigned"}),
        "desk breaching soon": queue({"queue": "breaching"}),
        "desk all open": queue({}),
        "search by number": queue({"q": some.number}),
        "search by words": queue({"q": "printer vpn"}),
        "incident queue": IncidentFilterSet(
            {}, queryset=Incident.objects.visible_to(agent).for_list().open(), request=request
        ).qs.order_by("ticket__priority", "pk")[:25],
        "portal my tickets": Ticket.objects.visible_to(agent)
        .filter(requester=agent)
        .order_by("-updated_at", "-pk")[:20],
        "ticket timeline": TicketEvent.objects.filter(ticket=some).order_by("created_at", "pk"),
        "ticket clocks": SlaClock.objects.filter(ticket=some),
        "desk breaching soon (clock-rooted)": breaching_soon(
            with_sla_deadlines(Ticket.objects.visible_to(agent).open().for_queue())
        )[:25],
        "sla sweep": SlaClock.objects.filter(next_check_at__lte=some.created_at).order_by(
            "next_check_at"
        )[:500],
    }
    # then
    for name, queryset in queries.items():
        plan = queryset.explain()
        scans = [
            line.strip()
            for line in plan.splitlines()
            if "Seq Scan on" in line and any(t in line for t in BIG_TABLES)
        ]
        assert not scans, f"{name}: {scans}\n{plan}"
    # the desk's queue counts (every queue page): open or updated this week, one pass
    with CaptureQueriesContext(connection) as ctx:
        queue_counts(agent)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + ctx.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on tickets_ticket" not in plan, plan


@pytest.mark.django_db
def test_breaching_soon_page_one_reads_the_clock_index_in_deadline_order():
    # given 100k seeded tickets (≈2,300 running clocks) and someone who sees every ticket
    call_command("seed_scale", tickets=100_000, stdout=StringIO())
    everyone = User.objects.create_superuser("plan-admin", "plan-admin@example.com", "x")
    tickets = with_sla_deadlines(Ticket.objects.visible_to(everyone).open().for_queue())

    # when
    plan = breaching_soon(tickets)[:25].explain()

    # then page 1 is the first rows of the partial index, under the LIMIT: no sort of every
    # open ticket by a computed deadline (627 ms at 1M tickets before)
    assert "Index Scan using slas_clock_breaching_soon" in plan, plan
    assert "Sort" not in plan.split("SubPlan")[0], plan
    # and it is the same list as the ticket filter's, nearest deadline first
    rows = list(breaching_soon(tickets)[:25])
    assert [r.breach_due for r in rows] == sorted(r.breach_due for r in rows)
    assert all(r.sla_next_due == r.breach_due for r in rows)
    request = RequestFactory().get("/")
    request.user = everyone
    filtered = TicketFilterSet(
        {"queue": "breaching"}, queryset=Ticket.objects.visible_to(everyone).open(), request=request
    ).qs
    assert breaching_soon(Ticket.objects.visible_to(everyone).open()).count() == filtered.count()
    assert [key.name for key in BREACHING_SOON_KEYS] == ["breach_due", "breach_ticket"]
