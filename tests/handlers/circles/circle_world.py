"""A circles program for the tests through the engine: a lead, facilitators, members, and
the round of circles the lead reviews (fixed here: forming circles is tested on its own)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bot.render_text import render_all
from handlers import build_engine
from handlers.circles import review
from handlers.circles.formation import CirclePlan, PlannedCircle
from handlers.core.engine import Engine
from handlers.core.outbox import take_waiting
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.matching.pool import Profile
from storage import Circle, Database, Person, Role
from tests.helpers import Chat, FakeClock, enroll_as, make_person, rows

LEAD = "priya.shah@example.com"
CIRCLES = "leader-circles"


class CircleWorld:
    """The fixture's programs with a fixed clock, and a round of circles to hand out."""

    def __init__(
        self, database: Database, programs: Programs, monkeypatch: pytest.MonkeyPatch | None
    ) -> None:
        """``monkeypatch``: to hand out the rounds :meth:`forms` sets; None forms them for
        real (handlers.circles.formation)."""
        self.database = database
        self.programs = programs
        self.clock = FakeClock()
        self.engine: Engine = build_engine(programs=programs, database=database, clock=self.clock)
        self.plan: CirclePlan | None = None
        self.planned = 0

        async def fake_plan(session: Any, *, program: Program, now: Any, **_: Any) -> CirclePlan:
            assert self.plan is not None, "the test did not say which circles the round forms"
            self.planned += 1
            return self.plan

        if monkeypatch is not None:
            monkeypatch.setattr(review, "plan_circles", fake_plan)

    @property
    def program(self) -> Program:
        return self.programs.of(CIRCLES)

    async def facilitator(self, email: str, name: str, *, capacity: int = 1) -> Person:
        person = await make_person(self.database, email, name=name)
        await enroll_as(
            self.database,
            person,
            "mentor",
            program=CIRCLES,
            capacity=capacity,
            answers={"strengths": ["coaching"], "bio": "Ten years leading teams."},
        )
        return person

    async def member(
        self, email: str, name: str, *, wants: Sequence[str] = ("coaching", "influence")
    ) -> Person:
        person = await make_person(self.database, email, name=name)
        await enroll_as(
            self.database,
            person,
            "mentee",
            program=CIRCLES,
            answers={"goals": "Lead a bigger team", "competencies": list(wants)},
        )
        return person

    def forms(
        self,
        *circles: tuple[Person, Sequence[Person]],
        left_over: Sequence[tuple[Person, str]] = (),
        gap: float = 0.013,
        reasons: Sequence[str] = (),
    ) -> None:
        """The round the next ``match`` plans: these circles, these people left over
        (``reasons``: each circle's, after the two every circle has)."""
        self.plan = CirclePlan(
            program=self.program,
            circles=tuple(
                PlannedCircle(
                    facilitator=_profile(facilitator, Role.MENTOR),
                    members=tuple(_profile(m, Role.MENTEE) for m in members),
                    score=0.72,
                    reasons=(
                        f"shares Coaching and Influence with {len(members) - 1} others",
                        "5 h of working hours in common with everyone",
                        *reasons,
                    ),
                    member_reasons={
                        m.id or 0: (f"wants Coaching, which {facilitator.name} offers",)
                        for m in members
                    },
                )
                for facilitator, members in circles
            ),
            left_over={p.id or 0: why for p, why in left_over},
            optimality_gap=gap,
            waiting=tuple(_profile(p, Role.MENTEE) for p, _ in left_over),
        )

    async def lead(self) -> Chat:
        return Chat(self.engine, await make_person(self.database, LEAD, name="Priya Shah"))

    def chat(self, person: Person) -> Chat:
        return Chat(self.engine, person)

    async def inbox(self, person: Person) -> str:
        """What the person sees of their waiting messages when they next open the shell."""
        assert person.id is not None
        async with self.database.session() as session:
            replies = await take_waiting(
                session, person_id=person.id, channel="shell", now=self.clock.now()
            )
        return render_all(replies)

    async def circle(self) -> Circle:
        (found,) = await rows(self.database, Circle)
        return found


def _profile(person: Person, role: Role) -> Profile:
    assert person.id is not None
    return Profile(
        person_id=person.id,
        name=person.name,
        email=person.email,
        role=role,
        department=person.department,
        title=person.title,
        level=person.level,
        timezone="Europe/London",
    )
