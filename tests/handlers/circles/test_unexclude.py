"""A program lead lifts a member's decline of a facilitator's circles (``unexclude MEMBER
FACILITATOR`` in a circles program), both databases."""

from __future__ import annotations

import pytest

from handlers.circles.circle_pool import load_circle_pool
from handlers.circles.formation import plan_circles
from handlers.core.audit import entries
from handlers.core.programs import Programs
from storage import CircleMember, Database, Person
from tests.handlers.circles.circle_world import CIRCLES, CircleWorld
from tests.helpers import rows


@pytest.fixture
async def world(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> CircleWorld:
    return CircleWorld(database, circle_programs, monkeypatch)


async def declined(world: CircleWorld) -> tuple[Person, Person, str]:
    """Ana Lima's circle of three, proposed; Lee Park declines it (so it dissolves)."""
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    names = ["Lee Park", "Mo Chen", "Sam Roe"]
    members = [await world.member(f"{n.split()[0].lower()}@x.com", n) for n in names]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.expect("approve all", "Sent")
    ref = f"C{(await world.circle()).id}"
    await world.chat(members[0]).expect(f"decline {ref}", "You keep your place")
    return members[0], ana, ref


async def kept_apart(world: CircleWorld) -> set[tuple[int, int]]:
    """Who the next round's pool keeps apart, as (member, facilitator) person ids."""
    async with world.database.session() as session:
        return (await load_circle_pool(session, world.program)).pool.together


async def next_round(world: CircleWorld) -> dict[str, set[str]]:
    """The circles the next round would form (for real): facilitator to members, by email."""
    async with world.database.session() as session:
        found = await plan_circles(session, program=world.program, now=world.clock.now())
    return {c.facilitator.email: {m.email for m in c.members} for c in found.circles}


async def test_unexclude_lifts_a_members_decline_so_the_next_round_may_put_them_together(
    world: CircleWorld,
) -> None:
    lee, ana, ref = await declined(world)
    assert (lee.id, ana.id) in await kept_apart(world)
    assert await next_round(world) == {}  # Mo and Sam alone are too few
    lead = await world.lead()
    done = await lead.send(f"unexclude {CIRCLES} lee@x.com ana@x.com")
    assert done == (
        f"Done: Lee Park's decline of Ana Lima's circle {ref} no longer keeps them apart. "
        "The next round can put them in a circle together."
    )
    assert (lee.id, ana.id) not in await kept_apart(world)
    assert await next_round(world) == {"ana@x.com": {"lee@x.com", "mo@x.com", "sam@x.com"}}
    [place] = [p for p in await rows(world.database, CircleMember) if p.person_id == lee.id]
    assert (place.status, place.unexcluded_at) == ("declined", world.clock.now())
    async with world.database.session() as session:
        [entry] = [e for e in await entries(session) if e.action == "unexclude"]
    assert (entry.actor, entry.target, entry.allowed) == ("priya.shah@example.com", ref, True)
    assert entry.detail == {"member": "lee@x.com", "facilitator": "ana@x.com"}


async def test_unexclude_says_when_no_decline_keeps_a_member_from_a_facilitator(
    world: CircleWorld,
) -> None:
    _lee, _ana, ref = await declined(world)
    lead = await world.lead()
    await lead.expect(
        f"unexclude {CIRCLES} mo@x.com ana@x.com",
        "No decline keeps Mo Chen from Ana Lima's circles: Mo Chen hasn't declined a circle "
        "Ana Lima leads, so there's nothing to lift.",
    )
    await lead.send(f"unexclude {CIRCLES} lee@x.com ana@x.com")
    await lead.expect(
        f"unexclude {CIRCLES} lee@x.com ana@x.com",
        f"No decline keeps Lee Park from Ana Lima's circles: Lee Park's decline of Ana Lima's "
        f"circle {ref} was lifted already, so there's nothing to lift.",
    )
    async with world.database.session() as session:
        lifted = [e for e in await entries(session) if e.action == "unexclude"]
    assert len(lifted) == 1


async def test_unexclude_without_two_people_asks_for_the_member_and_the_facilitator(
    world: CircleWorld,
) -> None:
    lead = await world.lead()
    said = await lead.expect(
        f"unexclude {CIRCLES}", "Type unexclude followed by the member and the facilitator"
    )
    assert "mentee" not in said and "mentor" not in said
