"""A small program for the matching tests through the engine: a lead, mentees, mentors."""

from __future__ import annotations

from bot.render_text import render_all
from handlers import build_engine
from handlers.core.engine import Engine
from handlers.core.outbox import take_waiting
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database, Pairing, Person
from tests.helpers import Chat, FakeClock, make_person, mentee, mentor, rows

LEAD = "priya.shah@example.com"


class Program5:
    """One small program: a lead, two mentees and two mentors."""

    def __init__(self, database: Database, program: Program) -> None:
        self.database = database
        self.clock = FakeClock()
        self.engine: Engine = build_engine(
            programs=Programs.one(program), database=database, clock=self.clock
        )

    async def chat(self, person: Person) -> Chat:
        return Chat(self.engine, person)

    async def inbox(self, person: Person) -> str:
        """What the person sees of their waiting messages when they next open the shell."""
        assert person.id is not None
        async with self.database.session() as session:
            replies = await take_waiting(
                session, person_id=person.id, channel="shell", now=self.clock.now()
            )
        return render_all(replies)


async def pairing(database: Database) -> Pairing:
    (found,) = await rows(database, Pairing)
    return found


async def lead_chat(world: Program5, program: Program | None = None) -> Chat:
    lead = await make_person(world.database, LEAD, name="Priya Shah")
    if program is not None:
        world.engine = build_engine(
            programs=Programs.one(program), database=world.database, clock=world.clock
        )
    return Chat(world.engine, lead)


async def proposed(world: Program5) -> tuple[Person, Person, Chat, Pairing]:
    """Lee Park (mentee) and Ana Lima (mentor), proposed to each other by an approved round."""
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima")
    lead = await lead_chat(world)
    await lead.send("match")
    await lead.send("approve all")
    return lee, ana, lead, await pairing(world.database)
