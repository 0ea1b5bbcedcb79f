"""Delivering the outbox: claim due messages atomically, send them, record the outcome.

A claim sets ``status='sending'`` with a lease (scheduler.claims, with
:data:`OUTBOX_MESSAGES`). A process that dies mid-send leaves a lease that expires, and the
message is claimed again on a later pass; replicas never claim the same row.

A pass drains a backlog: it claims the next batch as soon as the last one has been handed to
senders, sends to different people at once (a bounded number of sends in flight), and stops
when nothing is due or its time budget is spent (the next tick goes on). One person's
messages go out one after another, in order. The senders keep each platform's limits with
a :class:`scheduler.pacing.Pacing`: one message per interval in a channel, and a pause of
every send after a Retry-After.

What a retry can and cannot know: neither Slack nor Teams accepts an idempotency key, so a
process killed between the platform accepting a message and the answer reaching us leaves
no trace of the send, and the message goes out again after the lease (at least once, never
silently lost). What the platform's message id (Slack ``ts``, Teams activity id) does catch
is a send that finished late: it is recorded as soon as the send returns, even when the
claim was lost meanwhile, and a worker holding or re-claiming a row that has an id marks it
sent instead of sending it again. Before each send the worker also re-reads the row, so a
claim that was lost (its lease ran out and another worker took it) is never sent on.

Messages sharing a ``group_key`` (the same replies for several people, such as the
introduction of a new mentoring pair) go out as one message in a group conversation when
one worker holds every row of the group and a platform with group conversations reaches
every member; otherwise each row is delivered on its own, as any other message. A group
that talks over many messages (a mentor circle, handlers.circles.conversation) has a place:
the sender is told where the group talked before, and what it learns is kept for the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from handlers import (
    Clock,
    GroupSender,
    Recipient,
    Sender,
    TransientDeliveryError,
    Unreachable,
    delivered,
    group_sender,
    log_failure,
)
from handlers.circles.conversation import group_place, remember_place
from scheduler import claims
from storage import Database, Outbox, OutboxStatus, Person, PlatformAccount
from storage.tables import OUTBOX, PLATFORM_ACCOUNT

log = logging.getLogger(__name__)
#: Seconds kept free at the end of a lease to record a send's outcome.
FINISH_MARGIN = 5.0

#: Outbox rows are claimed by status: ``sending`` with a lease, ``pending`` until their
#: next attempt is due. One query for both keeps the batch in the order of the attempts.
OUTBOX_MESSAGES = claims.Leases(
    table=OUTBOX,
    lease=OUTBOX.c.lease_until,
    held=OUTBOX.c.status == OutboxStatus.SENDING.value,
    claimable=lambda now: (
        sa.or_(
            sa.and_(OUTBOX.c.status == OutboxStatus.PENDING.value, OUTBOX.c.next_attempt_at <= now),
            sa.and_(OUTBOX.c.status == OutboxStatus.SENDING.value, OUTBOX.c.lease_until < now),
        ),
    ),
    order=(OUTBOX.c.next_attempt_at, OUTBOX.c.id),
    marks={"status": OutboxStatus.SENDING.value, "attempts": OUTBOX.c.attempts + 1},
)


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    undeliverable: int = 0

    @property
    def total(self) -> int:
        """Every message this pass handled."""
        return self.sent + self.retried + self.failed + self.undeliverable


@dataclass
class OutboxWorker:
    """Delivers due outbox messages through the configured senders.

    Args:
        database: Where the outbox is.
        senders: One per platform, in order of preference when a person has used none.
        clock: Where time comes from.
        batch: How many messages one claim takes.
        concurrency: How many people are sent to at once.
        lease: How long a claim lasts before another pass may take the message: the wait
            for a free sender plus ``send_timeout``, with room to record the outcome.
        send_timeout: The longest one send may take (slack_sdk's own HTTP timeout is 30 s);
            a send cut off here is retried, like one whose process died.
        budget: Seconds a pass keeps claiming; the tick after it goes on with the rest.
        max_attempts: After this many failed attempts a message is marked failed.
        backoff: The wait after the first failure; doubled after each further one.
        max_backoff: The longest wait between attempts.
        monotonic: Measures the budget (injected for tests).
    """

    database: Database
    senders: Sequence[Sender]
    clock: Clock
    batch: int = 50
    concurrency: int = 16
    lease: timedelta = timedelta(seconds=60)
    send_timeout: float = 40.0
    budget: float = 20.0
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    monotonic: Callable[[], float] = time.monotonic
    platforms: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.platforms = [s.platform for s in self.senders]

    async def run_once(self) -> DeliveryReport:
        """Deliver what is due, batch after batch, until nothing is due or the budget is spent.

        Raises:
            Exception: the first database error of the pass (sends under way finish first).
        """
        report = DeliveryReport()
        if not self.senders:
            return report
        delivery = _Pass(self, report)
        deadline = self.monotonic() + self.budget
        try:
            while delivery.error is None and self.monotonic() < deadline:
                if delivery.waiting:
                    await delivery.progress()  # every sender busy: claim once one is free
                    continue
                claimed = await self.claim(
                    self.clock.now(),
                    busy=delivery.busy_people(),
                    busy_groups=delivery.busy_groups(),
                )
                if claimed:
                    delivery.start(claimed)
                elif delivery.tasks:
                    await delivery.progress()  # what is left may belong to people in flight
                else:
                    break
        finally:
            await delivery.finish()
        if delivery.error is not None:
            raise delivery.error
        return report

    async def claim(
        self, now: datetime, *, busy: Sequence[int] = (), busy_groups: Sequence[str] = ()
    ) -> list[Outbox]:
        """Atomically take due messages (and ones whose lease ran out).

        Args:
            now: The time of the claim.
            busy: People this worker is sending to right now; their messages wait, so one
                person's messages go out in order and one person's backlog never holds up
                everyone else's.
            busy_groups: Groups this worker is sending right now: their other rows are the
                group run's to claim (as one message), not a new run's.
        """
        conditions: list[sa.ColumnElement[bool]] = []
        if busy:
            conditions.append(OUTBOX.c.person_id.not_in(list(busy)))
        if busy_groups:
            conditions.append(
                sa.or_(OUTBOX.c.group_key.is_(None), OUTBOX.c.group_key.not_in(list(busy_groups)))
            )
        async with self.database.session() as session:
            rows = await claims.claim(
                await session.connection(),
                OUTBOX_MESSAGES,
                now=now,
                until=claims.lease_until(now, self.lease),
                returning=tuple(OUTBOX.c),
                batch=self.batch,
                where=sa.and_(*conditions) if conditions else None,
            )
        return sorted((_outbox(row) for row in rows), key=lambda o: (o.next_attempt_at, o.id))

    async def deliver(self, claimed: list[Outbox], report: DeliveryReport) -> None:
        """Deliver rows this worker claimed, one after another (a group as one message)."""
        handled: set[int | None] = set()
        for item in claimed:
            if item.id in handled:
                continue
            if item.platform_message_id:
                # A send that returned after its claim was lost: it is out already.
                await self._finish(item, OutboxStatus.SENT, message_id=item.platform_message_id)
                report.sent += 1
                continue
            if item.group_key is None:
                await self._deliver(item, report)
                continue
            members = [i for i in claimed if i.group_key == item.group_key]
            handled.update(i.id for i in members)
            await self._deliver_group(item.group_key, members, self.clock.now(), report)

    async def _deliver_group(
        self, group_key: str, members: list[Outbox], now: datetime, report: DeliveryReport
    ) -> None:
        """Deliver a group's rows as one message when we can, else each on its own."""
        siblings, whole = await self._claim_siblings(group_key, members, now)
        members = sorted(members + siblings, key=lambda o: (o.next_attempt_at, o.id))
        target = await self._group_target(members) if whole and len(members) > 1 else None
        if target is None:
            for item in members:
                await self._deliver(item, report)
            return
        sender, recipients = target
        replies = delivered(members[0].payload, now)
        platform = sender.platform
        async with self.database.session() as session:
            place = await group_place(session, group_key)
        read = dict(place.remembered) if place is not None else {}
        try:
            async with asyncio.timeout(self.send_timeout):
                if place is None:
                    message_id = await sender.deliver_group(recipients=recipients, replies=replies)
                else:
                    message_id = await sender.deliver_group(
                        recipients=recipients, replies=replies, place=place
                    )
        except Unreachable as exc:
            log.info("outbox group %s: %s: %s; sending one by one", group_key, platform, exc)
            for item in members:
                await self._deliver(item, report)
            return
        except TransientDeliveryError as exc:
            at = self._next_attempt(max(i.attempts for i in members), exc.retry_after)
            for item in members:
                await self._retry(item, f"{platform}: {exc}", exc.retry_after, report, at=at)
            return
        except TimeoutError:
            at = self._next_attempt(max(i.attempts for i in members), None)
            reason = f"{platform}: no answer within {self.send_timeout:g} s"
            for item in members:
                await self._retry(item, reason, None, report, at=at)
            return
        except Exception as exc:  # a sender bug must not stop the whole pass
            log_failure(
                log, "outbox group: the sender failed", error=exc, group=group_key, via=platform
            )
            at = self._next_attempt(max(i.attempts for i in members), None)
            for item in members:
                await self._retry(item, f"{platform}: {type(exc).__name__}", None, report, at=at)
            return
        finally:
            if place is not None:
                # Kept whatever the send's outcome: a channel created before a failed post
                # is the one the retry posts in.
                async with self.database.session() as session:
                    await remember_place(session, place, read=read)
        for item in members:
            await self._finish(item, OutboxStatus.SENT, channel=platform, message_id=message_id)
            report.sent += 1

    async def _claim_siblings(
        self, group_key: str, members: list[Outbox], now: datetime
    ) -> tuple[list[Outbox], bool]:
        """Claim the group's due pending rows this pass did not claim.

        They get the same lease as ``members``, claimed as :meth:`claim` does, from the rows
        still pending.

        Returns:
            The rows claimed now, and whether this worker now holds every row of the group
            (False when one was already sent, is claimed by another worker, or is not due).
        """
        held = [i.id for i in members]
        lease = members[0].lease_until
        assert lease is not None, "claimed rows have a lease"
        async with self.database.session() as session:
            conn = await session.connection()
            rows = await claims.claim(
                conn,
                OUTBOX_MESSAGES,
                now=now,
                until=lease,
                returning=tuple(OUTBOX.c),
                where=sa.and_(
                    OUTBOX.c.group_key == group_key,
                    OUTBOX.c.id.not_in(held),
                    OUTBOX.c.status == OutboxStatus.PENDING.value,
                ),
            )
            siblings = [_outbox(row) for row in rows]
            ids = await conn.execute(sa.select(OUTBOX.c.id).where(OUTBOX.c.group_key == group_key))
            everyone = set(ids.scalars().all())
        return siblings, everyone <= set(held) | {s.id for s in siblings}

    async def _group_target(
        self, members: list[Outbox]
    ) -> tuple[GroupSender, list[Recipient]] | None:
        """The first group-capable sender whose platform every member has an account on.

        None when there is none, or when the rows are not one message to distinct people.
        """
        if any(i.payload != members[0].payload for i in members):
            return None
        person_ids = [i.person_id for i in members]
        if len(set(person_ids)) != len(person_ids):
            return None
        async with self.database.session() as session:
            people = (await session.exec(select(Person).where(Person.id.in_(person_ids)))).all()  # type: ignore[union-attr]
            result = await session.exec(
                select(PlatformAccount)
                .where(PlatformAccount.person_id.in_(person_ids))  # type: ignore[attr-defined]
                .order_by(sa.desc(PLATFORM_ACCOUNT.c.last_seen_at))
            )
            accounts = list(result.all())
        by_id = {p.id: p for p in people}
        if set(by_id) != set(person_ids):
            return None  # someone was removed: each row on its own records why
        for candidate in self.senders:
            sender = group_sender(candidate)
            if sender is None:
                continue
            recipients: list[Recipient] = []
            for person_id in person_ids:
                account = next(
                    (
                        a
                        for a in accounts
                        if a.person_id == person_id
                        and a.platform == sender.platform
                        and a.external_id
                    ),
                    None,
                )
                if account is None:
                    break
                person = by_id[person_id]
                recipients.append(
                    Recipient(
                        person_id=person_id,
                        email=person.email,
                        name=person.name,
                        external_id=account.external_id,
                        dm_channel=account.dm_channel,
                    )
                )
            else:
                return sender, recipients
        return None

    async def _deliver(self, item: Outbox, report: DeliveryReport) -> None:
        async with self.database.session() as session:
            conn = await session.connection()
            # Re-read under our claim: a claim that was lost is not ours to send, and a
            # message id means a late send of an earlier claim got it out already.
            held = await conn.execute(
                sa.select(OUTBOX.c.platform_message_id).where(
                    OUTBOX.c.id == item.id, OUTBOX_MESSAGES.ours(item.lease_until)
                )
            )
            claim = held.one_or_none()
            person = await session.get(Person, item.person_id)
            result = await session.exec(
                select(PlatformAccount)
                .where(PlatformAccount.person_id == item.person_id)
                .order_by(sa.desc(PLATFORM_ACCOUNT.c.last_seen_at))
            )
            accounts = list(result.all())
        if claim is None:
            log.info(
                "outbox %s: the claim ran out before sending; its new holder sends it", item.id
            )
            return
        if claim.platform_message_id:
            await self._finish(item, OutboxStatus.SENT, message_id=claim.platform_message_id)
            report.sent += 1
            return
        if item.lease_until is not None and (
            (item.lease_until - self.clock.now()).total_seconds()
            < self.send_timeout + FINISH_MARGIN
        ):
            # It waited too long for a free sender: a send started now might outlive the
            # claim and race a worker that re-claims it. Give it back, attempt unspent.
            await self._release(item)
            return
        if person is None:
            await self._finish(item, OutboxStatus.UNDELIVERABLE, error="the person was removed")
            report.undeliverable += 1
            return
        replies = delivered(item.payload, self.clock.now())
        by_platform = {a.platform: a for a in accounts}
        order = [a.platform for a in accounts if a.platform in self.platforms]
        order += [p for p in self.platforms if p not in order]
        reasons: list[str] = []
        for platform in order:
            sender = next(s for s in self.senders if s.platform == platform)
            account = by_platform.get(platform)
            assert person.id is not None
            recipient = Recipient(
                person_id=person.id,
                email=person.email,
                name=person.name,
                external_id=account.external_id if account else None,
                dm_channel=account.dm_channel if account else None,
            )
            try:
                async with asyncio.timeout(self.send_timeout):
                    message_id = await sender.deliver(recipient=recipient, replies=replies)
            except Unreachable as exc:
                reasons.append(f"{platform}: {exc}")
                continue
            except TransientDeliveryError as exc:
                await self._retry(item, f"{platform}: {exc}", exc.retry_after, report)
                return
            except TimeoutError:
                reason = f"{platform}: no answer within {self.send_timeout:g} s"
                await self._retry(item, reason, None, report)
                return
            except Exception as exc:  # a sender bug must not stop the whole pass
                log_failure(
                    log, "outbox: the sender failed", error=exc, outbox=item.id, via=platform
                )
                await self._retry(item, f"{platform}: {type(exc).__name__}", None, report)
                return
            await self._finish(item, OutboxStatus.SENT, channel=platform, message_id=message_id)
            report.sent += 1
            return
        await self._finish(item, OutboxStatus.UNDELIVERABLE, error="; ".join(reasons))
        report.undeliverable += 1

    async def _retry(
        self,
        item: Outbox,
        reason: str,
        retry_after: float | None,
        report: DeliveryReport,
        *,
        at: datetime | None = None,
    ) -> None:
        """Try again later (at ``at`` if given, else after the backoff), or give up."""
        if item.attempts >= self.max_attempts:
            await self._finish(
                item,
                OutboxStatus.FAILED,
                error=f"gave up after {item.attempts} attempts: {reason}",
            )
            report.failed += 1
            return
        if at is None:
            at = self._next_attempt(item.attempts, retry_after)
        await self._finish(item, OutboxStatus.PENDING, error=reason, next_attempt_at=at)
        report.retried += 1

    def _next_attempt(self, attempts: int, retry_after: float | None) -> datetime:
        """When to try again after ``attempts`` failed attempts."""
        wait: timedelta = min(self.backoff * 2 ** (attempts - 1), self.max_backoff)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return self.clock.now() + wait

    async def _finish(
        self,
        item: Outbox,
        status: OutboxStatus,
        *,
        channel: str | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        message_id: str | None = None,
    ) -> None:
        """Record the outcome, only if our claim is still the current one.

        A message id is recorded even when the claim was lost meanwhile (the message is out,
        whoever holds the row now), so the row's next holder marks it sent, not sends it.
        """
        values: dict[str, object] = {"status": status.value, "lease_until": None}
        if status is OutboxStatus.SENT:
            values.update(sent_at=self.clock.now(), last_error=None)
            if channel is not None:
                values["channel"] = channel
            if message_id is not None:
                values["platform_message_id"] = message_id[:200]
        if error is not None:
            values["last_error"] = error[:500]
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if await self._update_claimed(item, values):
            return
        log.warning("outbox %s: the claim expired before delivery finished", item.id)
        if message_id is None:
            return
        async with self.database.session() as session:
            conn = await session.connection()
            await conn.execute(
                sa.update(OUTBOX)
                .where(OUTBOX.c.id == item.id, OUTBOX.c.platform_message_id.is_(None))
                .values(platform_message_id=message_id[:200])
            )

    async def _release(self, item: Outbox) -> None:
        """Give a claimed row back unsent, due at once, its attempt not spent."""
        values: dict[str, object] = {
            "status": OutboxStatus.PENDING.value,
            "lease_until": None,
            "attempts": OUTBOX.c.attempts - 1,
        }
        await self._update_claimed(item, values)

    async def _update_claimed(self, item: Outbox, values: dict[str, object]) -> bool:
        """Update the row if our claim is still the current one; whether it was."""
        async with self.database.session() as session:
            conn = await session.connection()
            result = await conn.execute(
                sa.update(OUTBOX)
                .where(OUTBOX.c.id == item.id, OUTBOX_MESSAGES.ours(item.lease_until))
                .values(**values)
            )
        return bool(result.rowcount == 1)


class _Pass:
    """One delivery pass: the sends under way, who they are for, and the first error."""

    def __init__(self, worker: OutboxWorker, report: DeliveryReport) -> None:
        self.worker = worker
        self.report = report
        self.slots = asyncio.Semaphore(worker.concurrency)
        self.tasks: set[asyncio.Task[None]] = set()
        #: Runs claimed but not yet holding a slot; the next claim waits until none is.
        self.waiting = 0
        self.error: Exception | None = None
        self._people: dict[int, int] = {}
        self._groups: dict[str, int] = {}
        self._changed = asyncio.Event()

    def busy_people(self) -> list[int]:
        """People with a run under way, whose other messages wait for it."""
        return list(self._people)

    def busy_groups(self) -> list[str]:
        """Groups with a run under way, whose other rows that run claims itself."""
        return list(self._groups)

    def start(self, claimed: list[Outbox]) -> None:
        """Start a run for each set of rows that may go at the same time as the others."""
        for run in _runs(claimed):
            people = {i.person_id for i in run}
            groups = {i.group_key for i in run if i.group_key is not None}
            for person_id in people:
                self._people[person_id] = self._people.get(person_id, 0) + 1
            for key in groups:
                self._groups[key] = self._groups.get(key, 0) + 1
            self.waiting += 1
            task = asyncio.create_task(self._run(run, people, groups))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def progress(self) -> None:
        """Wait until a run takes a slot or ends."""
        await self._changed.wait()
        self._changed.clear()

    async def finish(self) -> None:
        """Let the runs under way end (cancelling them if the pass itself is cancelled)."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, run: list[Outbox], people: set[int], groups: set[str]) -> None:
        try:
            async with self.slots:
                self.waiting -= 1
                self._changed.set()
                await self.worker.deliver(run, self.report)
        except Exception as exc:  # a database error: stop claiming, end the pass with it
            if self.error is None:
                self.error = exc
        finally:
            for person_id in people:
                self._people[person_id] -= 1
                if not self._people[person_id]:
                    del self._people[person_id]
            for key in groups:
                self._groups[key] -= 1
                if not self._groups[key]:
                    del self._groups[key]
            self._changed.set()


def _runs(claimed: list[Outbox]) -> list[list[Outbox]]:
    """Split a batch into runs that can go at once, each in claim order.

    Rows for one person share a run, so they arrive in order, and so do the rows of one
    group (they go as one message); a person in a group and in another row joins the two.
    """
    runs: list[tuple[set[object], list[Outbox]]] = []
    for item in claimed:
        keys: set[object] = {("person", item.person_id)}
        if item.group_key is not None:
            keys.add(("group", item.group_key))
        rows = [item]
        for run in [r for r in runs if r[0] & keys]:
            runs.remove(run)
            keys |= run[0]
            rows = run[1] + rows
        runs.append((keys, sorted(rows, key=lambda o: (o.next_attempt_at, o.id))))
    return [rows for _, rows in runs]


def _outbox(row: sa.Row[*tuple[Any, ...]]) -> Outbox:
    return Outbox(**row._mapping)
