"""Adaptive Cards rendering of neutral replies, and reading chat questions' answers back.

A single choice is an expanded ``Input.ChoiceSet``, a multiple choice a multi-select one,
a text question an ``Input.Text``, a number an ``Input.Number``; each with an
``Action.Submit`` whose data carries the prompt's token (a stale card is refused) and the
options (choices travel by index, so labels with commas are safe). ``fallbackText`` is
the plain-text rendering for clients without cards. :func:`read_submission` reads the
answer back; :func:`answered_card` is what the card becomes once answered.

People a reply introduces (:class:`~handlers.core.messages.PersonProfile`) are a ``ColumnSet``,
a column each with their short profile, and an ``Action.ShowCard`` "More" that unfolds the
rest in the same columns (:func:`profile_columns`, :func:`more_about`).

The rest of a card has a module of its own: a lead's report (bot.teams.reports), a whole
form and its submission (bot.teams.forms), all built from bot.teams.elements (text blocks,
fact sets, the Markdown escaping that keeps what people wrote as plain text). Teams
refuses a message over about 100 KB (counted without base64 images), so a report's rows
are cut to fit within :data:`CARD_BUDGET` (:func:`fitted_card`); the CSV of a table not
shown whole is offered after the card (bot.teams.files).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity
from botbuilder.schema import Attachment as CardAttachment

from bot.render_text import render_all
from bot.teams.elements import (
    CARD_TYPE,
    QUESTION,
    SCHEMA,
    TEXT_LIMIT,
    VERSION,
    Card,
    fact_set,
    said_block,
)
from bot.teams.forms import form_inputs, form_submit
from bot.teams.reports import REPORT_VERSION, TABLE_ROWS, report_elements, table_views
from handlers import (
    Action,
    Attachment,
    Chart,
    PersonProfile,
    Prompt,
    PromptKind,
    Reply,
    option_index,
)

ANSWER = "answer"
TOKEN = "mb_token"
OPTIONS = "mb_options"
KIND = "mb_kind"
COMMAND = "mb_command"

#: Most characters of a card's JSON, not counting data-URI images: Teams counts a message
#: as UTF-16 (two bytes a character) and advises staying under 80 KB.
CARD_BUDGET = 38_000
#: Characters of a report's plain text in the card's fallback.
FALLBACK_REPORT = 3000
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
                body.append(said_block(reply.title, weight="Bolder", size="Medium"))
            if before.strip():
                body.append(said_block(before))
        if reply.fields:
            body.append(fact_set(reply.fields))
        if reply.profiles:
            body.append(profile_columns(reply.profiles))
        if reply.prompt is not None:
            prompt = reply.prompt
            body.append(_input(prompt, question))
            if after.strip():
                body.append(said_block(after, isSubtle=True, size="Small", spacing="Small"))
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
            actions.append(form_submit(reply.form))
        if reply.hint:
            body.append(said_block(reply.hint, isSubtle=True, size="Small"))
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
                    said_block(heading, weight="Bolder"),
                    *([fact_set(facts) | {"spacing": "Small"}] if facts else []),
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


def answered_card(question: str, chosen: str) -> Card:
    """What an answered question's card becomes: the question and the answer, no inputs."""
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.4",
        "body": [said_block(question), said_block(f"✓ {chosen}", isSubtle=True)],
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


# -- a card as a message activity ---------------------------------------------------------


def card_activity(
    replies: list[Reply], *, pictures: dict[Chart, bytes | None] | None = None
) -> Activity:
    """Replies as one message activity holding an Adaptive Card.

    Args:
        replies: What to say.
        pictures: Reports' charts already drawn (see :func:`bot.teams.reports.draw_charts`);
            any other chart is drawn here, on the caller's thread.
    """
    return card_activity_of(render_card(replies, pictures=pictures), replies)


def card_activity_of(card: Card, replies: list[Reply]) -> Activity:
    """A card already rendered from ``replies``, as a message activity."""
    activity = MessageFactory.attachment(CardAttachment(content_type=CARD_TYPE, content=card))
    first = replies[0] if replies else None
    if first is not None:
        activity.summary = (first.report.title if first.report else first.text)[:200]
    return activity
