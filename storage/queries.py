"""Queries shared by several journeys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Enrollment, EnrollmentStatus, Person, Role


async def person_by_email(session: AsyncSession, email: str) -> Person | None:
    """The directory person with this email (compared in lower case)."""
    result = await session.exec(select(Person).where(Person.email == email.strip().lower()))
    return result.first()


async def enrollments_of(session: AsyncSession, person_id: int, program: str) -> list[Enrollment]:
    """A person's enrollments in one program, mentee first."""
    result = await session.exec(
        select(Enrollment).where(Enrollment.person_id == person_id, Enrollment.program == program)
    )
    return sorted(result.all(), key=lambda e: e.role != Role.MENTEE)


async def save_enrollment(
    session: AsyncSession,
    *,
    person_id: int,
    program: str,
    role: Role,
    answers: dict[str, Any],
    capacity: int | None,
    now: datetime,
) -> tuple[Enrollment, bool]:
    """Create or update a person's enrollment in a role.

    A new (or re-joining) mentee waits for a match; a mentor is available. Updating the
    answers of an active enrollment keeps its status and its enrollment date.

    Returns:
        The enrollment and whether it was newly created or re-joined.
    """
    result = await session.exec(
        select(Enrollment).where(
            Enrollment.person_id == person_id,
            Enrollment.program == program,
            Enrollment.role == role.value,
        )
    )
    enrollment = result.first()
    fresh_status = EnrollmentStatus.WAITING if role is Role.MENTEE else EnrollmentStatus.AVAILABLE
    if enrollment is None:
        enrollment = Enrollment(
            person_id=person_id,
            program=program,
            role=role.value,
            status=fresh_status.value,
            answers=answers,
            capacity=capacity,
            enrolled_at=now,
            updated_at=now,
        )
        session.add(enrollment)
        await session.flush()
        return enrollment, True
    rejoined = enrollment.status == EnrollmentStatus.LEFT
    enrollment.answers = answers
    enrollment.capacity = capacity
    enrollment.updated_at = now
    if rejoined:
        enrollment.status = fresh_status.value
        enrollment.enrolled_at = now
    session.add(enrollment)
    await session.flush()
    return enrollment, rejoined


def with_role(enrollments: Sequence[Enrollment], role: Role) -> Enrollment | None:
    """The enrollment in this role, if any."""
    return next((e for e in enrollments if e.role == role.value), None)
