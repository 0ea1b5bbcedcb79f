"""``my-data`` lists the person's own circle rows, never others' private text (both
databases)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from handlers.core.messages import Inbound
from storage import Person
from storage.tables import CIRCLE_MEMBER
from tests.handlers.circles.running_world import RunningCircle, running_circle
from tests.handlers.circles.test_sessions import log_circle_session
from tests.handlers.cycle_world import World

NOTES = "Fran's notes: the circle found its rhythm."
ANA_SAYS = "Ana found the session useful"
BEN_SAYS = "Ben's private worry about his manager"
BEN_FITS = "Ben wants Coaching for his private reasons"


async def _answer_pulse(world: World, person: Person, comment: str) -> None:
    chat = world.chat(person)
    await chat.expect("feedback", "How useful was the session?")
    await chat.send("4")
    await chat.send("1")
    await chat.expect(comment, "Your feedback is saved")


async def a_circle_with_a_session(world: World) -> RunningCircle:
    running = await running_circle(world)
    ana, ben = running.members[:2]
    async with world.database.session() as session:
        conn = await session.connection()
        for person, reasons in ((ana, ["you want Coaching"]), (ben, [BEN_FITS])):
            await conn.execute(
                sa.update(CIRCLE_MEMBER)
                .where(CIRCLE_MEMBER.c.person_id == person.id)
                .values(reasons=reasons)
            )
    await world.chat(running.facilitator).expect("goals add Give feedback that lands", "Added.")
    await log_circle_session(world, running, came="1, 2, 3", notes=NOTES)
    await _answer_pulse(world, ana, ANA_SAYS)
    await _answer_pulse(world, ben, BEN_SAYS)
    return running


async def my_data(world: World, person: Person) -> tuple[dict[str, Any], str]:
    assert person.id is not None
    [reply] = await world.engine.handle(Inbound("shell", person.email, person.id, text="my-data"))
    assert reply.attachment is not None
    return json.loads(reply.attachment.content), reply.attachment.content


async def test_a_members_data_lists_their_circle_attendance_and_answers_only(
    world: World,
) -> None:
    running = await a_circle_with_a_session(world)
    ana = running.members[0]
    document, text = await my_data(world, ana)
    [circle] = document["circles"]
    assert circle["circle"] == f"C{running.number}"
    assert (circle["program"], circle["role"], circle["status"]) == (
        "leader-circles",
        "member",
        "accepted",
    )
    assert circle["facilitator"] == "Fran Okafor"
    assert circle["why_i_fit"] == ["you want Coaching"]
    assert circle["goals"] == [{"text": "Give feedback that lands", "status": "open"}]
    [held] = circle["sessions"]
    assert (held["minutes"], held["i_came"]) == (60, True)
    [pulse] = document["circle_feedback_given"]
    assert pulse["circle"] == f"C{running.number}"
    assert pulse["answers"]["comment"] == ANA_SAYS
    # Others' private words: the facilitator's notes, another member's answers and reasons.
    for private in (NOTES, BEN_SAYS, BEN_FITS):
        assert private not in text
    assert running.members[1].email not in text


async def test_a_facilitators_data_lists_the_sessions_they_logged_with_their_notes(
    world: World,
) -> None:
    running = await a_circle_with_a_session(world)
    document, text = await my_data(world, running.facilitator)
    [circle] = document["circles"]
    assert (circle["role"], circle["facilitator"]) == ("facilitator", None)
    [held] = circle["sessions"]
    assert held["notes"] == NOTES and held["logged_by_me"] is True
    assert (held["came"], held["members"]) == (3, 4)
    assert document["circle_feedback_given"] == []
    for private in (ANA_SAYS, BEN_SAYS, BEN_FITS):
        assert private not in text
