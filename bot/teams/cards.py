"""Adaptive Cards rendering of neutral replies, and reading card submissions back.

A single choice is an expanded ``Input.ChoiceSet``, a multiple choice a multi-select one,
a text question an ``Input.Text``, a number an ``Input.Number``; each with an
``Action.Submit`` whose data carries the prompt's token (a stale card is refused) and the
options (choices travel by index, so labels with commas are safe). ``fallbackText`` is
the plain-text rendering for clients without cards.
"""

from __future__ import annotations

from typing import Any

from bot.render_text import render_all
from handlers.messages import Action, Prompt, PromptKind, Reply

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ANSWER = "answer"
TOKEN = "mb_token"
OPTIONS = "mb_options"
QUESTION = "mb_question"
KIND = "mb_kind"
COMMAND = "mb_command"
TEXT_LIMIT = 2000


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _input(prompt: Prompt) -> dict[str, Any]:
    if prompt.kind in (PromptKind.SINGLE, PromptKind.MULTI):
        choice: dict[str, Any] = {
            "type": "Input.ChoiceSet",
            "id": ANSWER,
            "style": "expanded",
            "isMultiSelect": prompt.kind is PromptKind.MULTI,
            "choices": [{"title": o.label, "value": str(i)} for i, o in enumerate(prompt.options)],
            "isRequired": not prompt.optional,
        }
        if prompt.kind is PromptKind.SINGLE:
            choice["errorMessage"] = "Please pick one option."
        return choice
    if prompt.kind is PromptKind.NUMBER:
        number: dict[str, Any] = {
            "type": "Input.Number",
            "id": ANSWER,
            "isRequired": not prompt.optional,
        }
        if prompt.min is not None:
            number["min"] = prompt.min
        if prompt.max is not None:
            number["max"] = prompt.max
        return number
    return {
        "type": "Input.Text",
        "id": ANSWER,
        "isMultiline": True,
        "maxLength": TEXT_LIMIT,
        "isRequired": not prompt.optional,
        "placeholder": "Type your answer",
    }


def render_card(replies: list[Reply]) -> Card:
    """Replies as one Adaptive Card."""
    body: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for reply in replies:
        if reply.title:
            body.append(_text(reply.title, weight="Bolder", size="Medium"))
        body.append(_text(reply.text))
        if reply.fields:
            body.append(
                {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in reply.fields]}
            )
        if reply.prompt is not None:
            prompt = reply.prompt
            body.append(_input(prompt))
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
        if reply.hint:
            body.append(_text(reply.hint, isSubtle=True, size="Small"))
        actions.extend(
            {"type": "Action.Submit", "title": o.label, "data": {COMMAND: o.value}}
            for o in reply.actions
        )
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.4",
        "body": body,
        "fallbackText": render_all(replies),
    }
    if actions:
        card["actions"] = actions
    return card


def answered_card(question: str, chosen: str) -> Card:
    """What an answered question's card becomes: the question and the answer, no inputs."""
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.4",
        "body": [_text(question), _text(f"✓ {chosen}", isSubtle=True)],
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
            if piece.isdigit() and int(piece) < len(options):
                option = options[int(piece)]
                if isinstance(option, list) and len(option) == 2:
                    values.append(str(option[0]))
                    labels.append(str(option[1]))
                    continue
            values.append(piece)  # not an option: the engine says what is accepted
            labels.append(piece)
        return None, Action(token, tuple(values)), ", ".join(labels)
    return None, Action(token, (text[:TEXT_LIMIT],)), text[:300]
