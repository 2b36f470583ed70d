"""One structure behind every chart: a table of cells. The HTML table, the chart (drawn by
the vendored Chart.js from the JSON below) and the CSV export are all rendered from it, so
they show exactly the same numbers, and every cell carries its drill-down link."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Colour-blind-safe palette (Okabe & Ito), in the order series take them.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


@dataclass
class Cell:
    """What a table cell shows (also written to the CSV), the number a chart plots (None =
    not plotted) and the desk-queue link to the tickets behind it."""

    text: str
    value: float | None = None
    url: str | None = None


@dataclass
class ChartSpec:
    """How to draw a table: which column labels the x axis, which columns are series."""

    type: str  # "bar" | "line"
    series: list[int]
    label_column: int = 0
    stacked: bool = False
    horizontal: bool = False
    unit: str = ""
    target: float | None = None
    target_label: str = ""
    y_min: float | None = None
    y_max: float | None = None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: ChartSpec | None = None
    note: str = ""
    empty: str = "No data for this period."

    @property
    def data_id(self) -> str:
        """Element id of the chart's JSON (json_script)."""
        return f"chart-data-{self.key}"

    def chart_data(self) -> dict[str, Any] | None:
        """The JSON the chart script reads (json_script-escaped in the template)."""
        if self.chart is None or not self.rows:
            return None
        spec = self.chart
        labels = [row[spec.label_column].text for row in self.rows]
        datasets = [
            {
                "label": self.columns[column],
                "data": [row[column].value for row in self.rows],
                "urls": [row[column].url for row in self.rows],
                "color": PALETTE[n % len(PALETTE)],
            }
            for n, column in enumerate(spec.series)
        ]
        return {
            "type": spec.type,
            "labels": labels,
            "datasets": datasets,
            "stacked": spec.stacked,
            "horizontal": spec.horizontal,
            "unit": spec.unit,
            "target": spec.target,
            "targetLabel": spec.target_label,
            "yMin": spec.y_min,
            "yMax": spec.y_max,
            "title": self.title,
        }

    def csv(self) -> str:
        """Header and rows exactly as the table shows them."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([cell.text for cell in row])
        return out.getvalue()


# ------------------------------------------------------------------ number formats
DASH = "—"


def count(n: int, url: str | None = None) -> Cell:
    return Cell(f"{n}", float(n), url)


def pct(value: float | None, url: str | None = None) -> Cell:
    """A percentage with one decimal; the chart plots the rounded number the table shows."""
    if value is None:
        return Cell(DASH, None, url)
    shown = round(value, 1)
    return Cell(f"{shown:.1f}", shown, url)


def hours(micro: int | None, url: str | None = None) -> Cell:
    """A duration in hours with two decimals."""
    if micro is None:
        return Cell(DASH, None, url)
    shown = round(micro / 3_600_000_000, 2)
    return Cell(f"{shown:.2f}", shown, url)


def label(text: object, url: str | None = None) -> Cell:
    return Cell(str(text), None, url)


def human_duration(micro: int | None) -> str:
    """4h 05m, 2d 3h, 12m: for tiles."""
    if micro is None:
        return DASH
    minutes = micro // 60_000_000
    days, rest = divmod(minutes, 1440)
    hours_, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours_}h"
    if hours_:
        return f"{hours_}h {mins:02d}m"
    return f"{mins}m"


def tables_csv(tables: Iterable[Table]) -> dict[str, str]:
    """File name → CSV content, one file per table (report attachments)."""
    return {f"{t.key}.csv": t.csv() for t in tables}
