"""Block Kit rendering of neutral replies, and reading Block Kit answers back.

A single choice is buttons (a static select past five options); a multiple choice is
checkboxes (a multi-select past ten) with a Done button; a text or number question is asked
in words and answered by typing in the DM. Every message has a plain-text fallback.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.messages import Option, Prompt, PromptKind, Reply
from handlers.program import Question, QuestionType

Block = dict[str, Any]

PROMPT_BLOCK = "mb_prompt"
CHOICE = "mb_choice"
SELECT = "mb_select"
MULTI = "mb_multi"
DONE = "mb_done"
COMMAND = "mb_cmd"
FORM = "mb_form"
FORM_CALLBACK = "mb_intake_form"
MAX_BUTTONS = 5
MAX_CHECKBOXES = 10
SECTION_LIMIT = 3000


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


def _section(text: str) -> list[Block]:
    text = escape(text)
    chunks = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or [" "]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


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
    how = "a number" if prompt.kind is PromptKind.NUMBER else "your answer"
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"Type {how} here."}]}]


def render_message(replies: list[Reply]) -> tuple[str, list[Block]]:
    """Replies as one Slack message: its fallback text and its blocks."""
    blocks: list[Block] = []
    for reply in replies:
        if reply.title:
            blocks.append({"type": "header", "text": _plain(reply.title, 150)})
        blocks.extend(_section(reply.text))
        if reply.fields:
            lines = "\n".join(
                f"*{escape(label)}*\n{escape(value)}" for label, value in reply.fields
            )
            blocks.extend(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": lines[i : i + SECTION_LIMIT]},
                }
                for i in range(0, len(lines), SECTION_LIMIT)
            )
        if reply.prompt is not None:
            blocks.extend(prompt_blocks(reply.prompt))
        if reply.actions:
            blocks.append(command_buttons(reply.actions))
        if reply.hint:
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(reply.hint)}]}
            )
    fallback = "\n\n".join(_fallback(r) for r in replies)
    return fallback[:3900], blocks[:50]


def _fallback(reply: Reply) -> str:
    lines = [reply.text, *(f"{label}: {value}" for label, value in reply.fields)]
    if reply.prompt is not None:
        lines.extend(f"{i}. {o.label}" for i, o in enumerate(reply.prompt.options, start=1))
    return "\n".join(lines)


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
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"✓ {escape(chosen)}"}]}
    kept = [b for b in blocks if b.get("block_id") != PROMPT_BLOCK]
    at = next((i for i, b in enumerate(blocks) if b.get("block_id") == PROMPT_BLOCK), len(kept))
    return [*kept[:at], note, *kept[at:]]


def form_offer(roles: list[str]) -> list[Block]:
    """The buttons that open the intake as a form instead of a chat."""
    buttons = [
        {
            "type": "button",
            "action_id": f"{FORM}:{role}",
            "text": _plain(f"Answer as a form ({role})"),
            "value": role,
        }
        for role in roles
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
    return f"q_{question.id}"


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


def intake_modal(
    *, role: str, questions: list[Question], answers: dict[str, Any], program_name: str
) -> dict[str, Any]:
    """The whole questionnaire of a role as one modal, prefilled with earlier answers."""
    blocks: list[Block] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(program_name)}]}
    ]
    for question in questions:
        block: Block = {
            "type": "input",
            "block_id": block_id(question),
            "optional": not question.required,
            "label": _plain(question.prompt, 2000),
            "element": _element(question, answers.get(question.id)),
        }
        if question.help:
            block["hint"] = _plain(question.help, 2000)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": role,
        "title": _plain(f"Join as a {role}", 24),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def form_values(view: dict[str, Any], questions: list[Question]) -> dict[str, tuple[str, ...]]:
    """What a submitted modal holds, by question id (see handlers.intake.check_form)."""
    state = view.get("state", {}).get("values", {})
    values: dict[str, tuple[str, ...]] = {}
    for question in questions:
        field = state.get(block_id(question), {}).get("value") or {}
        if not isinstance(field, dict):
            continue
        if "selected_options" in field:
            values[question.id] = tuple(
                str(o.get("value", ""))
                for o in field["selected_options"] or ()
                if isinstance(o, dict)
            )
        elif "selected_option" in field:
            option = field["selected_option"] or {}
            values[question.id] = (
                (str(option.get("value", "")),) if isinstance(option, dict) else ()
            )
        elif field.get("value") is not None:
            values[question.id] = (str(field["value"]),)
    return values
