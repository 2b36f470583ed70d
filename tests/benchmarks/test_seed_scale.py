"""The benchmark seed: every ticket kind in a real desk's proportions, each kind's own statuses,
≈3 % open, clocks in every state, varied text, and the same data for the same seed."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from changes.models import Change
from dashboards.models import TicketFact
from incidents.models import Incident
from servicedesk.management.commands.seed_scale import vocabulary
from servicerequests.models import FulfilmentTask, ServiceRequest
from slas.models import SlaClock
from tickets.models import Attachment, Ticket, TicketEvent

N = 10_000


def fingerprint(tickets) -> list[tuple]:
    """What the seed decides, without ids and instants (which depend on the run)."""
    return list(
        tickets.order_by("pk").values_list("kind", "state", "priority", "title", "description")
    )


@pytest.mark.django_db
def test_seed_has_every_kind_in_realistic_proportions():
    # when
    out = StringIO()
    call_command("seed_scale", tickets=N, batch=4_000, stdout=out)

    # then every ticket has its kind's detail row
    kinds = dict(Ticket.objects.values_list("kind").annotate(n=Count("pk")))
    assert sum(kinds.values()) == N
    assert kinds["incident"] == Incident.objects.count()
    assert kinds["request"] == ServiceRequest.objects.count()
    assert kinds["task"] == FulfilmentTask.objects.count()
    assert kinds["change"] == Change.objects.count()
    # ≈55 % incidents, 30 % requests, 10 % tasks, 5 % changes
    for kind, share in {"incident": 0.55, "request": 0.30, "task": 0.10, "change": 0.05}.items():
        assert abs(kinds[kind] / N - share) < 0.025, (kind, kinds)
    # ≈3 % open, with open tickets of every kind
    open_ = Ticket.objects.open()
    assert 0.02 < open_.count() / N < 0.045
    assert set(open_.values_list("kind", flat=True)) == {"incident", "request", "task", "change"}
    # each kind's own statuses, several of them
    assert {"new", "in_progress", "on_hold", "closed"} <= set(
        Incident.objects.values_list("status", flat=True)
    )
    assert {"awaiting_approval", "in_fulfilment", "closed", "rejected"} <= set(
        ServiceRequest.objects.values_list("status", flat=True)
    )
    assert {"open", "done"} <= set(FulfilmentTask.objects.values_list("status", flat=True))
    assert {"scheduled", "closed", "cancelled"} <= set(
        Change.objects.values_list("status", flat=True)
    )
    # tasks belong to requests whose fulfilment started
    assert not FulfilmentTask.objects.filter(
        request__status__in=["submitted", "awaiting_approval", "rejected"]
    ).exists()
    # clocks in every state, running ones due over the next weeks; journal and attachments
    states = set(SlaClock.objects.values_list("state", flat=True))
    assert states == {"running", "paused", "met", "breached", "cancelled"}
    assert not SlaClock.objects.filter(ticket__kind="change").exists()
    assert TicketEvent.objects.count() > N * 2
    assert 0.10 < Attachment.objects.count() / N < 0.20
    assert "seeded 10,000 tickets" in out.getvalue()
    # the dashboards' read models are built, as beat keeps them on a live desk
    assert TicketFact.objects.count() == N
    # text: a common word matches some tickets, not a third of them
    common = Ticket.objects.filter(search_vector="printer").count()
    assert 0.02 < common / N < 0.2
    assert Ticket.objects.filter(search_vector=vocabulary(2026)[800]).count() / N < 0.02


@pytest.mark.django_db
def test_seed_is_deterministic():
    # given a first run
    call_command("seed_scale", tickets=3_000, stdout=StringIO())
    first = fingerprint(Ticket.objects.all())

    # when the same seed runs again (it appends, reusing the reference data)
    call_command("seed_scale", tickets=3_000, stdout=StringIO())

    # then the new tickets are the same, and another seed gives other ones
    assert fingerprint(Ticket.objects.all())[3_000:] == first
    call_command("seed_scale", tickets=500, seed=7, stdout=StringIO())
    assert fingerprint(Ticket.objects.all())[6_000:] != first[:500]
    assert vocabulary(2026) == vocabulary(2026) != vocabulary(7)
    assert len(set(vocabulary(2026))) == 4_000
