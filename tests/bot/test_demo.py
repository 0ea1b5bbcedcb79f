"""The demo organisation is realistic and its mentors' answers fit the questionnaire."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlmodel import select

from bot.demo import DEMO_EMPLOYEE, DEMO_MENTEES, load_demo
from handlers import Action
from handlers.core.program import Program
from handlers.core.questions import parse_answer
from storage import Database, Enrollment, Person


async def test_demo_people_have_managers_levels_and_timezones(
    database: Database, program: Program
) -> None:
    async with database.session() as session:
        summary = await load_demo(session, program, now=datetime(2026, 11, 21, tzinfo=UTC))
    async with database.session() as session:
        people = (await session.exec(select(Person))).all()
        enrollments = (await session.exec(select(Enrollment))).all()
    assert summary.loaded
    assert len(people) >= 40
    departments = Counter(p.department for p in people)
    assert len(departments) >= 5
    without_manager = [p.name for p in people if p.manager_id is None]
    assert without_manager == ["Grace Whitfield"]
    assert all(p.level is not None and p.timezone for p in people)
    assert len({p.timezone for p in people}) >= 4
    roles = Counter(e.role for e in enrollments)
    assert roles == {"mentor": len(people) // 3, "mentee": DEMO_MENTEES}
    demo = next(p for p in people if p.email == DEMO_EMPLOYEE)
    assert demo.id not in {e.person_id for e in enrollments}


async def test_demo_mentor_answers_are_valid_answers(database: Database, program: Program) -> None:
    async with database.session() as session:
        await load_demo(session, program, now=datetime(2026, 11, 21, tzinfo=UTC))
    async with database.session() as session:
        enrollments = (await session.exec(select(Enrollment))).all()
    for enrollment in enrollments:
        questions = program.intake.mentor if enrollment.role == "mentor" else program.intake.mentee
        for question in questions:
            value = enrollment.answers[question.id]
            if value is None:
                assert not question.required
                continue
            values = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            assert parse_answer(question, action=Action("t", values)) == value
        if enrollment.role == "mentor":
            assert enrollment.capacity == enrollment.answers["capacity"]
