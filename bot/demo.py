"""A demo organisation, so ``make run`` has people to talk about.

Deterministic: the same program file always gives the same people and answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import Meaning, Program, Question, QuestionType
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
class DemoSummary:
    """What ``load_demo`` did."""

    loaded: bool
    people: int
    departments: int
    mentors: int
    mentees: int = 0


#: What demo mentees say they want from mentoring (the goals question).
_GOALS = [
    "Get ready to lead a team of five next year",
    "Learn how product and strategy decisions are made",
    "Build influence with senior stakeholders outside {dept}",
    "Become a better coach for the people I work with",
    "Lead my team through the reorganisation with confidence",
    "Speak clearly to executives and the board",
]
#: How many demo employees wait for a mentor, so a program lead can try `match` at once.
DEMO_MENTEES = 12


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


async def load_demo(session: AsyncSession, program: Program, *, now: datetime) -> DemoSummary:
    """Fill an empty directory with a demo organisation and its mentors.

    Returns:
        What was loaded; nothing is loaded when the directory already has people.
    """
    count = (await session.exec(select(func.count()).select_from(Person))).one()
    if count:
        return DemoSummary(loaded=False, people=int(count), departments=0, mentors=0)
    rng = random.Random(2027)
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

    mentors = 0
    senior = [(p, d) for p, d in people if (p.level or 0) >= 5 and p.email != DEMO_EMPLOYEE]
    for person, department in senior:
        if len(people) // 3 <= mentors:
            break
        answers = {q.id: _answer(q, rng, department) for q in program.intake.for_role(Role.MENTOR)}
        capacity_q = next(
            q for q in program.intake.for_role(Role.MENTOR) if q.meaning is Meaning.CAPACITY
        )
        assert person.id is not None
        session.add(
            Enrollment(
                person_id=person.id,
                program=program.id,
                role=Role.MENTOR.value,
                status=EnrollmentStatus.AVAILABLE.value,
                answers=answers,
                capacity=int(answers[capacity_q.id]),
                enrolled_at=now,
                updated_at=now,
            )
        )
        mentors += 1
    juniors = [(p, d) for p, d in people if (p.level or 0) <= 4 and p.email != DEMO_EMPLOYEE]
    for waited, (person, department) in enumerate(rng.sample(juniors, DEMO_MENTEES)):
        answers = {q.id: _answer(q, rng, department) for q in program.intake.for_role(Role.MENTEE)}
        since = now - timedelta(days=3 * waited)  # some have waited longer than others
        assert person.id is not None
        session.add(
            Enrollment(
                person_id=person.id,
                program=program.id,
                role=Role.MENTEE.value,
                status=EnrollmentStatus.WAITING.value,
                answers=answers,
                enrolled_at=since,
                updated_at=since,
                waiting_since=since,
            )
        )
    await session.flush()
    departments = len({d for _, d in people})
    return DemoSummary(
        loaded=True,
        people=len(people),
        departments=departments,
        mentors=mentors,
        mentees=DEMO_MENTEES,
    )
