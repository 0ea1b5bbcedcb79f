"""A person's circle rows in their export (``my-data``, ``privacy export``).

Only what is theirs or was shared with them: each place they had in a circle (why they
fit, their answers), the circle's shared goals and its facilitator's name, the sessions
held while they were in it (a member: whether they came; the facilitator: the notes they
wrote and how many came), and the pulses they answered. Never another member's reasons,
answers or attendance, and never the facilitator's notes in a member's export (the notes
are the facilitator's: members never see them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.refs import circle_label
from storage import CircleRole, FeedbackStatus
from storage.tables import (
    CIRCLE,
    CIRCLE_ATTENDANCE,
    CIRCLE_FEEDBACK,
    CIRCLE_MEMBER,
    CIRCLE_SESSION,
    PERSON,
)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def circles_of(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    """Each circle the person was proposed to or in, oldest first, as their export shows it."""
    conn = await session.connection()
    places = (
        await conn.execute(
            sa.select(
                CIRCLE_MEMBER,
                CIRCLE.c.program,
                CIRCLE.c.status.label("circle_status"),
                CIRCLE.c.goals,
                CIRCLE.c.proposed_at,
                CIRCLE.c.activated_at,
                CIRCLE.c.closed_at,
            )
            .join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id)
            .where(CIRCLE_MEMBER.c.person_id == person_id)
            .order_by(CIRCLE.c.id)
        )
    ).all()
    if not places:
        return []
    circle_ids = [place.circle_id for place in places]
    named = await conn.execute(
        sa.select(CIRCLE_MEMBER.c.circle_id, PERSON.c.name)
        .join(PERSON, PERSON.c.id == CIRCLE_MEMBER.c.person_id)
        .where(
            CIRCLE_MEMBER.c.circle_id.in_(circle_ids),
            CIRCLE_MEMBER.c.role == CircleRole.FACILITATOR.value,
        )
    )
    facilitators: dict[int, str] = {circle_id: name for circle_id, name in named.all()}
    found = []
    for place in places:
        facilitating = place.role == CircleRole.FACILITATOR.value
        sessions = (
            await _facilitated(conn, place.circle_id, person_id)
            if facilitating
            else await _attended(conn, place.circle_id, person_id)
        )
        found.append(
            {
                "program": place.program,
                "circle": circle_label(place.circle_id),
                "role": place.role,
                "status": place.status,
                "circle_status": place.circle_status,
                "facilitator": None if facilitating else facilitators.get(place.circle_id),
                "why_i_fit": place.reasons,
                "answered_at": _when(place.answered_at),
                "left_at": _when(place.left_at),
                "proposed_at": _when(place.proposed_at),
                "activated_at": _when(place.activated_at),
                "closed_at": _when(place.closed_at),
                "goals": place.goals,
                "sessions": sessions,
            }
        )
    return found


async def _attended(conn: AsyncConnection, circle_id: int, person_id: int) -> list[dict[str, Any]]:
    """A member's sessions: the ones held while they were in the circle, and if they came."""
    rows = await conn.execute(
        sa.select(CIRCLE_SESSION.c.held_on, CIRCLE_SESSION.c.minutes, CIRCLE_ATTENDANCE.c.attended)
        .join(CIRCLE_ATTENDANCE, CIRCLE_ATTENDANCE.c.session_id == CIRCLE_SESSION.c.id)
        .where(CIRCLE_SESSION.c.circle_id == circle_id, CIRCLE_ATTENDANCE.c.person_id == person_id)
        .order_by(CIRCLE_SESSION.c.held_on)
    )
    return [
        {"held_on": held_on.isoformat(), "minutes": minutes, "i_came": bool(attended)}
        for held_on, minutes, attended in rows.all()
    ]


async def _facilitated(
    conn: AsyncConnection, circle_id: int, person_id: int
) -> list[dict[str, Any]]:
    """A facilitator's sessions: the notes they wrote, and how many of how many came."""
    came = sa.func.count().filter(CIRCLE_ATTENDANCE.c.attended.is_(True))
    rows = await conn.execute(
        sa.select(
            CIRCLE_SESSION.c.held_on,
            CIRCLE_SESSION.c.minutes,
            CIRCLE_SESSION.c.notes,
            CIRCLE_SESSION.c.logged_by,
            came.label("came"),
            sa.func.count(CIRCLE_ATTENDANCE.c.id).label("members"),
        )
        .outerjoin(CIRCLE_ATTENDANCE, CIRCLE_ATTENDANCE.c.session_id == CIRCLE_SESSION.c.id)
        .where(CIRCLE_SESSION.c.circle_id == circle_id)
        .group_by(CIRCLE_SESSION.c.id)
        .order_by(CIRCLE_SESSION.c.held_on)
    )
    return [
        {
            "held_on": row.held_on.isoformat(),
            "minutes": row.minutes,
            "logged_by_me": row.logged_by == person_id,
            "notes": row.notes if row.logged_by == person_id else None,
            "came": int(row.came or 0),
            "members": int(row.members or 0),
        }
        for row in rows.all()
    ]


async def circle_feedback_of(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    """The circle surveys the person answered, oldest first, with their answers."""
    conn = await session.connection()
    rows = await conn.execute(
        sa.select(
            CIRCLE_FEEDBACK.c.circle_id,
            CIRCLE_FEEDBACK.c.program,
            CIRCLE_FEEDBACK.c.survey,
            CIRCLE_FEEDBACK.c.answers,
            CIRCLE_FEEDBACK.c.answered_at,
            CIRCLE_SESSION.c.held_on,
        )
        .outerjoin(CIRCLE_SESSION, CIRCLE_SESSION.c.id == CIRCLE_FEEDBACK.c.session_id)
        .where(
            CIRCLE_FEEDBACK.c.respondent_id == person_id,
            CIRCLE_FEEDBACK.c.status == FeedbackStatus.ANSWERED.value,
        )
        .order_by(CIRCLE_FEEDBACK.c.answered_at, CIRCLE_FEEDBACK.c.id)
    )
    return [
        {
            "program": row.program,
            "circle": circle_label(row.circle_id),
            "survey": row.survey,
            "session_held_on": row.held_on.isoformat() if row.held_on else None,
            "answers": row.answers,
            "answered_at": _when(row.answered_at),
        }
        for row in rows.all()
    ]
