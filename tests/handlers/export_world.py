"""A small program whose per-pair export would pick out one person: the only Legal mentee.

Eleven active pairings: five Engineering mentees (levels 2 and 3), five in Sales (levels 4
to 6), and one in Legal at level 9, whose pairing is at risk. Every mentor is in
Operations at level 7. Without k-anonymity the export's Legal row says who is at risk;
with it, levels read in bands of 3 (Engineering 0–3, Sales 4–6: five pairings each) and
the Legal row, alone in its combination, is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage import Database, Enrollment, Pairing, Person

PROGRAM = "leadership-2027"
LEAD = "priya.shah@example.com"
ENROLLED = datetime(2026, 9, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: (department, level) of each mentee, in the order their pairings are made.
MENTEES = [
    *[("Engineering", level) for level in (2, 3, 3, 3, 3)],
    *[("Sales", level) for level in (4, 4, 5, 6, 6)],
    ("Legal", 9),
]
#: What the export shows of each of those ten pairings' department and level.
SHOWN = [
    *[("Engineering", "0–3", "Operations", 7)] * 5,
    *[("Sales", "4–6", "Operations", 7)] * 5,
]
NOTE = (
    "So that no one can be picked out, every combination of mentee_department, "
    "mentee_level, mentor_department and mentor_level covers at least 5 pairings "
    "(k-anonymity): mentee_level is in bands of 3 levels (0–3, 4–6, 7–9, …); fewer than 5 "
    "pairings that would still stand out are left out."
)


@dataclass
class SmallProgram:
    """The pairing ids: every one, and the Legal mentee's (at risk)."""

    pairings: list[int]
    legal: int


def _person(email: str, department: str, level: int) -> Person:
    return Person(
        email=email,
        name=email.split("@")[0].title(),
        department=department,
        level=level,
        created_at=ENROLLED,
        updated_at=ENROLLED,
    )


async def seed_small_program(database: Database) -> SmallProgram:
    """Eleven active pairings; the Legal mentee's is at risk."""
    async with database.session() as session:
        mentees = [
            _person(f"mentee{n}@example.org", department, level)
            for n, (department, level) in enumerate(MENTEES, start=1)
        ]
        mentors = [_person(f"mentor{n}@example.org", "Operations", 7) for n in range(1, 4)]
        session.add_all([*mentees, *mentors])
        await session.flush()
        for person, role in [*((m, "mentee") for m in mentees), *((m, "mentor") for m in mentors)]:
            assert person.id is not None
            session.add(
                Enrollment(
                    person_id=person.id,
                    program=PROGRAM,
                    role=role,
                    status="matched" if role == "mentee" else "available",
                    capacity=4 if role == "mentor" else None,
                    enrolled_at=ENROLLED,
                    updated_at=ENROLLED,
                )
            )
        pairings = []
        for n, mentee in enumerate(mentees):
            mentor = mentors[n % len(mentors)]
            assert mentee.id is not None and mentor.id is not None
            legal = n == len(mentees) - 1
            pairings.append(
                Pairing(
                    program=PROGRAM,
                    mentee_id=mentee.id,
                    mentor_id=mentor.id,
                    status="active",
                    batch="round-1",
                    proposed_at=ENROLLED,
                    expires_at=ENROLLED + timedelta(days=7),
                    activated_at=ENROLLED + timedelta(days=2),
                    at_risk_since=NOW - timedelta(days=3) if legal else None,
                    missed_checkins=2 if legal else 0,
                )
            )
        session.add_all(pairings)
        await session.flush()
        ids = [p.id for p in pairings if p.id is not None]
        return SmallProgram(pairings=ids, legal=ids[-1])
