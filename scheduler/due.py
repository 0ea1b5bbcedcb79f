"""Work that falls due with time, done in one pass at a given instant.

The tick of ``mentorbot serve`` and ``mentorbot run-due`` both call :func:`run_due`. A pass
lapses unanswered proposals, ends pauses that ran out, then drains the due items in batches
(:func:`scheduler.claims.drain`, with :data:`DUE_BATCHES`), handing each batch to
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
    expire_messages,
    expire_notes,
    expire_proposals,
    process_due,
    recall_archived_circles,
    remind_lapsing,
    remind_lapsing_circles,
    resume_due_pauses,
)
from scheduler.circles import run_circle_due
from scheduler.claims import Batches, Leases, drain
from storage import Database, DueStatus
from storage.queries import prune_processed_events
from storage.tables import DUE, ENROLLMENT

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


def _due_work(row: sa.Row[*tuple[Any, ...]]) -> DueWork:
    return DueWork(
        id=row.id,
        pairing_id=row.pairing_id,
        kind=row.kind,
        due_at=row.due_at,
        answers=row.answers or {},
    )


#: Due items are done a batch at a time, each in the transaction of its messages.
DUE_BATCHES = Batches(
    leases=DUE_ITEMS,
    returning=(DUE.c.id, DUE.c.pairing_id, DUE.c.kind, DUE.c.due_at, DUE.c.answers),
    work=_due_work,
    what="due items",
)


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
    #: Messages deleted past ``privacy.retain_messages_days`` (at most a thousand a pass).
    messages_expired: int = 0
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
            "messages_expired": self.messages_expired,
            "circles": self.circles,
        }


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
        report.messages_expired = await expire_messages(session, programs.privacy, now=now)
        await prune_processed_events(session, now=now)

    async def process(session: AsyncSession, items: list[DueWork]) -> CycleReport:
        return await process_due(session, programs, items=items, now=now)

    # One loop first; the others join only when its batch came back full (more is due than
    # one batch), so an idle tick makes one claim, not one per loop.
    loops = 1 if database.is_sqlite else max(1, workers)
    first = await drain(
        database, DUE_BATCHES, process=process, now=now, batch=batch, lease=lease, once=loops > 1
    )
    drained = [first]
    if first.more:
        drained += await asyncio.gather(
            *(
                drain(database, DUE_BATCHES, process=process, now=now, batch=batch, lease=lease)
                for _ in range(loops)
            )
        )
    for each in drained:
        for cycle in each.done:
            report.cycle.add(cycle)
        report.failed_batches += each.failed
    # Circles live only in circles programs; a program no longer in the file may have been
    # one (its type is not kept), so its circles are still looked after.
    if any(p.type is ProgramType.CIRCLES for p in programs) or stored - programs.ids:
        circles = await run_circle_due(database, programs, now=now, lease=lease)
        report.circles += sum(circles.done)
        report.failed_batches += circles.failed
    return report


async def stored_program_ids(session: AsyncSession) -> set[str]:
    """Every program id the database's enrollments name (archived programs included)."""
    conn = await session.connection()
    rows = await conn.execute(sa.select(ENROLLMENT.c.program).distinct())
    return {row.program for row in rows}
