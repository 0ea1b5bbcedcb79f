"""A person's data: everything stored about them, as one document.

* :func:`export_person`: ``privacy export`` on the command line, ``my-data`` in chat;
* the ``my-data`` command, which sends it as a file.

Erasure (``privacy forget``) is handlers.people.erasure; the retention of notes is
handlers.people.retention.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.export import circle_feedback_of, circles_of
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Attachment, Reply
from storage import (
    ConversationState,
    Enrollment,
    Feedback,
    FeedbackStatus,
    Milestone,
    Pairing,
    Person,
    PlanVersion,
    SessionLog,
)
from storage.queries import person_by_email


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_PairingRow = TypeVar("_PairingRow", SessionLog, Milestone, PlanVersion)


async def _of_pairings(
    session: AsyncSession, model: type[_PairingRow], pairing_ids: list[int | None], *order: Any
) -> Sequence[_PairingRow]:
    """The rows of ``model`` that belong to any of ``pairing_ids``, in ``order``."""
    rows = await session.exec(
        select(model)
        .where(model.pairing_id.in_(pairing_ids))  # type: ignore[attr-defined]
        .order_by(*order)
    )
    return rows.all()


async def export_person(session: AsyncSession, email: str) -> dict[str, Any] | None:
    """Everything stored about the person with this email, or None if there is no such person.

    Returns:
        A JSON-ready document: the profile, every enrollment with its intake answers keyed
        by question id, every proposal and pairing the person was part of with its plan's
        milestones, every version of its plan, and its sessions (notes and summaries
        included: they belong to the pair), the feedback the person gave (not what others
        said about them), every circle they were proposed to or in (handlers.circles.export:
        their place, the circle's goals, its sessions as they took part in them) and the
        circle surveys they answered, and any conversation in progress.
    """
    person = await person_by_email(session, email)
    if person is None:
        return None
    assert person.id is not None
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
    sessions = await _of_pairings(session, SessionLog, pairing_ids, SessionLog.held_on)
    milestones = await _of_pairings(
        session, Milestone, pairing_ids, Milestone.cycle, Milestone.position
    )
    versions = await _of_pairings(session, PlanVersion, pairing_ids, PlanVersion.version)
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
                # Every version of the plan as written: what was agreed, and when.
                "plan_versions": [
                    {
                        "cycle": v.cycle,
                        "version": v.version,
                        "milestones": v.milestones,
                        "written_at": _when(v.written_at),
                        "written_by_me": v.written_by == person.id,
                        "confirmed_at": _when(v.confirmed_at),
                    }
                    for v in versions
                    if v.pairing_id == p.id
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
                        # The other side's answers, when both logged the session.
                        "second_side": None
                        if s.second_at is None
                        else {
                            "minutes": s.second_minutes,
                            "format": s.second_format,
                            "notes": s.second_notes,
                            "milestone_progress": s.second_progress,
                            "added_by_me": s.second_by == person.id,
                            "added_at": _when(s.second_at),
                        },
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
        "circles": await circles_of(session, person.id),
        "circle_feedback_given": await circle_feedback_of(session, person.id),
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


# --- my-data -------------------------------------------------------------------------------


#: The name a person's export is saved under.
MY_DATA_FILE = "mentorbot-my-data.json"


async def _my_data(turn: Turn, args: list[str]) -> Outcome:
    document = await export_person(turn.session, turn.person.email)
    if document is None:  # the person is the one typing, so this is only a race with erasure
        return Outcome([Reply("I have no data about you.")], None, changed=False)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    return Outcome(
        [
            Reply(
                f"Here's everything mentorbot stores about you, as a file: {MY_DATA_FILE}. "
                "To have it erased, ask a program lead.",
                title="Your data",
                attachment=Attachment(MY_DATA_FILE, text, "application/json"),
            )
        ],
        None,
        changed=False,
    )


def commands() -> list[Command]:
    """The data-rights command: ``my-data``."""
    return [Command("my-data", "everything I store about you", _my_data, aliases=("mydata",))]
