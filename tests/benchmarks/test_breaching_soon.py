"""slas.querysets.breaching_soon: the "Breaching soon" queue rooted at the running clocks."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import RequestFactory

from accounts.models import User
from core.keyset import paginate
from slas.models import SlaClock
from slas.querysets import BREACHING_SOON_KEYS, breaching_soon
from tickets.filtersets import TicketFilterSet
from tickets.models import Ticket


@pytest.mark.django_db
def test_breaching_soon_lists_each_ticket_once_on_its_nearest_running_deadline():
    # given seeded tickets, some with two running clocks (new: response and resolution)
    call_command("seed_scale", tickets=3_000, stdout=StringIO())
    everyone = User.objects.create_superuser("bs-admin", "bs-admin@example.com", "x")
    tickets = Ticket.objects.visible_to(everyone).open()
    running = SlaClock.objects.filter(
        running_since__isnull=False, breached_at__isnull=True, due_at__isnull=False
    )
    doubles = running.values("ticket").annotate(n=Count("pk")).filter(n=2)
    assert doubles.exists()

    # when
    rows = list(breaching_soon(tickets))

    # then: the filter's tickets, once each, nearest deadline first, ties by ticket id
    request = RequestFactory().get("/")
    request.user = everyone
    expected = set(
        TicketFilterSet({"queue": "breaching"}, queryset=tickets, request=request).qs.values_list(
            "pk", flat=True
        )
    )
    assert [r.pk for r in rows] == [r.breach_ticket for r in rows]
    assert len(rows) == len(expected) == len({r.pk for r in rows})
    assert {r.pk for r in rows} == expected
    assert [(r.breach_due, r.pk) for r in rows] == sorted((r.breach_due, r.pk) for r in rows)
    for ticket_id in doubles.values_list("ticket", flat=True)[:20]:
        nearest = running.filter(ticket=ticket_id).order_by("due_at")[0].due_at
        assert next(r.breach_due for r in rows if r.pk == ticket_id) == nearest
    # a breached clock no longer counts
    first = rows[0]
    SlaClock.objects.filter(ticket=first.pk).update(breached_at=first.breach_due)
    assert first.pk not in {r.pk for r in breaching_soon(tickets)}


@pytest.mark.django_db
def test_breaching_soon_pages_with_keyset_cursors():
    # given
    call_command("seed_scale", tickets=3_000, stdout=StringIO())
    everyone = User.objects.create_superuser("bs-admin", "bs-admin@example.com", "x")
    queryset = breaching_soon(Ticket.objects.visible_to(everyone).open())
    whole = [t.pk for t in queryset]
    assert len(whole) > 50

    # when walking the pages through their cursors
    seen, after = [], ""
    while True:
        page = paginate(queryset, keys=BREACHING_SOON_KEYS, size=20, after=after)
        seen += [t.pk for t in page.rows]
        if not page.has_next:
            break
        after = page.next_cursor

    # then every ticket comes once, in order
    assert seen == whole
