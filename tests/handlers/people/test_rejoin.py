"""A mentee whose pairing ended comes back: keep the answers they gave, or update them."""

from __future__ import annotations

import pytest

from handlers.core.program import Program
from storage import Database, Enrollment, Person
from tests.handlers.cycle_world import World
from tests.helpers import rows

#: What ``tests.helpers.mentee`` stores for Lee.
LEE_ANSWERS = {
    "goals": "Get ready to lead a team",
    "competencies": ["coaching"],
    "learning_style": "Talking things through",
    "formats": ["One-on-one"],
    "hours_per_month": 2,
}


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def lee_as_mentee(world: World, lee: Person) -> Enrollment:
    enrollments: list[Enrollment] = await rows(world.database, Enrollment)
    [enrollment] = [e for e in enrollments if e.person_id == lee.id and e.role == "mentee"]
    return enrollment


async def test_keeping_answers_after_a_closed_pairing_puts_the_mentee_back_on_the_waitlist(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    chat = world.chat(lee)
    # While the pairing is active, join only offers to update the answers, as before.
    paired = await chat.expect(
        "join mentee", "You're already enrolled as a mentee, paired with a mentor"
    )
    assert "Keep my answers" not in paired
    await chat.expect("cancel", "your saved answers are unchanged")
    await world.chat(ana).expect(f"close {pairing.id}", "Closed.")
    world.clock.advance(hours=24)
    asked = await chat.expect(
        "join mentee",
        "Your last pairing has ended",
        "Keep my answers and find me a new mentor",
        "Update my answers",
        "Get ready to lead a team",
    )
    assert "Question" not in asked
    done = await chat.expect("keep", "put you back on the waitlist", "next match round")
    assert "Question" not in done
    enrollment = await lee_as_mentee(world, lee)
    assert enrollment.status == "waiting"
    assert {k: v for k, v in enrollment.answers.items() if v is not None} == LEE_ANSWERS
    assert enrollment.waiting_since == world.clock.now()
    await world.chat(lee).expect("status", "waitlist")


async def test_updating_answers_after_a_closed_pairing_shows_the_answers_so_far(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    await world.chat(ana).expect(f"close {pairing.id}", "Closed.")
    chat = world.chat(lee)
    await chat.expect("join", "How would you like to take part")
    await chat.expect("mentee", "Keep my answers and find me a new mentor")
    await chat.expect(
        "2",
        "Question 1 of",
        "Your answer so far: Get ready to lead a team.",
        "Type keep to keep it.",
    )
    await chat.expect("keep", "Question 2 of", "Your answer so far")
    # Nothing is saved until the summary is confirmed.
    assert (await lee_as_mentee(world, lee)).status == "completed"


async def test_a_mentee_whose_mentor_left_keeps_their_place_by_button(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    mentor_chat = world.chat(ana)
    await mentor_chat.send("leave")
    await mentor_chat.expect("1", "You've left")
    before = (await lee_as_mentee(world, lee)).waiting_since
    world.clock.advance(hours=24)
    chat = world.chat(lee)
    await chat.expect("join mentee", "Keep my answers and find me a new mentor")
    await chat.expect("maybe", "Please pick one option", "Update my answers")
    assert "you keep your place on the waitlist" in await chat.click("keep")
    enrollment = await lee_as_mentee(world, lee)
    assert (enrollment.status, enrollment.waiting_since) == ("waiting", before)


async def test_a_mentee_who_left_and_comes_back_keeps_their_answers(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    chat = world.chat(lee)
    await chat.send("leave")
    await chat.expect("yes, leave", "You've left")
    world.clock.advance(hours=24)
    asked = await chat.expect("join mentee", "Welcome back!", "Keep my answers")
    assert "Your last pairing has ended" not in asked
    await chat.expect("1", "put you back on the waitlist")
    enrollment = await lee_as_mentee(world, lee)
    assert (enrollment.status, enrollment.waiting_since) == ("waiting", world.clock.now())
    assert {k: v for k, v in enrollment.answers.items() if v is not None} == LEE_ANSWERS
