"""Adaptive Cards rendering of neutral replies, and reading card submissions back.

A single choice is an expanded ``Input.ChoiceSet``, a multiple choice a multi-select one,
a text question an ``Input.Text``, a number an ``Input.Number``; each with an
``Action.Submit`` whose data carries the prompt's token (a stale card is refused) and the
options (choices travel by index, so labels with commas are safe). ``fallbackText`` is
the plain-text rendering for clients without cards.

A whole form (:class:`~handlers.core.messages.Form`) is one card with an input per question
(``q_<question id>``) and one ``Action.Submit`` whose data names the form and its ref and
carries each choice question's option values, so choices travel by index here too.
:func:`read_form` turns its submission into a neutral :class:`Submission`.

People a reply introduces (:class:`~handlers.core.messages.PersonProfile`) are a ``ColumnSet``,
a column each with their short profile, and an ``Action.ShowCard`` "More" that unfolds the
rest in the same columns (:func:`profile_columns`, :func:`more_about`).

A lead's report (:func:`report_elements`) is its title, a ``FactSet`` of the headline
figures, the chart as an ``Image`` whose url is a ``data:image/png;base64`` URI, each table
as a ``Table`` (schema 1.5, so a card holding a report says version 1.5) with a header row,
and the notes as subtle text. A table shows at most :data:`TABLE_COLUMNS` columns, each as
wide as its content asks (:func:`column_widths`), so headings and emails do not break
mid-word. Teams refuses a message over about 100 KB (counted without base64 images), so
rows are cut to fit within :data:`CARD_BUDGET` (:func:`fitted_card`). A table not shown
whole says so, and its CSV is offered after the card on a file-consent card (the only way
a bot hands a person a file in Teams: saved to their OneDrive, :func:`file_consent`); the
export's CSV always is.

Teams reads a ``TextBlock``'s text and a ``FactSet``'s titles and values as Markdown (a
CommonMark subset). What people wrote (and everything else a neutral reply carries: it is
plain words) goes through :func:`said`, which escapes that Markdown, so a milestone typed
as ``[Sign in](https://evil.example)`` shows as those characters, not as a link. Our own
wording keeps its Markdown.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity
from botbuilder.schema import Attachment as CardAttachment

from bot import charts
from bot.render_text import EXPORT_KIND, TableView, render_all, table_filename
from handlers import (
    Action,
    Attachment,
    Chart,
    Form,
    PersonProfile,
    Prompt,
    PromptKind,
    Question,
    QuestionType,
    Reply,
    Report,
    Submission,
    Table,
    cell_text,
    log_failure,
    numeric_columns,
    option_index,
)

Card = dict[str, Any]
log = logging.getLogger(__name__)
#: The content type of an Adaptive Card attachment.
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ANSWER = "answer"
TOKEN = "mb_token"
OPTIONS = "mb_options"
QUESTION = "mb_question"
KIND = "mb_kind"
COMMAND = "mb_command"
FORM = "mb_form"
REF = "mb_ref"
CHOICES = "mb_choices"
INPUT_PREFIX = "q_"
TEXT_LIMIT = 2000
#: Card schema versions: 1.4 for everything Teams renders everywhere; 1.5 for tables.
VERSION = "1.4"
REPORT_VERSION = "1.5"
#: Most characters of a card's JSON, not counting data-URI images: Teams counts a message
#: as UTF-16 (two bytes a character) and advises staying under 80 KB.
CARD_BUDGET = 38_000
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
#: Characters of a report's plain text in the card's fallback.
FALLBACK_REPORT = 3000
NO_CHART = "The chart could not be drawn; the figures are all here."


def _text(text: str, **style: Any) -> dict[str, Any]:
    """A text block of our own wording: its Markdown is ours and renders."""
    return {"type": "TextBlock", "text": lines(text), "wrap": True, **style}


def _said(text: str, **style: Any) -> dict[str, Any]:
    """A text block showing ``text`` exactly as written (see :func:`said`)."""
    return _text(said(text), **style)


def lines(text: str) -> str:
    """Text whose every line shows as a line of its own in Teams.

    Teams reads a TextBlock (and a fact) as Markdown, where a single newline is a soft
    break that joins two lines into one paragraph; Teams asks for ``\n\n`` for a new
    line. Each line becomes a paragraph; blank lines and a line's surrounding spaces add
    nothing (Markdown drops them, and four leading spaces would start a code block).
    """
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


#: What CommonMark can read as markup anywhere in a line: a backslash, code, emphasis,
#: strikethrough, link and image brackets, autolinks and HTML, and character references
#: (``&lt;`` would show as ``<``). An underscore between two letters or digits cannot
#: start or end emphasis, so ``first_name`` is left as it is.
_INLINE_MARKUP = re.compile(r"[\\`*~\[\]<]|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")
#: What CommonMark reads as markup at the start of a line: a heading, a quote, a setext
#: underline, a bullet (``-`` or ``+`` before a space) and a number ending in ``.`` or
#: ``)`` before a space (an ordered list). ``*`` is escaped everywhere already.
_LINE_MARKUP = re.compile(
    r"(?:(?<=\A)|(?<=[\r\n]))([ \t]*)"  # a line's start: CommonMark ends lines at \r too
    r"(?:([#>=])|([-+])(?=[ \t-]|[\r\n]|\Z)|(\d{1,9})([.)])(?=[ \t\r\n]|\Z))"
)


def said(text: str) -> str:
    """Text shown literally where Teams reads Markdown: each markup character escaped.

    CommonMark's own way: a backslash before an ASCII punctuation character makes it a
    literal character. Only characters that could start markup where they stand are
    escaped, so ordinary sentences reach the card unchanged.
    """
    text = _INLINE_MARKUP.sub(lambda m: "\\" + m.group(0), text)

    def line_start(match: re.Match[str]) -> str:
        indent, mark, bullet, number, delimiter = match.groups()
        if number is not None:
            return f"{indent}{number}\\{delimiter}"
        return f"{indent}\\{mark or bullet}"

    return _LINE_MARKUP.sub(line_start, text)


#: The most points of a scale shown as a list of choices (0 to 10); a wider one is a number.
SCALE_CHOICES = 11
#: What an answer field is called when its prompt has no label, by kind.
_FIELD_NAMES = {
    PromptKind.SINGLE: "Your choice",
    PromptKind.MULTI: "Your choices",
    PromptKind.TEXT: "Your answer",
    PromptKind.NUMBER: "A whole number",
    PromptKind.SCALE: "Your rating",
    PromptKind.DATE: "A date",
}


def _input(prompt: Prompt, label: str) -> dict[str, Any]:
    """The answer field of a chat question: labelled, and saying what a required one needs.

    A scale is a list of its points to pick from, a date a date picker; Teams checks a
    required field before sending and shows ``errorMessage`` under it.
    """
    field = _field(prompt)
    field.update(id=ANSWER, label=label or _FIELD_NAMES[prompt.kind])
    field["isRequired"] = not prompt.optional
    field["errorMessage"] = _prompt_error(prompt)
    return field


def _field(prompt: Prompt) -> dict[str, Any]:
    low, high = prompt.min, prompt.max
    if prompt.kind in (PromptKind.SINGLE, PromptKind.MULTI):
        return {
            "type": "Input.ChoiceSet",
            "style": "expanded",
            "isMultiSelect": prompt.kind is PromptKind.MULTI,
            "choices": [{"title": o.label, "value": str(i)} for i, o in enumerate(prompt.options)],
        }
    points = _points(prompt)
    if points:
        return {
            "type": "Input.ChoiceSet",
            "style": "expanded",
            "choices": [{"title": point, "value": point} for point in points],
        }
    if prompt.kind in (PromptKind.NUMBER, PromptKind.SCALE):
        number: dict[str, Any] = {"type": "Input.Number"}
        if low is not None:
            number["min"] = low
        if high is not None:
            number["max"] = high
        return number
    if prompt.kind is PromptKind.DATE:
        return {"type": "Input.Date"}
    return {
        "type": "Input.Text",
        "isMultiline": True,
        "maxLength": TEXT_LIMIT,
        "placeholder": "Type your answer",
    }


def _points(prompt: Prompt) -> list[str]:
    """The points of a scale to pick from; none for a wide scale (typed as a number)."""
    low, high = prompt.min, prompt.max
    if prompt.kind is not PromptKind.SCALE or low is None or high is None:
        return []
    if not 0 < high - low + 1 <= SCALE_CHOICES:
        return []
    return [str(n) for n in range(low, high + 1)]


def _prompt_error(prompt: Prompt) -> str:
    """What Teams shows under a chat question's field it will not send as it is."""
    low, high = prompt.min, prompt.max
    if prompt.kind is PromptKind.SINGLE:
        return "Please pick one option."
    if prompt.kind is PromptKind.MULTI:
        return "Please pick at least one option."
    if prompt.kind is PromptKind.DATE:
        return "Please pick a date."
    if _points(prompt):
        return f"Please pick a number from {low} to {high}."
    if prompt.kind in (PromptKind.NUMBER, PromptKind.SCALE):
        if low is not None and high is not None:
            return f"Please enter a whole number from {low} to {high}."
        return "Please enter a whole number."
    return "Please type your answer."


def _asked(reply: Reply) -> tuple[str, str, str]:
    """A question's text around the line that asks it: (before, that line, after).

    The line holding the prompt's label labels the answer field, so a screen reader
    says the question when the field has focus; the lines after it (help, the answer so
    far) follow the field, as a form card shows a question's help. Without a prompt or a
    label, or with no line holding it, all the text comes first (and a field is named
    after its kind).
    """
    label = reply.prompt.label if reply.prompt is not None else ""
    text_lines = reply.text.split("\n")
    for i, line in enumerate(text_lines):
        if label and label in line:
            return "\n".join(text_lines[:i]), line.strip(), "\n".join(text_lines[i + 1 :])
    return reply.text, "", ""


def render_card(
    replies: list[Reply], *, pictures: Mapping[Chart, bytes | None] | None = None
) -> Card:
    """Replies as one Adaptive Card.

    Args:
        replies: What to show.
        pictures: Reports' charts already drawn as PNGs (None: could not be drawn), by
            chart; the channel draws them off the event loop. A chart not here is drawn now.
    """
    return fitted_card(replies, pictures=pictures)[0]


def fitted_card(
    replies: list[Reply], *, pictures: Mapping[Chart, bytes | None] | None = None
) -> tuple[Card, list[tuple[str, Attachment]]]:
    """Replies as one Adaptive Card, and the CSVs of the report tables it could not show whole.

    Tables are cut to fit the card within :data:`CARD_BUDGET`; each file comes with the
    kind of its report (what to type for it again).

    Args:
        replies: What to show.
        pictures: As for :func:`render_card`.
    """
    rows = TABLE_ROWS
    while True:
        card = _card(replies, pictures or {}, rows)
        if rows <= 1 or _size(card) <= CARD_BUDGET:
            break
        rows //= 2
    files = [
        (reply.report.kind, view.attachment())
        for reply in replies
        if reply.report is not None
        for view in table_views(reply.report, rows)
        if view.needs_file
    ]
    return card, files


def _size(card: Card) -> int:
    """The card's JSON length, images given as data URIs not counted (nor are they by Teams)."""
    images = sum(
        len(element["url"])
        for element in card["body"]
        if element.get("type") == "Image" and str(element.get("url", "")).startswith("data:")
    )
    return len(json.dumps(card, ensure_ascii=False)) - images


def _card(replies: list[Reply], pictures: Mapping[Chart, bytes | None], rows: int) -> Card:
    body: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for reply in replies:
        before, question, after = _asked(reply)
        if reply.report is not None:
            body.extend(report_elements(reply.report, pictures=pictures, rows=rows))
        else:
            if reply.title:
                body.append(_said(reply.title, weight="Bolder", size="Medium"))
            if before.strip():
                body.append(_said(before))
        if reply.fields:
            body.append(_facts(reply.fields))
        if reply.profiles:
            body.append(profile_columns(reply.profiles))
        if reply.prompt is not None:
            prompt = reply.prompt
            body.append(_input(prompt, question))
            if after.strip():
                body.append(_said(after, isSubtle=True, size="Small", spacing="Small"))
            actions.append(
                {
                    "type": "Action.Submit",
                    "title": "Submit",
                    "data": {
                        TOKEN: prompt.token,
                        KIND: prompt.kind.value,
                        OPTIONS: [[o.value, o.label] for o in prompt.options],
                        QUESTION: reply.text[:300],
                    },
                }
            )
        if reply.form is not None:
            body.extend(form_inputs(reply.form))
            actions.append(_form_submit(reply.form))
        if reply.hint:
            body.append(_said(reply.hint, isSubtle=True, size="Small"))
        actions.extend(
            {"type": "Action.Submit", "title": o.label, "data": {COMMAND: o.value}}
            for o in reply.actions
        )
        if any(profile.more for profile in reply.profiles):
            actions.append(more_about(reply.profiles))
    reports = any(reply.report is not None for reply in replies)
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": REPORT_VERSION if reports else VERSION,
        "body": body,
        "fallbackText": render_all([_clipped(reply) for reply in replies]),
    }
    if reports:
        # Tables need the room: Teams draws the card across the whole conversation.
        card["msteams"] = {"width": "Full"}
    if actions:
        card["actions"] = actions
    return card


def _facts(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Label/value pairs as a fact set; a label can hold what a person wrote (a milestone)."""
    return {
        "type": "FactSet",
        "facts": [{"title": lines(said(k)), "value": lines(said(v))} for k, v in pairs],
    }


# -- profiles ----------------------------------------------------------------------------------

#: The title of the button that opens the rest of two profiles on a card (of one, it
#: names the person: "More about Ana Lima").
MORE = "More"


def profile_columns(profiles: tuple[PersonProfile, ...]) -> dict[str, Any]:
    """People side by side, a column each: their name, then their short profile's facts."""
    return _columns([(p.heading, p.short) for p in profiles])


def more_about(profiles: tuple[PersonProfile, ...]) -> dict[str, Any]:
    """The "More" button that unfolds the rest of the profiles, in the same columns."""
    return {
        "type": "Action.ShowCard",
        "title": MORE if len(profiles) > 1 else f"{MORE} about {profiles[0].heading}",
        "card": {
            "type": "AdaptiveCard",
            "body": [_columns([(p.heading, p.more) for p in profiles])],
        },
    }


def _columns(people: list[tuple[str, tuple[tuple[str, str], ...]]]) -> dict[str, Any]:
    """A column a person: their name in bold, then a fact set (labels bold, values literal)."""
    return {
        "type": "ColumnSet",
        "columns": [
            {
                "type": "Column",
                "width": "stretch",
                "items": [
                    _said(heading, weight="Bolder"),
                    *([_facts(facts) | {"spacing": "Small"}] if facts else []),
                ],
            }
            for heading, facts in people
        ],
    }


def _clipped(reply: Reply) -> Reply:
    """A report's plain text cut for the fallback (an export can run to thousands of rows).

    An attachment is left out: it is offered as a file on a card of its own.
    """
    if reply.attachment is not None:
        reply = replace(reply, attachment=None)
    if reply.report is None or len(reply.text) <= FALLBACK_REPORT:
        return reply
    return replace(reply, text=reply.text[: FALLBACK_REPORT - 1] + "…")


# -- reports --------------------------------------------------------------------------------


def report_elements(
    report: Report, *, pictures: Mapping[Chart, bytes | None], rows: int = TABLE_ROWS
) -> list[dict[str, Any]]:
    """A lead's report as card elements: title, figures, chart, tables, notes.

    Args:
        report: The report.
        pictures: Charts already drawn (see :func:`render_card`).
        rows: Most rows of each table.
    """
    # A report's words are plain text holding names and answers from the directory.
    elements: list[dict[str, Any]] = [_said(report.title, weight="Bolder", size="Large")]
    if report.figures:
        elements.append(_facts(report.figures))
    chart = report.chart
    if chart is not None and charts.drawable(chart):
        png = pictures[chart] if chart in pictures else charts.render_png(chart)
        if png is None:
            elements.append(_text(NO_CHART, isSubtle=True, size="Small"))
        else:
            elements.append(chart_image(chart, png))
    for view in table_views(report, rows):
        elements.append(_said(view.table.title, weight="Bolder", spacing="Medium"))
        elements.extend(_table(view))
    elements.extend(
        _said(note, isSubtle=True, size="Small", spacing="Small") for note in report.notes
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
    block = _said(text, weight="Bolder") if header else _said(text)
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
        elements.append(_text("(none)", isSubtle=True, size="Small"))
    caption = view.caption(DELIVERED)
    if caption:
        elements.append(_said(caption, size="Small"))
    if table.note:
        elements.append(_said(table.note, isSubtle=True, size="Small"))
    return elements


# -- whole forms ----------------------------------------------------------------------------


def input_id(question: Question) -> str:
    """The id of a question's input, which is also its key in the submission."""
    return INPUT_PREFIX + question.id


def form_inputs(form: Form) -> list[dict[str, Any]]:
    """One labelled input per question, prefilled from the form's ``initial`` answers."""
    elements: list[dict[str, Any]] = []
    for question in form.questions:
        element = _form_input(question, form.initial_of(question.id))
        element.update(
            id=input_id(question),
            label=question.prompt,
            isRequired=question.required,
            errorMessage=_error_message(question),
        )
        elements.append(element)
        if question.help:
            elements.append(_text(question.help, isSubtle=True, size="Small", spacing="None"))
    return elements


def _form_input(question: Question, current: Any) -> dict[str, Any]:
    if question.type is QuestionType.DATE:
        element: dict[str, Any] = {"type": "Input.Date"}
        if isinstance(current, str) and current:
            element["value"] = current
        return element
    if question.type in (QuestionType.NUMBER, QuestionType.SCALE):
        element = {"type": "Input.Number"}
        if question.min is not None:
            element["min"] = question.min
        if question.max is not None:
            element["max"] = question.max
        if isinstance(current, int) and not isinstance(current, bool):
            element["value"] = current
        return element
    if question.is_choice:
        values = [c.value for c in question.choices]
        wanted = current if isinstance(current, list) else [current]
        chosen = [str(values.index(v)) for v in wanted if v in values]
        multi = question.type is QuestionType.MULTI_CHOICE
        element = {
            "type": "Input.ChoiceSet",
            "style": "expanded" if multi else "compact",
            "isMultiSelect": multi,
            "choices": [
                {"title": c.label, "value": str(i)} for i, c in enumerate(question.choices)
            ],
        }
        if not multi:
            # Shown in the closed list until something is picked (compact style only).
            element["placeholder"] = "Choose one"
        if chosen:
            element["value"] = ",".join(chosen if multi else chosen[:1])
        return element
    element = {"type": "Input.Text", "isMultiline": True, "maxLength": TEXT_LIMIT}
    if isinstance(current, str) and current:
        element["value"] = current
    return element


def _error_message(question: Question) -> str:
    """What Teams shows under an input it will not send as it is."""
    if question.type is QuestionType.DATE:
        return "Please pick a date."
    if question.type in (QuestionType.NUMBER, QuestionType.SCALE):
        low, high = question.min, question.max
        if low is not None and high is not None:
            return f"Please enter a whole number from {low} to {high}."
        return "Please enter a whole number."
    if question.type is QuestionType.SINGLE_CHOICE:
        return "Please pick one option."
    if question.type is QuestionType.MULTI_CHOICE:
        return "Please pick from the options."
    return "Please answer this question."


def _form_submit(form: Form) -> dict[str, Any]:
    return {
        "type": "Action.Submit",
        "title": form.submit or "Save",
        "data": {
            FORM: form.name,
            REF: form.ref,
            QUESTION: form.title[:300],
            CHOICES: {q.id: [c.value for c in q.choices] for q in form.questions if q.is_choice},
        },
    }


class MalformedForm(ValueError):
    """A form submission that is not what :func:`render_card` sent; its message says so."""


def read_form(value: Any) -> Submission | None:
    """The form a card submission sends back, or None when it is not a form's.

    Choices come back as indices and are turned into option values; a piece that is no
    option's index is passed on as it is, for the engine to refuse with its usual words.

    Raises:
        MalformedForm: it names a form but its parts have the wrong shape.
    """
    if not isinstance(value, dict) or FORM not in value:
        return None
    name, ref, choices = value.get(FORM), value.get(REF), value.get(CHOICES, {})
    if not isinstance(name, str) or not name.strip():
        raise MalformedForm("the form has no name")
    if not isinstance(ref, str):
        raise MalformedForm("the form does not say what it is about")
    if not isinstance(choices, dict) or not all(
        isinstance(options, list) for options in choices.values()
    ):
        raise MalformedForm("the form's choices are damaged")
    values: dict[str, tuple[str, ...]] = {}
    for key, raw in value.items():
        if not isinstance(key, str) or not key.startswith(INPUT_PREFIX):
            continue
        question_id = key.removeprefix(INPUT_PREFIX)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise MalformedForm(f"the answer to {question_id!r} is not text")
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        text = str(raw)
        if question_id in choices:
            options = choices[question_id]
            values[question_id] = tuple(
                str(options[index])
                if (index := option_index(piece, len(options))) is not None
                else piece
                for piece in (p.strip() for p in text.split(","))
                if piece
            )
        else:
            values[question_id] = (text,)
    return Submission(name.strip(), ref, values)


def answered_card(question: str, chosen: str) -> Card:
    """What an answered question's card becomes: the question and the answer, no inputs."""
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.4",
        "body": [_said(question), _said(f"✓ {chosen}", isSubtle=True)],
        "fallbackText": f"{question}\n✓ {chosen}",
    }


def read_submission(value: Any) -> tuple[str | None, Action | None, str]:
    """What a card submission means.

    Returns:
        A command to run (or None), the answer as an action (or None), and the chosen
        labels for the answered card. A submission that is neither gives (None, None, "").
    """
    if not isinstance(value, dict):
        return None, None, ""
    command = value.get(COMMAND)
    if isinstance(command, str) and command.strip():
        return command.strip()[:200], None, ""
    token = value.get(TOKEN)
    if not isinstance(token, str):
        return None, None, ""
    raw = value.get(ANSWER)
    text = "" if raw is None else str(raw)
    options = value.get(OPTIONS)
    if value.get(KIND) in (PromptKind.SINGLE.value, PromptKind.MULTI.value) and isinstance(
        options, list
    ):
        values, labels = [], []
        for piece in (p.strip() for p in text.split(",") if p.strip()):
            index = option_index(piece, len(options))
            if index is not None:
                option = options[index]
                if isinstance(option, list) and len(option) == 2:
                    values.append(str(option[0]))
                    labels.append(str(option[1]))
                    continue
            values.append(piece)  # not an option: the engine says what is accepted
            labels.append(piece)
        return None, Action(token, tuple(values)), ", ".join(labels)
    return None, Action(token, (text[:TEXT_LIMIT],)), text[:300]


# -- files: the file-consent flow -------------------------------------------------------------

#: An offer to save a file in the person's OneDrive, with Allow and Decline buttons.
FILE_CONSENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
#: A file already in the person's OneDrive, shown as a file in the chat.
FILE_INFO_TYPE = "application/vnd.microsoft.teams.card.file.info"


def file_consent(attachment: Attachment, key: str, *, again: str = "my-data") -> dict[str, Any]:
    """The content of a file-consent card offering ``attachment``.

    Args:
        attachment: The file offered.
        key: Names the pending offer; Teams hands it back when the person accepts or declines.
        again: What the person types to be offered the file again; handed back too, so even
            an offer this process no longer knows can say what to do.
    """
    context = {"key": key, "again": again}
    return {
        "description": f"{attachment.filename}: from mentorbot, for you only.",
        "sizeInBytes": len(attachment.content.encode()),
        "acceptContext": context,
        "declineContext": context,
    }


def file_info(*, unique_id: str, file_type: str) -> dict[str, Any]:
    """The content of a file-info card for a file Teams has just stored."""
    return {"uniqueId": unique_id, "fileType": file_type}


def consent_key(context: Any) -> str | None:
    """The offer's key from the ``context`` of a file-consent answer, or None."""
    if not isinstance(context, dict):
        return None
    key = context.get("key")
    return key if isinstance(key, str) and key else None


#: What a consent card may say to type again: only the bot's own commands.
_AGAIN = re.compile(r"my-data|report [a-z][a-z0-9-]{0,40}")


def consent_again(context: Any) -> str | None:
    """What a file-consent answer says to type for the file again, or None if nothing usable."""
    if not isinstance(context, dict):
        return None
    again = context.get("again")
    return again if isinstance(again, str) and _AGAIN.fullmatch(again) else None


# -- a card as a message activity ---------------------------------------------------------


def card_activity(
    replies: list[Reply], *, pictures: dict[Chart, bytes | None] | None = None
) -> Activity:
    """Replies as one message activity holding an Adaptive Card.

    Args:
        replies: What to say.
        pictures: Reports' charts already drawn (see :func:`draw_charts`); any other chart
            is drawn here, on the caller's thread.
    """
    return card_activity_of(render_card(replies, pictures=pictures), replies)


def card_activity_of(card: Card, replies: list[Reply]) -> Activity:
    """A card already rendered from ``replies``, as a message activity."""
    activity = MessageFactory.attachment(CardAttachment(content_type=CARD_TYPE, content=card))
    first = replies[0] if replies else None
    if first is not None:
        activity.summary = (first.report.title if first.report else first.text)[:200]
    return activity


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
