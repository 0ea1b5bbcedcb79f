"""Leaving the program ends the pairings kindly and frees places (handlers.cycle.leave)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import DueItem, Enrollment
from tests.handlers.cycle.timeline import current
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import make_person, mentee, rows


async def test_a_mentor_who_leaves_frees_the_mentee_kindly(world: World) -> None:
    lee, ana, pairing = await world.pair()
    await world.tick()
    world.take()
    # Joined the waitlist on 10 Nov, after Lee (2 Nov).
    await mentee(
        world.database, "zed@x.com", name="Zed Later", since=datetime(2026, 11, 10, tzinfo=UTC)
    )
    chat = world.chat(ana)
    asked = await chat.send("leave")
    assert "It ends your pairing with Lee Park, and they'll be told kindly." in asked
    await chat.expect("2", "OK, you're staying in Leadership Mentoring Program 2027")
    await chat.send("leave")
    await chat.expect("1", "You've left Leadership Mentoring Program 2027", "Your 1 pairing ended")
    ended = await current(world.database, pairing)
    assert (ended.status, ended.end_reason) == ("ended", "left")
    statuses = {(e.person_id, e.role): e.status for e in await rows(world.database, Enrollment)}
    assert statuses[(ana.id, "mentor")] == "left"
    assert statuses[(lee.id, "mentee")] == "waiting"
    assert {d.status for d in await rows(world.database, DueItem)} == {"cancelled"}
    await world.tick()
    [told] = world.take()
    assert told.email == "lee@x.com"
    assert "It's no reflection on you: you're back on the waitlist with the place" in told.text
    # Lee keeps the place from 2 Nov: ahead of Zed, who joined later.
    status = await world.chat(lee).send("status")
    assert "You're number 1 of 2 on the waitlist for a mentor." in status


async def test_a_mentee_who_leaves_frees_the_mentors_place(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    chat = world.chat(lee)
    await chat.send("leave")
    await chat.send("yes, leave")
    await world.tick()
    told = [m for m in world.take() if m.email == "ana@x.com" and "has left" in m.text]
    assert "your place is free for a new mentee" in told[0].text
    await mentee(world.database, "kim@x.com", name="Kim Lo")
    lead = world.chat(await make_person(world.database, LEAD))
    assert "1. Kim Lo → Ana Lima" in await lead.send("match")
    await world.chat(lee).expect("leave", "You're not enrolled, so there's nothing to leave.")
    # Not "not enrolled yet": Lee was, and left.
    assert await world.chat(lee).send("status") == (
        "You left Leadership Mentoring Program 2027, so you're in no program now. "
        "Type join to come back."
    )
