"""Surveys of a pairing that has ended (handlers.sessions.feedback): a check-in on how the
pairing is going closes with it; the end-of-cycle review stays open."""

from __future__ import annotations

import pytest

from handlers.core.program import Program
from handlers.sessions.feedback import checkpoint_rows, insert_requests
from storage import Database, Feedback
from tests.handlers.cycle_world import World
from tests.helpers import rows


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def test_a_check_in_of_an_ended_pairing_closes_and_its_end_review_stays_open(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    assert pairing.id is not None and lee.id is not None and ana.id is not None
    async with world.database.session() as session:
        for kind in ("calibration", "end_review"):
            await insert_requests(
                session,
                checkpoint_rows(
                    pairing.id,
                    cycle=1,
                    mentee_id=lee.id,
                    mentor_id=ana.id,
                    kind=kind,
                    now=world.clock.now(),
                ),
            )
    chat = world.chat(ana)
    await chat.expect(f"feedback {pairing.id} calibration", "(1/2)")
    # Halfway through Ana's answers, Lee closes the pairing.
    await world.chat(lee).expect(f"close {pairing.id}", "Closed.")
    await chat.send("4")
    await chat.expect(
        "skip",
        "Your pairing with Lee Park has ended, so this check-in is closed and there's nothing "
        "to answer. Thank you for the time you gave it.",
    )
    await chat.expect(
        f"feedback {pairing.id} calibration", "Nothing is waiting for your feedback there"
    )
    # The end-of-cycle review looks back on the pairing: still hers to answer, and the only
    # survey waiting, so it opens straight away.
    await chat.expect("feedback", "(1/3)")
    await chat.send("5")
    await chat.send("1")
    await chat.expect("skip", "Thank you! Your feedback is saved.")
    answered = {
        f.survey: f for f in await rows(world.database, Feedback) if f.respondent_id == ana.id
    }
    assert (answered["calibration"].status, answered["calibration"].answers) == ("asked", None)
    assert answered["end_of_cycle"].status == "answered"
