"""Asking one question and reading the answer, typed or clicked.

A typed choice may be the option's number or its label (several, comma-separated, for a
multiple choice). Anything else is re-asked with a sentence that says what is accepted.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from handlers.core.calendar import parse_day
from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Action, Option, Prompt, PromptKind, typeable
from handlers.core.program import Question, QuestionType
from handlers.core.refs import MAX_STORED_NUMBER, MIN_STORED_NUMBER, shown, stored_number

MAX_TEXT_LENGTH = 2000

_KINDS = {
    QuestionType.TEXT: PromptKind.TEXT,
    QuestionType.SINGLE_CHOICE: PromptKind.SINGLE,
    QuestionType.MULTI_CHOICE: PromptKind.MULTI,
    QuestionType.NUMBER: PromptKind.NUMBER,
    QuestionType.SCALE: PromptKind.SCALE,
    QuestionType.DATE: PromptKind.DATE,
}
# Commas and semicolons always separate picks; "and" and "&" only where they are not part
# of an option's own name ("Influence and stakeholder management").
_SEPARATORS = re.compile(r"\s*[,;]\s*")
_JOINERS = re.compile(r"(\s*(?:\band\b|&)\s*)", re.IGNORECASE)
# A whole number with thousands grouped by commas (1,000 or 12,500), not "1,3".
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")
#: How many characters of a wrong answer a re-prompt repeats.
_SHOWN_CHARACTERS = 60
#: The word that keeps an earlier answer where a flow offers one (intake, forms).
KEEP = "keep"

Answer = str | int | list[str]


def prompt_for(question: Question) -> Prompt:
    """The neutral prompt that asks this question."""
    low, high = question.min, question.max
    if question.type is QuestionType.MULTI_CHOICE:
        low = low if low is not None else (1 if question.required else 0)
        high = high if high is not None else len(question.choices)
    return Prompt(
        kind=_KINDS[question.type],
        options=tuple(Option(value=c.value, label=c.label) for c in question.choices),
        min=low,
        max=high,
        optional=not question.required,
        label=question.prompt,
    )


def expectation(question: Question) -> str:
    """One sentence that says what answer this question accepts."""
    prompt = prompt_for(question)
    count = len(prompt.options)
    if question.type is QuestionType.SINGLE_CHOICE:
        return f"Please pick one option: type its number (1 to {count}) or its name."
    if question.type is QuestionType.MULTI_CHOICE:
        low, high = prompt.min or 0, prompt.max or count
        if low == high:
            amount = f"exactly {low}"
        elif low <= 1 and high >= count:
            amount = "one or more"
        elif low <= 1:
            amount = f"up to {high}"
        else:
            amount = f"{low} to {high}"
        return f"Please pick {amount} of the options, comma-separated (e.g. 1, 3)."
    if question.type is QuestionType.SCALE:
        return (
            f"Please answer with a number from {question.min} (lowest) to {question.max} (highest)."
        )
    if question.type is QuestionType.DATE:
        return "Please give a date like 2026-12-03 (or today, yesterday, or a weekday)."
    if question.type is QuestionType.NUMBER:
        if question.min is not None and question.max is not None:
            return f"Please enter a whole number from {question.min} to {question.max}."
        if question.min is not None:
            return f"Please enter a whole number of at least {question.min}."
        if question.max is not None:
            return f"Please enter a whole number no larger than {question.max}."
        return "Please enter a whole number."
    return "Please answer in a few words."


def parse_answer(
    question: Question, *, text: str = "", action: Action | None = None, today: date | None = None
) -> Answer:
    """Read an answer to ``question`` from typed text or a click.

    A date is ``YYYY-MM-DD``; given ``today`` (the person's own), also ``today``,
    ``yesterday`` or a weekday name (the last one, today included).

    Returns:
        The stored value: an option value, a list of them, an int, or text.

    Raises:
        InvalidAnswer: the answer does not fit; its message says what is accepted.
    """
    if action is not None:
        return _from_values(question, list(action.values), today)
    text = text.strip()
    if not text:
        raise InvalidAnswer(f"I didn't catch an answer. {expectation(question)}")
    if text.casefold() == KEEP and not _names_an_option(question, text):
        # A flow that has an earlier answer takes "keep" before asking here; with none, the
        # word is a request that cannot be met, not an answer to store.
        raise InvalidAnswer(f"There's no earlier answer to keep. {expectation(question)}")
    if question.type is QuestionType.TEXT:
        if len(text) > MAX_TEXT_LENGTH:
            raise InvalidAnswer(
                f"That is {len(text):,} characters; please keep it under {MAX_TEXT_LENGTH:,}."
            )
        return text
    if question.type in (QuestionType.NUMBER, QuestionType.SCALE):
        return _number(question, text)
    if question.type is QuestionType.DATE:
        return _date(text, today)
    if question.type is QuestionType.SINGLE_CHOICE:
        return _pick(question, text)
    pieces = [p for p in _SEPARATORS.split(text) if p]
    # "1 3 5" reads as three numbers too.
    if len(pieces) == 1 and re.fullmatch(r"\d+(\s+\d+)+", pieces[0]):
        pieces = pieces[0].split()
    values: list[str] = []
    for piece in pieces:
        for value in _picks(question, piece):
            if value not in values:
                values.append(value)
    return _within_bounds(question, values)


def quoted(text: str) -> str:
    """A wrong answer as a re-prompt repeats it: quoted, and shortened when it is long."""
    if len(text) <= _SHOWN_CHARACTERS:
        return repr(text)
    return repr(text[:_SHOWN_CHARACTERS]) + "…"


def format_answer(question: Question, value: Any) -> str:
    """An answer as a person reads it (labels, not stored values)."""
    if value is None or value == [] or value == "":
        return "(skipped)"
    if isinstance(value, list):
        return ", ".join(question.label_of(str(v)) for v in value)
    if question.is_choice:
        return question.label_of(str(value))
    return str(value)


def _from_values(question: Question, values: list[str], today: date | None) -> Answer:
    if question.is_choice:
        known = {c.value for c in question.choices}
        unknown = [v for v in values if v not in known]
        if unknown:
            raise InvalidAnswer(
                f"{quoted(unknown[0])} is not one of the options. {expectation(question)}"
            )
        if question.type is QuestionType.SINGLE_CHOICE:
            if len(values) != 1:
                raise InvalidAnswer(expectation(question))
            return values[0]
        return _within_bounds(question, list(dict.fromkeys(values)))
    if len(values) != 1:
        raise InvalidAnswer(expectation(question))
    return parse_answer(question, text=values[0], today=today)


def _within_bounds(question: Question, values: list[str]) -> list[str]:
    prompt = prompt_for(question)
    low, high = prompt.min or 0, prompt.max or len(prompt.options)
    if not low <= len(values) <= high:
        chosen = f"You picked {len(values)}. " if values else ""
        raise InvalidAnswer(f"{chosen}{expectation(question)}")
    return values


def _date(text: str, today: date | None) -> str:
    # Date questions ask when something happened: a weekday is the last one.
    if today is None:
        try:
            return date.fromisoformat(text.strip()).isoformat()
        except ValueError:
            raise InvalidAnswer(f"{quoted(text)} is not a date; use the form YYYY-MM-DD.") from None
    day = parse_day(text, today, past=True)
    if day is None:
        raise InvalidAnswer(
            f"I can't read {quoted(text)} as a date; try 2026-12-03, today, yesterday or tuesday."
        )
    return day.isoformat()


def _number(question: Question, text: str) -> int:
    # Commas only group thousands: "1,3" is two numbers (or a typo), never 13.
    cleaned = text.replace(",", "") if _GROUPED.fullmatch(text) else text
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise InvalidAnswer(f"{quoted(text)} is not a whole number. {expectation(question)}")
    number = stored_number(cleaned)
    if number is None:
        # Beyond what a column holds; say the bounds that apply, the question's or ours.
        low = MIN_STORED_NUMBER if question.min is None else max(question.min, MIN_STORED_NUMBER)
        high = MAX_STORED_NUMBER if question.max is None else min(question.max, MAX_STORED_NUMBER)
        raise InvalidAnswer(
            f"{shown(cleaned)} is out of range. "
            f"Please enter a whole number from {low:,} to {high:,}."
        )
    if (question.min is not None and number < question.min) or (
        question.max is not None and number > question.max
    ):
        raise InvalidAnswer(f"{number} is out of range. {expectation(question)}")
    return number


def _pick(question: Question, text: str) -> str:
    choices = question.choices
    piece = text.strip().rstrip(".")
    if piece.isdecimal():
        index = stored_number(piece)
        if index is not None and 1 <= index <= len(choices):
            return choices[index - 1].value
        raise InvalidAnswer(f"There is no option {shown(piece)}. {expectation(question)}")
    wanted = piece.casefold()
    for choice in choices:
        if wanted in (choice.label.casefold(), choice.value.casefold()):
            return choice.value
    starts = [c for c in choices if c.label.casefold().startswith(wanted)]
    if len(starts) == 1 and len(wanted) >= 3:
        return starts[0].value
    raise InvalidAnswer(f"{quoted(piece)} is not one of the options. {expectation(question)}")


def _names_an_option(question: Question, text: str) -> bool:
    wanted = text.strip().casefold()
    return any(wanted in (c.label.casefold(), c.value.casefold()) for c in question.choices)


def _picks(question: Question, piece: str) -> list[str]:
    """The options one comma-separated piece names: one, or several joined by "and"/"&".

    From each word onward the longest run that is an option's exact name wins, so a name
    that contains "and" is one pick while "Coaching and Vision" is two.
    """
    parts = _JOINERS.split(piece)  # names at even indexes, the joiners between them
    names = parts[::2]
    values: list[str] = []
    start = 0
    while start < len(names):
        for end in range(len(names), start, -1):
            run = "".join(parts[2 * start : 2 * end - 1])
            if end == start + 1 or _names_an_option(question, run):
                break
        if run.strip():  # "Coaching and" leaves an empty name behind
            values.append(_pick(question, run))
        start = end
    return values


def pick_option(
    text: str, *, values: tuple[str, ...] | None, options: list[tuple[str, str]]
) -> str:
    """A single choice among (value, label) options, by click, number, value or label."""
    if values is not None:
        if len(values) == 1 and values[0] in {v for v, _ in options}:
            return values[0]
        raise InvalidAnswer("That is not one of the options.")
    word = text.strip().casefold()
    number = stored_number(word) if word.isdecimal() else None
    if number is not None and 1 <= number <= len(options):
        return options[number - 1][0]
    for value, label in options:
        if word in (value.casefold(), label.casefold()):
            return value
    matches = [v for v, label in options if label.casefold().startswith(word) and len(word) >= 3]
    if len(matches) == 1:
        return matches[0]
    raise InvalidAnswer(
        f"Please pick one option: type its number (1 to {len(options)}) or its name."
    )


def check_form(
    questions: list[Question] | tuple[Question, ...],
    values: dict[str, tuple[str, ...]],
    *,
    today: date | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a whole questionnaire submitted at once (a form, not a chat).

    Args:
        questions: The questionnaire.
        values: What was submitted, by question id: the chosen option values, or the typed
            text as a single value; missing or empty when left blank.
        today: The person's today, for dates typed as words.

    Returns:
        The answers as the chat flow would store them, and an error sentence per question
        id that needs fixing (empty when everything is valid).
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in questions:
        # A Submission arrives cleaned already; cleaning again keeps direct callers safe.
        given = tuple(v for v in map(typeable, values.get(question.id, ())) if v.strip())
        if not given:
            if question.required:
                errors[question.id] = "This question is required."
            else:
                answers[question.id] = None
            continue
        try:
            answers[question.id] = parse_answer(question, action=Action("", given), today=today)
        except InvalidAnswer as problem:
            errors[question.id] = str(problem)
    return answers, errors
