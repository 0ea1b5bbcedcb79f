"""Retention of personal data: session notes past ``privacy.retain_notes_days``.

:func:`expire_notes` deletes pairs' and circles' session notes and summaries older than
the retention; the scheduler's tick runs it. (Outbox messages have their own retention,
``privacy.retain_messages_days``, in handlers.core.outbox.)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.program import Program
from storage import CircleSession, SessionLog

#: A session log's words and their summary, emptied (a person forgotten, notes expired). The
#: summary becomes a real NULL, not JSON null, so the next tick does not look at it again.
NO_NOTES: dict[str, Any] = {
    "notes": None,
    "second_notes": None,
    "summary": sa.null(),
    "summary_status": None,
    "summary_error": None,
}


async def expire_notes(session: AsyncSession, program: Program, *, now: datetime) -> int:
    """Delete session notes and summaries older than ``privacy.retain_notes_days``.

    Pairs' sessions and circles' alike; the session itself (date, minutes, format, topics,
    a circle's attendance) stays for the program's figures.

    Returns:
        How many sessions lost their notes or summary.
    """
    days = program.privacy.retain_notes_days
    if days is None:
        return 0
    before = (now - timedelta(days=days)).date()
    return await _expire_pair_notes(session, before) + await _expire_circle_notes(session, before)


async def _expire_pair_notes(session: AsyncSession, before: date) -> int:
    table = SessionLog.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    candidates = (
        await conn.execute(
            sa.select(table.c.id, table.c.notes, table.c.summary, table.c.second_notes).where(
                table.c.held_on < before,
                sa.or_(
                    table.c.notes.is_not(None),
                    table.c.second_notes.is_not(None),
                    table.c.summary.is_not(None),
                ),
            )
        )
    ).all()
    if not candidates:
        return 0
    # A summary written as JSON null is nothing to expire, but is made a real NULL so the
    # next tick does not look at it again.
    await conn.execute(
        sa.update(table).where(table.c.id.in_([row[0] for row in candidates])).values(**NO_NOTES)
    )
    return sum(1 for row in candidates if row[1] or row[2] or row[3])


async def _expire_circle_notes(session: AsyncSession, before: date) -> int:
    """A circle session's notes (circles have no summaries)."""
    table = CircleSession.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    expired = await conn.execute(
        sa.update(table)
        .where(table.c.held_on < before, table.c.notes.is_not(None))
        .values(notes=None)
    )
    return int(expired.rowcount or 0)
