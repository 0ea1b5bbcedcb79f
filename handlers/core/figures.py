"""A report as data: headline figures, tables and a chart, and its plain renderings.

Part of the neutral message model (a :class:`~handlers.core.messages.Reply` may carry a
:class:`Report`); handlers/reports/catalogue.py builds them, channels render them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.program import Program

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """Rows of figures under named columns.

    Attributes:
        title: What the table shows.
        columns: The column headings.
        rows: One tuple per row, as many cells as columns; numbers stay numbers (CSV and
            JSON keep them exact; the text table formats them).
        note: A line under the table (e.g. which groups were too small to show).
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The table as JSON-ready data: a list of row objects keyed by column."""
        return {
            "title": self.title,
            "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows],
            "note": self.note,
        }


#: A value of a chart's series: a number, or None where there is none to show (a month
#: without answers, a group too small to show).
Point = float | None


@dataclass(frozen=True)
class Chart:
    """A picture of one series or a few: a bar chart, a line over time, a histogram.

    Attributes:
        kind: ``bar`` (categories), ``line`` (a trend over ``labels`` in order) or
            ``histogram`` (counts per bucket, the buckets in ``labels``).
        title: The chart's heading, in the words people read (a question's prompt, never
            its id).
        labels: The x-axis categories or moments (a month as :func:`month_label` writes it).
        series: Named series of values, one value per label; None where there is no value
            (a line then has a gap there, a bar chart no bar).
        y_label: What the values are.
        months: For a line over time: each label's month as ``YYYY-MM``. The x-axis is then
            real time, so a month missing from the labels is a gap, not a closer point.
        scale: The lowest value the measure can take, and the highest if it has one: the
            y-axis runs from there (``(0, None)`` for a count or a rate, ``(1, 5)`` for a
            rating from 1 to 5, ``(0, 100)`` for a percentage), never from the data's
            minimum, so a small change does not look like a large one.
    """

    kind: Literal["bar", "line", "histogram"]
    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[Point, ...]], ...]
    y_label: str = ""
    months: tuple[str, ...] = ()
    scale: tuple[float, float | None] = (0.0, None)


def shown_series(chart: Chart) -> tuple[tuple[str, tuple[Point, ...]], ...]:
    """The chart's series worth drawing: those with a value other than zero.

    A series that is all zero says nothing a line along the axis could, and one that is all
    None (every value too few to show) has nothing to draw.
    """
    return tuple((name, values) for name, values in chart.series if any(values))


def checked_chart(chart: Chart, *, all_zero: str, all_hidden: str) -> tuple[Chart | None, str]:
    """The chart with only the series worth drawing, or no chart and the sentence saying why.

    Args:
        chart: The chart as built.
        all_zero: Why there is no chart when every value is zero (or hidden), in words for
            the report's notes ("No chart: no sessions were logged in these months.").
        all_hidden: Why there is no chart when every value is hidden or missing.

    Returns:
        The chart (its empty series left out) and "", or None and the reason.
    """
    kept = shown_series(chart)
    if kept and chart.labels:
        return replace(chart, series=kept), ""
    values = [v for _, series in chart.series for v in series]
    return None, all_zero if any(v is not None for v in values) else all_hidden


def month_label(month: str) -> str:
    """A ``YYYY-MM`` month as every report writes it: ``Sep 2026``."""
    return f"{date.fromisoformat(month + '-01'):%b %Y}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``, both included), in order."""
    year, month = int(first[:4]), int(first[5:7])
    months: list[str] = []
    while (current := f"{year:04d}-{month:02d}") <= last:
        months.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class Report:
    """One report as data.

    Attributes:
        kind: The report's name (``overview``, ``cadence`` ...).
        title: Its heading.
        figures: Headline figures as label/value pairs.
        tables: Detail tables.
        chart: A chart where a trend or distribution reads better as a picture.
        notes: Lines after everything else (privacy thresholds, how a figure is counted).
    """

    kind: str
    title: str
    figures: tuple[tuple[str, str], ...] = ()
    tables: tuple[Table, ...] = ()
    chart: Chart | None = None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "kind": self.kind,
            "title": self.title,
            "figures": dict(self.figures),
            "tables": [t.as_dict() for t in self.tables],
            "notes": list(self.notes),
        }


def as_json(report: Report) -> str:
    """The report as JSON text."""
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)


#: Report kinds whose CSV is a data file for a spreadsheet: their first table alone.
TABLE_ONLY_CSV = frozenset({"export"})


def as_csv(report: Report) -> str:
    """The report as CSV: its headline figures, then its first table.

    The figures come first as ``figure,value`` rows, and a blank row separates them from
    the table (its column headings, then its rows), so the CSV says what the text does.
    A kind in :data:`TABLE_ONLY_CSV` (the per-pair export) is its table alone. A table's
    note follows its rows after an empty row, as one cell starting ``Note:``: the headings
    stay the first row a spreadsheet or a script reads, and the note stays in the file.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    table_only = report.kind in TABLE_ONLY_CSV and report.tables
    figures: tuple[tuple[str, str], ...] = () if table_only else report.figures
    if figures or not report.tables:
        writer.writerow(("figure", "value"))
        writer.writerows(figures)
    if report.tables:
        if figures:
            writer.writerow(())
        _write_table(writer, report.tables[0])
    return out.getvalue()


def table_csv(table: Table) -> str:
    """One table as CSV: its column headings, then every row (an empty cell left empty)."""
    out = io.StringIO()
    _write_table(csv.writer(out, lineterminator="\n"), table)
    return out.getvalue()


def _write_table(writer: Any, table: Table) -> None:
    """The headings, every row, then the table's note (if any) after an empty record."""
    writer.writerow(table.columns)
    writer.writerows(["" if c is None else c for c in row] for row in table.rows)
    if table.note:
        # As wide as the table, so every record has the same number of fields.
        padding = [""] * (len(table.columns) - 1)
        writer.writerow(["", *padding])
        writer.writerow([f"Note: {table.note}", *padding])


def cell_text(value: Cell) -> str:
    """A table cell as shown to a person.

    Numbers get thousands separators (one decimal for a float); an empty cell is a dash.
    """
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def numeric_columns(table: Table) -> list[bool]:
    """Which columns hold numbers (right-aligned); the first column never counts as one."""
    return [
        i > 0 and any(isinstance(row[i], int | float) for row in table.rows)
        for i in range(len(table.columns))
    ]


def _table_lines(table: Table) -> list[str]:
    cells = [[cell_text(c) for c in row] for row in table.rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(table.columns)]
    numeric = numeric_columns(table)

    def line(values: list[str] | tuple[str, ...]) -> str:
        return "  ".join(
            v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(values)
        ).rstrip()

    out = [line(table.columns), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells] or ["(none)"]
    if table.note:
        out.append(table.note)
    return out


def as_text(report: Report, *, heading: bool = True) -> str:
    """The report as aligned plain text (the shell, the CLI, and every fallback)."""
    lines = [report.title, "=" * len(report.title)] if heading else []
    if report.figures:
        width = max(len(label) for label, _ in report.figures)
        lines += [f"{label.ljust(width)}  {value}" for label, value in report.figures]
    for table in report.tables:
        lines += ["", table.title, *_table_lines(table)]
    if report.notes:
        lines.append("")
        lines += list(report.notes)
    return "\n".join(lines)


class Builder(Protocol):
    """Builds one kind of report: ``await build(session, program, now=now)``."""

    def __call__(
        self, session: AsyncSession, program: Program, /, *, now: datetime
    ) -> Awaitable[Report]:
        """The report on ``program`` as it stands at ``now``."""
        ...


@dataclass(frozen=True)
class Kind:
    """A report kind: what it shows and the function that builds it."""

    name: str
    summary: str
    build: Builder


class ReaderBuilder(Protocol):
    """Builds a report whose moments read on its reader's clock."""

    def __call__(
        self, session: AsyncSession, program: Program, /, *, now: datetime, reader_zone: str | None
    ) -> Awaitable[Report]:
        """The report on ``program`` at ``now``, its moments in ``reader_zone`` (None: the
        program's time zone, named)."""
        ...


@dataclass(frozen=True)
class DatedKind(Kind):
    """A report kind that shows moments (a proposal's lapse): ``for_reader`` says them on
    the reading lead's clock, as every other message does; ``build`` on the program's."""

    for_reader: ReaderBuilder
