"""A lead's report on an Adaptive Card: figures, chart, tables, notes.

A report (:func:`report_elements`) is its title, a ``FactSet`` of the headline figures,
the chart as an ``Image`` whose url is a ``data:image/png;base64`` URI, each table as a
``Table`` (schema 1.5, so a card holding a report says version 1.5) with a header row, and
the notes as subtle text. A table shows at most :data:`TABLE_COLUMNS` columns, each as wide
as its content asks (:func:`column_widths`), so headings and emails do not break
mid-word. How many rows a card can hold is bot.teams.cards' business (``fitted_card``, within
its budget); a table not shown whole says so, and its CSV is offered after the card on a
file-consent card (bot.teams.files); the export's CSV always is.

Charts are drawn on a worker thread before the card is rendered (:func:`draw_charts`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from bot import charts
from bot.render_text import EXPORT_KIND, TableView, table_filename
from bot.teams.elements import fact_set, said_block, text_block
from handlers import Chart, Reply, Report, Table, cell_text, log_failure, numeric_columns

log = logging.getLogger(__name__)
#: The card schema version a report needs, for its tables.
REPORT_VERSION = "1.5"
#: Most rows of a report table, and most cells (rows × columns), before the budget cuts more.
TABLE_ROWS = 20
TABLE_CELLS = 240
#: Most columns of a table on a card; the rest are in the table's CSV, offered with it.
TABLE_COLUMNS = 6
#: Rows of the export's table shown above its CSV.
EXPORT_PREVIEW_ROWS = 5
#: A column's weight (see :func:`column_widths`), in characters: its content's, never under
#: NARROWEST, and past its longest word never over WIDE; a bold heading needs HEADING_PAD
#: more than its letters; every column adds CELL_PADDING for the space around its text.
NARROWEST = 4
WIDE = 40
HEADING_PAD = 2
CELL_PADDING = 3
#: Where a cut table's CSV is, as its caption says.
DELIVERED = "offered below: choose Allow to save it to your OneDrive"
NO_CHART = "The chart could not be drawn; the figures are all here."


def report_elements(
    report: Report, *, pictures: Mapping[Chart, bytes | None], rows: int = TABLE_ROWS
) -> list[dict[str, Any]]:
    """A lead's report as card elements: title, figures, chart, tables, notes.

    Args:
        report: The report.
        pictures: Charts already drawn (see :func:`draw_charts`).
        rows: Most rows of each table.
    """
    # A report's words are plain text holding names and answers from the directory.
    elements: list[dict[str, Any]] = [said_block(report.title, weight="Bolder", size="Large")]
    if report.figures:
        elements.append(fact_set(report.figures))
    chart = report.chart
    if chart is not None and charts.drawable(chart):
        png = pictures[chart] if chart in pictures else charts.render_png(chart)
        if png is None:
            elements.append(text_block(NO_CHART, isSubtle=True, size="Small"))
        else:
            elements.append(chart_image(chart, png))
    for view in table_views(report, rows):
        elements.append(said_block(view.table.title, weight="Bolder", spacing="Medium"))
        elements.extend(_table(view))
    elements.extend(
        said_block(note, isSubtle=True, size="Small", spacing="Small") for note in report.notes
    )
    return elements


def chart_image(chart: Chart, png: bytes) -> dict[str, Any]:
    """A drawn chart as a card image, carried in the card as a data URI."""
    return {
        "type": "Image",
        "url": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "altText": charts.alt_text(chart),
        "size": "Stretch",
        "spacing": "Medium",
    }


def table_views(report: Report, rows: int = TABLE_ROWS) -> list[TableView]:
    """How much of each of a report's tables a card shows, at most ``rows`` rows each.

    At most :data:`TABLE_COLUMNS` columns, the first ones (the first is what a row is
    about); the export shows a few rows only, and its CSV always goes with it.
    """
    views = []
    for i, table in enumerate(report.tables):
        preview = report.kind == EXPORT_KIND and i == 0
        columns = min(len(table.columns), TABLE_COLUMNS)
        shown = max(1, min(rows, TABLE_CELLS // max(1, columns)))
        if preview:
            shown = min(shown, EXPORT_PREVIEW_ROWS)
        views.append(
            TableView(
                table,
                min(shown, len(table.rows)),
                columns,
                table_filename(report, i),
                always_file=preview,
            )
        )
    return views


def column_widths(table: Table) -> list[int]:
    """Each column's weight in the table's width, from what the column holds.

    A column is at least as wide as its longest word, its heading's included (bold, so a
    little wider than its letters), so no word breaks in the middle ("capacit y") and an
    email stays on one line; past that it grows with its longest cell, up to :data:`WIDE`,
    so a column of sentences wraps rather than squeezing the others. Each column also
    counts the padding around its text, the same for a narrow column as for a wide one.
    (A weight is a share of the card's width: on a full-width card in Teams on a desktop,
    six columns fit this way; a phone's screen is narrower than any table.)
    """
    widths = []
    for i, heading in enumerate(table.columns):
        cells = [cell_text(row[i]) for row in table.rows]
        heading_word = max((len(word) for word in heading.split()), default=0) + HEADING_PAD
        cell_word = max((len(word) for cell in cells for word in cell.split()), default=0)
        longest = max((len(cell) for cell in cells), default=0)
        content = max(heading_word, min(max(cell_word, longest), WIDE), NARROWEST)
        widths.append(content + CELL_PADDING)
    return widths


def _cell(text: str, *, header: bool = False) -> dict[str, Any]:
    block = said_block(text, weight="Bolder") if header else said_block(text)
    return {"type": "TableCell", "items": [block]}


def _table(view: TableView) -> list[dict[str, Any]]:
    """A table with a header row, the rows and columns that fit, what is left out, its note."""
    table = view.shown()
    numeric = numeric_columns(table)
    element: dict[str, Any] = {
        "type": "Table",
        "firstRowAsHeader": True,
        "showGridLines": True,
        "gridStyle": "accent",
        "columns": [
            {"width": width, "horizontalCellContentAlignment": "Right" if right else "Left"}
            for width, right in zip(column_widths(table), numeric, strict=True)
        ],
        "rows": [
            {"type": "TableRow", "cells": [_cell(c, header=True) for c in table.columns]},
            *(
                {"type": "TableRow", "cells": [_cell(cell_text(c)) for c in row]}
                for row in table.rows
            ),
        ],
    }
    elements = [element]
    if not table.rows:
        elements.append(text_block("(none)", isSubtle=True, size="Small"))
    caption = view.caption(DELIVERED)
    if caption:
        elements.append(said_block(caption, size="Small"))
    if table.note:
        elements.append(said_block(table.note, isSubtle=True, size="Small"))
    return elements


async def draw_charts(replies: list[Reply]) -> dict[Chart, bytes | None]:
    """The charts of any reports among the replies, drawn on a worker thread.

    A chart that cannot be drawn maps to None (the card then says so) and is logged with
    its report's kind only.
    """
    pictures: dict[Chart, bytes | None] = {}
    for reply in replies:
        report = reply.report
        if report is None or report.chart is None or report.chart in pictures:
            continue
        try:
            pictures[report.chart] = await charts.draw(report.chart)
        except Exception as exc:
            log_failure(
                log, "teams: could not draw a report's chart", error=exc, report=report.kind
            )
            pictures[report.chart] = None
    return pictures
