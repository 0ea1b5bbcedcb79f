"""A demo organisation, so ``make run`` has people to talk about.

Deterministic: the same program file always gives the same people and answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import Facts, Meaning, Program, Programs, Question, QuestionType, rules_verdict
from storage import Enrollment, EnrollmentStatus, Person, Role

DEMO_EMPLOYEE = "sam.okafor@example.com"

# (department, head, location, timezone)
_DEPARTMENTS = [
    ("Engineering", "Elena Petrova", "Berlin", "Europe/Berlin"),
    ("Product", "Marcus Lee", "New York", "America/New_York"),
    ("Sales", "Diego Alvarez", "Austin", "America/Chicago"),
    ("Marketing", "Aisha Bello", "London", "Europe/London"),
    ("Finance", "Kenji Tanaka", "Singapore", "Asia/Singapore"),
    ("People", "Priya Shah", "London", "Europe/London"),
    ("Customer Success", "Hannah Schmidt", "Dublin", "Europe/Dublin"),
]
_FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Emeka",
    "Fatima",
    "Gabriel",
    "Hana",
    "Ivan",
    "Jasmine",
    "Kofi",
    "Lina",
    "Mateo",
    "Nadia",
    "Omar",
    "Paula",
    "Quentin",
    "Rosa",
    "Sofia",
    "Tomas",
    "Uma",
    "Victor",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zara",
    "Arjun",
    "Beatriz",
    "Carlos",
    "Mei",
    "Leila",
    "Noah",
    "Ingrid",
    "Ravi",
    "Olga",
    "Pedro",
    "Amara",
    "Lucas",
    "Sara",
    "Jonas",
    "Tariq",
    "Helena",
    "Kwame",
    "Ines",
    "Dmitri",
    "Ayesha",
    "Felix",
    "Nia",
]
_LAST = [
    "Lopez",
    "Nguyen",
    "Kowalski",
    "Mensah",
    "Haddad",
    "Silva",
    "Ito",
    "Novak",
    "Okoye",
    "Rossi",
    "Larsen",
    "Patel",
    "Fischer",
    "Moreau",
    "Kim",
    "Costa",
    "Jansen",
    "Adeyemi",
    "Dubois",
    "Sato",
    "Walsh",
    "Ibrahim",
    "Pereira",
    "Berg",
    "Suzuki",
    "Romero",
    "Das",
    "Murphy",
    "Yilmaz",
    "Owusu",
    "Andersen",
    "Farouk",
    "Oliveira",
    "Hughes",
    "Kaur",
    "Meyer",
    "Ortiz",
    "Chowdhury",
    "Varga",
    "Lindqvist",
    "Aziz",
    "Brennan",
    "Asante",
    "Ferreira",
    "Volkov",
    "Malik",
    "Wagner",
    "Achebe",
]
_OTHER_TIMEZONES = ["America/Los_Angeles", "Asia/Kolkata", "Europe/Madrid", "America/Toronto"]
_TITLES = {2: "Associate", 3: "Specialist", 4: "Senior Specialist", 5: "Lead", 6: "Manager"}
_BIOS = [
    "Ten years in {dept}, five leading teams. Happy to help with first-time management.",
    "Moved from engineering into {dept}; I like helping people through a career change.",
    "I've run large programmes in {dept}; ask me about prioritisation and stakeholders.",
    "Grew a team from three to thirty in {dept}. Ask me about hiring and feedback.",
]


@dataclass
class DemoEnrolment:
    """Who the demo enrolled in one program."""

    program: Program
    mentors: int = 0
    mentees: int = 0
    peers: int = 0


@dataclass
class DemoSummary:
    """What ``load_demo`` did."""

    loaded: bool
    people: int
    departments: int
    programs: list[DemoEnrolment] = field(default_factory=list)


#: What demo mentees say they want from mentoring (the goals question).
_GOALS = [
    "Get ready to lead a team of five next year",
    "Learn how product and strategy decisions are made",
    "Build influence with senior stakeholders outside {dept}",
    "Become a better coach for the people I work with",
    "Lead my team through the reorganisation with confidence",
    "Speak clearly to executives and the board",
]
#: How many demo employees wait for a mentor in the first program, so a program lead can
#: try `match` at once.
DEMO_MENTEES = 12
#: How many people the demo enrols in each role of every other program (among those its
#: eligibility lets in): enough for a matching round, few enough to read.
OTHER_PROGRAM_PEOPLE = {Role.MENTEE: 6, Role.MENTOR: 8, Role.PEER: 8}


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.com"


def _answer(question: Question, rng: random.Random, department: str) -> Any:
    if question.type is QuestionType.TEXT:
        if question.meaning is Meaning.BIO:
            return rng.choice(_BIOS).format(dept=department)
        if question.meaning is Meaning.GOALS:
            return rng.choice(_GOALS).format(dept=department)
        return None if not question.required else "Glad to share what I've learned."
    if question.type in (QuestionType.NUMBER, QuestionType.SCALE):
        low = question.min if question.min is not None else 1
        high = question.max if question.max is not None else low + 4
        if question.meaning is Meaning.CAPACITY:
            return rng.choice([low, low, min(low + 1, high), min(low + 2, high)])
        return rng.randint(low, min(high, low + 4))
    values = [c.value for c in question.choices]
    if question.type is QuestionType.SINGLE_CHOICE:
        return rng.choice(values)
    low = max(question.min or 1, 1)
    high = min(question.max or len(values), len(values))
    return rng.sample(values, rng.randint(low, high))


async def load_demo(session: AsyncSession, programs: Programs, *, now: datetime) -> DemoSummary:
    """Fill an empty directory with a demo organisation and enrol it in every program.

    The first program gets mentors among the senior people and a waitlist of juniors (a
    lead can run ``match`` at once). Every other program gets a few of the people its
    eligibility lets in, per role, so some people are in two programs in two roles (a
    junior mentee of the leadership program mentoring an executive in a reverse one). The
    demo employee is enrolled nowhere, so ``make run`` can walk ``join``. An invite-only
    program stays empty: no one has been invited.

    Returns:
        What was loaded; nothing is loaded when the directory already has people.
    """
    count = (await session.exec(select(func.count()).select_from(Person))).one()
    if count:
        return DemoSummary(loaded=False, people=int(count), departments=0)
    rng = random.Random(2027)
    people = await _add_people(session, rng, now=now)
    managers = {p.manager_id for p, _ in people if p.manager_id is not None}
    enrolled = []
    for index, program in enumerate(programs):
        enrolment = DemoEnrolment(program)
        if index == 0 and set(program.roles) == {Role.MENTEE, Role.MENTOR}:
            enrolment = await _enrol_first(session, program, people, rng, managers, now=now)
        elif not program.invite_only:
            enrolment = await _enrol_other(
                session,
                program,
                people,
                random.Random(2027 + index),
                managers=managers,
                now=now,
            )
        enrolled.append(enrolment)
    await session.flush()
    return DemoSummary(
        loaded=True,
        people=len(people),
        departments=len({d for _, d in people}),
        programs=enrolled,
    )


async def _add_people(
    session: AsyncSession, rng: random.Random, *, now: datetime
) -> list[tuple[Person, str]]:
    """The organisation: a CEO, department heads, managers, their teams, and Sam."""
    people: list[tuple[Person, str]] = []

    def add(
        name: str,
        department: str,
        title: str,
        level: int,
        manager: Person | None,
        location: str,
        timezone: str,
    ) -> Person:
        person = Person(
            email=_email(name),
            name=name,
            department=department,
            title=title,
            level=level,
            manager_id=manager.id if manager else None,
            timezone=timezone,
            location=location,
            attributes={},
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        people.append((person, department))
        return person

    ceo = add(
        "Grace Whitfield",
        "Executive",
        "Chief Executive Officer",
        10,
        None,
        "London",
        "Europe/London",
    )
    await session.flush()
    names = iter(f"{first} {last}" for first, last in zip(_FIRST, _LAST, strict=True))
    for index, (department, head_name, location, timezone) in enumerate(_DEPARTMENTS):
        head = add(head_name, department, f"VP {department}", 8, ceo, location, timezone)
        await session.flush()
        managers = []
        for _ in range(2 if index < 4 else 1):
            manager = add(
                next(names), department, f"{department} Manager", 6, head, location, timezone
            )
            managers.append(manager)
        await session.flush()
        for member in range(5 if index < 5 else 4):
            level = rng.choice([2, 3, 3, 4, 4, 5])
            zone = timezone if member % 3 else rng.choice([timezone, *_OTHER_TIMEZONES])
            add(
                next(names),
                department,
                f"{_TITLES[level]}, {department}",
                level,
                managers[member % len(managers)],
                location,
                zone,
            )
    await session.flush()
    # The demo employee: in the directory, not enrolled, so `make run` can walk the intake.
    engineering_manager = next(p for p, d in people if d == "Engineering" and p.level == 6)
    add(
        "Sam Okafor",
        "Engineering",
        "Senior Specialist, Engineering",
        4,
        engineering_manager,
        "Berlin",
        "Europe/Berlin",
    )
    await session.flush()
    return people


def _enrollment(
    program: Program,
    role: Role,
    person: Person,
    department: str,
    rng: random.Random,
    *,
    since: datetime,
) -> Enrollment:
    """An enrollment with answers that fit the program's questionnaire for the role."""
    questions = program.intake.for_role(role)
    answers = {q.id: _answer(q, rng, department) for q in questions}
    assert person.id is not None
    if role is Role.MENTOR:
        capacity = next(q for q in questions if q.meaning is Meaning.CAPACITY)
        return Enrollment(
            person_id=person.id,
            program=program.id,
            role=role.value,
            status=EnrollmentStatus.AVAILABLE.value,
            answers=answers,
            capacity=int(answers[capacity.id]),
            enrolled_at=since,
            updated_at=since,
        )
    return Enrollment(
        person_id=person.id,
        program=program.id,
        role=role.value,
        status=EnrollmentStatus.WAITING.value,
        answers=answers,
        enrolled_at=since,
        updated_at=since,
        waiting_since=since,
    )


async def _enrol_first(
    session: AsyncSession,
    program: Program,
    people: list[tuple[Person, str]],
    rng: random.Random,
    managers: set[int],
    *,
    now: datetime,
) -> DemoEnrolment:
    """The first program: up to a third of the company mentors, a dozen juniors wait."""
    enrolment = DemoEnrolment(program)

    def may(role: Role, person: Person) -> bool:
        return person.email != DEMO_EMPLOYEE and _allows(program, role, person, managers)

    senior = [(p, d) for p, d in people if (p.level or 0) >= 5 and may(Role.MENTOR, p)]
    for person, department in senior[: len(people) // 3]:
        session.add(_enrollment(program, Role.MENTOR, person, department, rng, since=now))
        enrolment.mentors += 1
    juniors = [(p, d) for p, d in people if (p.level or 0) <= 4 and may(Role.MENTEE, p)]
    chosen = rng.sample(juniors, min(DEMO_MENTEES, len(juniors)))
    for waited, (person, department) in enumerate(chosen):
        since = now - timedelta(days=3 * waited)  # some have waited longer than others
        session.add(_enrollment(program, Role.MENTEE, person, department, rng, since=since))
    enrolment.mentees = len(chosen)
    await session.flush()
    return enrolment


async def _enrol_other(
    session: AsyncSession,
    program: Program,
    people: list[tuple[Person, str]],
    rng: random.Random,
    *,
    managers: set[int],
    now: datetime,
) -> DemoEnrolment:
    """Another program: a few of the people its eligibility lets in, in each of its roles."""
    enrolment = DemoEnrolment(program)
    taken: set[int | None] = set()
    for role in program.roles:
        eligible = [
            (p, d)
            for p, d in people
            if p.email != DEMO_EMPLOYEE
            and p.id not in taken
            and _allows(program, role, p, managers)
        ]
        chosen = rng.sample(eligible, min(OTHER_PROGRAM_PEOPLE[role], len(eligible)))
        for waited, (person, department) in enumerate(chosen):
            since = now - timedelta(days=2 * waited)
            session.add(_enrollment(program, role, person, department, rng, since=since))
            taken.add(person.id)
        setattr(enrolment, f"{role.value}s", len(chosen))
    await session.flush()
    return enrolment


def _allows(program: Program, role: Role, person: Person, managers: set[int]) -> bool:
    """Whether a demo person meets the program's rules for ``role`` (as ``join`` judges)."""
    verdict = rules_verdict(program, person=person, facts=Facts(has_reports=person.id in managers))
    return role in verdict.roles
