"""A person's data rights: everything stored about them, as one document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import ConversationState, Enrollment, Person
from storage.queries import person_by_email


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_person(session: AsyncSession, email: str) -> dict[str, Any] | None:
    """Everything stored about the person with this email, or None if there is no such person.

    Returns:
        A JSON-ready document: the profile, every enrollment with its intake answers keyed
        by question id, and any conversation in progress.
    """
    person = await person_by_email(session, email)
    if person is None:
        return None
    manager = await session.get(Person, person.manager_id) if person.manager_id else None
    enrollments = (
        await session.exec(select(Enrollment).where(Enrollment.person_id == person.id))
    ).all()
    conversations = (
        await session.exec(
            select(ConversationState).where(ConversationState.person_id == person.id)
        )
    ).all()
    return {
        "profile": {
            "email": person.email,
            "name": person.name,
            "department": person.department,
            "title": person.title,
            "level": person.level,
            "manager_email": manager.email if manager else None,
            "timezone": person.timezone,
            "location": person.location,
            "attributes": person.attributes,
            "created_at": _when(person.created_at),
            "updated_at": _when(person.updated_at),
        },
        "enrollments": [
            {
                "program": e.program,
                "role": e.role,
                "status": e.status,
                "capacity": e.capacity,
                "enrolled_at": _when(e.enrolled_at),
                "updated_at": _when(e.updated_at),
                "answers": e.answers,
            }
            for e in sorted(enrollments, key=lambda e: (e.program, e.role))
        ],
        "conversations_in_progress": [
            {
                "channel": c.channel,
                "flow": c.flow,
                "step": c.step,
                "answers_so_far": c.data.get("answers", {}),
                "updated_at": _when(c.updated_at),
            }
            for c in conversations
        ],
    }
