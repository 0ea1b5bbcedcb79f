"""A lead's report in Slack: messages with native table blocks, and the files that go with them.

A report is a header, its headline figures as section fields and its notes as context;
each table is a Block Kit ``table`` block (its first column is what a row is about, headings
in bold, numbers right-aligned, long text wrapped) under the table's title. Slack takes one
table block per message (``only_one_table_allowed``), so each table after the first is a
message of its own, and the table is the last block of its message.

A table block holds at most 100 rows (the heading row among them), 20 columns and 10,000
characters in all its cells. A table that does not fit is cut to fit, and its whole CSV is
attached after the messages (bot.slack.files uploads it), with a caption above the table
saying how many rows are shown and how many the file holds; the export's CSV always goes,
as it is the point of that report. Past :data:`TABLE_MESSAGES` tables, the rest are in the
report's JSON, attached too. Nothing asks a person in chat to run a command-line command.
"""

from __future__ import annotations

from typing import Any

from bot.render_text import EXPORT_KIND, TableView, all_tables_file, table_filename
from bot.slack.blocks import (
    CONTEXT_ELEMENTS,
    FALLBACK_LIMIT,
    FIELD_LIMIT,
    MESSAGE_BLOCKS,
    SECTION_FIELDS,
    SECTION_LIMIT,
    escape,
    render_message,
)
from handlers import Attachment, Reply, Report, Table, cell_text, numeric_columns, plural

Block = dict[str, Any]
#: One Slack message: its fallback text and its blocks.
Message = tuple[str, list[Block]]

#: Slack's most rows in a table block, the heading row included.
TABLE_ROWS = 100
#: Slack's most cells in a row of a table block.
TABLE_COLUMNS = 20
#: Slack's most characters in all the cells of a table block together.
TABLE_CHARS = 10_000
#: Most characters of one cell; a longer one is cut with "…" (the CSV has it whole).
CELL_LIMIT = 400
#: A text column whose cells run past this many characters wraps instead of being cut.
WRAP_AFTER = 30
#: Most tables posted as messages for one report; the rest are in its JSON.
TABLE_MESSAGES = 5
#: Rows of the export's table shown above its CSV.
EXPORT_PREVIEW_ROWS = 5
#: Where a cut table's CSV is, as a caption says.
DELIVERED = "attached below"


def render_messages(replies: list[Reply]) -> list[Message]:
    """Replies as Slack messages: each report as its own messages, the rest as one each run.

    A report reply is its report (it carries nothing else); replies between reports are
    rendered together by :func:`bot.slack.blocks.render_message`.
    """
    messages: list[Message] = []
    run: list[Reply] = []
    for reply in replies:
        if reply.report is None:
            run.append(reply)
            continue
        if run:
            messages.append(render_message(run))
            run = []
        messages.extend(report_messages(reply.report))
    if run:
        messages.append(render_message(run))
    return messages


def report_messages(report: Report) -> list[Message]:
    """A report as one message per table (one message if it has none), within Slack's limits."""
    head: list[Block] = [{"type": "header", "text": _plain(report.title, 150)}]
    fields = [_field(label, value) for label, value in report.figures]
    sections = [
        {"type": "section", "fields": fields[i : i + SECTION_FIELDS]}
        for i in range(0, len(fields), SECTION_FIELDS)
    ]
    notes = _notes(report.notes)
    # The header, the notes and the first table's three blocks always fit.
    head += sections[: MESSAGE_BLOCKS - 1 - len(notes) - 3]
    head += notes
    fallback = "\n".join([report.title, *(f"{label}: {value}" for label, value in report.figures)])
    if not report.tables:
        return [(_fallback(fallback), head)]
    views = table_views(report)
    posted = views[:TABLE_MESSAGES]
    messages: list[Message] = []
    for i, view in enumerate(posted):
        blocks = head if i == 0 else []
        text = fallback if i == 0 else f"{report.title}: {view.table.title}"
        left_out = len(views) - len(posted) if i == len(posted) - 1 else 0
        blocks = blocks + table_blocks(view, left_out=left_out, kind=report.kind)
        messages.append((_fallback(text), blocks))
    return messages


def report_files(report: Report) -> list[tuple[Attachment, str]]:
    """The files that go with a report's messages, each with a line saying what it holds.

    A CSV for each table its message could not show whole (and always the export's), and
    the report's JSON when some tables had no message.
    """
    views = table_views(report)
    files = [
        (view.attachment(), view.comment()) for view in views[:TABLE_MESSAGES] if view.needs_file
    ]
    if len(views) > TABLE_MESSAGES:
        files.append((all_tables_file(report), f"{report.title}: every table, as JSON."))
    return files


def table_views(report: Report) -> list[TableView]:
    """How much of each table fits in a Slack table block."""
    return [
        fit_table(
            table,
            table_filename(report, i),
            preview=report.kind == EXPORT_KIND and i == 0,
        )
        for i, table in enumerate(report.tables)
    ]


def fit_table(table: Table, filename: str, *, preview: bool = False) -> TableView:
    """The rows and columns of ``table`` that fit a table block.

    Args:
        table: The table.
        filename: Its CSV's name.
        preview: Show only its first :data:`EXPORT_PREVIEW_ROWS` rows, and always send the CSV.
    """
    columns = min(len(table.columns), TABLE_COLUMNS)
    most = min(len(table.rows), TABLE_ROWS - 1, EXPORT_PREVIEW_ROWS if preview else len(table.rows))
    used = sum(_size(heading) for heading in table.columns[:columns])
    rows = 0
    for row in table.rows[:most]:
        size = sum(_size(cell_text(cell)) for cell in row[:columns])
        if used + size > TABLE_CHARS:
            break
        used += size
        rows += 1
    return TableView(table, rows, columns, filename, always_file=preview)


def table_blocks(view: TableView, *, left_out: int = 0, kind: str = "") -> list[Block]:
    """A table's title, what is shown of it and its note, then the table block itself.

    The table comes last: whatever else the message says is above it.

    Args:
        view: How much of the table to show.
        left_out: Tables of the report that come after this one and have no message.
        kind: The report's kind (names the JSON that holds left-out tables).
    """
    shown = view.shown()
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(f"*{escape(shown.title)}*", SECTION_LIMIT)},
        }
    ]
    lines = [line for line in (view.caption(DELIVERED), shown.note) if line]
    if not view.table.rows:
        lines.insert(0, "(none)")
    if left_out:
        lines.append(
            f"{plural(left_out, 'more table')} had no room here; every table is in "
            f"{kind}.json, {DELIVERED}."
        )
    if lines:
        blocks.append(
            {
                "type": "context",
                # Our words, but a column's name can hold an underscore: plain text.
                "elements": [_plain(line, SECTION_LIMIT) for line in lines[:CONTEXT_ELEMENTS]],
            }
        )
    blocks.append(table_block(shown))
    return blocks


def table_block(table: Table) -> Block:
    """A table as a Block Kit ``table`` block: a bold heading row, then its rows as raw text.

    Raw text is shown as written, so what a person typed is never read as markup. Numbers
    are right-aligned; a text column with long cells wraps.
    """
    numeric = numeric_columns(table)
    cells = [[_cut(cell_text(cell), CELL_LIMIT) or "–" for cell in row] for row in table.rows]
    settings: list[dict[str, Any]] = []
    for i in range(len(table.columns)):
        if numeric[i]:
            settings.append({"align": "right"})
        elif any(len(row[i]) > WRAP_AFTER for row in cells):
            settings.append({"is_wrapped": True})
        else:
            settings.append({"align": "left"})
    return {
        "type": "table",
        "column_settings": settings,
        "rows": [
            [_heading(heading) for heading in table.columns],
            *([{"type": "raw_text", "text": cell} for cell in row] for row in cells),
        ],
    }


def _heading(text: str) -> Block:
    """A heading cell: rich text in bold, a style rather than markup."""
    return {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [{"type": "text", "text": text or " ", "style": {"bold": True}}],
            }
        ],
    }


def _size(text: str) -> int:
    """Characters a cell counts for against :data:`TABLE_CHARS` (an empty cell shows "–")."""
    return max(1, min(len(text), CELL_LIMIT))


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _field(label: str, value: str) -> dict[str, Any]:
    text = f"*{escape(label)}*\n{escape(value)}"
    return {"type": "mrkdwn", "text": _cut(text, FIELD_LIMIT)}


def _notes(notes: tuple[str, ...]) -> list[Block]:
    """The notes as one context block (one element each; the last takes any overflow)."""
    if not notes:
        return []
    kept = [*notes[: CONTEXT_ELEMENTS - 1], "\n".join(notes[CONTEXT_ELEMENTS - 1 :])]
    elements = [
        {"type": "mrkdwn", "text": _cut(escape(note), SECTION_LIMIT)} for note in kept if note
    ]
    return [{"type": "context", "elements": elements}] if elements else []


def _fallback(text: str) -> str:
    """A message's notification text: mrkdwn, so escaped; cut first, so no entity is split."""
    return escape(_cut(text, FALLBACK_LIMIT // 2))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
