"""People as the journeys show them: profiles, and lookups several journeys share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.directory import find_or_create_person
from handlers.program import Meaning, Program
from handlers.questions import format_answer
from storage import Enrollment, Pairing, PairingStatus, Person, Role
from storage.queries import person_by_email

_MEANING_LABELS = {
    Meaning.GOALS: "Goals",
    Meaning.COMPETENCIES: "Wants to develop",
    Meaning.LEARNING_STYLE: "Learns best by",
    Meaning.FORMATS: "Formats",
    Meaning.HOURS_PER_MONTH: "Hours a month",
    Meaning.BIO: "About",
}
_MENTOR_LABELS = {Meaning.COMPETENCIES: "Can help with", Meaning.CAPACITY: "Mentees at a time"}


def profile_fields(
    program: Program, person: Person, role: Role, answers: dict[str, Any]
) -> tuple[tuple[str, str], ...]:
    """A person's profile as label/value pairs: job, then what their intake said."""
    title, department = person.title or "", person.department or ""
    if department and department.casefold() in title.casefold():
        department = ""  # "Associate, Engineering" already says it
    job = ", ".join(x for x in (title, department) if x) or "not given"
    fields: list[tuple[str, str]] = [("Role", job)]
    if person.level is not None:
        fields.append(("Level", str(person.level)))
    fields.append(("Timezone", person.timezone or program.program.default_timezone))
    for question in program.intake.for_role(role):
        value = answers.get(question.id)
        if value in (None, "", []):
            continue
        label = question.prompt
        if question.meaning is not None:
            labels = _MENTOR_LABELS if role is Role.MENTOR else {}
            label = labels.get(question.meaning) or _MEANING_LABELS.get(question.meaning, label)
        fields.append((label, format_answer(question, value)))
    return tuple(fields)


async def people_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    """The people with these ids, by id."""
    if not ids:
        return {}
    found = await session.exec(select(Person).where(Person.id.in_(set(ids))))  # type: ignore[union-attr]
    return {p.id: p for p in found.all() if p.id is not None}


async def enrollment_of(
    session: AsyncSession,
    program: Program,
    person_id: int | None,
    role: Role,
    *,
    lock: bool = False,
) -> Enrollment | None:
    """A person's enrollment in one role (``lock``: hold it until the transaction ends)."""
    statement = select(Enrollment).where(
        Enrollment.person_id == person_id,
        Enrollment.program == program.program.id,
        Enrollment.role == role.value,
    )
    if lock:
        # PostgreSQL: two leads approving at once count a mentor's free places one after
        # the other. (SQLite runs one writer at a time anyway.)
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


async def pairings_of(
    session: AsyncSession,
    program: Program,
    person_id: int | None,
    statuses: Iterable[PairingStatus],
) -> list[Pairing]:
    """A person's pairings in these statuses, on either side, oldest first."""
    result = await session.exec(
        select(Pairing)
        .where(
            Pairing.program == program.program.id,
            sa.or_(Pairing.mentee_id == person_id, Pairing.mentor_id == person_id),  # type: ignore[arg-type]
            Pairing.status.in_([s.value for s in statuses]),  # type: ignore[attr-defined]
        )
        .order_by(Pairing.id)  # type: ignore[arg-type]
    )
    return list(result.all())


async def move_pairing(
    session: AsyncSession, pairing: Pairing, expected: PairingStatus, **values: Any
) -> bool:
    """Change a pairing only if it is still in ``expected`` status; True if it changed.

    A conditional ``UPDATE ... WHERE status = <expected>``: a double click, a stale button
    or an answer racing the expiry changes a pairing once at most.
    """
    table = Pairing.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    result = await conn.execute(
        sa.update(table)
        .where(table.c.id == pairing.id, table.c.status == expected.value)
        .values(**values)
    )
    if result.rowcount:
        await session.refresh(pairing)
    return bool(result.rowcount)


async def program_leads(session: AsyncSession, program: Program, now: datetime) -> list[Person]:
    """The program leads as directory people (a lead missing from the directory is added)."""
    leads = []
    for email in program.program.leads:
        lead = await person_by_email(session, email)
        if lead is None:
            lead, _ = await find_or_create_person(
                session, email=email, now=now, timezone=program.program.default_timezone
            )
        leads.append(lead)
    return leads
