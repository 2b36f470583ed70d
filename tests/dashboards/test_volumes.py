"""Volumes: breakdowns of created tickets, change success by risk and request fulfilment by
catalogue item. Changes and requests are read through a guarded lookup (the apps may not be
there); these tests build their rows through that same lookup and skip when it finds none."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from dashboards.periods import Period
from dashboards.queries.reader import RollupReader
from dashboards.queries.volumes import (
    change_tables,
    csat_table,
    optional_model,
    request_table,
    volumes,
)
from dashboards.rollups import rollups_sync
from dashboards.scope import Scope
from incidents.choices import Channel
from incidents.services import incident_create
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
PERIOD = Period("UTC", date(2026, 5, 1), date(2026, 5, 20))


def envelope(kind: str, requester, *, created: datetime, closed: datetime | None = None):
    ticket = Ticket.objects.create(
        kind=kind,
        number=f"X{uuid.uuid4().hex[:10]}",
        title=kind,
        requester=requester,
        state="closed" if closed else "open",
        resolved_at=closed,
        closed_at=closed,
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created, updated_at=closed or created)
    return ticket


def test_an_absent_model_is_none():
    assert optional_model("nosuchapp.Thing") is None
    assert optional_model("tickets.Ticket", "no_such_field") is None
    assert optional_model("tickets.Ticket", "kind") is Ticket


def test_incidents_by_channel_and_category(requester, world, time_machine):
    time_machine.move_to(NOW - timedelta(days=2), tick=False)
    for channel, category in ((Channel.PHONE, 0), (Channel.PHONE, 1), (Channel.EMAIL, 0)):
        incident_create(
            requester=requester,
            by=requester,
            title="x",
            channel=channel,
            category=world.categories[category],
        )
    time_machine.move_to(NOW, tick=False)
    page = volumes(period=PERIOD, scope=Scope(), now=NOW)
    tables = {t.key: {r[0].text: r[1].text for r in t.rows} for t in page.tables}
    assert tables["by_channel"] == {"Phone": "2", "E-mail": "1"}
    assert tables["by_category"] == {"Network": "2", "Access": "1"}
    assert tables["by_kind"] == {"Incident": "3"}


@pytest.mark.parametrize("synced", [False, True], ids=["live", "facts"])
def test_change_success_rate_by_risk(requester, synced):
    change = optional_model("changes.Change", "risk", "outcome", "ticket")
    if change is None:
        pytest.skip("the changes app has no Change model yet")
    rows = [
        ("low", "successful", NOW - timedelta(days=3)),
        ("low", "successful_with_issues", NOW - timedelta(days=2)),
        ("high", "failed", NOW - timedelta(days=1)),
        ("high", "", None),  # not completed
    ]
    for risk, outcome, closed in rows:
        ticket = envelope("change", requester, created=NOW - timedelta(days=5), closed=closed)
        change._default_manager.create(ticket=ticket, risk=risk, outcome=outcome)
    if synced:
        rollups_sync(now=NOW)
    reader = RollupReader(period=PERIOD, scope=Scope(), now=NOW)
    (table,), (tile,) = change_tables(reader, NOW)
    by_risk = {row[0].text: [c.text for c in row[1:]] for row in table.rows}
    assert table.columns[:3] == ["Risk", "Created", "Completed"]
    assert table.columns[-1] == "Success %"
    assert by_risk["Low"][:2] == ["2", "2"]
    assert by_risk["Low"][-1] == "100.0"
    assert by_risk["High"][:2] == ["2", "1"]
    assert by_risk["High"][-1] == "0.0"
    assert tile.value == "66.7 %"


@pytest.mark.parametrize("synced", [False, True], ids=["live", "facts"])
def test_request_fulfilment_time_by_catalogue_item(requester, synced):
    request = optional_model("servicerequests.ServiceRequest", "ticket", "item")
    item_model = optional_model("catalogue.CatalogueItem", "name", "category")
    category_model = optional_model("catalogue.Category", "name")
    if request is None or item_model is None or category_model is None:
        pytest.skip("service requests or the catalogue items are not there yet")
    category = category_model._default_manager.create(name="Hardware", slug="hardware")
    laptop, phone = (
        item_model._default_manager.create(
            name=name, slug=name.lower(), short_description=name, category=category
        )
        for name in ("Laptop", "Phone")
    )
    for item, hours in ((laptop, 10), (laptop, 30), (phone, 4)):
        created = NOW - timedelta(days=4)
        ticket = envelope(
            "request", requester, created=created, closed=created + timedelta(hours=hours)
        )
        request._default_manager.create(ticket=ticket, item=item, requested_for=requester)
    if synced:
        rollups_sync(now=NOW)
    reader = RollupReader(period=PERIOD, scope=Scope(), now=NOW)
    table = request_table(reader)
    rows = {row[0].text: [c.text for c in row[1:4]] for row in table.rows}
    # fulfilled, mean calendar h, p90 calendar h
    assert rows == {"Laptop": ["2", "20.00", "30.00"], "Phone": ["1", "4.00", "4.00"]}


def test_customer_satisfaction_from_survey_answers(requester):
    response = optional_model("tickets.SatisfactionResponse", "ticket", "rating", "created_at")
    reader = RollupReader(period=PERIOD, scope=Scope(), now=NOW)
    if response is None:
        assert csat_table(reader) is None
        page = volumes(period=PERIOD, scope=Scope(), now=NOW)
        assert any("satisfaction" in line for line in page.unavailable)
        return
    for n, rating in enumerate(["good", "good", "good", "bad"]):
        ticket = envelope("incident", requester, created=NOW - timedelta(days=3), closed=NOW)
        answer = response._default_manager.create(ticket=ticket, survey_key=f"k{n}", rating=rating)
        response._default_manager.filter(pk=answer.pk).update(created_at=NOW - timedelta(days=1))
    table, tile = csat_table(reader)
    assert {row[0].text: row[1].text for row in table.rows} == {"Good": "3", "Bad": "1"}
    assert tile.value == "75.0 %"
