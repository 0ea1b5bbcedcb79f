"""Reading typed and clicked answers, and the re-prompts for bad ones."""

from __future__ import annotations

import pytest

from handlers import Action, InvalidAnswer
from handlers.core.program import Program, Question
from handlers.core.questions import expectation, format_answer, parse_answer, prompt_for


def question(program: Program, role: str, qid: str) -> Question:
    questions = program.intake.mentee if role == "mentee" else program.intake.mentor
    return next(q for q in questions if q.id == qid)


@pytest.fixture
def competencies(program: Program) -> Question:
    return question(program, "mentee", "competencies")


@pytest.fixture
def style(program: Program) -> Question:
    return question(program, "mentee", "learning_style")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1", "Talking things through"),
        ("talking things through", "Talking things through"),
        ("Watch", "Watching someone do it"),
        ("  4. ", "Reading and reflecting"),
    ],
)
def test_single_choice_by_number_label_or_unique_start(
    style: Question, typed: str, expected: str
) -> None:
    assert parse_answer(style, text=typed) == expected


def test_single_choice_rejects_a_too_short_prefix(style: Question) -> None:
    with pytest.raises(InvalidAnswer, match="'ta' is not one of the options"):
        parse_answer(style, text="ta")


@pytest.mark.parametrize(
    "typed",
    [
        "1, 4",
        "1,4",
        "1 4",
        "Strategic judgment and Coaching",
        "strategic-judgment; coaching",
        "1, 4, 1",
    ],
)
def test_multi_choice_accepts_numbers_labels_and_separators(
    competencies: Question, typed: str
) -> None:
    assert parse_answer(competencies, text=typed) == ["strategic-judgment", "coaching"]


def test_multi_choice_over_the_maximum_says_how_many(competencies: Question) -> None:
    with pytest.raises(InvalidAnswer) as raised:
        parse_answer(competencies, text="1,2,3,4")
    assert str(raised.value) == (
        "You picked 4. Please pick up to 3 of the options, comma-separated (e.g. 1, 3)."
    )


def test_clicked_values_are_checked_against_the_options(competencies: Question) -> None:
    assert parse_answer(competencies, action=Action("t", ("coaching",))) == ["coaching"]
    with pytest.raises(InvalidAnswer, match="'budgeting' is not one of the options"):
        parse_answer(competencies, action=Action("t", ("budgeting",)))


def test_number_accepts_thousands_separators_and_bounds(program: Program) -> None:
    hours = question(program, "mentee", "hours_per_month")
    # A comma groups thousands; "1,0" is not 10.
    with pytest.raises(InvalidAnswer, match=r"'1,0' is not a whole number"):
        parse_answer(hours, text="1,0")
    with pytest.raises(InvalidAnswer, match=r"^1000 is out of range"):
        parse_answer(hours, text="1,000")
    with pytest.raises(
        InvalidAnswer, match=r"0 is out of range\. Please enter a whole number from 1 to 20\."
    ):
        parse_answer(hours, text="0")
    with pytest.raises(InvalidAnswer, match=r"'2\.5' is not a whole number"):
        parse_answer(hours, text="2.5")


def test_text_answers_have_a_length_limit(program: Program) -> None:
    goals = question(program, "mentee", "goals")
    assert parse_answer(goals, text="  Lead a team  ") == "Lead a team"
    with pytest.raises(InvalidAnswer, match="please keep it under 2,000"):
        parse_answer(goals, text="x" * 2001)


def test_an_empty_answer_is_reasked(program: Program) -> None:
    goals = question(program, "mentee", "goals")
    with pytest.raises(InvalidAnswer, match="I didn't catch an answer"):
        parse_answer(goals, text="   ")


def test_scale_questions_say_which_end_is_which() -> None:
    scale = Question(id="useful", prompt="How useful?", type="scale", min=1, max=5)  # type: ignore[arg-type]
    assert expectation(scale) == "Please answer with a number from 1 (lowest) to 5 (highest)."
    assert parse_answer(scale, text="5") == 5
    with pytest.raises(InvalidAnswer):
        parse_answer(scale, text="6")


def test_prompt_bounds_of_a_multi_choice(competencies: Question) -> None:
    prompt = prompt_for(competencies)
    assert (prompt.min, prompt.max, len(prompt.options)) == (1, 3, 10)
    assert prompt.options[0].label == "Strategic judgment"


def test_answers_are_shown_with_labels(competencies: Question) -> None:
    assert format_answer(competencies, ["coaching", "vision"]) == "Coaching, Communicating a vision"
    assert format_answer(competencies, None) == "(skipped)"
