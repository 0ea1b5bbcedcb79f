"""What a circle member reads of their facilitator: a profile in the circle's words (both
databases)."""

from __future__ import annotations

import pytest

from handlers.core.programs import Programs
from storage import Database
from tests.handlers.circles.circle_world import CIRCLES, CircleWorld
from tests.helpers import enroll_as, make_person


@pytest.fixture
async def world(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> CircleWorld:
    return CircleWorld(database, circle_programs, monkeypatch)


async def test_a_members_proposal_counts_the_facilitators_capacity_in_circles(
    world: CircleWorld,
) -> None:
    ana = await make_person(world.database, "ana@x.com", name="Ana Lima")
    await enroll_as(
        world.database,
        ana,
        "mentor",
        program=CIRCLES,
        capacity=2,
        answers={"strengths": ["coaching"], "capacity": 2, "bio": "Ten years leading teams."},
    )
    members = [
        await world.member(f"{n.split()[0].lower()}@x.com", n)
        for n in ("Lee Park", "Mo Chen", "Sam Roe")
    ]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    read = await world.inbox(members[0])
    assert "Circles at a time: 2" in read
    assert "Mentees" not in read and "mentee" not in read


async def test_a_paused_facilitators_status_names_them_a_facilitator(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    await world.chat(ana).send("pause")
    said = await world.chat(ana).expect("status", "You're enrolled as a circle facilitator, paused")
    assert "mentor" not in said
