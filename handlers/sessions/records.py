"""A logged session in storage: recording one, and adding the other side's answers to it.

A day is one session of a pair (``session_log`` is unique on pairing and day). The first
side to log it records it (:func:`record_session`); the other side's answers are added to
that same row (:func:`add_to_session`), their notes kept apart from the first side's. The
session form (handlers.sessions.log) decides which, and says what happened.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label
from handlers.core.program import Program
from handlers.cycle.schedule import move_checkin, start_of
from storage import Pairing, SessionLog, SummaryStatus
from storage.queries import insert_for, locked
from storage.tables import SESSION_LOG


async def record_session(
    session: AsyncSession,
    program: Program,
    *,
    pairing: Pairing,
    held_on: date,
    minutes: int,
    logged_by: int | None,
    now: datetime,
    format: str | None = None,
    topics: list[str] | None = None,
    notes: str | None = None,
    progress: dict[str, str] | None = None,
    summarise: bool = False,
) -> int | None:
    """Save a session and reset the pair's cadence.

    Returns:
        The new session log's id, or None when a session on that day was logged already
        (nothing is written; :func:`add_to_session` adds the other side's answers to it).
    """
    conn = await session.connection()
    table = SESSION_LOG
    summarise = summarised(pairing, notes, enabled=summarise)
    result = await conn.execute(
        insert_for(conn)(table)
        .values(
            pairing_id=pairing.id,
            held_on=held_on,
            minutes=minutes,
            format=format,
            topics=topics or [],
            notes=notes or None,
            progress=progress or None,
            logged_by=logged_by,
            created_at=now,
            summary_attempts=0,
            summary_status=SummaryStatus.PENDING.value if summarise else None,
            summary_next_at=now if summarise else None,
        )
        .on_conflict_do_nothing(index_elements=["pairing_id", "held_on"])
        .returning(table.c.id)
    )
    created = result.scalar_one_or_none()
    if created is None:
        return None
    latest = await conn.scalar(
        sa.select(sa.func.max(table.c.held_on)).where(table.c.pairing_id == pairing.id)
    )
    pairing.last_activity_at = now
    pairing.missed_checkins = 0
    pairing.at_risk_since = None
    session.add(pairing)
    if latest == held_on:
        due = start_of(held_on, now) + timedelta(days=program.cadence.checkin_every_days)
        await move_checkin(
            session, program, pairing=pairing, due_at=max(due, now + timedelta(days=1)), now=now
        )
    return int(created)


def summarised(pairing: Pairing, notes: str | None, *, enabled: bool) -> bool:
    """Whether notes are summarised: a model is configured, there are notes, both agreed."""
    return bool(enabled and notes and pairing.mentee_consent and pairing.mentor_consent)


async def session_on(
    session: AsyncSession, pairing_id: int, *, day: date, lock: bool = False
) -> SessionLog | None:
    """The pairing's session on ``day``, read afresh (locked until commit with ``lock``)."""
    query = select(SessionLog).where(SessionLog.pairing_id == pairing_id, SessionLog.held_on == day)
    if lock:
        query = locked(query)
    found = await session.exec(query.execution_options(populate_existing=True))
    return found.first()


def already_in(log: SessionLog, person_id: int | None) -> str | None:
    """Why this person cannot add their answers to ``log``, or None when they can."""
    day = day_label(log.held_on)
    if log.logged_by == person_id:
        return f"You already logged a session on {day} for this pairing."
    if log.second_at is None:
        return None
    if log.second_by == person_id:
        return f"You already added yours to the session on {day}."
    return f"Both of you already logged {day}."


async def add_to_session(
    session: AsyncSession,
    pairing: Pairing,
    *,
    held_on: date,
    person_id: int,
    now: datetime,
    minutes: int | None = None,
    format: str | None = None,
    topics: list[str] | None = None,
    notes: str | None = None,
    progress: dict[str, str] | None = None,
    summarise: bool = False,
) -> SessionLog | str:
    """Add the other side's answers to the session the first side logged on ``held_on``.

    Their notes and progress are kept apart from the first side's; the session keeps its
    minutes and format (the second side's are kept next to them), and takes the topics of
    both. The row is locked first, so two additions at once are taken one after the other.
    When notes come in and both agreed, the summary is written again from both sides'.

    Returns:
        The session, or why nothing was added (see :func:`already_in`).
    """
    log = await session_on(session, pairing.id or 0, day=held_on, lock=True)
    if log is None:
        return f"There's no session on {day_label(held_on)} to add to."
    refused = already_in(log, person_id)
    if refused is not None:
        return refused
    log.second_by = person_id
    log.second_at = now
    log.second_minutes = minutes
    log.second_format = format
    log.second_notes = notes or None
    log.second_progress = progress or None
    log.topics = list(log.topics) + [t for t in topics or () if t not in log.topics]
    if summarised(pairing, notes, enabled=summarise):
        # A new lease time also supersedes a summary of the first side's notes in flight.
        log.summary_status = SummaryStatus.PENDING.value
        log.summary_next_at = now
        log.summary_attempts = 0
        log.summary_error = None
    session.add(log)
    pairing.last_activity_at = now
    session.add(pairing)
    return log
