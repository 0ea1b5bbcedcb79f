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
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.queries import among, locked


class _Row(Protocol):
    """Work from one row: it knows the row's id."""

    @property
    def id(self) -> int: ...


Work = TypeVar("Work", bound=_Row)


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
        # Rows another claim holds are skipped, not waited for. The update itself checks
        # nothing more: on PostgreSQL a second condition there can make the planner run
        # the subquery again for each row, and each run skips the rows the update just
        # changed, so LIMIT would no longer cap the claim.
        ids = locked(_chosen(leases, wanted, [leases.table.c.id], room), skip_locked=True)
        statement = (
            sa.update(leases.table)
            .where(leases.table.c.id.in_(ids.scalar_subquery()))
            .values({leases.lease.name: until, **leases.marks})
            .returning(*returning)
        )
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


def _chosen(
    leases: Leases,
    wanted: sa.ColumnElement[bool],
    columns: Sequence[sa.ColumnElement[Any]],
    limit: int | None,
) -> sa.Select[Any]:
    query = sa.select(*columns).where(wanted).order_by(*leases.order)
    return query if limit is None else query.limit(limit)
