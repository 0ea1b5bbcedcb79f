"""The circles' due pass: claim what fell due in running circles and do it once.

:func:`run_circle_due` is called by :func:`scheduler.due.run_due`, so the tick of ``mentorbot
serve``, ``mentorbot run-due`` and the tests' simulated tick all process it. Its rows
(``circle_due``) are drained like due items (:func:`scheduler.claims.drain`, with
:data:`CIRCLE_BATCHES`): on PostgreSQL a committed claim with a lease, then a lock-in in
the transaction that does the work; on SQLite, whose transaction holds the only write lock,
the rows are chosen and processed in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import Programs
from handlers.circles.due import CircleDueWork, process_circle_due
from scheduler.claims import Batches, Drained, Leases, drain
from storage import Database, DueStatus
from storage.tables import CIRCLE_DUE

LEASE = timedelta(minutes=5)
BATCH = 500

#: Circle due rows are claimed by status, as due items are: ``claimed`` with a lease
#: (a crashed tick's, once the lease ran out), then ``pending`` ones that fell due.
CIRCLE_DUE_ITEMS = Leases(
    table=CIRCLE_DUE,
    lease=CIRCLE_DUE.c.lease_until,
    held=CIRCLE_DUE.c.status == DueStatus.CLAIMED.value,
    claimable=lambda now: (
        sa.and_(CIRCLE_DUE.c.status == DueStatus.CLAIMED.value, CIRCLE_DUE.c.lease_until < now),
        sa.and_(CIRCLE_DUE.c.status == DueStatus.PENDING.value, CIRCLE_DUE.c.due_at <= now),
    ),
    order=(CIRCLE_DUE.c.due_at, CIRCLE_DUE.c.id),
    marks={"status": DueStatus.CLAIMED.value},
)


def _work(row: sa.Row[*tuple[Any, ...]]) -> CircleDueWork:
    return CircleDueWork(id=row.id, circle_id=row.circle_id, kind=row.kind, due_at=row.due_at)


#: Circle due rows are done a batch at a time, each in the transaction of its messages.
CIRCLE_BATCHES = Batches(
    leases=CIRCLE_DUE_ITEMS,
    returning=(CIRCLE_DUE.c.id, CIRCLE_DUE.c.circle_id, CIRCLE_DUE.c.kind, CIRCLE_DUE.c.due_at),
    work=_work,
    what="circle due items",
)


async def run_circle_due(
    database: Database,
    programs: Programs,
    *,
    now: datetime,
    batch: int = BATCH,
    lease: timedelta = LEASE,
) -> Drained[int]:
    """Do every circle item due at ``now``; safe to run again and from several processes.

    Returns:
        How many items each batch did, and how many batches failed (their items come back
        after their lease).
    """

    async def process(session: AsyncSession, items: list[CircleDueWork]) -> int:
        return await process_circle_due(session, programs, items=items, now=now)

    return await drain(database, CIRCLE_BATCHES, process=process, now=now, batch=batch, lease=lease)
