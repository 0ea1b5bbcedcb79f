"""People as the journeys show them: profiles, and lookups several journeys share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.messages import PROFILE_LINES, PersonProfile
from handlers.core.program import Meaning, Program, ProgramType, Question
from handlers.core.questions import format_answer
from handlers.people.directory import find_or_create_person
from storage import Enrollment, Pairing, PairingStatus, Person, Role
from storage.queries import locked, person_by_email
from storage.tables import PAIRING

_MEANING_LABELS = {
    Meaning.GOALS: "Goals",
    Meaning.COMPETENCIES: "Wants to develop",
    Meaning.LEARNING_STYLE: "Learns best by",
    Meaning.FORMATS: "Formats",
    Meaning.HOURS_PER_MONTH: "Hours a month",
    Meaning.BIO: "About",
    Meaning.STRENGTHS: "Can help with",
}
_MENTOR_LABELS = {Meaning.COMPETENCIES: "Can help with", Meaning.CAPACITY: "Mentees at a time"}
#: A circle's facilitator leads circles: their capacity counts circles, not mentees.
_FACILITATOR_LABELS = {**_MENTOR_LABELS, Meaning.CAPACITY: "Circles at a time"}
#: The answers a profile shows first, after the job and the time zone: what the other
#: side most wants to know about a mentee (what for) and a mentor (what with).
_FIRST_MEANINGS = {
    Role.MENTEE: (Meaning.GOALS, Meaning.COMPETENCIES),
    Role.MENTOR: (Meaning.COMPETENCIES, Meaning.BIO),
    # A peer: what they want, and what they can help the other with.
    Role.PEER: (Meaning.COMPETENCIES, Meaning.STRENGTHS),
}
#: Characters of a value in a profile's short part: one line in half a message's width. A
#: longer value is cut there, and shown whole under "More".
SHORT_VALUE = 60


def profile_facts(
    program: Program, person: Person, *, role: Role, answers: dict[str, Any], time_zone: str
) -> list[tuple[str, str]]:
    """A person's profile as label/value pairs, the most useful first.

    Their job (title and department, each under its own label), their time zone, the
    answers the other side most wants to know (a mentee's goals and wanted competencies,
    a mentor's competencies and bio), their level, then the rest of their intake.

    Args:
        time_zone: Where their clock is, in words (handlers.core.words.zone_in_words).
    """
    facts: list[tuple[str, str]] = [
        (label, value)
        for label, value in (("Title", person.title), ("Department", person.department))
        if value
    ]
    facts.append(("Time zone", time_zone))
    first = _FIRST_MEANINGS[role]
    answered = [
        question
        for question in program.intake.for_role(role)
        if answers.get(question.id) not in (None, "", [])
    ]
    leading = sorted(
        (q for q in answered if q.meaning in first),
        key=lambda q: first.index(q.meaning),
    )
    labels = _labels(program, role)
    facts += [_answer(question, labels, answers[question.id]) for question in leading]
    if person.level is not None:
        facts.append(("Level", str(person.level)))
    facts += [_answer(q, labels, answers[q.id]) for q in answered if q.meaning not in first]
    return facts


def _labels(program: Program, role: Role) -> dict[Meaning, str]:
    """The labels a role's answers take over the shared ones: a mentor's, a facilitator's."""
    if role is not Role.MENTOR:
        return {}
    return _FACILITATOR_LABELS if program.type is ProgramType.CIRCLES else _MENTOR_LABELS


def _answer(question: Question, labels: dict[Meaning, str], value: Any) -> tuple[str, str]:
    """An intake answer as a profile shows it, under a label the other side understands."""
    label = question.prompt
    if question.meaning is not None:
        label = labels.get(question.meaning) or _MEANING_LABELS.get(question.meaning, label)
    return label, format_answer(question, value)


def person_profile(
    program: Program, person: Person, *, role: Role, answers: dict[str, Any], time_zone: str
) -> PersonProfile:
    """A person's profile as a message shows it: a few short lines, the rest behind "More".

    The short part is the first :data:`~handlers.core.messages.PROFILE_LINES` - 1 facts of
    :func:`profile_facts`, each value on one line of at most :data:`SHORT_VALUE`
    characters; a value cut there is shown whole under "More", before the other facts.
    """
    facts = profile_facts(program, person, role=role, answers=answers, time_zone=time_zone)
    shown = facts[: PROFILE_LINES - 1]
    short = [(label, _one_line(value)) for label, value in shown]
    cut = [fact for fact, brief in zip(shown, short, strict=True) if fact != brief]
    return PersonProfile(
        heading=person.name,
        short=tuple(short),
        more=tuple(cut + facts[PROFILE_LINES - 1 :]),
    )


def _one_line(value: str) -> str:
    """A value on one line of at most :data:`SHORT_VALUE` characters, cut at a word."""
    line = " ".join(value.split())
    if len(line) <= SHORT_VALUE:
        return line
    cut = line[: SHORT_VALUE - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > SHORT_VALUE // 2 else cut).rstrip(" ,;:") + "…"


async def people_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    """The people with these ids, by id."""
    if not ids:
        return {}
    found = await session.exec(select(Person).where(Person.id.in_(set(ids))))  # type: ignore[union-attr]
    return {p.id: p for p in found.all() if p.id is not None}


async def enrollment_of(
    session: AsyncSession,
    program: Program,
    *,
    person_id: int | None,
    role: Role,
    lock: bool = False,
) -> Enrollment | None:
    """A person's enrollment in one role (``lock``: hold it until the transaction ends)."""
    statement = select(Enrollment).where(
        Enrollment.person_id == person_id,
        Enrollment.program == program.id,
        Enrollment.role == role.value,
    )
    if lock:
        # PostgreSQL: two leads approving at once count a mentor's free places one after
        # the other. (SQLite runs one writer at a time anyway.)
        statement = locked(statement)
    return (await session.exec(statement)).first()


async def pairings_of(
    session: AsyncSession,
    program: Program | None,
    *,
    person_id: int | None,
    statuses: Iterable[PairingStatus],
) -> list[Pairing]:
    """A person's pairings in these statuses, on either side, oldest first.

    ``program``: only that program's, or None for every program's.
    """
    result = await session.exec(
        select(Pairing)
        .where(
            Pairing.program == program.id if program is not None else sa.true(),
            sa.or_(Pairing.mentee_id == person_id, Pairing.mentor_id == person_id),  # type: ignore[arg-type]
            Pairing.status.in_([s.value for s in statuses]),  # type: ignore[attr-defined]
        )
        .order_by(Pairing.id)  # type: ignore[arg-type]
    )
    return list(result.all())


async def move_pairing(
    session: AsyncSession, pairing: Pairing, *, expected: PairingStatus, **values: Any
) -> bool:
    """Change a pairing only if it is still in ``expected`` status; True if it changed.

    A conditional ``UPDATE ... WHERE status = <expected>``: a double click, a stale button
    or an answer racing the expiry changes a pairing once at most.
    """
    table = PAIRING
    conn = await session.connection()
    result = await conn.execute(
        sa.update(table)
        .where(table.c.id == pairing.id, table.c.status == expected.value)
        .values(**values)
    )
    if result.rowcount:
        await session.refresh(pairing)
    return bool(result.rowcount)


async def program_leads(session: AsyncSession, program: Program, *, now: datetime) -> list[Person]:
    """The program leads as directory people (a lead missing from the directory is added)."""
    leads = []
    for email in program.leads:
        lead = await person_by_email(session, email)
        if lead is None:
            lead, _ = await find_or_create_person(
                session, email=email, now=now, timezone=program.default_timezone
            )
        leads.append(lead)
    return leads
