"""Kim Ito in two programs: a mentee in the leadership program, a mentor in reverse mentoring.

Kim (level 4) is mentored by Sam Okafor (level 6) in Leadership Mentoring Program 2027 and
mentors Dana Lee (level 7) in Reverse Mentoring 2027. Sam and Dana are each in one program.
The reverse program checks in every :data:`REVERSE_EVERY` days, the leadership program
every 14 (the file's default), so each pairing's rhythm shows which program it follows.
"""

from __future__ import annotations

from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database, Pairing, Person
from tests.handlers.cycle_world import World
from tests.helpers import enroll_as, make_person, rows

LEADERSHIP, REVERSE = "leadership-2027", "reverse-2027"
LEADERSHIP_NAME, REVERSE_NAME = "Leadership Mentoring Program 2027", "Reverse Mentoring 2027"
#: The global lead: leads every program of the file.
GLOBAL_LEAD = "hr.lead@example.com"
#: Check-ins of the reverse program, in days (the leadership program's: 14).
REVERSE_EVERY = 7

MENTEE_ANSWERS = {
    "goals": "Get ready to lead a team",
    "competencies": ["coaching"],
    "learning_style": "Talking things through",
    "formats": ["One-on-one"],
    "hours_per_month": 2,
}
MENTOR_ANSWERS = {
    "strengths": ["coaching"],
    "capacity": 1,
    "formats": ["One-on-one"],
    "hours_per_month": 2,
    "bio": "Ten years in product; I love helping people grow.",
}


def two_rhythms(programs: Programs) -> Programs:
    """The test file's programs, with the reverse program checking in every 7 days."""
    changed: list[Program] = []
    for program in programs:
        if program.id == REVERSE:
            cadence = program.cadence.model_copy(update={"checkin_every_days": REVERSE_EVERY})
            program = program.model_copy(update={"cadence": cadence})
        changed.append(program)
    return Programs(changed, leads=programs.leads)


class TwoPrograms:
    """The world, its people, and their two pairings once :meth:`start` has run."""

    def __init__(self, database: Database, programs: Programs) -> None:
        several = two_rhythms(programs)
        self.world = World(database, several.first, programs=several)
        self.database = database

    async def people(self) -> None:
        db = self.database
        self.kim = await make_person(db, "kim@x.com", name="Kim Ito", level=4)
        self.sam = await make_person(db, "sam@x.com", name="Sam Okafor", level=6)
        self.dana = await make_person(db, "dana@x.com", name="Dana Lee", level=7)
        self.lead = await make_person(db, GLOBAL_LEAD, name="Hana Rhee")
        await enroll_as(db, self.kim, "mentee", program=LEADERSHIP, answers=MENTEE_ANSWERS)
        await enroll_as(db, self.kim, "mentor", program=REVERSE, capacity=1, answers=MENTOR_ANSWERS)
        await enroll_as(
            db, self.sam, "mentor", program=LEADERSHIP, capacity=1, answers=MENTOR_ANSWERS
        )
        await enroll_as(db, self.dana, "mentee", program=REVERSE, answers=MENTEE_ANSWERS)

    async def start(self) -> None:
        """Both pairings proposed by the global lead and accepted, at the clock's time."""
        await self.people()
        self.leadership = await self.pair(LEADERSHIP, self.kim, self.sam)
        self.reverse = await self.pair(REVERSE, self.dana, self.kim)

    async def pair(self, program: str, mentee: Person, mentor: Person) -> Pairing:
        world = self.world
        lead = world.chat(self.lead)
        await lead.expect(f"pair {program} {mentee.email} {mentor.email}", "Proposed")
        pairing = [p for p in await rows(self.database, Pairing) if p.program == program][-1]
        await world.chat(mentor).expect(f"accept {pairing.id}", "I've asked")
        await world.chat(mentee).expect(f"accept {pairing.id}", "you're paired with")
        return next(p for p in await rows(self.database, Pairing) if p.id == pairing.id)
