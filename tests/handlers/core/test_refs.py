"""Numbers people type: a number no row can have is an unknown number, never a crash.

The inputs are the ones the fuzz tests found (issue 15, item 4): beyond SQLite's 64-bit
integers, beyond PostgreSQL's 32-bit INTEGER, and too long for ``int()`` at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Inbound, Submission
from handlers.core.program import Program, Question, QuestionType
from handlers.core.questions import parse_answer, pick_option
from handlers.core.refs import MAX_ID, NotASelection, Ref, option_index, parse_ref, parse_selection
from storage import ConversationState, Database, Person, SessionLog
from tests.handlers.cycle_world import World
from tests.helpers import rows

#: Too large for SQLite (64-bit), too large for PostgreSQL's INTEGER, and too long to read.
HUGE = "99999999999999999999"
BEYOND_BIGINT = "9223372036854775808"
BEYOND_INT32 = "3000000000"


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


def slack(person: Person, **kwargs: Any) -> Inbound:
    assert person.id is not None
    return Inbound("slack", f"T1/{person.email}", person.id, forms=True, **kwargs)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12", Ref("12", 12)),
        ("#12", Ref("12", 12)),
        (str(MAX_ID), Ref(str(MAX_ID), MAX_ID)),
        (str(MAX_ID + 1), Ref(str(MAX_ID + 1), None)),
        ("0", Ref("0", None)),
        (HUGE, Ref(HUGE, None)),
        ("9" * 5000, Ref("9" * 24 + "…", None)),
        ("١٢", None),
        ("²", None),
        ("-1", None),
        ("x", None),
        ("", None),
    ],
)
def test_a_typed_reference_names_a_row_only_within_the_id_range(
    typed: str, expected: Ref | None
) -> None:
    assert parse_ref(typed) == expected


async def test_accept_with_a_number_beyond_any_id_is_an_unknown_proposal(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    await world.chat(lee).expect(f"accept {HUGE}", f"There's no proposal {HUGE} for you.")
    await world.chat(lee).expect(f"decline #{BEYOND_INT32}", f"no proposal {BEYOND_INT32}")


@pytest.mark.parametrize(
    "command",
    [f"log {BEYOND_BIGINT}", f"confirm-plan {BEYOND_INT32}", f"plan {HUGE}", f"snooze {HUGE}"],
)
async def test_a_pairing_number_beyond_any_id_is_an_unknown_pairing(
    world: World, command: str
) -> None:
    _lee, ana, _pairing = await world.pair()
    number = command.split()[1]
    await world.chat(ana).expect(command, f"There's no pairing {number} for you.")


async def test_a_huge_number_mid_flow_leaves_the_flow_where_it_was(world: World) -> None:
    _lee, ana, _pairing = await world.pair()
    chat = world.chat(ana)
    await chat.expect("log", "When did you meet?")
    reply = await chat.expect(f"confirm-plan {BEYOND_INT32}", "There's no pairing 3000000000")
    assert "When did you meet?" in reply
    await chat.expect("today", "How long was it, in minutes?")
    assert [s.flow for s in await rows(world.database, ConversationState)] == ["form"]


async def test_a_form_naming_a_pairing_beyond_any_id_is_refused_plainly(world: World) -> None:
    _lee, ana, _pairing = await world.pair()
    for ref in (BEYOND_INT32, HUGE):
        values = {"date": ("2026-11-23",), "minutes": ("30",), "format": ("One-on-one",)}
        result = await world.engine.submit(slack(ana, form=Submission("log", ref, values)))
        assert f"There's no pairing {ref} for you." in result.replies[0].text
        survey = await world.engine.submit(slack(ana, form=Submission("feedback", ref, {})))
        assert "I can't find that survey" in survey.replies[0].text
    assert await rows(world.database, SessionLog) == []


async def test_minutes_beyond_what_a_column_holds_are_asked_again(world: World) -> None:
    _lee, ana, _pairing = await world.pair()
    chat = world.chat(ana)
    await chat.send("log")
    await chat.send("today")
    await chat.expect(HUGE, f"{HUGE} is out of range", "How long was it, in minutes?")
    await chat.expect("45", "In what format?")


def test_a_number_answer_is_bounded_by_its_column_when_the_question_is_not() -> None:
    capacity = Question(id="capacity", prompt="How many?", type=QuestionType.NUMBER, min=1)
    assert parse_answer(capacity, text=str(MAX_ID)) == MAX_ID
    for typed in (BEYOND_INT32, "9" * 5000, f"-{BEYOND_INT32}"):
        with pytest.raises(InvalidAnswer, match=r"out of range.*2,147,483,647"):
            parse_answer(capacity, text=typed)


def test_an_option_number_that_is_not_a_plain_number_is_asked_again() -> None:
    options = [("yes", "Yes"), ("no", "No")]
    for typed in ("²", "9" * 5000, HUGE):
        with pytest.raises(InvalidAnswer, match="Please pick one option"):
            pick_option(typed, values=None, options=options)


@pytest.mark.parametrize(
    ("pieces", "count", "chosen"),
    [(["1", " 3 ", ""], 3, [0, 2]), (["2-4", "3"], 5, [1, 2, 3]), (["3-1"], 3, [])],
)
def test_a_selection_reads_numbers_and_ranges_once_each(
    pieces: list[str], count: int, chosen: list[int]
) -> None:
    assert parse_selection(pieces, count) == chosen


@pytest.mark.parametrize(
    ("piece", "number"),
    [
        ("²", None),
        ("١", None),
        ("x", None),
        ("1-x", None),
        ("0", "0"),
        ("4", "4"),
        ("9" * 5000, "9" * 24 + "…"),
        ("1-99999999999999999999", "99999999999999999999"),
    ],
)
def test_a_selection_past_its_items_names_the_number(piece: str, number: str | None) -> None:
    with pytest.raises(NotASelection) as refused:
        parse_selection([piece], 3)
    assert refused.value.number == number


@pytest.mark.parametrize("word", ["²", "١", "-1", "3", "9" * 5000, ""])
def test_an_option_index_is_a_plain_number_below_the_count(word: str) -> None:
    assert option_index(word, 3) is None
    assert option_index("2", 3) == 2
