"""Block Kit rendering of neutral replies, and reading Block Kit answers back.

A single choice is buttons (a static select past five options); a multiple choice is
checkboxes (a multi-select past ten) with a Done button; a text or number question is asked
in words and answered by typing in the DM. Every message has a plain-text fallback.

A whole form (:class:`~handlers.core.messages.Form`) is a modal (:func:`form_modal`). A modal
can only open in answer to a click or a slash command (they carry a ``trigger_id``), so in
a message a form is its text and a button that runs the form's ``reopen`` command.

People a reply introduces (:class:`~handlers.core.messages.PersonProfile`) are a section whose
``fields`` (two columns) hold their short profiles, with a "More about NAME" button each
that opens the rest as a modal (:func:`profile_blocks`, :func:`profile_modal`).

A lead's report (:class:`~handlers.core.figures.Report`) is rendered by bot.slack.reports: a
message per table, each a native table block; its chart and CSVs are files that
bot.slack.files uploads after the messages.

Text a person wrote is shown as written. mrkdwn has no escape for ``*``, ``_``, ``~`` or a
backtick, so a reply's words are ``plain_text`` (:func:`_words`) and its label/value pairs
a ``rich_text`` block (:func:`_pairs`) whose bold labels are a style, not markup; the
fallback ``text`` (mrkdwn too) has ``&``, ``<`` and ``>`` escaped, as Slack asks, so a
typed ``<!channel>`` notifies no one. mrkdwn is kept for our own wording.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from handlers import Form, Option, PersonProfile, Prompt, PromptKind, Question, QuestionType, Reply

Block = dict[str, Any]

PROMPT_BLOCK = "mb_prompt"
CHOICE = "mb_choice"
SELECT = "mb_select"
MULTI = "mb_multi"
DONE = "mb_done"
COMMAND = "mb_cmd"
FORM = "mb_form"
#: The "More about NAME" button under profiles: it opens the rest of one profile.
MORE = "mb_more"
FORM_CALLBACK = "mb_intake_form"
#: The callback id of every modal showing a neutral form (the intake has its own).
FORM_VIEW = "mb_form_view"
OPEN_FORM_LABEL = "Open the form"
MODAL_TEXT_LIMIT = 24
MAX_BUTTONS = 5
MAX_CHECKBOXES = 10
SECTION_LIMIT = 3000
#: Most characters of a message's fallback text (Slack advises staying under 4,000).
FALLBACK_LIMIT = 3900
#: Slack's most blocks in one message.
MESSAGE_BLOCKS = 50
#: Slack's most fields in one section, and characters in one field.
SECTION_FIELDS = 10
FIELD_LIMIT = 2000
#: Slack's most characters in a button's value.
BUTTON_VALUE_LIMIT = 2000
#: Slack's most elements in one context block.
CONTEXT_ELEMENTS = 10


def escape(text: str) -> str:
    """Text safe to put in mrkdwn (Slack reads &, < and > as markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(slack_text: str) -> str:
    """What a person typed, from Slack's message text.

    Slack escapes &, < and > and wraps links, emails and mentions in <...|label>; the
    engine should see "R&D" and "ana@example.com", not "R&amp;D" and "<mailto:...>".
    """

    def label(match: re.Match[str]) -> str:
        target, shown = match.group(1), match.group(2)
        if shown:
            return shown
        return target.removeprefix("mailto:")

    text = _LINK.sub(label, slack_text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def _words(text: str) -> list[Block]:
    """A reply's words as plain-text sections: nothing in them is read as markup."""
    chunks = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or [" "]
    return [
        {"type": "section", "text": {"type": "plain_text", "text": c, "emoji": True}}
        for c in chunks
    ]


def _pairs(fields: tuple[tuple[str, str], ...]) -> list[Block]:
    """Label/value pairs as rich text: each label in bold, its value under it, both literal.

    A label can be what a person wrote (a milestone's objective), so neither goes through
    mrkdwn. A block holds about :data:`SECTION_LIMIT` characters; more pairs start another.
    """
    blocks: list[Block] = []
    elements: list[dict[str, Any]] = []
    used = 0
    for label, value in fields:
        label, value = _cut(label or " ", FIELD_LIMIT), _cut(value, FIELD_LIMIT)
        if elements and used + len(label) + len(value) > SECTION_LIMIT:
            blocks.append(_rich_text(elements))
            elements, used = [], 0
        if elements:
            elements.append({"type": "text", "text": "\n"})
        elements.append({"type": "text", "text": label, "style": {"bold": True}})
        elements.append({"type": "text", "text": f"\n{value}"})
        used += len(label) + len(value) + 2
    if elements:
        blocks.append(_rich_text(elements))
    return blocks


def _rich_text(elements: list[dict[str, Any]]) -> Block:
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def profile_blocks(profiles: tuple[PersonProfile, ...]) -> list[Block]:
    """People side by side, each in a few lines; a "More about NAME" button opens the rest.

    A section's ``fields`` show in two columns: one field a person, their name then a line
    a fact, in plain text (what they wrote stays literal). The rest of a profile travels
    in its button's value and opens as a modal (:func:`profile_modal`): a message cannot
    fold anything away, and a modal can only open in answer to a click.
    """
    fields = [
        {"type": "plain_text", "text": _cut(_short_profile(profile), FIELD_LIMIT), "emoji": True}
        for profile in profiles
    ]
    found: list[Block] = [{"type": "section", "fields": fields}]
    buttons = [
        {
            "type": "button",
            "action_id": f"{MORE}:{i}",
            "text": _plain(f"More about {profile.heading}"),
            "value": more_value(profile),
        }
        for i, profile in enumerate(profiles)
        if profile.more
    ]
    if buttons:
        found.append({"type": "actions", "elements": buttons})
    return found


def _short_profile(profile: PersonProfile) -> str:
    return "\n".join([profile.heading, *(f"{k}: {v}" for k, v in profile.short)])


def more_value(profile: PersonProfile) -> str:
    """The rest of a profile as a button's value: JSON within Slack's 2,000 characters.

    Over that, the longest value is cut (with "…") until it fits; a profile's values are
    short answers, so this only trims an unusually long bio.
    """
    facts = [[label, value] for label, value in profile.more]
    while True:
        value = json.dumps({"heading": profile.heading, "facts": facts}, ensure_ascii=False)
        if len(value) <= BUTTON_VALUE_LIMIT:
            return value
        longest = max(facts, key=lambda fact: len(fact[1]), default=None)
        if longest is None or len(longest[1]) <= 1:
            return json.dumps({"heading": _cut(profile.heading, 200), "facts": []})
        longest[1] = _cut(longest[1], max(1, len(longest[1]) - (len(value) - BUTTON_VALUE_LIMIT)))


def profile_modal(value: str) -> dict[str, Any]:
    """The modal a "More about NAME" button opens: the rest of that person's profile."""
    try:
        shown = json.loads(value)
        heading = str(shown["heading"])
        facts = tuple((str(label), str(text)) for label, text in shown["facts"])
    except (ValueError, KeyError, TypeError):
        return notice_modal("Profile", "This profile can't be shown any more.")
    return {
        "type": "modal",
        "title": _plain("Profile", MODAL_TEXT_LIMIT),
        "close": _plain("Close"),
        "blocks": [
            {"type": "header", "text": _plain(f"More about {heading}", 150)},
            *(_pairs(facts) or _words("Nothing more to show.")),
        ],
    }


def encode(token: str, value: str) -> str:
    """An option's value carrying the token of the prompt it answers."""
    return f"{token}|{value}"


def decode(raw: str) -> tuple[str, str]:
    """The (token, value) that :func:`encode` joined."""
    token, _, value = raw.partition("|")
    return token, value


def _options(prompt: Prompt) -> list[dict[str, Any]]:
    return [
        {"text": _plain(option.label), "value": encode(prompt.token, option.value)}
        for option in prompt.options
    ]


def prompt_blocks(prompt: Prompt) -> list[Block]:
    """The interactive part of a question."""
    if prompt.kind is PromptKind.SINGLE and len(prompt.options) <= MAX_BUTTONS:
        buttons = [
            {
                "type": "button",
                "action_id": f"{CHOICE}:{i}",
                "text": _plain(option.label),
                "value": encode(prompt.token, option.value),
            }
            for i, option in enumerate(prompt.options)
        ]
        return [{"type": "actions", "block_id": PROMPT_BLOCK, "elements": buttons}]
    if prompt.kind is PromptKind.SINGLE:
        select = {
            "type": "static_select",
            "action_id": SELECT,
            "placeholder": _plain("Choose one"),
            "options": _options(prompt),
        }
        return [{"type": "actions", "block_id": PROMPT_BLOCK, "elements": [select]}]
    if prompt.kind is PromptKind.MULTI:
        if len(prompt.options) <= MAX_CHECKBOXES:
            chooser: dict[str, Any] = {
                "type": "checkboxes",
                "action_id": MULTI,
                "options": _options(prompt),
            }
        else:
            chooser = {
                "type": "multi_static_select",
                "action_id": MULTI,
                "placeholder": _plain("Choose"),
                "options": _options(prompt),
            }
            if prompt.max:
                chooser["max_selected_items"] = prompt.max
        done = {
            "type": "button",
            "action_id": DONE,
            "text": _plain("Done"),
            "style": "primary",
            "value": prompt.token,
        }
        return [{"type": "actions", "block_id": PROMPT_BLOCK, "elements": [chooser, done]}]
    how = {
        PromptKind.NUMBER: "a number",
        PromptKind.SCALE: "a number",
        PromptKind.DATE: "a date",
    }.get(prompt.kind, "your answer")
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"Type {how} here."}]}]


def render_message(replies: list[Reply]) -> tuple[str, list[Block]]:
    """Replies as one Slack message: its fallback text and its blocks."""
    blocks: list[Block] = []
    for reply in replies:
        # A report is rendered by bot.slack.reports; here it would be its plain text.
        if reply.title:
            blocks.append({"type": "header", "text": _plain(reply.title, 150)})
        blocks.extend(_words(reply.text))
        if reply.fields:
            blocks.extend(_pairs(reply.fields))
        if reply.profiles:
            blocks.extend(profile_blocks(reply.profiles))
        if reply.prompt is not None:
            blocks.extend(prompt_blocks(reply.prompt))
        buttons = reply.actions
        if reply.form is not None and reply.form.reopen:
            # A message cannot hold the form; its button runs the command that opens it,
            # and that click carries the trigger_id a modal needs.
            buttons = (Option(reply.form.reopen, OPEN_FORM_LABEL), *buttons)
        if buttons:
            blocks.append(command_buttons(buttons))
        if reply.hint:
            hint = _plain(reply.hint, SECTION_LIMIT)
            blocks.append({"type": "context", "elements": [hint]})
    # The fallback is mrkdwn: escaped, or a typed <!channel> would notify everyone.
    fallback = escape("\n\n".join(_fallback(r) for r in replies))
    return _cut_escaped(fallback, FALLBACK_LIMIT), blocks[:MESSAGE_BLOCKS]


def _cut_escaped(text: str, limit: int) -> str:
    """Escaped text cut to ``limit`` characters, never inside an ``&amp;``-style entity."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    amp = cut.rfind("&", limit - len("&amp;"))
    return cut[:amp] if amp != -1 and ";" not in cut[amp:] else cut


def _fallback(reply: Reply) -> str:
    lines = [reply.text, *(f"{label}: {value}" for label, value in reply.fields)]
    for profile in reply.profiles:
        # Notifications and screen readers read the fallback: the whole profile.
        lines.append(profile.heading)
        lines.extend(f"{label}: {value}" for label, value in profile.whole())
    if reply.prompt is not None:
        lines.extend(f"{i}. {o.label}" for i, o in enumerate(reply.prompt.options, start=1))
    return "\n".join(lines)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def command_buttons(actions: tuple[Option, ...]) -> Block:
    """Buttons that run commands as if typed."""
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": f"{COMMAND}:{i}",
                "text": _plain(option.label),
                "value": option.value,
            }
            for i, option in enumerate(actions)
        ],
    }


def answered(blocks: list[Block], chosen: str) -> list[Block]:
    """A question message after its answer: the buttons replaced by what was chosen."""
    note = {"type": "context", "elements": [_plain(f"✓ {chosen}", SECTION_LIMIT)]}
    kept = [b for b in blocks if b.get("block_id") != PROMPT_BLOCK]
    at = next((i for i, b in enumerate(blocks) if b.get("block_id") == PROMPT_BLOCK), len(kept))
    return [*kept[:at], note, *kept[at:]]


def form_offer(refs: list[tuple[str, str]]) -> list[Block]:
    """The buttons that open the intake as a form instead of a chat.

    Args:
        refs: (the form's ref, ``PROGRAM:ROLE``; the role as people read it) per button.
    """
    buttons = [
        {
            "type": "button",
            "action_id": f"{FORM}:{ref}",
            "text": _plain(f"Answer as a form ({role})"),
            "value": ref,
        }
        for ref, role in refs
    ]
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "I've sent the first question to our DM. Prefer one form?",
            },
        },
        {"type": "actions", "elements": buttons},
    ]


# -- the intake as a modal ------------------------------------------------------------------


def block_id(question: Question) -> str:
    """The input block of a question in the modal."""
    return input_block_id(question.id)


def input_block_id(question_id: str) -> str:
    """The input block of the question with this id (errors are answered by block id)."""
    return f"q_{question_id}"


def _element(question: Question, current: Any) -> dict[str, Any]:
    options = [{"text": _plain(c.label), "value": c.value} for c in question.choices]
    chosen = [
        o for o in options if o["value"] in (current if isinstance(current, list) else [current])
    ]
    if question.type is QuestionType.TEXT:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "multiline": True,
            "max_length": 2000,
        }
        if isinstance(current, str) and current:
            element["initial_value"] = current
    elif question.type in (QuestionType.NUMBER, QuestionType.SCALE):
        element = {"type": "number_input", "is_decimal_allowed": False}
        if question.min is not None:
            element["min_value"] = str(question.min)
        if question.max is not None:
            element["max_value"] = str(question.max)
        if isinstance(current, int):
            element["initial_value"] = str(current)
    elif question.type is QuestionType.DATE:
        element = {"type": "datepicker", "placeholder": _plain("Pick a date")}
        if isinstance(current, str) and _is_day(current):
            element["initial_date"] = current
    elif question.type is QuestionType.SINGLE_CHOICE:
        kind = "radio_buttons" if len(options) <= MAX_CHECKBOXES else "static_select"
        element = {"type": kind, "options": options}
        if chosen:
            element["initial_option"] = chosen[0]
    else:
        kind = "checkboxes" if len(options) <= MAX_CHECKBOXES else "multi_static_select"
        element = {"type": kind, "options": options}
        if chosen:
            element["initial_options"] = chosen
    element["action_id"] = "value"
    return element


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10  # Slack takes YYYY-MM-DD only


def _input_block(question: Question, current: Any) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id(question),
        "optional": not question.required,
        "label": _plain(question.prompt, 2000),
        "element": _element(question, current),
    }
    if question.help:
        block["hint"] = _plain(question.help, 2000)
    return block


def intake_modal(
    *,
    ref: str,
    role: str,
    questions: list[Question],
    answers: dict[str, Any],
    program_name: str,
) -> dict[str, Any]:
    """The whole questionnaire of a role as one modal, prefilled with earlier answers."""
    blocks: list[Block] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(program_name)}]}
    ]
    blocks.extend(_input_block(question, answers.get(question.id)) for question in questions)
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": ref,
        "title": _plain(f"Join as a {role}", 24),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def submitted_values(view: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Every answer a submitted modal holds, by question id (from its ``q_`` blocks).

    Anything malformed reads as left blank; checking the answers is the engine's job.
    """
    state = view.get("state")
    state = state.get("values") if isinstance(state, dict) else None
    if not isinstance(state, dict):
        return {}
    values: dict[str, tuple[str, ...]] = {}
    for block, fields in state.items():
        if not isinstance(block, str) or not block.startswith("q_") or not isinstance(fields, dict):
            continue
        field = fields.get("value")
        if isinstance(field, dict):
            values[block.removeprefix("q_")] = _field_values(field)
    return values


def _field_values(field: dict[str, Any]) -> tuple[str, ...]:
    """The values one input element sent: chosen option values, a date or typed text."""
    if "selected_options" in field:
        options = field["selected_options"]
        if not isinstance(options, list):
            return ()
        return tuple(str(o.get("value", "")) for o in options if isinstance(o, dict))
    if "selected_option" in field:
        option = field["selected_option"]
        return (str(option.get("value", "")),) if isinstance(option, dict) else ()
    if "selected_date" in field:
        day = field["selected_date"]
        return (day,) if isinstance(day, str) else ()
    value = field.get("value")
    return (str(value),) if isinstance(value, str | int) and not isinstance(value, bool) else ()


# -- neutral forms as modals ----------------------------------------------------------------


def form_modal(form: Form) -> dict[str, Any]:
    """A form as a modal: its intro, then one input per question, prefilled from ``initial``.

    The form's name and ref travel in ``private_metadata`` (see :func:`read_form_metadata`).
    """
    # The intro names the other person (the directory's words): plain text, as a reply's.
    blocks: list[Block] = _words(form.intro) if form.intro else []
    blocks.extend(_input_block(q, form.initial_of(q.id)) for q in form.questions)
    return {
        "type": "modal",
        "callback_id": FORM_VIEW,
        "private_metadata": json.dumps({"form": form.name, "ref": form.ref}),
        "title": _plain(form.title, MODAL_TEXT_LIMIT),
        "submit": _plain(form.submit or "Save", MODAL_TEXT_LIMIT),
        "close": _plain("Cancel"),
        "blocks": blocks[:100],
    }


def read_form_metadata(raw: Any) -> tuple[str, str] | None:
    """The (form name, ref) :func:`form_modal` put in a view, or None if it is not that."""
    if not isinstance(raw, str):
        return None
    try:
        metadata = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(metadata, dict):
        return None
    name, ref = metadata.get("form"), metadata.get("ref")
    if not isinstance(name, str) or not name or not isinstance(ref, str):
        return None
    return name, ref


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (what a broken or outdated form is replaced by)."""
    return {
        "type": "modal",
        "title": _plain(title, MODAL_TEXT_LIMIT),
        "close": _plain("Close"),
        "blocks": _words(text),
    }
