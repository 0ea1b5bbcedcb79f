"""A person's data rights: everything stored about them, as one document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import (
    ConversationState,
    Enrollment,
    Feedback,
    FeedbackStatus,
    Milestone,
    Pairing,
    Person,
    SessionLog,
)
from storage.queries import person_by_email


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_person(session: AsyncSession, email: str) -> dict[str, Any] | None:
    """Everything stored about the person with this email, or None if there is no such person.

    Returns:
        A JSON-ready document: the profile, every enrollment with its intake answers keyed
        by question id, every proposal and pairing the person was part of with its plan's
        milestones and its sessions (notes and summaries included: they belong to the
        pair), the feedback the person gave (not what others said about them), and any
        conversation in progress.
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
    pairings = (
        await session.exec(
            select(Pairing)
            .where(sa.or_(Pairing.mentee_id == person.id, Pairing.mentor_id == person.id))  # type: ignore[arg-type]
            .order_by(Pairing.proposed_at)  # type: ignore[arg-type]
        )
    ).all()
    others = {
        p.id: p.name
        for p in (
            await session.exec(
                select(Person).where(
                    Person.id.in_(  # type: ignore[union-attr]
                        {x.mentor_id for x in pairings} | {x.mentee_id for x in pairings}
                    )
                )
            )
        ).all()
    }
    pairing_ids = [p.id for p in pairings]
    sessions = (
        await session.exec(
            select(SessionLog)
            .where(SessionLog.pairing_id.in_(pairing_ids))  # type: ignore[attr-defined]
            .order_by(SessionLog.held_on)  # type: ignore[arg-type]
        )
    ).all()
    milestones = (
        await session.exec(
            select(Milestone)
            .where(Milestone.pairing_id.in_(pairing_ids))  # type: ignore[attr-defined]
            .order_by(Milestone.cycle, Milestone.position)  # type: ignore[arg-type]
        )
    ).all()
    given = (
        await session.exec(
            select(Feedback)
            .where(
                Feedback.respondent_id == person.id,
                Feedback.status == FeedbackStatus.ANSWERED,
            )
            .order_by(Feedback.answered_at)  # type: ignore[arg-type]
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
        "pairings": [
            {
                "program": p.program,
                "role": "mentee" if p.mentee_id == person.id else "mentor",
                "with": others.get(p.mentor_id if p.mentee_id == person.id else p.mentee_id),
                "status": p.status,
                "score": p.score,
                "reasons": [
                    r.get("mentee" if p.mentee_id == person.id else "mentor") for r in p.reasons
                ],
                "proposed_at": _when(p.proposed_at),
                "activated_at": _when(p.activated_at),
                "closed_at": _when(p.closed_at),
                "declined_by": p.declined_by,
                "milestones": [
                    {
                        "cycle": m.cycle,
                        "objective": m.objective,
                        "target_date": m.target_date.isoformat(),
                        "status": m.status,
                    }
                    for m in milestones
                    if m.pairing_id == p.id
                ],
                "sessions": [
                    {
                        "held_on": s.held_on.isoformat(),
                        "minutes": s.minutes,
                        "format": s.format,
                        "topics": s.topics,
                        "notes": s.notes,
                        "summary": s.summary,
                        "milestone_progress": s.progress,
                        "logged_by_me": s.logged_by == person.id,
                    }
                    for s in sessions
                    if s.pairing_id == p.id
                ],
            }
            for p in pairings
        ],
        "feedback_given": [
            {
                "survey": f.survey,
                "pairing_with": next(
                    (
                        others.get(p.mentor_id if p.mentee_id == person.id else p.mentee_id)
                        for p in pairings
                        if p.id == f.pairing_id
                    ),
                    None,
                ),
                "answers": f.answers,
                "answered_at": _when(f.answered_at),
            }
            for f in given
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
