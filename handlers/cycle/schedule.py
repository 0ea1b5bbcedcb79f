"""What a pairing's cycle owes, as rows in the ``due_item`` table.

A cycle starts when a pairing becomes active (and again when both sides continue for
another one). It owes: a check-in every ``checkin_every_days`` (rolling: each check-in
schedules the next, and a logged session moves it), a calibration at ``calibration_day``
of the first cycle, a mid-point at half the cycle, the end-of-cycle review at
``cycle_days``, a quarterly review on the first day of each of ``review_months`` inside the
cycle, an inactivity check ``auto_close_after_days`` after the last sign of life, and a
look ``remind_after_days`` in at whether the plan is still owed (see handlers.cycle.reminders).

Rows are inserted with ON CONFLICT DO NOTHING on ``(pairing, kind, due_at)``, so
scheduling the same thing twice, from two replicas or a retried request, schedules it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.program import Cadence, Program
from storage import DueKind, DueStatus, Pairing
from storage.queries import insert_for, with_programs
from storage.tables import DUE

#: Items a pause holds back and a resume or an ending touches.
OPEN_DUE = (DueStatus.PENDING.value, DueStatus.HELD.value)


@dataclass(frozen=True)
class DueWork:
    """A due item to act on now, as the scheduler hands it over (see scheduler.due).

    The scheduler holds the item until the transaction that acts on it ends: nobody else
    acts on it meanwhile.
    """

    id: int
    pairing_id: int
    kind: str
    due_at: datetime
    answers: dict[str, Any]


def cycle_start(pairing: Pairing) -> datetime:
    """When the pairing's current cycle began."""
    start = pairing.cycle_started_at or pairing.activated_at
    assert start is not None, "only an active pairing has a cycle"
    return start


def cycle_end(pairing: Pairing, cadence: Cadence) -> datetime:
    """When the pairing's current cycle ends (its end-of-cycle review falls due)."""
    return cycle_start(pairing) + timedelta(days=cadence.cycle_days)


def cycle_day(pairing: Pairing, now: datetime) -> int:
    """Which day of its cycle the pairing is on (1: the day it started)."""
    return (now - cycle_start(pairing)).days + 1


def review_days(cadence: Cadence, *, start: datetime, zone: str) -> list[datetime]:
    """The first day of each review month after ``start`` and up to the cycle's end.

    The month begins at midnight in ``zone`` (the program's timezone); each person then
    hears of it inside their own working hours.
    """
    end = start + timedelta(days=cadence.cycle_days)
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    found: list[datetime] = []
    year, month = local.year, local.month
    while True:
        month += 1
        if month == 13:
            year, month = year + 1, 1
        first = datetime(year, month, 1, tzinfo=tz)
        if first > end:
            return found
        if month in cadence.review_months:
            found.append(first.astimezone(ZoneInfo("UTC")))


def cycle_items(program: Program, start: datetime, *, cycle: int) -> list[tuple[DueKind, datetime]]:
    """Everything a cycle starting at ``start`` owes, and when."""
    cadence = program.cadence
    days = timedelta(days=1)
    items = [
        (DueKind.CHECKIN, start + cadence.checkin_every_days * days),
        (DueKind.MIDPOINT, start + (cadence.cycle_days // 2) * days),
        (DueKind.END_REVIEW, start + cadence.cycle_days * days),
        (DueKind.INACTIVITY, start + cadence.auto_close_after_days * days),
    ]
    if cycle == 1:
        items.append((DueKind.CALIBRATION, start + cadence.calibration_day * days))
    if cadence.max_reminders:
        # The mentee owes the plan from the cycle's first day.
        items.append((DueKind.PLAN_REMINDER, start + cadence.remind_after_days * days))
    items += [
        (DueKind.QUARTERLY_REVIEW, moment)
        for moment in review_days(cadence, start=start, zone=program.default_timezone)
    ]
    return sorted(items, key=lambda item: item[1])


def due_row(
    pairing_id: int,
    *,
    kind: DueKind | str,
    due_at: datetime,
    now: datetime,
    answers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``due_item`` row, ready for :func:`insert_due`."""
    return {
        "pairing_id": pairing_id,
        "kind": str(kind),
        "due_at": due_at,
        "status": DueStatus.PENDING.value,
        "answers": answers or {},
        "created_at": now,
    }


async def insert_due(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert due items; one already scheduled for the same pairing, kind and moment stays."""
    if not rows:
        return
    conn = await session.connection()
    statement = insert_for(conn)(DUE).on_conflict_do_nothing(
        index_elements=["pairing_id", "kind", "due_at"]
    )
    # In key order, so two transactions inserting overlapping items wait for each other
    # in the same order instead of deadlocking.
    ordered = sorted(rows, key=lambda r: (r["pairing_id"], r["kind"], r["due_at"]))
    await conn.execute(statement, await with_programs(conn, ordered))


async def schedule_cycle(
    session: AsyncSession, program: Program, *, pairing: Pairing, now: datetime
) -> None:
    """Schedule the pairing's current cycle (from ``cycle_started_at``)."""
    assert pairing.id is not None
    start = cycle_start(pairing)
    await insert_due(
        session,
        [
            due_row(pairing.id, kind=kind, due_at=moment, now=now)
            for kind, moment in cycle_items(program, start, cycle=pairing.cycle)
        ],
    )


def reminder_check(
    program: Program, *, pairing_id: int, kind: DueKind, owed_since: datetime, now: datetime
) -> list[dict[str, Any]]:
    """The look at a step owed since ``owed_since``, to remind whoever owes it then.

    A ``plan_reminder`` or ``survey_reminder`` falls due ``remind_after_days`` after the
    step fell to someone (see handlers.cycle.reminders); none when reminders are switched off.
    Returns the rows for :func:`insert_due`.
    """
    cadence = program.cadence
    if not cadence.max_reminders:
        return []
    at = owed_since + timedelta(days=cadence.remind_after_days)
    return [due_row(pairing_id, kind=kind, due_at=at, now=now)]


async def cancel_due(
    session: AsyncSession,
    pairing_ids: Iterable[int],
    *,
    now: datetime,
    kinds: Iterable[DueKind] | None = None,
) -> None:
    """Cancel what the pairings still owe (all of it, or only these kinds)."""
    ids = list(pairing_ids)
    if not ids:
        return
    conn = await session.connection()
    where = [DUE.c.pairing_id.in_(ids), DUE.c.status.in_(OPEN_DUE)]
    if kinds is not None:
        where.append(DUE.c.kind.in_([str(k) for k in kinds]))
    await conn.execute(
        sa.update(DUE)
        .where(*where)
        .values(status=DueStatus.CANCELLED.value, outcome="closed", done_at=now)
    )


async def move_checkin(
    session: AsyncSession, program: Program, *, pairing: Pairing, due_at: datetime, now: datetime
) -> None:
    """Make ``due_at`` the pairing's next check-in (after a session, a resume).

    Nothing is scheduled past the cycle's end: the end-of-cycle review covers it. A
    check-in already owed at ``due_at`` is kept, not cancelled: a new one at the same
    moment would be the same row (the key is pairing, kind and moment), so cancelling it
    would leave none (a session logged the moment the pairing started).
    """
    assert pairing.id is not None
    await cancel_due(session, [pairing.id], now=now, kinds=[DueKind.REMINDER])
    conn = await session.connection()
    await conn.execute(
        sa.update(DUE)
        .where(
            DUE.c.pairing_id == pairing.id,
            DUE.c.kind == DueKind.CHECKIN.value,
            DUE.c.status.in_(OPEN_DUE),
            DUE.c.due_at != due_at,
        )
        .values(status=DueStatus.CANCELLED.value, outcome="closed", done_at=now)
    )
    if due_at < cycle_end(pairing, program.cadence):
        await insert_due(
            session, [due_row(pairing.id, kind=DueKind.CHECKIN, due_at=due_at, now=now)]
        )


async def release_held(session: AsyncSession, pairing_id: int, *, now: datetime) -> None:
    """Give back what a pause held: it falls due now (check-ins are moved separately)."""
    conn = await session.connection()
    held = await conn.execute(
        sa.select(DUE.c.id, DUE.c.kind, DUE.c.due_at)
        .where(DUE.c.pairing_id == pairing_id, DUE.c.status == DueStatus.HELD.value)
        .order_by(DUE.c.due_at, DUE.c.id)
    )
    found = held.all()
    for offset, (item_id, kind, _) in enumerate(found):
        if kind in (DueKind.CHECKIN.value, DueKind.REMINDER.value, DueKind.INACTIVITY.value):
            await conn.execute(
                sa.update(DUE)
                .where(DUE.c.id == item_id)
                .values(status=DueStatus.CANCELLED.value, outcome="resumed", done_at=now)
            )
        else:
            await conn.execute(
                sa.update(DUE)
                .where(DUE.c.id == item_id)
                # Due now (microseconds apart: two held reviews of one kind stay two rows).
                .values(
                    status=DueStatus.PENDING.value,
                    outcome=None,
                    due_at=now - timedelta(microseconds=len(found) - offset),
                )
            )


def start_of(day: date, moment: datetime) -> datetime:
    """``day`` at the same time of day (UTC) as ``moment``."""
    return datetime.combine(day, moment.timetz())
