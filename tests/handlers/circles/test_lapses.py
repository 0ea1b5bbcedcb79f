"""Circle proposals nobody finished answering: the reminder before the lapse, and the program
lead's word when a proposed circle can't go ahead or starts without someone (both
databases)."""

from __future__ import annotations

import pytest

from handlers.core.programs import Programs
from scheduler.due import run_due
from storage import Database, Outbox
from tests.handlers.circles.circle_world import CircleWorld, Person
from tests.handlers.circles.test_answers import proposed
from tests.helpers import make_person, rows

REMINDER = "Reminder: a circle waits for your answer"


@pytest.fixture
async def world(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> CircleWorld:
    return CircleWorld(database, circle_programs, monkeypatch)


async def lead_inbox(world: CircleWorld) -> str:
    lead = await make_person(world.database, "priya.shah@example.com", name="Priya Shah")
    return await world.inbox(lead)


async def due_pass(world: CircleWorld, *, days: float) -> None:
    world.clock.advance(days=days)
    await run_due(world.database, world.programs, now=world.clock.now())


async def test_the_lead_hears_when_a_decline_dissolves_a_circle(world: CircleWorld) -> None:
    ana, members, ref = await proposed(world)
    await lead_inbox(world)  # the round's own messages, read
    await world.chat(ana).send(f"accept {ref}")
    await world.chat(members[0]).send(f"decline {ref}")
    told = await lead_inbox(world)
    assert (
        f"Circle {ref} (Ana Lima with Lee Park, Mo Chen and Sam Roe) won't go ahead: too few "
        "of the members it needs could join (Lee Park declined). Its members keep their place "
        "on the waitlist; the next match round will look again." in told
    )


async def test_the_lead_hears_when_the_facilitator_declines(world: CircleWorld) -> None:
    ana, _, ref = await proposed(world)
    await lead_inbox(world)
    await world.chat(ana).send(f"decline {ref}")
    told = await lead_inbox(world)
    assert f"Circle {ref} (Ana Lima with" in told
    assert "won't go ahead: its facilitator can't take it on (Ana Lima declined)." in told


async def test_the_lead_hears_when_a_lapse_dissolves_a_circle(world: CircleWorld) -> None:
    _, members, ref = await proposed(world)
    await lead_inbox(world)
    await world.chat(members[0]).send(f"accept {ref}")
    await due_pass(world, days=7)
    told = await lead_inbox(world)
    assert (
        "won't go ahead: its facilitator didn't answer in time (Ana Lima, Mo Chen and Sam "
        "Roe didn't answer in time)." in told
    )
    await due_pass(world, days=1)
    assert await lead_inbox(world) == ""  # once


async def test_the_lead_hears_when_a_circle_starts_without_someone_who_let_it_lapse(
    world: CircleWorld,
) -> None:
    ana, members, ref = await proposed(world, members=4)
    await lead_inbox(world)
    for person in (ana, *members[:3]):
        await world.chat(person).send(f"accept {ref}")
    await due_pass(world, days=7)
    assert (await world.circle()).status == "active"
    told = await lead_inbox(world)
    assert (
        f"The proposal of circle {ref} (Ana Lima with Lee Park, Mo Chen, Sam Roe and Kai Ono) "
        "lapsed (Kai Ono didn't answer in time). The circle started with 3 members (Lee Park, "
        "Mo Chen and Sam Roe); those who didn't join keep their place on the waitlist." in told
    )


async def reminded(world: CircleWorld, people: list[Person]) -> list[str]:
    """Whose inbox holds the reminder, by name."""
    return [p.name for p in people if REMINDER in await world.inbox(p)]


async def test_everyone_still_invited_is_reminded_once_before_the_lapse(
    world: CircleWorld,
) -> None:
    # Proposed Monday 10:00, lapsing the next Monday 10:00: the day before is a Sunday, so
    # the reminder comes at the start of Friday's working hours (as a pair's does).
    ana, members, ref = await proposed(world)
    await world.chat(members[0]).send(f"accept {ref}")
    await due_pass(world, days=3)
    assert await reminded(world, [ana, *members]) == []
    await due_pass(world, days=1)
    assert await reminded(world, [ana, *members]) == ["Ana Lima", "Mo Chen", "Sam Roe"]
    said = {
        o.person_id: str(o.payload)
        for o in await rows(world.database, Outbox)
        if REMINDER in str(o.payload)
    }
    assert "Would you facilitate circle" in said[ana.id or 0]
    assert "the circle can't start without you" in said[ana.id or 0]
    assert f"Would you join circle {ref}?" in said[members[1].id or 0]
    assert "you keep your place on the waitlist" in said[members[1].id or 0]
    await due_pass(world, days=1)
    assert await reminded(world, [ana, *members]) == []  # once


async def test_an_answer_withdraws_a_reminder_still_waiting(world: CircleWorld) -> None:
    # The due pass runs after Friday's working hours (18:00): the reminder waits for
    # Monday 09:00, an hour before the lapse, and one member answers over the weekend.
    _, members, ref = await proposed(world)
    world.clock.advance(days=4, hours=8)
    await run_due(world.database, world.programs, now=world.clock.now())
    waiting = [o for o in await rows(world.database, Outbox) if "lapse-reminder" in o.dedupe_key]
    assert len(waiting) == 4 and {o.status for o in waiting} == {"pending"}
    await world.chat(members[0]).send(f"accept {ref}")
    world.clock.advance(days=2, hours=15, minutes=30)  # Monday 09:30
    assert REMINDER not in await world.inbox(members[0])
    assert REMINDER in await world.inbox(members[1])
