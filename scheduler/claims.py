"""Claiming shared work: a lease per claim, then a lock-in before the work's effects commit.

Three workers take work from tables that several processes (replicas, or the loops of
one tick) share: the due pass (``due_item``), the outbox (``outbox``) and the summaries
(``session_log``). They take it the same way, described for each table by a
:class:`Leases`:

1. **Claim** (:func:`claim`), in a short transaction committed on its own: choose up to
   ``batch`` rows that are free (due, not claimed) or whose claim's lease ran out, and
   mark them this worker's until a lease time of its own (:func:`lease_until`), in one
   ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``. On PostgreSQL
   SKIP LOCKED keeps claims made at the same moment apart; SQLite has one writer (every
   transaction begins IMMEDIATE, see storage.database), so its claims simply queue.
2. **Act** with no transaction open: process the batch, send the message, ask the model.
3. **Lock in**, in the transaction that commits what the work produced: only rows still
   claimed with this claim's lease (:meth:`Leases.ours`) count. :func:`lock_in` also locks
   them, so a worker that re-claims them after this lease ran out waits for this commit
   and then finds them done; a conditional ``UPDATE ... WHERE`` :meth:`Leases.ours` does
   the same for one row.

So a process that dies after claiming loses nothing (the lease runs out, and the next
pass takes the rows), and two workers never both act on a row (the second claim has
another lease, so the first one's lock-in finds nothing). Each lease carries a few random
microseconds, so two claims made at the same instant still differ.

SQLite's one-writer path: a worker that claims and acts in one transaction (the due pass
on SQLite) only chooses the rows (:func:`choose`). The transaction holds the database's
write lock from its start, so its rows are its own until it ends, and a crash rolls the
work back with the choice. Their claims have no lease (``lease_until`` None).

Work done a batch at a time, each batch in the transaction that commits what it produced
(the due pass and the circles' due pass), is drained by :func:`drain`: it claims, locks
in and processes batches until none is left, on either database, and sets aside a batch
that fails until its lease runs out.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import log_failure
from storage import Database
from storage.queries import among, locked

log = logging.getLogger(__name__)


class _Row(Protocol):
    """Work from one row: it knows the row's id."""

    @property
    def id(self) -> int: ...


Work = TypeVar("Work", bound=_Row)
Done = TypeVar("Done")


@dataclass(frozen=True)
class Leases:
    """Where a table keeps its claims, and which of its rows a claim may take.

    Attributes:
        table: The table of the work.
        lease: The column holding a claim's lease time.
        held: True for a row some worker has claimed (with :attr:`lease`, whose claim).
        claimable: The rows a claim at ``now`` may take, as conditions tried one after
            another until the batch is full (so each can walk an index of its own).
        order: The order rows are taken in, oldest work first.
        marks: What a claim writes besides the lease (a status, a count of attempts).
    """

    table: sa.Table
    lease: sa.Column[Any]
    held: sa.ColumnElement[bool]
    claimable: Callable[[datetime], Sequence[sa.ColumnElement[bool]]]
    order: Sequence[sa.ColumnElement[Any]]
    marks: Mapping[str, Any]

    def ours(self, lease_until: datetime | None) -> sa.ColumnElement[bool]:
        """True for a row still claimed with this lease: the claim is still the worker's."""
        return sa.and_(self.held, self.lease == lease_until)


@dataclass(frozen=True)
class Claimed(Generic[Work]):
    """Work a worker claimed, and the lease that makes the claim its own.

    Attributes:
        work: What to do (one row's worth).
        lease_until: The claim's lease; None when the work was chosen inside the very
            transaction that does it (SQLite's one writer makes that transaction its owner).
    """

    work: Work
    lease_until: datetime | None


def lease_until(now: datetime, lease: timedelta) -> datetime:
    """A fresh lease for a claim made at ``now``, its own even if another claims then too."""
    return now + lease + timedelta(microseconds=secrets.randbelow(1_000_000))


async def claim(
    conn: AsyncConnection,
    leases: Leases,
    *,
    now: datetime,
    until: datetime,
    returning: Sequence[sa.ColumnElement[Any]],
    batch: int | None = None,
    where: sa.ColumnElement[bool] | None = None,
) -> list[sa.Row[*tuple[Any, ...]]]:
    """Claim up to ``batch`` claimable rows (all of them without one) until ``until``.

    The claim is the caller's to commit, on its own, before acting on the rows.

    Args:
        conn: The connection of the claim's transaction.
        leases: The table's claims.
        now: The instant of the claim.
        until: The claim's lease (see :func:`lease_until`).
        returning: The columns of the claimed rows to return.
        batch: The most rows to claim.
        where: Rows to keep to, besides :attr:`Leases.claimable`.

    Returns:
        The claimed rows' ``returning`` columns.
    """
    rows: list[sa.Row[*tuple[Any, ...]]] = []
    for claimable in leases.claimable(now):
        room = None if batch is None else batch - len(rows)
        if room is not None and room <= 0:
            break
        wanted = claimable if where is None else sa.and_(claimable, where)
        # Rows another claim holds are skipped, not waited for.
        ids = locked(_chosen(leases, wanted, [leases.table.c.id], room), skip_locked=True)
        statement = (
            sa.update(leases.table)
            .values({leases.lease.name: until, **leases.marks})
            .returning(*returning)
        )
        if conn.dialect.name == "postgresql":
            # The choice is made once, as a materialized CTE. Joined as a subquery, the
            # planner may run it again for each row of the table (a nested loop), and each
            # run skips the rows the update has just locked and takes the next ones: the
            # LIMIT then no longer caps the claim (tests/scheduler/test_claim_plans.py).
            chosen = ids.cte("chosen").prefix_with("MATERIALIZED")
            statement = statement.where(leases.table.c.id == chosen.c.id)
        else:
            statement = statement.where(leases.table.c.id.in_(ids.scalar_subquery()))
        rows += (await conn.execute(statement)).all()
    return rows


async def choose(
    conn: AsyncConnection,
    leases: Leases,
    *,
    now: datetime,
    returning: Sequence[sa.ColumnElement[Any]],
    batch: int,
) -> list[sa.Row[*tuple[Any, ...]]]:
    """The rows a claim would take, left as they are: SQLite's one-writer path.

    Only for a transaction that does the work itself before it ends: it holds SQLite's
    only write lock, so nobody else can take the rows meanwhile.
    """
    rows: list[sa.Row[*tuple[Any, ...]]] = []
    for claimable in leases.claimable(now):
        room = batch - len(rows)
        if room <= 0:
            break
        rows += (await conn.execute(_chosen(leases, claimable, returning, room))).all()
    return rows


async def lock_in(
    conn: AsyncConnection, leases: Leases, *, claimed: Iterable[Claimed[Work]]
) -> list[Claimed[Work]]:
    """The claims that are still ours, their rows locked until the transaction ends.

    SQLite's transaction holds the only write lock already; PostgreSQL locks the rows, so
    a worker that re-claims them after our lease ran out waits for us, then finds them done.
    Claims without a lease were chosen in this very transaction: they are ours.
    """
    by_lease: dict[datetime, list[Claimed[Work]]] = defaultdict(list)
    mine: list[Claimed[Work]] = []
    for item in claimed:
        if item.lease_until is None:
            mine.append(item)
        else:
            by_lease[item.lease_until].append(item)
    for lease, group in by_lease.items():
        ids = [c.work.id for c in group]
        query = sa.select(leases.table.c.id).where(
            among(conn, leases.table.c.id, ids=ids), leases.ours(lease)
        )
        kept = set((await conn.execute(locked(query))).scalars())
        mine += [c for c in group if c.work.id in kept]
    return mine


@dataclass(frozen=True)
class Batches(Generic[Work]):
    """A table whose rows are done a batch at a time, by :func:`drain`.

    Attributes:
        leases: The table's claims.
        returning: The columns a row's work is read from.
        work: The work of one claimed row.
        what: What the rows are, for the log (``due items``).
    """

    leases: Leases
    returning: Sequence[sa.ColumnElement[Any]]
    work: Callable[[sa.Row[*tuple[Any, ...]]], Work]
    what: str


@dataclass
class Drained(Generic[Done]):
    """What :func:`drain` did.

    Attributes:
        done: What each batch's processing returned, for the batches that committed.
        failed: Batches that raised; their rows wait for their lease, then a later pass.
        more: The last batch came back full, so more may be left (with ``once``).
    """

    done: list[Done] = field(default_factory=list)
    failed: int = 0
    more: bool = False


async def drain(
    database: Database,
    batches: Batches[Work],
    *,
    process: Callable[[AsyncSession, list[Work]], Awaitable[Done]],
    now: datetime,
    batch: int,
    lease: timedelta,
    once: bool = False,
) -> Drained[Done]:
    """Claim and process batches of ``batches`` until none is left (with ``once``, one).

    ``process`` gets each batch in the transaction that locked it in, so what it produces
    commits together with the rows' being done, or not at all. On PostgreSQL a batch is
    claimed with a lease in a transaction of its own first (:func:`claim`, :func:`lock_in`);
    on SQLite it is chosen and processed in one transaction (:func:`choose`).

    A batch whose processing raises is logged (by type and place only: a database error
    can quote private text) and left claimed until its lease runs out, when a later pass
    tries it again; this pass goes on with the next batch. A claim that raises (the
    database is gone) raises here: the caller's pass fails as a whole, without spinning.
    """
    drained: Drained[Done] = Drained()
    step = _chosen_batch if database.is_sqlite else _leased_batch
    while True:
        taken, error = await step(
            database, batches, process=process, now=now, batch=batch, lease=lease, into=drained
        )
        if error is not None:
            drained.failed += 1
            log_failure(
                log,
                f"{batches.what}: a batch failed; it will be retried after its lease",
                error=error,
            )
        if once:
            drained.more = taken >= batch or error is not None
            return drained
        if not taken:
            return drained


async def _leased_batch(
    database: Database,
    batches: Batches[Work],
    *,
    process: Callable[[AsyncSession, list[Work]], Awaitable[Done]],
    now: datetime,
    batch: int,
    lease: timedelta,
    into: Drained[Done],
) -> tuple[int, Exception | None]:
    """Claim a batch with a lease, then lock it in and process it: PostgreSQL.

    Returns:
        How many rows were claimed, and the error their processing raised.
    """
    until = lease_until(now, lease)
    rows = await _claim_rows(database, batches, now=now, until=until, batch=batch)
    if not rows:
        return 0, None
    claimed = [Claimed(batches.work(row), until) for row in rows]
    try:
        async with database.session() as session:
            mine = await lock_in(await session.connection(), batches.leases, claimed=claimed)
            done = await process(session, [c.work for c in mine])
    except Exception as exc:
        return len(rows), exc  # the rows stay claimed until the lease runs out
    into.done.append(done)
    return len(rows), None


async def _chosen_batch(
    database: Database,
    batches: Batches[Work],
    *,
    process: Callable[[AsyncSession, list[Work]], Awaitable[Done]],
    now: datetime,
    batch: int,
    lease: timedelta,
    into: Drained[Done],
) -> tuple[int, Exception | None]:
    """Choose a batch and process it in one transaction: SQLite, whose one writer is it."""
    rows: list[sa.Row[*tuple[Any, ...]]] = []
    try:
        async with database.session() as session:
            rows = await choose(
                await session.connection(),
                batches.leases,
                now=now,
                returning=batches.returning,
                batch=batch,
            )
            if not rows:
                return 0, None
            done = await process(session, [batches.work(row) for row in rows])
    except Exception as exc:
        if not rows:
            raise  # choosing failed: the database, not the batch
        # The rollback undid the choice: claim the same batch (the order is fixed) with a
        # lease, so it waits for the lease instead of failing again on the next loop.
        await _claim_rows(
            database, batches, now=now, until=lease_until(now, lease), batch=len(rows)
        )
        return len(rows), exc
    into.done.append(done)
    return len(rows), None


async def _claim_rows(
    database: Database, batches: Batches[Work], *, now: datetime, until: datetime, batch: int
) -> list[sa.Row[*tuple[Any, ...]]]:
    """Claim up to ``batch`` rows until ``until``, in a transaction committed on its own."""
    async with database.session() as session:
        return await claim(
            await session.connection(),
            batches.leases,
            now=now,
            until=until,
            returning=batches.returning,
            batch=batch,
        )


def _chosen(
    leases: Leases,
    wanted: sa.ColumnElement[bool],
    columns: Sequence[sa.ColumnElement[Any]],
    limit: int | None,
) -> sa.Select[Any]:
    query = sa.select(*columns).where(wanted).order_by(*leases.order)
    return query if limit is None else query.limit(limit)
