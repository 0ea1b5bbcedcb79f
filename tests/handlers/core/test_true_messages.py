"""Every message is true: status, pauses, milestones and snooze say what really holds."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.core.program import Program
from storage import Database, DueItem
from tests.handlers.cycle_world import World
from tests.helpers import rows


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def test_status_shows_when_a_pause_ends(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    chat = world.chat(lee)
    await chat.expect("pause for 2 weeks", "Paused until Mon 7 Dec")
    status = await chat.send("status")
    assert "You're enrolled as a mentee, paused until Mon 7 Dec (since" in status
    await chat.expect("pause", "Paused until you type resume")
    status = await chat.send("status")
    assert "You're enrolled as a mentee, paused until you type resume (since" in status


async def test_a_milestone_past_its_date_is_overdue(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    chat = world.chat(lee)
    await chat.send("plan")
    await chat.send("Shadow a leadership meeting")
    await chat.send("in 2 weeks")
    await chat.expect("2", "I've sent your plan to Ana Lima")
    plan = await world.chat(ana).send("plan")
    assert "by Mon 7 Dec · not started" in plan
    await world.walk(15)  # to Tue 8 Dec: the milestone's day has passed
    plan = await world.chat(ana).send("plan")
    assert "by Mon 7 Dec · overdue" in plan
    rewrite = await chat.send("plan")
    assert "Shadow a leadership meeting: by Mon 7 Dec · overdue" in rewrite


async def test_snooze_with_nothing_to_snooze_says_so(world: World) -> None:
    _lee, ana, pairing = await world.pair()
    n = pairing.id
    chat = world.chat(ana)
    reply = await chat.send(f"snooze {n}")
    assert f"There's no check-in reminder waiting for pairing {n}" in reply
    assert "Snoozed" not in reply
    await world.walk(14)
    assert any("Check-in with Lee Park" in m.text for m in world.take() if m.email == "ana@x.com")
    await chat.expect(f"snooze {n}", "Snoozed: I'll remind you on Thu 10 Dec")


async def test_status_after_reschedule_shows_the_rescheduled_day(world: World) -> None:
    _lee, ana, pairing = await world.pair()
    n = pairing.id
    chat = world.chat(ana)
    await chat.expect(f"reschedule {n} friday", "Got it: I'll check in with you on Fri 27 Nov")
    status = await chat.send("status")
    assert "meeting rescheduled to Fri 27 Nov" in status


async def test_a_shortened_pause_tells_the_other_side_the_new_end(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    chat = world.chat(lee)
    await chat.expect("pause until 2027-01-10", "Paused until Sun 10 Jan")
    await world.tick()
    [first] = world.take()
    assert first.email == "ana@x.com" and "until Sun 10 Jan" in first.text
    await chat.expect("pause for 1 week", "Paused until Mon 30 Nov")
    await world.tick()
    [moved] = world.take()
    assert moved.email == "ana@x.com"
    assert "Lee Park's break from mentoring now lasts until Mon 30 Nov" in moved.text


async def _inactivity_due(world: World) -> list[DueItem]:
    return [
        d
        for d in await rows(world.database, DueItem)
        if d.kind == "inactivity" and d.status == "pending"
    ]


async def test_survey_answers_count_as_activity(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    n = pairing.id
    await world.walk(31)  # to Thu 24 Dec: the one-month survey has arrived
    world.take()
    chat = world.chat(lee)
    await chat.expect(f"feedback {n} calibration", "(1/5) How well is the pairing working")
    for answer in ("5", "skip", "4", "3"):
        await chat.send(answer)
    await chat.expect("4", "Thank you! Your feedback is saved.")
    await world.walk(40)  # past 60 days from the pairing (Fri 22 Jan), no session logged
    assert not [m for m in world.take() if "Close this pairing?" in m.text]
    [due] = await _inactivity_due(world)
    assert due.due_at.date() == date(2027, 2, 22)  # 60 days after the answer


async def test_plan_changes_count_as_activity(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    await world.walk(40)  # to Sat 2 Jan
    world.take()
    chat = world.chat(lee)
    await chat.send("plan")
    await chat.send("Shadow a leadership meeting")
    await chat.send("in 2 weeks")
    await chat.expect("2", "I've sent your plan to Ana Lima")
    await world.walk(25)  # past 60 days from the pairing, no session logged
    assert not [m for m in world.take() if "Close this pairing?" in m.text]
    [due] = await _inactivity_due(world)
    assert due.due_at.date() == date(2027, 3, 3)  # 60 days after the plan
