"""The dashboards in a real browser: charts are drawn by the vendored Chart.js, each can be
switched to its table, and a click on a number or a bar lands on the filtered desk queue."""

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboards.rollups import rollups_sync
from tests.browser.conftest import log_in
from tests.dashboards.conftest import always, world  # noqa: F401  (fixtures)
from tests.dashboards.history import add_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(world, manager):  # noqa: F811
    now = timezone.now()
    rng = random.Random(21)
    tickets = [
        add_ticket(rng, world, start=now - timedelta(days=20), now=now - timedelta(minutes=1))
        for _ in range(60)
    ]
    rollups_sync(now=now - timedelta(minutes=30))
    return tickets


def queue_numbers(page) -> set[str]:
    rows = page.locator("#queue tbody tr[data-number]")
    return set(rows.evaluate_all("rows => rows.map(row => row.dataset.number)"))


def test_the_overview_draws_its_charts_and_tables(new_page, history):
    page = new_page()
    log_in(page, "maria")
    page.goto("/dashboards/?period=last_30")
    expect(page.get_by_role("heading", name="SLA overview")).to_be_visible()
    charts = page.locator(".chart-box[data-ready=true]")
    expect(charts).to_have_count(4)  # trend, times, by team, by priority
    canvas = page.locator("[data-chart=chart-data-trend] canvas")
    width = canvas.evaluate("c => c.getBoundingClientRect().width")
    assert width > 200
    trend = page.locator("#t-trend")
    table = trend.locator(".chart-table")
    expect(table).to_be_hidden()
    trend.get_by_role("button", name="Show table").click()
    expect(table).to_be_visible()
    expect(trend.locator(".chart-box")).to_be_hidden()
    expect(trend.get_by_role("button", name="Show chart")).to_have_attribute("aria-pressed", "true")


def test_clicking_a_tile_lands_on_exactly_its_tickets(new_page, history):
    from tickets.models import Ticket

    expected = {
        t.number
        for t in Ticket.objects.filter(
            state__in=["open", "on_hold"], sla_clocks__state="breached", sla_clocks__stopped_at=None
        )
    }
    assert expected, "the history should have breached open tickets"
    page = new_page()
    log_in(page, "maria")
    page.goto("/dashboards/")
    tile = page.locator("[data-tile=breached_open]")
    expect(tile.locator(".tile-value")).to_have_text(str(len(expected)))
    tile.click()
    expect(page).to_have_url(re.compile(r"/desk/\?.*sla=breached_open"))
    assert queue_numbers(page) == expected


def test_clicking_a_bar_lands_on_the_filtered_queue(new_page, history):
    page = new_page()
    log_in(page, "maria")
    page.goto("/dashboards/backlog/")
    expect(page.locator("[data-chart=chart-data-age][data-ready=true]")).to_have_count(1)
    # the first non-empty bar of the age × priority chart, and where it is drawn
    bar = page.evaluate(
        """() => {
          const box = document.querySelector('[data-chart=chart-data-age]');
          const chart = box.chart;
          for (let d = 0; d < chart.data.datasets.length; d++) {
            const data = chart.data.datasets[d].data;
            for (let i = 0; i < data.length; i++) {
              if (data[i] > 0) {
                const el = chart.getDatasetMeta(d).data[i];
                const rect = box.querySelector('canvas').getBoundingClientRect();
                return {value: data[i], url: chart.data.datasets[d].urls[i],
                        x: rect.left + el.x, y: rect.top + (el.y + el.base) / 2};
              }
            }
          }
          return null;
        }"""
    )
    assert bar is not None
    page.mouse.click(bar["x"], bar["y"])
    expect(page).to_have_url(re.compile(r"/desk/\?"))
    assert page.url.endswith(bar["url"])
    expect(page.locator("#queue tbody tr")).to_have_count(int(bar["value"]))
