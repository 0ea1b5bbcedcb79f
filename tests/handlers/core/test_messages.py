"""The neutral inbound model: what a person typed is stored as text on every database.

PostgreSQL refuses a NUL character in text and JSON; before the inbound model cleaned it,
a NUL in a note or an answer failed the turn and reset the person's flow (issue 15,
item 2).
"""

from __future__ import annotations

from typing import Any

import pytest

from handlers import build_engine
from handlers.core.messages import Action, Inbound, Submission, typeable
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database, Enrollment, Person, SessionLog
from tests.handlers.cycle_world import World, log_session
from tests.helpers import MENTEE_ANSWERS, MENTEE_STORED, Chat, FakeClock, make_person, rows


def slack(person: Person, **kwargs: Any) -> Inbound:
    assert person.id is not None
    return Inbound("slack", f"T1/{person.email}", person.id, forms=True, **kwargs)


def test_control_characters_are_removed_and_other_text_is_kept() -> None:
    typed = "a\x00b\x07c\x1bd\x7fe\x85f\x9fg\ud800h"
    assert typeable(typed) == "abcdefgh"
    kept = "Tab\tline\nreturn\r — café 🙂 مرحبا \u202e\ufeff"
    assert typeable(kept) == kept


def test_every_part_of_an_inbound_message_is_cleaned() -> None:
    inbound = Inbound(
        "slack",
        "T1/U1",
        1,
        text="log\x00",
        action=Action("t", ("on\x00e",)),
        form=Submission("log\x00", "1\x00", {"notes": ("We\x00 met",)}),
    )
    assert inbound.text == "log"
    assert inbound.action is not None and inbound.action.values == ("one",)
    assert inbound.form is not None
    assert (inbound.form.form, inbound.form.ref) == ("log\x00", "1")
    assert inbound.form.values == {"notes": ("We met",)}


async def test_a_nul_in_an_intake_answer_is_dropped_and_the_intake_goes_on(
    database: Database, program: Program
) -> None:
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    chat = Chat(engine, await make_person(database, "ana@example.com", name="Ana Lopez"))
    await chat.expect("join mentee", "Question 1 of 6")
    await chat.expect("Get ready to lead\x00 a team of five", "Question 2 of 6")
    for answer in MENTEE_ANSWERS[1:]:
        await chat.send(answer)
    await chat.expect("yes", "You're enrolled as a mentee")
    [enrollment] = await rows(database, Enrollment)
    assert enrollment.answers == MENTEE_STORED


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def test_a_nul_in_a_typed_note_is_dropped_and_the_session_saved(world: World) -> None:
    _lee, ana, _pairing = await world.pair()
    reply = await log_session(world.chat(ana), notes="Talked\x00 about the retro.")
    assert "Logged" in reply
    [log] = await rows(world.database, SessionLog)
    assert log.notes == "Talked about the retro."


async def test_a_nul_in_a_note_sent_in_a_form_is_dropped(world: World) -> None:
    _lee, ana, pairing = await world.pair()
    values = {
        "date": ("2026-11-23",),
        "minutes": ("30",),
        "format": ("One-on-one",),
        "topics": ("coaching",),
        "notes": ("Private\x00 note",),
    }
    sent = Submission("log", str(pairing.id), values)
    result = await world.engine.submit(slack(ana, form=sent))
    assert not result.errors and "Logged" in result.replies[0].text
    [log] = await rows(world.database, SessionLog)
    assert log.notes == "Private note"
