"""``status`` for people in circles: a proposed circle and whom it waits for, an active one
and its next session (both databases)."""

from __future__ import annotations

import pytest

from handlers.core.programs import Programs
from storage import Database
from tests.handlers.circles.circle_world import CIRCLES, CircleWorld
from tests.helpers import make_person


@pytest.fixture
async def world(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> CircleWorld:
    return CircleWorld(database, circle_programs, monkeypatch)


async def test_status_shows_a_proposed_circle_and_whom_it_waits_for(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    lee, mo, sam = [
        await world.member(f"{n.split()[0].lower()}@x.com", n)
        for n in ("Lee Park", "Mo Chen", "Sam Roe")
    ]
    world.forms((ana, [lee, mo, sam]))
    await world.chat(lee).expect("status", "Matching runs when the program lead starts it")
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    ref = f"C{(await world.circle()).id}"
    said = await world.chat(lee).expect(
        "status",
        "You're enrolled as a circle member, waiting for a circle",
        f"Circle {ref} on Coaching and Influence and stakeholder management, facilitated by "
        f"Ana Lima, is proposed to you with 2 other members: type accept {ref} or decline "
        f"{ref} by Mon 30 Nov at 10:00 (your time).",
    )
    assert "Matching runs" not in said  # the round has run: its proposal waits
    await world.chat(ana).expect(
        "status",
        f"You're asked to facilitate circle {ref} (Lee Park, Mo Chen, Sam Roe): type accept {ref}",
    )
    await world.chat(lee).send(f"accept {ref}")
    await world.chat(lee).expect(
        "status",
        f"You accepted circle {ref} on Coaching and Influence and stakeholder management; "
        "waiting for Ana Lima and 2 other members to answer.",
    )
    await world.chat(ana).send(f"accept {ref}")
    await world.chat(ana).expect(
        "status",
        f"You accepted circle {ref} on Coaching and Influence and stakeholder "
        "management; waiting for Mo Chen and Sam Roe to answer.",
    )


async def test_status_shows_an_active_circle_and_its_next_session(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    lee, mo, sam = [
        await world.member(f"{n.split()[0].lower()}@x.com", n)
        for n in ("Lee Park", "Mo Chen", "Sam Roe")
    ]
    world.forms((ana, [lee, mo, sam]))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    ref = f"C{(await world.circle()).id}"
    for person in (ana, lee, mo, sam):
        await world.chat(person).send(f"accept {ref}")
    said = await world.chat(mo).expect(
        "status",
        "You're enrolled as a circle member, in a circle",
        f"Circle {ref} on Coaching and Influence and stakeholder management: facilitated by "
        "Ana Lima, with Lee Park, you and Sam Roe; next session due Mon 7 Dec.",
    )
    assert "waitlist" not in said
    await world.chat(ana).expect(
        "status",
        "You're enrolled as a circle facilitator",
        f"Circle {ref} on Coaching and Influence and stakeholder management: facilitated by "
        "you, with Lee Park, Mo Chen and Sam Roe; next session due Mon 7 Dec.",
    )


async def test_status_under_each_programs_heading(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [
        await world.member(f"{n.split()[0].lower()}@x.com", n)
        for n in ("Lee Park", "Mo Chen", "Sam Roe")
    ]
    from tests.helpers import enroll_as

    await enroll_as(world.database, members[0], "mentee", answers={"competencies": ["coaching"]})
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    said = await world.chat(members[0]).send("status")
    circles, pairs = said.split("\n\n")[:2]
    assert circles.startswith("In Leadership Circles:")
    assert "is proposed to you" in circles
    assert pairs.startswith("In Leadership Mentoring Program 2027:")
    assert "circle" not in pairs


async def test_a_circle_proposals_deadline_reads_on_each_persons_own_clock(
    world: CircleWorld,
) -> None:
    # Asked at noon UTC, the circle lapses on Mon 30 Nov 12:00 UTC: 01:00 on Tuesday in
    # Auckland, 04:00 on Monday in Los Angeles.
    world.clock.advance(hours=2)
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    lee, mo, sam = [
        await world.member(f"{n.split()[0].lower()}@x.com", n)
        for n in ("Lee Park", "Mo Chen", "Sam Roe")
    ]
    await make_person(world.database, "ana@x.com", timezone="Pacific/Auckland")
    await make_person(world.database, "lee@x.com", timezone="America/Los_Angeles")
    world.forms((ana, [lee, mo, sam]))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    assert "Please answer by Tue 1 Dec at 01:00 (your time)" in await world.inbox(ana)
    assert "Please answer by Mon 30 Nov at 04:00 (your time)" in await world.inbox(lee)
    await world.chat(ana).expect("status", "by Tue 1 Dec at 01:00 (your time).")
    await world.chat(lee).expect("status", "by Mon 30 Nov at 04:00 (your time).")
