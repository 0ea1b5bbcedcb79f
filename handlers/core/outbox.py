"""Queueing messages for people who are not the one typing.

Messages wait in the outbox table until a sender delivers them (scheduler.outbox) or the
shell hands them over (:func:`take_waiting`). The dedupe key is unique, so queueing the
same message twice queues it once. Whatever delivers a message reads it with
:func:`delivered`, at the moment it goes out, so a count of days in it is that day's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import next_delivery
from handlers.core.messages import (
    Reply,
    at_delivery,
    plural,
    reply_from_dict,
    reply_to_dict,
)
from handlers.core.program import PrivacySettings, Program
from storage import OPEN_PAIRING, Outbox, OutboxStatus, Person
from storage.queries import insert_for
from storage.tables import OUTBOX, PAIRING

log = logging.getLogger(__name__)


def outbox_row(
    *,
    person_id: int,
    replies: list[Reply],
    dedupe_key: str,
    now: datetime,
    not_before: datetime | None = None,
    group_key: str | None = None,
    pairing_id: int | None = None,
) -> dict[str, Any]:
    """One pending ``outbox`` row, for :func:`enqueue` or a bulk insert of many.

    ``pairing_id`` is the pairing the message is about: when it ends, the message is
    withdrawn if it has not gone out (:func:`withdraw`).
    """
    return {
        "dedupe_key": dedupe_key,
        "person_id": person_id,
        "payload": [reply_to_dict(r) for r in replies],
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
        "group_key": group_key,
        "pairing_id": pairing_id,
    }


def delivered(payload: list[dict[str, Any]], now: datetime) -> list[Reply]:
    """A queued message's replies as they read when delivered at ``now``.

    Every delivery path (the platform senders, the shell) reads the outbox through this, so
    text that counts days is worked out with the delivery clock (see
    :class:`handlers.core.messages.DaysSince`), not the clock of the moment it was queued.
    """
    return [at_delivery(reply_from_dict(r), now) for r in payload]


async def enqueue(
    session: AsyncSession,
    *,
    person_id: int,
    replies: list[Reply],
    dedupe_key: str,
    now: datetime,
    not_before: datetime | None = None,
    group_key: str | None = None,
    program: Program | None = None,
    pairing_id: int | None = None,
) -> bool:
    """Queue replies for a person, once per dedupe key.

    With ``program`` (and no ``not_before``) the message waits for the recipient's working
    hours in their own timezone: nothing the bot says unprompted arrives at 3 a.m.

    Messages queued with the same ``group_key`` (the same replies for each recipient) are
    delivered as one message to all of them where the platform has group conversations.

    A message about a pairing names it (``pairing_id``), so it is withdrawn, not sent, if
    the pairing ends before it goes out.

    Returns:
        True when queued now, False when a message with this key was already queued.
    """
    conn = await session.connection()
    if not_before is None and program is not None:
        people = Person.__table__  # type: ignore[attr-defined]
        zone = await conn.scalar(sa.select(people.c.timezone).where(people.c.id == person_id))
        not_before = next_delivery(
            now,
            zone=zone or program.default_timezone,
            hours=program.cadence.working_hours,
        )
    statement = (
        insert_for(conn)(Outbox.__table__)  # type: ignore[attr-defined]
        .values(
            **outbox_row(
                person_id=person_id,
                replies=replies,
                dedupe_key=dedupe_key,
                now=now,
                not_before=not_before,
                group_key=group_key,
                pairing_id=pairing_id,
            )
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    result = await conn.execute(statement)
    return bool(result.rowcount)


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many outbox messages are in each status (undeliverable ones: people to invite)."""
    conn = await session.connection()
    table = Outbox.__table__  # type: ignore[attr-defined]
    result = await conn.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status))
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({str(status): int(count) for status, count in result.all()})
    return counts


def backlog(counts: dict[str, int]) -> int:
    """Messages still waiting to go out, from :func:`count_by_status`."""
    return counts[OutboxStatus.PENDING.value] + counts[OutboxStatus.SENDING.value]


async def unreachable_people(session: AsyncSession) -> list[tuple[str, str, str, int]]:
    """Who the bot could not reach, and why: (name, email, reason, messages), most first.

    These are the people to invite (for Teams: to install the app).
    """
    conn = await session.connection()
    outbox = Outbox.__table__  # type: ignore[attr-defined]
    person = Person.__table__  # type: ignore[attr-defined]
    result = await conn.execute(
        sa.select(person.c.name, person.c.email, outbox.c.last_error, sa.func.count())
        .join(person, person.c.id == outbox.c.person_id)
        .where(outbox.c.status == OutboxStatus.UNDELIVERABLE.value)
        .group_by(person.c.name, person.c.email, outbox.c.last_error)
        .order_by(sa.func.count().desc(), person.c.email)
    )
    return [(str(n), str(e), str(r or ""), int(c)) for n, e, r, c in result.all()]


async def take_waiting(
    session: AsyncSession, *, person_id: int, channel: str, now: datetime
) -> list[Reply]:
    """Hand over a person's waiting messages to the channel they are typing in (the shell).

    Messages no platform has taken yet (pending, or undeliverable because the person has
    no chat account) are marked sent on ``channel``, oldest first; each is taken once even
    if a platform worker races for it. Messages waiting for the person's working hours are
    taken too: someone typing in the shell is evidently there.

    Returns:
        The replies of every message taken, oldest first.
    """
    conn = await session.connection()
    table = Outbox.__table__  # type: ignore[attr-defined]
    waiting = [OutboxStatus.PENDING.value, OutboxStatus.UNDELIVERABLE.value]
    result = await conn.execute(
        sa.select(table.c.id, table.c.payload, table.c.status)
        .where(
            table.c.person_id == person_id,
            table.c.status.in_(waiting),
        )
        .order_by(table.c.created_at, table.c.id)
    )
    replies: list[Reply] = []
    for item_id, payload, status in result.all():
        taken = await conn.execute(
            sa.update(table)
            .where(table.c.id == item_id, table.c.status == status)
            .values(status=OutboxStatus.SENT.value, channel=channel, sent_at=now, last_error=None)
        )
        if taken.rowcount:
            replies.extend(delivered(payload, now))
    return replies


async def failed_messages(
    session: AsyncSession, *, limit: int = 20
) -> list[tuple[str, str, str, int, datetime]]:
    """Messages the outbox gave up on: (name, email, reason, attempts, queued at), newest first."""
    conn = await session.connection()
    outbox = Outbox.__table__  # type: ignore[attr-defined]
    person = Person.__table__  # type: ignore[attr-defined]
    result = await conn.execute(
        sa.select(
            person.c.name,
            person.c.email,
            outbox.c.last_error,
            outbox.c.attempts,
            outbox.c.created_at,
        )
        .join(person, person.c.id == outbox.c.person_id)
        .where(outbox.c.status == OutboxStatus.FAILED.value)
        .order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
        .limit(limit)
    )
    return [(str(n), str(e), str(r or ""), int(a), c) for n, e, r, a, c in result.all()]


#: Messages that have not gone out and that no sender holds: these can still be withdrawn.
#: An undeliverable one waits for the person to open the shell (:func:`take_waiting`).
WITHDRAWABLE = (OutboxStatus.PENDING.value, OutboxStatus.UNDELIVERABLE.value)


async def withdraw(
    session: AsyncSession,
    *,
    reason: str,
    now: datetime,
    pairing_id: int | None = None,
    person_id: int | None = None,
    dedupe_keys: Sequence[str] | None = None,
) -> int:
    """Take back messages that have not gone out, because what they say stopped being true.

    Call it when a pairing or proposal ends (a person leaves or is erased, a pairing is
    closed, a proposal is declined or lapses), before the notice that says so is queued:
    the other side then gets the notice, not a "would you continue?" first. The rows stay,
    ``withdrawn`` with the reason, so ``report ops`` counts them and their dedupe keys keep
    them from being queued again.

    Each filter given narrows the choice; at least one is needed. A message a sender has
    claimed is on its way and stays as it is: the UPDATE is conditional on the status.

    Args:
        reason: Why, in a few words (``left``, ``plan replaced``), kept on each row.
        pairing_id: Only messages about this pairing.
        person_id: Only messages to this person.
        dedupe_keys: Only these messages.

    Returns:
        How many messages were withdrawn.
    """
    table = Outbox.__table__  # type: ignore[attr-defined]
    where = [table.c.status.in_(WITHDRAWABLE)]
    if pairing_id is not None:
        where.append(table.c.pairing_id == pairing_id)
    if person_id is not None:
        where.append(table.c.person_id == person_id)
    if dedupe_keys is not None:
        if not dedupe_keys:
            return 0
        where.append(table.c.dedupe_key.in_(list(dedupe_keys)))
    if len(where) == 1:
        raise ValueError("withdraw needs a pairing, a person or dedupe keys to choose by")
    conn = await session.connection()
    result = await conn.execute(
        sa.update(table)
        .where(*where)
        .values(
            status=OutboxStatus.WITHDRAWN.value,
            withdrawn_at=now,
            withdrawn_reason=reason[:200],
            lease_until=None,
        )
    )
    return int(result.rowcount or 0)


#: Messages the outbox is done with: ``privacy.retain_messages_days`` deletes these.
#: Withdrawn ones stay (their key keeps a message taken back from being queued again).
FINISHED = (
    OutboxStatus.SENT.value,
    OutboxStatus.FAILED.value,
    OutboxStatus.UNDELIVERABLE.value,
)
#: The most rows one tick deletes, so a first pass on a long-lived outbox holds the
#: database's write lock briefly; the rest go on the next ticks.
EXPIRE_AT_ONCE = 1000


async def expire_messages(session: AsyncSession, privacy: PrivacySettings, *, now: datetime) -> int:
    """Delete messages finished longer ago than ``privacy.retain_messages_days``.

    Finished is sent (counted from when it went out), failed or undeliverable (from when
    it was queued). A message still pending or being sent is never deleted. Nor is one
    about a pairing still open: its row is what some steps read back (whether the plan's
    card reached the mentor, whether a meeting's earlier invite did), and its dedupe key
    is what keeps a step of that pairing from being queued again. The retention is at
    least a month, longer than any reminder waits for its moment, so the other keys that
    go are of messages that cannot be queued again.

    Returns:
        How many messages were deleted (at most :data:`EXPIRE_AT_ONCE` a call).
    """
    days = privacy.retain_messages_days
    if days is None:
        return 0
    before = now - timedelta(days=days)
    open_pairing = sa.exists().where(
        PAIRING.c.id == OUTBOX.c.pairing_id,
        PAIRING.c.status.in_([status.value for status in OPEN_PAIRING]),
    )
    expired = (
        sa.select(OUTBOX.c.id)
        .where(
            OUTBOX.c.status.in_(FINISHED),
            # A message falls due before it goes out, so this bound seldom keeps one
            # longer; it lets the outbox's (status, next_attempt_at) index find them.
            OUTBOX.c.next_attempt_at < before,
            sa.func.coalesce(OUTBOX.c.sent_at, OUTBOX.c.created_at) < before,
            ~open_pairing,
        )
        .limit(EXPIRE_AT_ONCE)
    )
    conn = await session.connection()
    ids = list((await conn.execute(expired)).scalars())
    if not ids:
        return 0
    await conn.execute(sa.delete(OUTBOX).where(OUTBOX.c.id.in_(ids)))
    deleted = plural(len(ids), "message")
    log.info("outbox: deleted %s past privacy.retain_messages_days", deleted)
    return len(ids)
