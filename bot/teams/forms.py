"""A whole form on one Adaptive Card, and reading its submission back.

A form (:class:`~handlers.core.messages.Form`) is one card with an input per question
(``q_<question id>``) and one ``Action.Submit`` whose data names the form and its ref and
carries each choice question's option values, so choices travel by index (labels with
commas are safe). :func:`read_form` turns its submission into a neutral :class:`Submission`.
"""

from __future__ import annotations

from typing import Any

from bot.teams.elements import QUESTION, TEXT_LIMIT, text_block
from handlers import Form, Question, QuestionType, Submission, option_index

FORM = "mb_form"
REF = "mb_ref"
CHOICES = "mb_choices"
INPUT_PREFIX = "q_"


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
            elements.append(text_block(question.help, isSubtle=True, size="Small", spacing="None"))
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


def form_submit(form: Form) -> dict[str, Any]:
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
    """A form submission that is not what :func:`form_submit` sent; its message says so."""


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
