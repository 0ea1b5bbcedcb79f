"""The demo organisation is realistic, fills every program, and its answers fit the questions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.config import load_programs
from bot.demo import DEMO_EMPLOYEE, DEMO_MENTEES, load_demo
from handlers import Action
from handlers.core.programs import Programs
from handlers.core.questions import parse_answer
from storage import Database, Enrollment, Person, Role
from tests.conftest import ROOT

NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped() -> Programs:
    """The programs of the shipped app.yaml: leadership, then reverse mentoring."""
    return load_programs(ROOT / "app.yaml")


async def _load(database: Database, programs: Programs) -> tuple[list[Person], list[Enrollment]]:
    async with database.session() as session:
        summary = await load_demo(session, programs, now=NOW)
    assert summary.loaded
    async with database.session() as session:
        people = (await session.exec(select(Person))).all()
        enrollments = (await session.exec(select(Enrollment))).all()
    return list(people), list(enrollments)


async def test_demo_people_have_managers_levels_and_timezones(
    database: Database, shipped: Programs
) -> None:
    people, enrollments = await _load(database, shipped)
    assert len(people) >= 40
    departments = Counter(p.department for p in people)
    assert len(departments) >= 5
    without_manager = [p.name for p in people if p.manager_id is None]
    assert without_manager == ["Grace Whitfield"]
    assert all(p.level is not None and p.timezone for p in people)
    assert len({p.timezone for p in people}) >= 4
    first = Counter(e.role for e in enrollments if e.program == shipped.first.id)
    assert first == {"mentor": len(people) // 3, "mentee": DEMO_MENTEES}
    demo = next(p for p in people if p.email == DEMO_EMPLOYEE)
    assert demo.id not in {e.person_id for e in enrollments}


async def test_demo_enrols_the_reverse_program_within_its_eligibility(
    database: Database, shipped: Programs
) -> None:
    people, enrollments = await _load(database, shipped)
    level = {p.id: p.level or 0 for p in people}
    reverse = [e for e in enrollments if e.program == "reverse-2027"]
    roles = Counter(e.role for e in reverse)
    assert roles["mentor"] >= 4 and roles["mentee"] >= 4
    # Juniors mentor, seniors are mentored (app.yaml: mentees level 6+, mentors up to 4).
    assert all(level[e.person_id] >= 6 for e in reverse if e.role == "mentee")
    assert all(level[e.person_id] <= 4 for e in reverse if e.role == "mentor")
    assert all(e.status == "waiting" for e in reverse if e.role == "mentee")


async def test_some_demo_people_are_in_both_programs_in_different_roles(
    database: Database, shipped: Programs
) -> None:
    _, enrollments = await _load(database, shipped)
    roles: dict[int, dict[str, str]] = {}
    for e in enrollments:
        roles.setdefault(e.person_id, {})[e.program] = e.role
    both = [r for r in roles.values() if len(r) == 2]
    assert {(r["leadership-2027"], r["reverse-2027"]) for r in both} == {
        ("mentee", "mentor"),
        ("mentor", "mentee"),
    }


async def test_demo_answers_are_valid_answers(database: Database, shipped: Programs) -> None:
    _, enrollments = await _load(database, shipped)
    for enrollment in enrollments:
        program = shipped.of(enrollment.program)
        for question in program.intake.for_role(Role(enrollment.role)):
            value = enrollment.answers[question.id]
            if value is None:
                assert not question.required
                continue
            values = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            assert parse_answer(question, action=Action("t", values)) == value
        if enrollment.role == "mentor":
            assert enrollment.capacity == enrollment.answers["capacity"]


async def test_demo_enrols_peers_and_leaves_an_invite_only_program_empty(
    database: Database, programs: Programs
) -> None:
    _, enrollments = await _load(database, programs)
    by_program = Counter((e.program, e.role) for e in enrollments)
    assert by_program[("peer-circle", "peer")] >= 4
    assert not any(program == "sales-pilot" for program, _ in by_program)
    for enrollment in enrollments:
        questions = programs.of(enrollment.program).intake.for_role(Role(enrollment.role))
        assert set(enrollment.answers) == {q.id for q in questions}


async def test_the_demo_loads_once(database: Database, shipped: Programs) -> None:
    people, _ = await _load(database, shipped)
    async with database.session() as session:
        again = await load_demo(session, shipped, now=NOW)
    assert not again.loaded
    assert again.people == len(people)
