"""Ending a pairing, and telling people what happened to it.

:func:`end_pairing` is the one way a pairing ends (closed, completed, a re-match, someone
left, someone asked to be forgotten), and it takes the pairing's meetings still ahead out
of both calendars; :func:`tell` and :func:`tell_leads` queue the notices the commands of
the cycle send to the other side and to the program leads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.messages import Reply
from handlers.core.naming import for_reader, in_program, leading_several
from handlers.core.outbox import enqueue, withdraw
from handlers.core.program import Program, ProgramType
from handlers.core.programs import Programs
from handlers.cycle.schedule import cancel_due
from handlers.meetings.booking import cancel_pairing_meetings
from handlers.people.lookups import program_leads
from storage import OPEN_PAIRING, Enrollment, EnrollmentStatus, Pairing, PairingStatus, Role

PAIRING = Pairing.__table__  # type: ignore[attr-defined]
ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]


def first_name(name: str) -> str:
    """How a message addresses someone: their first name."""
    return name.split()[0] if name else name


async def end_pairing(
    session: AsyncSession,
    program: Program,
    *,
    pairing: Pairing,
    now: datetime,
    reason: str,
    rematch: bool = False,
) -> bool:
    """End an open pairing: cancel what it owes, free the mentor's place, settle the mentee.

    What it owes is cancelled three times over: its due items (so no new nudge or review is
    queued), the messages about it that have not gone out (a "continue?" question, a
    nudge, a survey invitation), so the other side hears only the notice queued after, and
    its meetings still ahead, in both people's calendars (an invite for each, as
    ``cancel-meeting series`` sends: handlers.meetings.booking.cancel_pairing_meetings);
    the meetings already held stay in both calendars. An offer of times no one picked yet
    is withdrawn, so its buttons say so.

    Args:
        reason: ``completed``, ``closed``, ``rematch`` or ``left``, kept on the pairing.
        rematch: Put the mentee back on the waitlist; their wait still counts from when they
            first joined it, so they come before everyone who joined later.

    Returns:
        False when the pairing was no longer open (someone else ended it first).
    """
    assert pairing.id is not None
    open_statuses = [s.value for s in OPEN_PAIRING]
    conn = await session.connection()
    result = await conn.execute(
        sa.update(PAIRING)
        .where(PAIRING.c.id == pairing.id, PAIRING.c.status.in_(open_statuses))
        .values(status=PairingStatus.ENDED.value, closed_at=now, end_reason=reason)
    )
    if not result.rowcount:
        return False
    await session.refresh(pairing)
    await cancel_due(session, [pairing.id], now=now)
    await withdraw(session, pairing_id=pairing.id, reason=f"pairing ended ({reason})", now=now)
    await cancel_pairing_meetings(session, program, pairing=pairing, now=now)
    status = EnrollmentStatus.WAITING if rematch else EnrollmentStatus.COMPLETED
    values: dict[str, Any] = {"status": status.value, "updated_at": now}
    # The mentee goes back to waiting (or is done); in a peer program both peers do.
    peers = program.type is ProgramType.PEER
    await conn.execute(
        sa.update(ENROLLMENT)
        .where(
            ENROLLMENT.c.person_id.in_(
                [pairing.mentee_id, pairing.mentor_id] if peers else [pairing.mentee_id]
            ),
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == (Role.PEER if peers else Role.MENTEE).value,
            ENROLLMENT.c.status.in_(
                [EnrollmentStatus.MATCHED.value, EnrollmentStatus.WAITING.value]
            ),
        )
        .values(**values)
    )
    return True


async def tell(
    session: AsyncSession,
    program: Program,
    *,
    person_id: int,
    text: str,
    key: str,
    now: datetime,
    pairing_id: int | None = None,
    named: bool = False,
    **extra: Any,
) -> None:
    """Queue a notice for one person, once per ``key``.

    The notice opens with the program's name when the person is in several programs
    (handlers.core.naming), or when ``named``.

    Args:
        pairing_id: The pairing the notice is about, so it is withdrawn if the pairing ends
            before it goes out.
        named: Name the program whoever reads it (a lead of several programs).
        extra: More of the :class:`Reply` (its actions, a title).
    """
    replies = [Reply(text, **extra)]
    await enqueue(
        session,
        person_id=person_id,
        replies=[in_program(r, program) for r in replies]
        if named
        else await for_reader(session, program, person_id=person_id, replies=replies),
        dedupe_key=key,
        now=now,
        program=program,
        pairing_id=pairing_id,
    )


async def tell_leads(
    session: AsyncSession,
    program: Program,
    *,
    text: str,
    key: str,
    now: datetime,
    programs: Programs | None = None,
) -> None:
    """Queue a notice for each program lead, once per ``key`` and lead.

    Args:
        programs: Every program of the file, so a lead of several reads which one it is.
    """
    leads = await program_leads(session, program, now=now)
    several = leading_several(programs, leads)
    for lead in leads:
        assert lead.id is not None
        await tell(
            session,
            program,
            person_id=lead.id,
            text=text,
            key=f"{key}:lead:{lead.id}",
            now=now,
            named=lead.id in several,
        )
