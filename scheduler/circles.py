"""The circles' due pass: claim what fell due in running circles and do it once.

:func:`run_circle_due` is called by :func:`scheduler.due.run_due`, so the tick of ``mentorbot
serve``, ``mentorbot run-due`` and the tests' simulated tick all process it. Its rows
(``circle_due``) are claimed like due items (scheduler.claims, with
:data:`CIRCLE_DUE_ITEMS`): on PostgreSQL a committed claim with a lease, then a lock-in in
the transaction that does the work; on SQLite, whose transaction holds the only write lock,
the rows are chosen and processed in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from handlers import Programs, log_failure
from handlers.circles.due import CircleDueWork, process_circle_due
from scheduler.claims import Claimed, Leases, choose, claim, lease_until, lock_in
from storage import Database, DueStatus
from storage.tables import CIRCLE_DUE

log = logging.getLogger(__name__)
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
_COLUMNS = (CIRCLE_DUE.c.id, CIRCLE_DUE.c.circle_id, CIRCLE_DUE.c.kind, CIRCLE_DUE.c.due_at)


def _work(row: sa.Row[*tuple[Any, ...]]) -> CircleDueWork:
    return CircleDueWork(id=row.id, circle_id=row.circle_id, kind=row.kind, due_at=row.due_at)


async def run_circle_due(
    database: Database,
    programs: Programs,
    *,
    now: datetime,
    batch: int = BATCH,
    lease: timedelta = LEASE,
) -> tuple[int, int]:
    """Do every circle item due at ``now``; safe to run again and from several processes.

    Returns:
        How many items were done, and how many batches failed (their items come back after
        their lease).
    """
    done = failed = 0
    while True:
        try:
            if database.is_sqlite:
                async with database.session() as session:
                    conn = await session.connection()
                    rows = await choose(
                        conn, CIRCLE_DUE_ITEMS, now=now, returning=_COLUMNS, batch=batch
                    )
                    if not rows:
                        break
                    items = [_work(row) for row in rows]
                    done += await process_circle_due(session, programs, items=items, now=now)
                continue
            until = lease_until(now, lease)
            async with database.session() as session:
                rows = await claim(
                    await session.connection(),
                    CIRCLE_DUE_ITEMS,
                    now=now,
                    until=until,
                    returning=_COLUMNS,
                    batch=batch,
                )
            if not rows:
                break
            claimed = [Claimed(_work(row), until) for row in rows]
            async with database.session() as session:
                mine = await lock_in(await session.connection(), CIRCLE_DUE_ITEMS, claimed=claimed)
                items = [c.work for c in mine]
                done += await process_circle_due(session, programs, items=items, now=now)
        except Exception as exc:
            # By type and code location only: an error can quote a circle's notes.
            log_failure(log, "circle due items: a batch failed; retried after its lease", error=exc)
            failed += 1
            if database.is_sqlite:
                # The rollback undid the choice: claim the same batch with a lease, so it
                # waits for the lease instead of failing again at once.
                async with database.session() as session:
                    await claim(
                        await session.connection(),
                        CIRCLE_DUE_ITEMS,
                        now=now,
                        until=lease_until(now, lease),
                        returning=_COLUMNS,
                        batch=batch,
                    )
            else:
                break
    return done, failed
