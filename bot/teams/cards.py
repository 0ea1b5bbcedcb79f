"""Adaptive Cards rendering of neutral replies, and reading card submissions back.

A single choice is an expanded ``Input.ChoiceSet``, a multiple choice a multi-select one,
a text question an ``Input.Text``, a number an ``Input.Number``; each with an
``Action.Submit`` whose data carries the prompt's token (a stale card is refused) and the
options (choices travel by index, so labels with commas are safe). ``fallbackText`` is
the plain-text rendering for clients without cards.

A whole form (:class:`~handlers.messages.Form`) is one card with an input per question
(``q_<question id>``) and one ``Action.Submit`` whose data names the form and its ref and
carries each choice question's option values, so choices travel by index here too.
:func:`read_form` turns its submission into a neutral :class:`Submission`.
"""

from __future__ import annotations

from typing import Any

from bot.render_text import render_all
from handlers.messages import Action, Form, Prompt, PromptKind, Reply, Submission
from handlers.program import Question, QuestionType

Card = dict[str, Any]
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
        if reply.form is not None:
            body.extend(form_inputs(reply.form))
            actions.append(_form_submit(reply.form))
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
                str(options[int(piece)]) if piece.isdigit() and int(piece) < len(options) else piece
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
