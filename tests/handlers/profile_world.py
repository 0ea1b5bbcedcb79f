"""A mentee in London and a mentor in New York walk from the lead's review to the kickoff."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.messages import Reply
from handlers.core.outbox import take_waiting
from storage import Pairing, Person
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import make_person, mentee, mentor, rows


@dataclass
class Walk:
    """What each side received, from the lead's review to the kickoff."""

    review: str
    mentor_offer: list[Reply]
    mentee_offer: list[Reply]
    mentee_kickoff: list[Reply]
    mentor_kickoff: list[Reply]


async def waiting(world: World, person: Person) -> list[Reply]:
    """The person's waiting messages, as the engine queued them."""
    assert person.id is not None
    async with world.database.session() as session:
        return await take_waiting(
            session, person_id=person.id, channel="shell", now=world.clock.now()
        )


async def walk(world: World) -> Walk:
    """Lee (London) and Ana (New York) are matched, proposed, accept, and are introduced."""
    db = world.database
    lee = await mentee(
        db,
        "lee@x.com",
        name="Lee Park",
        timezone="Europe/London",
        title="Senior Analyst",
        department="Sales",
        level=3,
    )
    ana = await mentor(
        db,
        "ana@x.com",
        name="Ana Lima",
        timezone="America/New_York",
        title="Engineering Manager",
        department="Platform",
        level=6,
    )
    lead = world.chat(await make_person(db, LEAD, name="Priya Shah", timezone="Europe/London"))
    review = await lead.send("match")
    await lead.send("approve all")
    [pairing] = await rows(db, Pairing)
    mentor_offer = await waiting(world, ana)
    await world.chat(ana).expect(f"accept {pairing.id}", "I've asked")
    mentee_offer = await waiting(world, lee)
    await world.chat(lee).expect(f"accept {pairing.id}", "you're paired with")

    def kickoff(replies: list[Reply]) -> list[Reply]:
        return [r for r in replies if (r.title or "").startswith("Meet your mentoring partner")]

    return Walk(
        review,
        mentor_offer,
        mentee_offer,
        kickoff(await waiting(world, lee)),
        kickoff(await waiting(world, ana)),
    )
