"""A circle's sessions: logged by the facilitator with who came; a pulse for those who came."""

from __future__ import annotations

import logging

import pytest

from storage import CircleAttendance, CircleFeedback, CircleSession, Feedback, Outbox, Pairing
from tests.handlers.circles.running_world import RunningCircle, place_of, running_circle
from tests.handlers.cycle_world import World
from tests.helpers import make_person, rows

NOTES = "Dev is struggling with the reorg"


async def log_circle_session(
    world: World, running: RunningCircle, *, came: str, notes: str = "skip", command: str = "log"
) -> str:
    """Log today's session in the shell's one-question-at-a-time form."""
    fran = world.chat(running.facilitator)
    await fran.expect(command, "When did the circle meet?")
    await fran.expect("today", "How long was it")
    await fran.expect("60", "Who came?", "1. Ana Lima")
    await fran.send(came)
    return await fran.send(notes)


async def test_a_logged_session_records_who_came_and_asks_only_them(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    running = await running_circle(world)
    ana, ben, cleo, dev = running.members
    done = await log_circle_session(world, running, came="1, 2, 3", notes=NOTES)
    assert "Logged: 60 minutes" in done and "3 of 4 members there" in done
    assert "private to the circle" in done
    [session] = await rows(world.database, CircleSession)
    assert (session.circle_id, session.minutes, session.notes) == (running.number, 60, NOTES)
    attendance = {a.person_id: a.attended for a in await rows(world.database, CircleAttendance)}
    assert attendance == {ana.id: True, ben.id: True, cleo.id: True, dev.id: False}
    asked = await rows(world.database, CircleFeedback)
    assert sorted(f.respondent_id for f in asked) == sorted([ana.id, ben.id, cleo.id])
    assert {f.key for f in asked} == {f"pulse:{session.id}:{p.id}" for p in (ana, ben, cleo)}
    assert [(await place_of(world, p)).missed_in_a_row for p in running.members] == [0, 0, 0, 1]
    assert "How did it go?" not in await world.read_waiting(dev)
    assert "A few quick questions" in await world.read_waiting(ana)
    # The notes stay with the circle: in no message and no log line.
    assert all(NOTES not in str(o.payload) for o in await rows(world.database, Outbox))
    assert NOTES not in caplog.text


async def test_an_attendee_answers_the_pulse_through_the_form(world: World) -> None:
    running = await running_circle(world)
    ana = running.members[0]
    await log_circle_session(world, running, came="1")
    chat = world.chat(ana)
    await chat.expect("feedback", "How useful was the session?")
    await chat.send("4")
    await chat.send("1")
    await chat.expect("skip", "Thank you! Your feedback is saved.")
    [answered] = await rows(world.database, CircleFeedback)
    assert (answered.status, answered.answers["usefulness"]) == ("answered", 4)
    await chat.expect("feedback", "Nothing is waiting for your feedback")


async def test_a_day_is_one_session_and_members_cannot_log(world: World) -> None:
    running = await running_circle(world)
    await log_circle_session(world, running, came="1, 2, 3, 4")
    fran = world.chat(running.facilitator)
    await fran.expect("circle log", "When did the circle meet?")
    await fran.expect("today", "is logged already; a day is one session")
    await fran.send("cancel")
    await world.chat(running.members[0]).expect("log", "Your circle's facilitator logs")
    assert len(await rows(world.database, CircleSession)) == 1


async def test_plain_feedback_lists_a_circle_pulse_beside_a_pairing_survey(world: World) -> None:
    running = await running_circle(world)
    ana = running.members[0]
    await log_circle_session(world, running, came="1")
    # Ana is also a mentee in the one-to-one program, whose calibration survey waits.
    mentor = await make_person(world.database, "max@example.com", name="Max Roy")
    now = world.clock.now()
    async with world.database.session() as session:
        assert ana.id is not None and mentor.id is not None
        pairing = Pairing(
            program="leadership-2027",
            mentee_id=ana.id,
            mentor_id=mentor.id,
            status="completed",
            batch="b",
            proposed_at=now,
            expires_at=now,
        )
        session.add(pairing)
        await session.flush()
        assert pairing.id is not None
        session.add(
            Feedback(
                key=f"calibration:{pairing.id}:1:{ana.id}",
                pairing_id=pairing.id,
                program="leadership-2027",
                survey="calibration",
                respondent_id=ana.id,
                role="mentee",
                status="asked",
                asked_at=now,
            )
        )
    [pulse] = await rows(world.database, CircleFeedback)
    chat = world.chat(ana)
    listed = await chat.expect("feedback", "2 surveys are waiting for you. Which one?")
    assert "One month in (23 Nov)" in listed
    assert f"Your circle C{running.number}'s session (23 Nov)" in listed
    await chat.expect(f"circle pulse {pulse.id}", "How useful was the session?")
