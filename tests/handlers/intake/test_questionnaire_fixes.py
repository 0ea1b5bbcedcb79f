"""Questionnaires read what people mean: names with "and", grouped numbers, keep, back,
long wrong answers, and command words typed in the middle of a flow."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers import build_engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import ConversationState, Database, Milestone
from tests.handlers.cycle_world import World
from tests.helpers import MENTEE_ANSWERS, Chat, FakeClock, make_person, rows


@pytest.fixture
async def chat(database: Database, program: Program) -> Chat:
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    person = await make_person(database, "ana.lopez@example.com", name="Ana Lopez")
    return Chat(engine, person)


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def answers_so_far(database: Database) -> dict[str, object]:
    async with database.session() as session:
        [state] = (await session.exec(select(ConversationState))).all()
    return dict(state.data.get("answers", {}))


async def test_an_option_named_with_and_is_picked_by_its_exact_name(
    chat: Chat, database: Database
) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    await chat.expect("Influence and stakeholder management", "Question 3 of 6")
    assert (await answers_so_far(database))["competencies"] == ["influence"]


async def test_and_between_two_option_names_still_picks_both(
    chat: Chat, database: Database
) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    await chat.expect("Coaching and Influence and stakeholder management", "Question 3 of 6")
    assert (await answers_so_far(database))["competencies"] == ["coaching", "influence"]


async def test_a_comma_between_digits_at_a_number_question_is_refused(
    chat: Chat, database: Database
) -> None:
    await chat.send("join mentee")
    for answer in MENTEE_ANSWERS[:4]:
        await chat.send(answer)
    await chat.expect("1,3", "'1,3' is not a whole number", "Question 5 of 6")
    assert "hours_per_month" not in await answers_so_far(database)


async def test_keep_with_no_earlier_answer_is_refused(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    await chat.expect("keep", "There's no earlier answer to keep", "Question 1 of 6")
    assert await answers_so_far(database) == {}


async def test_a_very_long_wrong_answer_is_not_echoed_in_full(chat: Chat) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    wrong = "x" * 11_000
    reply = await chat.expect(wrong, "is not one of the options", "Question 2 of 6")
    assert "x" * 100 not in reply
    assert len(reply) < 2_000


async def test_back_works_in_the_plan_form(world: World) -> None:
    lee, _, pairing = await world.pair()
    lee_chat = world.chat(lee)
    await lee_chat.expect("plan", "Milestone 1: what do you want to achieve?")
    await lee_chat.expect("Run my first team retrospective", "By when?")
    await lee_chat.expect(
        "back", "Milestone 1", "Your answer so far: Run my first team retrospective"
    )
    await lee_chat.expect("keep", "By when?")
    await lee_chat.expect("2027-01-15", "Add another milestone?")
    await lee_chat.expect("back", "By when?")
    await lee_chat.expect("2027-01-22", "Add another milestone?")
    await lee_chat.expect("1", "Milestone 2")
    await lee_chat.expect("back", "Add another milestone?")
    await lee_chat.expect("2", "I've sent your plan")
    [milestone] = [m for m in await rows(world.database, Milestone) if m.pairing_id == pairing.id]
    assert (milestone.objective, milestone.target_date.isoformat()) == (
        "Run my first team retrospective",
        "2027-01-22",
    )


async def test_back_on_the_plan_form_first_question_says_so(world: World) -> None:
    lee, _, _ = await world.pair()
    lee_chat = world.chat(lee)
    await lee_chat.send("plan")
    await lee_chat.expect("back", "This is the first question", "Milestone 1")


@pytest.mark.parametrize("typed", ["plan 2", "feedback 3 pulse", "log 4", "/plan #2"])
async def test_a_command_typed_mid_flow_is_not_saved_as_an_answer(
    chat: Chat, database: Database, typed: str
) -> None:
    await chat.send("join mentee")
    await chat.expect(
        typed, f"Did you mean the command '{typed}'?", "type cancel first", "Question 1 of 6"
    )
    assert await answers_so_far(database) == {}
    # Free text that merely starts with a command word is still an answer.
    await chat.expect("plan my week", "Question 2 of 6")
    assert await answers_so_far(database) == {"goals": "plan my week"}


async def test_keep_in_a_form_keeps_the_answer_so_far(world: World) -> None:
    """After back, the form shows the answer so far; keep keeps it and goes on."""
    _lee, ana, pairing = await world.pair()
    chat = world.chat(ana)
    await chat.send(f"log {pairing.id}")
    await chat.send("today")
    again = await chat.send("back")
    assert "so far" in again
    kept = await chat.send("keep")
    assert "(2/" in kept  # on to the next question: the day was kept, not refused
