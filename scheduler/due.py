"""Work that falls due with time, done in one pass at a given instant.

The tick of ``mentorbot serve`` and ``mentorbot run-due`` both call :func:`run_due`. A pass
lapses unanswered proposals, ends pauses that ran out, then claims due items in batches
(scheduler.claims, with :data:`DUE_ITEMS`) and hands each batch to
:func:`handlers.cycle.due_pass.process_due`; last, the circles' items (scheduler.circles).

A claim is a committed ``UPDATE ... SET status='claimed', lease_until=...`` of rows that
are due (or whose earlier claim's lease ran out). Processing first locks in the items
whose lease is still the one it claimed with, in the same transaction as the messages it
queues. So a process that dies between claiming and processing loses nothing (the lease
runs out and the next pass takes the items), and two processes never both act on one
item. Every message also has a unique outbox key, which stops a second send even if an
item were somehow processed twice.

On SQLite a transaction holds the only write lock from BEGIN IMMEDIATE to its end, so a
pass chooses a batch and processes it in one transaction instead (a crash rolls back
both); only a batch that failed is claimed with a lease, so it waits before it is tried
again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import (
    CycleReport,
    DueWork,
    Programs,
    ProgramType,
    expire_circles,
    expire_notes,
    expire_proposals,
    log_failure,
    process_due,
    recall_archived_circles,
    remind_lapsing,
    remind_lapsing_circles,
    resume_due_pauses,
)
from scheduler.circles import run_circle_due
from scheduler.claims import Claimed, Leases, choose, claim, lease_until, lock_in
from storage import Database, DueStatus
from storage.tables import DUE, ENROLLMENT

log = logging.getLogger(__name__)
#: How long a claim is a tick's own before another may take the items.
LEASE = timedelta(minutes=5)
BATCH = 2000
#: Batches processed at once on PostgreSQL (see :func:`run_due`).
WORKERS = 2

#: Due items are claimed by status: ``claimed`` with a lease, ``pending`` until then. Two
#: queries, not one with OR: each then walks the (status, due_at) index instead of sorting
#: every due row. Items whose claim's lease ran out (a crashed tick) come first.
DUE_ITEMS = Leases(
    table=DUE,
    lease=DUE.c.lease_until,
    held=DUE.c.status == DueStatus.CLAIMED.value,
    claimable=lambda now: (
        sa.and_(DUE.c.status == DueStatus.CLAIMED.value, DUE.c.lease_until < now),
        sa.and_(DUE.c.status == DueStatus.PENDING.value, DUE.c.due_at <= now),
    ),
    order=(DUE.c.due_at, DUE.c.id),
    marks={"status": DueStatus.CLAIMED.value},
)
_COLUMNS = (DUE.c.id, DUE.c.pairing_id, DUE.c.kind, DUE.c.due_at, DUE.c.answers)


@dataclass
class DueReport:
    """What one pass did.

    Attributes:
        lapsed: Ids of proposals that went unanswered past ``matching.proposal_expiry_days``.
        circles_lapsed: Ids of circle proposals that went unanswered past their expiry.
        circles_reminded: Ids of circle proposals whose people were reminded before the lapse.
        reminded: Ids of proposals whose answer was asked for again, a day before they lapse.
        resumed: People whose pause ran out.
        cycle: What the pairings' due items produced.
        failed_batches: Batches that raised; their items return after the lease.
    """

    lapsed: list[int] = field(default_factory=list)
    circles_lapsed: list[int] = field(default_factory=list)
    circles_reminded: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    cycle: CycleReport = field(default_factory=CycleReport)
    failed_batches: int = 0
    #: Sessions whose notes and summary passed ``privacy.retain_notes_days``.
    notes_expired: int = 0
    #: Circle items done (scheduler.circles): session nudges, end reviews.
    circles: int = 0

    @property
    def total(self) -> int:
        """How many things the pass changed."""
        return (
            len(self.lapsed)
            + len(self.circles_lapsed)
            + len(self.circles_reminded)
            + len(self.reminded)
            + len(self.resumed)
            + self.cycle.processed
            + self.circles
        )

    def as_dict(self) -> dict[str, object]:
        """The counts, for logs and ``--json``."""
        return {
            "lapsed": len(self.lapsed),
            "circles_lapsed": len(self.circles_lapsed),
            "circles_reminded": len(self.circles_reminded),
            "reminded": len(self.reminded),
            "resumed": len(self.resumed),
            "sent": self.cycle.sent,
            "suppressed": self.cycle.suppressed,
            "folded": self.cycle.folded,
            "held": self.cycle.held,
            "closed": self.cycle.closed,
            "messages": self.cycle.messages,
            "at_risk": len(self.cycle.at_risk),
            "close_proposed": len(self.cycle.close_proposed),
            "failed_batches": self.failed_batches,
            "notes_expired": self.notes_expired,
            "circles": self.circles,
        }


async def claim_due(
    database: Database, now: datetime, *, batch: int = BATCH, lease: timedelta = LEASE
) -> list[Claimed[DueWork]]:
    """Atomically claim up to ``batch`` due items (and ones whose lease ran out)."""
    until = lease_until(now, lease)
    async with database.session() as session:
        conn = await session.connection()
        rows = await claim(conn, DUE_ITEMS, now=now, until=until, returning=_COLUMNS, batch=batch)
    return [Claimed(_due_work(row), until) for row in rows]


async def process_claimed(
    session: AsyncSession,
    programs: Programs,
    *,
    claimed: Sequence[Claimed[DueWork]],
    now: datetime,
) -> CycleReport:
    """Process the claimed items that are still ours, in the session's transaction.

    Only the items whose claim is still ours (the lease matches) are processed, locked
    until the transaction ends: a tick that lost its lease to another after a stall
    processes nothing twice.
    """
    mine = await lock_in(await session.connection(), DUE_ITEMS, claimed=claimed)
    if not mine:
        return CycleReport()
    return await process_due(session, programs, items=[c.work for c in mine], now=now)


def _due_work(row: sa.Row[*tuple[Any, ...]]) -> DueWork:
    return DueWork(
        id=row.id,
        pairing_id=row.pairing_id,
        kind=row.kind,
        due_at=row.due_at,
        answers=row.answers or {},
    )


async def run_due(
    database: Database,
    programs: Programs,
    *,
    now: datetime,
    batch: int = BATCH,
    lease: timedelta = LEASE,
    workers: int = WORKERS,
) -> DueReport:
    """Do everything due at ``now``; safe to run again, and from several processes at once.

    On PostgreSQL ``workers`` loops claim and process batches at once, each on its own
    connection: while one waits for the database the other does its Python work. They
    are replicas in miniature (``SKIP LOCKED`` keeps their batches apart). SQLite has one
    writer, so it runs one loop.
    """
    report = DueReport()
    # The housekeeping of every program in one transaction: most ticks find nothing to do,
    # and one transaction is one round of BEGIN and COMMIT instead of one per step.
    async with database.session() as session:
        stored = await stored_program_ids(session)
        for program in (await recall_archived_circles(session, programs)).with_ids(stored):
            report.lapsed += await expire_proposals(session, program, now=now)
            if program.type is ProgramType.CIRCLES:
                report.circles_lapsed += await expire_circles(session, program, now=now)
                report.circles_reminded += await remind_lapsing_circles(session, program, now=now)
            report.reminded += await remind_lapsing(session, program, now=now)
            report.resumed += await resume_due_pauses(session, program, now=now)
        report.notes_expired = await expire_notes(session, programs.first, now=now)
    # One loop first; the others join only when its batch came back full (more is due than
    # one batch), so an idle tick makes one claim, not one per loop.
    loops = 1 if database.is_sqlite else max(1, workers)
    if await _work(database, programs, now, batch, lease, report, once=loops > 1):
        await asyncio.gather(
            *(_work(database, programs, now, batch, lease, report) for _ in range(loops))
        )
    # Circles live only in circles programs; a program no longer in the file may have been
    # one (its type is not kept), so its circles are still looked after.
    if any(p.type is ProgramType.CIRCLES for p in programs) or stored - programs.ids:
        circles, failed = await run_circle_due(database, programs, now=now, lease=lease)
        report.circles += circles
        report.failed_batches += failed
    return report


async def stored_program_ids(session: AsyncSession) -> set[str]:
    """Every program id the database's enrollments name (archived programs included)."""
    conn = await session.connection()
    rows = await conn.execute(sa.select(ENROLLMENT.c.program).distinct())
    return {row.program for row in rows}


async def _work(
    database: Database,
    programs: Programs,
    now: datetime,
    batch: int,
    lease: timedelta,
    report: DueReport,
    *,
    once: bool = False,
) -> bool:
    """Claim and process batches until nothing due is left to claim.

    With ``once``, one batch only. Returns:
        True when a batch came back full (more may be due), False when all is done.
    """
    while True:
        try:
            if database.is_sqlite:
                # SQLite has one writer at a time and the transaction holds the write lock
                # from its start, so choosing and processing the items in one transaction
                # is just as safe (a crash rolls back both) and writes each item once.
                async with database.session() as session:
                    conn = await session.connection()
                    rows = await choose(conn, DUE_ITEMS, now=now, returning=_COLUMNS, batch=batch)
                    if not rows:
                        return False
                    taken = len(rows)
                    chosen = [Claimed(_due_work(row), None) for row in rows]
                    done = await process_claimed(session, programs, claimed=chosen, now=now)
            else:
                claimed = await claim_due(database, now, batch=batch, lease=lease)
                if not claimed:
                    return False
                taken = len(claimed)
                async with database.session() as session:
                    done = await process_claimed(session, programs, claimed=claimed, now=now)
        except Exception as exc:
            # The items stay claimed until the lease runs out, then a later pass retries.
            # By type and code location only: a database error can quote a note or answer.
            log_failure(
                log, "due items: a batch failed; it will be retried after its lease", error=exc
            )
            report.failed_batches += 1
            if database.is_sqlite:
                # The rollback undid the claim too: claim the same batch (the order is
                # fixed) on its own, so it waits for its lease instead of failing again.
                await claim_due(database, now, batch=batch, lease=lease)
            if once:
                return True  # the loops go on past the failed batch
            continue
        report.cycle.add(done)
        if once:
            return taken >= batch
