"""A running mentor circle in the simulated world (tests/handlers/cycle_world.py).

The proposal and acceptance flow ends in ``start_circle``; these tests start from there:
the circle and its people are inserted as accepted, then started.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.circles.lifecycle import start_circle
from handlers.core.programs import Programs
from storage import Circle, CircleMember, Database, Person
from tests.handlers.cycle_world import START, World
from tests.helpers import enroll_as, make_person, rows

PROGRAM = "leader-circles"
FACILITATOR = "fran.okafor@example.com"
MEMBER_NAMES = (
    "Ana Lima",
    "Ben Cole",
    "Cleo Diaz",
    "Dev Rao",
    "Eli Moss",
    "Fay Wu",
    "Gus Hart",
    "Hana Ito",
    "Ivo Pek",
    "Jo Park",
)


@dataclass
class RunningCircle:
    """A started circle: its facilitator and members, as people."""

    circle: Circle
    facilitator: Person
    members: list[Person]

    @property
    def number(self) -> int:
        assert self.circle.id is not None
        return self.circle.id

    @property
    def everyone(self) -> list[Person]:
        return [self.facilitator, *self.members]


def circle_world(database: Database, programs: Programs) -> World:
    """A world running the circles program (beside the one-to-one one)."""
    return World(database, programs.of(PROGRAM), programs=programs)


async def running_circle(
    world: World, *, size: int = 4, facilitator: str = FACILITATOR, tag: str = ""
) -> RunningCircle:
    """A circle of ``size`` members and a facilitator, accepted and started at the clock."""
    database = world.database
    fran = await make_person(database, facilitator, name="Fran Okafor", timezone="Europe/London")
    await enroll_as(database, fran, "mentor", program=PROGRAM, capacity=1, answers={})
    members = []
    for n in range(size):
        name = MEMBER_NAMES[n]
        email = f"{name.split()[0].lower()}{tag}@example.com"
        person = await make_person(database, email, name=name, timezone="Europe/London")
        await enroll_as(database, person, "mentee", program=PROGRAM, status="matched", answers={})
        members.append(person)
    now = world.clock.now()
    async with database.session() as session:
        circle = Circle(
            program=PROGRAM,
            status="proposed",
            batch="test",
            proposed_at=now,
            expires_at=now,
        )
        session.add(circle)
        await session.flush()
        assert circle.id is not None
        for person, role in [(fran, "facilitator")] + [(m, "member") for m in members]:
            assert person.id is not None
            session.add(
                CircleMember(
                    circle_id=circle.id,
                    person_id=person.id,
                    role=role,
                    status="accepted",
                    answered_at=now,
                )
            )
        await start_circle(session, program=world.program, circle=circle, now=now)
    [circle] = [c for c in await rows(database, Circle) if c.id == circle.id]
    return RunningCircle(circle, fran, members)


async def current_circle(world: World, running: RunningCircle) -> Circle:
    [circle] = [c for c in await rows(world.database, Circle) if c.id == running.number]
    return circle


async def place_of(world: World, person: Person) -> CircleMember:
    [member] = [m for m in await rows(world.database, CircleMember) if m.person_id == person.id]
    return member


__all__ = ["START", "RunningCircle", "circle_world", "current_circle", "place_of", "running_circle"]
