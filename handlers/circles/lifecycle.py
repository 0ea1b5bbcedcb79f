"""A circle's people, what the bot says to all of them at once, and the circle's start.

Everything said to a circle is queued once per person with one ``group_key``
(``circle:ID:WHAT``): where the platform has group conversations (Slack) the circle reads it
together, elsewhere (Teams, the shell) each person reads their own copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import next_delivery
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.program import Program
from storage import (
    Circle,
    CircleDueKind,
    CircleMember,
    CircleMemberStatus,
    CircleRole,
    CircleStatus,
    DueStatus,
)
from storage.queries import insert_for
from storage.tables import CIRCLE_DUE, CIRCLE_MEMBER, PERSON


async def circle_people(
    session: AsyncSession,
    circle_id: int,
    *,
    statuses: Sequence[CircleMemberStatus] = (CircleMemberStatus.ACCEPTED,),
) -> list[CircleMember]:
    """The circle's people in these statuses (accepted: those in it), facilitator first."""
    conn = await session.connection()
    found = await conn.execute(
        sa.select(CIRCLE_MEMBER)
        .where(
            CIRCLE_MEMBER.c.circle_id == circle_id,
            CIRCLE_MEMBER.c.status.in_([s.value for s in statuses]),
        )
        .order_by(CIRCLE_MEMBER.c.role != CircleRole.FACILITATOR.value, CIRCLE_MEMBER.c.id)
    )
    return [CircleMember.model_validate(dict(row._mapping)) for row in found]


async def tell_circle(
    session: AsyncSession,
    *,
    program: Program,
    circle: Circle,
    replies: list[Reply],
    what: str,
    now: datetime,
    people: Sequence[CircleMember] | None = None,
) -> int:
    """Queue the same replies for everyone in the circle (or ``people``), as one message.

    ``what`` names the message within the circle (``kickoff``, ``session:2027-01-12``): the
    same ``what`` is queued once. Every copy goes out at one moment, inside the working hours
    of each of them as far as they overlap (when the last of them starts their day), so a
    group conversation reads it once. A Teams channel the facilitator named is shown with it.

    Returns:
        How many copies were queued now.
    """
    assert circle.id is not None
    if people is None:
        people = await circle_people(session, circle.id)
    if not people:
        return 0
    group_key = f"circle:{circle.id}:{what}"
    link = circle.conversation.get("teams_channel_link")
    if link and replies:
        last = replies[-1]
        replies = [*replies[:-1], replace(last, fields=(*last.fields, ("Teams channel", link)))]
    # Every copy goes at one moment, so a group conversation (Slack) gets the message once:
    # when the last of them starts their working hours.
    conn = await session.connection()
    zones = await conn.execute(
        sa.select(PERSON.c.timezone).where(PERSON.c.id.in_([p.person_id for p in people]))
    )
    not_before = max(
        next_delivery(
            now, zone=zone or program.default_timezone, hours=program.cadence.working_hours
        )
        for zone in zones.scalars()
    )
    queued = 0
    for person in people:
        queued += await enqueue(
            session,
            person_id=person.person_id,
            replies=replies,
            dedupe_key=f"{group_key}:{person.person_id}",
            now=now,
            not_before=not_before,
            group_key=group_key,
        )
    return queued


async def start_circle(
    session: AsyncSession, *, program: Program, circle: Circle, now: datetime
) -> None:
    """Make a proposed circle active: its cycle starts now, and its first session and its
    end review fall due (processed by the circles' due pass).

    The caller has checked that the facilitator and enough members accepted; the kickoff
    message is the caller's to send (with :func:`tell_circle`).
    """
    assert circle.id is not None
    circle.status = CircleStatus.ACTIVE.value
    circle.activated_at = now
    circle.cycle_started_at = now
    session.add(circle)
    await schedule_circle(session, program=program, circle=circle, start=now, now=now)


async def schedule_circle(
    session: AsyncSession, *, program: Program, circle: Circle, start: datetime, now: datetime
) -> None:
    """Put a cycle's due work in the calendar from ``start``: each session every
    ``checkin_every_days`` until the cycle's end, and the end review on its last day."""
    assert circle.id is not None
    cadence = program.cadence
    end = start + timedelta(days=cadence.cycle_days)
    every = cadence.checkin_every_days
    moments = [
        (CircleDueKind.SESSION, start + timedelta(days=days))
        for days in range(every, cadence.cycle_days, every)
    ]
    moments.append((CircleDueKind.END_REVIEW, end))
    conn = await session.connection()
    rows = [
        {
            "circle_id": circle.id,
            "program": circle.program,
            "kind": kind.value,
            "due_at": due_at,
            "status": DueStatus.PENDING.value,
            "created_at": now,
        }
        for kind, due_at in moments
    ]
    await conn.execute(
        insert_for(conn)(CIRCLE_DUE)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["circle_id", "kind", "due_at"])
    )


def is_member(member: CircleMember) -> bool:
    """True for a member (not the facilitator)."""
    return member.role == CircleRole.MEMBER.value
