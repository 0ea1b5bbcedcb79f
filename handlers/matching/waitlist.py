"""The waitlist: each waiting mentee's place, and why they have no proposal yet.

A matching round, a lapsed proposal and a declined one each leave a mentee waiting for a
reason. The reason is stored on the mentee's enrollment when it happens (a round stores
the same words ``match`` gives the lead), so ``status`` can say it with no matching work:
``status`` is asked far more often than rounds are run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.program import Program, ProgramType
from storage import (
    OPEN_CIRCLE,
    OPEN_PAIRING,
    CircleMemberStatus,
    Enrollment,
    EnrollmentStatus,
    Pairing,
    Role,
)
from storage.tables import CIRCLE, CIRCLE_MEMBER, ENROLLMENT


async def waitlist_positions(session: AsyncSession, program: Program) -> dict[int, int]:
    """Every waiting mentee's place on the waitlist (1: next in line), longest wait first.

    The same mentees, in the same order, as a matching round's pool (``load_pool``), read
    with one query: ``status`` asks for it on every call. In a peer program: the peers
    free to pair (on neither side of an open pairing of the program). In a circles
    program: the mentees in no open circle (invited to a proposed one, or in an active one).
    """
    pairing = Pairing.__table__  # type: ignore[attr-defined]
    peer = program.type is ProgramType.PEER
    side = (
        sa.or_(
            pairing.c.mentee_id == ENROLLMENT.c.person_id,
            pairing.c.mentor_id == ENROLLMENT.c.person_id,
        )
        if peer
        else pairing.c.mentee_id == ENROLLMENT.c.person_id
    )
    busy: sa.ColumnElement[bool] = sa.exists().where(
        pairing.c.program == ENROLLMENT.c.program,
        side,
        pairing.c.status.in_([s.value for s in OPEN_PAIRING]),
    )
    if program.type is ProgramType.CIRCLES:
        busy = sa.or_(busy, in_open_circle(ENROLLMENT.c.program, ENROLLMENT.c.person_id))
    conn = await session.connection()
    result = await conn.execute(
        sa.select(ENROLLMENT.c.person_id)
        .where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == (Role.PEER if peer else Role.MENTEE).value,
            ENROLLMENT.c.status.in_(
                [EnrollmentStatus.AVAILABLE.value, EnrollmentStatus.WAITING.value]
                if peer
                else [EnrollmentStatus.WAITING.value]
            ),
            ~busy,
        )
        .order_by(
            sa.func.coalesce(ENROLLMENT.c.waiting_since, ENROLLMENT.c.enrolled_at),
            ENROLLMENT.c.person_id,
        )
    )
    return {int(person_id): n for n, person_id in enumerate(result.scalars(), start=1)}


def in_open_circle(program: Any, person_id: Any) -> sa.ColumnElement[bool]:
    """Whether the person is still in an open circle of the program: invited to a proposed
    one or in an active one (not declined, not left)."""
    return sa.exists().where(
        CIRCLE_MEMBER.c.person_id == person_id,
        CIRCLE_MEMBER.c.status.in_(
            [CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value]
        ),
        CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id,
        CIRCLE.c.program == program,
        CIRCLE.c.status.in_([s.value for s in OPEN_CIRCLE]),
    )


def round_reason(why: str) -> str:
    """A matching round's reason for a mentee, as :func:`remember_why` stores it."""
    return f"the match round found no mentor for you: {why}"


async def remember_why(
    session: AsyncSession, program: Program, *, reasons: Mapping[int, str], now: datetime
) -> None:
    """Store why each of these mentees has no proposal, for ``status`` to say.

    Args:
        session: The open transaction.
        program: The program.
        reasons: Mentee person id to a clause that reads after "On <day>, ", e.g.
            ``round_reason("no mentor with a free place offers Coaching yet")``.
        now: When it happened.
    """
    if not reasons:
        return
    conn = await session.connection()
    await conn.execute(
        sa.update(ENROLLMENT)
        .where(
            ENROLLMENT.c.program == program.id,
            # Not IN (...): an expanding parameter cannot go with executemany.
            sa.or_(ENROLLMENT.c.role == Role.MENTEE.value, ENROLLMENT.c.role == Role.PEER.value),
            ENROLLMENT.c.person_id == sa.bindparam("mentee"),
        )
        .values(waiting_reason=sa.bindparam("why"), waiting_reason_at=now),
        [{"mentee": mentee, "why": why} for mentee, why in reasons.items()],
    )


def why_waiting_line(enrollment: Enrollment, zone: str) -> str:
    """Why a waiting mentee has no proposal, in one sentence for ``status``.

    A reason stored before the mentee's current wait began (they joined again since) is
    out of date, so it is not repeated.
    """
    joined = enrollment.waiting_since or enrollment.enrolled_at
    at = enrollment.waiting_reason_at
    if enrollment.waiting_reason and at is not None and at >= joined:
        return f"On {day_label(local_date(at, zone))}, {enrollment.waiting_reason}."
    return (
        "No match round has run since you joined the waitlist on "
        f"{day_label(local_date(joined, zone))}, so there's no proposal for you yet."
    )


async def tell_left_over(
    session: AsyncSession,
    program: Program,
    *,
    left_over: Sequence[tuple[int, str]],
    batch: str,
    note: Callable[[str, int, int], Reply],
    now: datetime,
    reason: Callable[[str], str] = round_reason,
) -> int:
    """After a round: keep why each person left over waits, and tell each their place.

    Args:
        left_over: Each person the round left waiting, with why in their words.
        batch: The round (each person is told once per round).
        note: The message for a reason, a place on the waitlist and its length.
        reason: How ``status`` words a reason later (a round of pairs by default).

    Returns:
        How many were told now.
    """
    await remember_why(session, program, reasons={p: reason(why) for p, why in left_over}, now=now)
    positions = await waitlist_positions(session, program)
    told = 0
    for person_id, why in left_over:
        position = positions.get(person_id)
        if position is None:
            continue
        told += await enqueue(
            session,
            person_id=person_id,
            replies=[note(why, position, len(positions))],
            dedupe_key=f"waitlist:{batch}:{person_id}",
            now=now,
            program=program,
        )
    return told
