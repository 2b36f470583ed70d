"""Each table's CSV export holds exactly the numbers the rendered table shows."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from dashboards.rollups import rollups_sync
from tests.dashboards.history import add_ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)


class Tables(HTMLParser):
    """Rows of cell texts of every <table> inside a <section data-table="key">."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.section: str | None = None
        self.cell: list[str] | None = None
        self.row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "section" and "data-table" in attributes:
            self.section = attributes["data-table"]
            self.tables[self.section] = []
        elif self.section and tag == "tr":
            self.row = []
        elif self.row is not None and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.section:
            self.tables[self.section].append(self.row)
            self.row = None
        elif tag == "section":
            self.section = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


@pytest.fixture
def history(world, time_machine):
    time_machine.move_to(NOW, tick=False)
    rng = random.Random(5)
    for _ in range(40):
        add_ticket(rng, world, start=NOW - timedelta(days=25), now=NOW - timedelta(minutes=1))
    rollups_sync(now=NOW - timedelta(hours=6))


@pytest.mark.parametrize(
    ("url", "dashboard"),
    [
        ("/dashboards/", "overview"),
        ("/dashboards/backlog/", "backlog"),
        ("/dashboards/availability/", "availability"),
        ("/dashboards/volumes/", "volumes"),
    ],
)
def test_csv_equals_the_table(client, manager, history, url, dashboard):
    client.force_login(manager)
    query = "period=last_30&granularity=week"
    page = client.get(f"{url}?{query}")
    parser = Tables()
    parser.feed(page.content.decode())
    assert any(len(rows) > 1 for rows in parser.tables.values())
    for key, rows in parser.tables.items():
        response = client.get(f"/dashboards/{dashboard}/{key}.csv?{query}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        exported = list(csv.reader(io.StringIO(response.content.decode())))
        if rows:
            assert exported == rows, key
        else:  # an empty table shows its empty state; the CSV has the header only
            assert len(exported) == 1, key


def test_csv_of_an_unknown_table_is_404(client, manager):
    client.force_login(manager)
    assert client.get("/dashboards/overview/nope.csv").status_code == 404
    assert client.get("/dashboards/nope/trend.csv").status_code == 404
