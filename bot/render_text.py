"""Plain-text rendering of neutral replies, for the shell (and any client without cards).

Rich output degrades to numbered text, as Rasa's ``send_text_with_buttons`` does: a
question's options are numbered, and so are buttons (Accept / Decline on a proposal) when no
question is waiting, so that typing the number presses the button.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers import Attachment, Option, Reply, Report, Table, as_json, plural, table_csv

#: The report kind whose table is a data file: its CSV always goes with it.
EXPORT_KIND = "export"
CSV_TYPE = "text/csv"
#: Characters of a table's title in its CSV's name.
FILENAME_SLUG = 40


def render_text(reply: Reply, *, first_button: int | None = None) -> str:
    """One reply as the lines a terminal shows.

    Args:
        reply: The reply.
        first_button: The number of its first button; None shows buttons as the command
            to type instead.
    """
    lines: list[str] = []
    if reply.title:
        lines.append(f"== {reply.title} ==")
    lines.append(reply.text)
    for label, value in reply.fields:
        lines.append(f"  • {label}\n      {value}")
    for profile in reply.profiles:
        # A terminal shows a profile whole: there is no "More" to open.
        lines.append(f"  {profile.heading}")
        lines.extend(f"    {label}: {value}" for label, value in profile.whole())
    prompt = reply.prompt
    if prompt is not None and prompt.options:
        width = len(str(len(prompt.options)))
        lines.extend(f"  {i:>{width}}. {o.label}" for i, o in enumerate(prompt.options, start=1))
    for offset, action in enumerate(reply.actions):
        if first_button is None:
            lines.append(f"  [{action.label}: type {action.value}]")
        else:
            lines.append(f"  {first_button + offset}. {action.label}")
    if reply.hint:
        lines.append(f"  ({reply.hint})")
    if reply.attachment is not None:
        # A terminal has no files: the content follows, for the person to copy or redirect.
        lines.append(f"--- {reply.attachment.filename} ---")
        lines.append(reply.attachment.content)
    return "\n".join(lines)


def buttons(replies: list[Reply]) -> list[Option]:
    """The buttons a number answers: all of them, unless a question is waiting for one."""
    if any(r.prompt is not None and r.prompt.options for r in replies):
        return []
    return [action for reply in replies for action in reply.actions]


def render_all(replies: list[Reply]) -> str:
    """Several replies, separated by blank lines; buttons numbered across them."""
    numbered = bool(buttons(replies))
    parts = []
    number = 1
    for reply in replies:
        parts.append(render_text(reply, first_button=number if numbered else None))
        number += len(reply.actions)
    return "\n\n".join(parts)


# -- reports: what the rich renderers (Block Kit, Adaptive Cards) share -----------------------


def table_filename(report: Report, index: int) -> str:
    """The name of the CSV holding a report's table: ``at-risk.csv`` for its first table,
    ``feedback-responses-per-survey.csv`` for another (its title, in lower case and dashes)."""
    if index == 0:
        return f"{report.kind}.csv"
    slug = re.sub(r"[^a-z0-9]+", "-", report.tables[index].title.lower()).strip("-")
    return f"{report.kind}-{slug[:FILENAME_SLUG] or index + 1}.csv"


@dataclass(frozen=True)
class TableView:
    """How much of a report table a chat message shows, and the CSV that holds all of it.

    A message or card shows the first ``rows`` rows and the first ``columns`` columns (the
    first column is what a row is about, so it always stays). Whatever is left out is in
    the CSV, sent with the report; the caption says what is shown and what the file holds.

    Attributes:
        table: The whole table.
        rows: Rows shown.
        columns: Columns shown.
        filename: The CSV's name (:func:`table_filename`).
        always_file: Send the CSV even when the table is shown whole (the export: its CSV is
            the point of it).
    """

    table: Table
    rows: int
    columns: int
    filename: str
    always_file: bool = False

    @property
    def whole(self) -> bool:
        """Whether every row and column is shown."""
        return self.rows >= len(self.table.rows) and self.columns >= len(self.table.columns)

    @property
    def needs_file(self) -> bool:
        """Whether the CSV goes with the report (not for columns of a table without rows)."""
        return self.always_file or (not self.whole and bool(self.table.rows))

    def shown(self) -> Table:
        """The part of the table that is shown."""
        table, width = self.table, self.columns
        return Table(
            table.title,
            table.columns[:width],
            tuple(row[:width] for row in table.rows[: self.rows]),
            table.note,
        )

    def caption(self, delivered: str) -> str:
        """What is shown and what the CSV holds, or "" when the table is whole and alone.

        Args:
            delivered: Where the CSV is (``attached below``).
        """
        if not self.needs_file:
            return ""
        total = len(self.table.rows)
        hidden = self.table.columns[self.columns :]
        parts = []
        if self.rows < total:
            parts.append(f"the first {self.rows:,} of {total:,} rows")
        if hidden:
            parts.append(
                f"{self.columns} of {len(self.table.columns)} columns "
                f"(not shown: {', '.join(hidden)})"
            )
        if not total:
            return f"{self.filename}, {delivered}, has the column headings and no rows yet."
        every = f"All {total:,} rows" if total > 1 else "The one row"
        verb = "are" if total > 1 else "is"
        if not parts:
            return f"{every} {verb} also in {self.filename}, {delivered}, for a spreadsheet."
        with_columns = ", with every column," if hidden else ""
        return (
            f"Shown here: {' and '.join(parts)}. "
            f"{every}{with_columns} {verb} in {self.filename}, {delivered}."
        )

    def attachment(self) -> Attachment:
        """The whole table as a CSV file."""
        return Attachment(self.filename, table_csv(self.table), CSV_TYPE)

    def comment(self) -> str:
        """A line to go with the file: which table it is and how many rows it holds."""
        return f"{self.table.title}, as CSV: {plural(len(self.table.rows), 'row')}."


def all_tables_file(report: Report) -> Attachment:
    """Every table of a report, as JSON (for tables a message had no room for)."""
    return Attachment(f"{report.kind}.json", as_json(report), "application/json")
