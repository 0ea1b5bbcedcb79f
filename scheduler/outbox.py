"""Delivering the outbox: claim due messages atomically, send them, record the outcome.

A claim sets ``status='sending'`` with a lease. A process that dies mid-send leaves a lease
that expires, and the message is claimed again on a later pass. PostgreSQL claims with
``FOR UPDATE SKIP LOCKED`` so replicas never claim the same row; SQLite takes its write
lock up front (BEGIN IMMEDIATE), which serialises claims.

Messages sharing a ``group_key`` (the same replies for several people, such as the
introduction of a new mentoring pair) go out as one message in a group conversation when
one worker holds every row of the group and a platform with group conversations reaches
every member; otherwise each row is delivered on its own, as any other message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from handlers.messages import reply_from_dict
from handlers.ports import (
    Clock,
    GroupSender,
    Recipient,
    Sender,
    TransientDeliveryError,
    Unreachable,
    group_sender,
)
from storage import Database, Outbox, OutboxStatus, Person, PlatformAccount

log = logging.getLogger(__name__)
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]


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
        batch: How many messages one pass claims.
        lease: How long a claim lasts before another pass may take the message.
        max_attempts: After this many failed attempts a message is marked failed.
        backoff: The wait after the first failure; doubled after each further one.
        max_backoff: The longest wait between attempts.
    """

    database: Database
    senders: Sequence[Sender]
    clock: Clock
    batch: int = 50
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    platforms: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.platforms = [s.platform for s in self.senders]

    async def run_once(self) -> DeliveryReport:
        """Claim what is due now and deliver it."""
        report = DeliveryReport()
        if not self.senders:
            return report
        now = self.clock.now()
        claimed = await self.claim(now)
        handled: set[int | None] = set()
        for item in claimed:
            if item.id in handled:
                continue
            if item.group_key is None:
                await self._deliver(item, report)
                continue
            members = [i for i in claimed if i.group_key == item.group_key]
            handled.update(i.id for i in members)
            await self._deliver_group(item.group_key, members, now, report)
        return report

    async def claim(self, now: datetime) -> list[Outbox]:
        """Atomically take due messages (and ones whose lease ran out)."""
        lease_until = now + self.lease
        due = sa.or_(
            sa.and_(OUTBOX.c.status == OutboxStatus.PENDING.value, OUTBOX.c.next_attempt_at <= now),
            sa.and_(OUTBOX.c.status == OutboxStatus.SENDING.value, OUTBOX.c.lease_until < now),
        )
        chosen = sa.select(OUTBOX.c.id).where(due).order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
        chosen = chosen.limit(self.batch)
        if not self.database.is_sqlite:
            chosen = chosen.with_for_update(skip_locked=True)
        statement = (
            sa.update(OUTBOX)
            .where(OUTBOX.c.id.in_(chosen.scalar_subquery()))
            .values(
                status=OutboxStatus.SENDING.value,
                lease_until=lease_until,
                attempts=OUTBOX.c.attempts + 1,
            )
            .returning(*OUTBOX.c)
        )
        async with self.database.session() as session:
            conn = await session.connection()
            rows = (await conn.execute(statement)).mappings().all()
        return sorted((Outbox(**row) for row in rows), key=lambda o: (o.next_attempt_at, o.id))

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
        replies = [reply_from_dict(r) for r in members[0].payload]
        platform = sender.platform
        try:
            await sender.deliver_group(recipients=recipients, replies=replies)
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
        except Exception as exc:  # a sender bug must not stop the whole pass
            log.exception("outbox group %s: %s sender failed", group_key, platform)
            at = self._next_attempt(max(i.attempts for i in members), None)
            for item in members:
                await self._retry(item, f"{platform}: {type(exc).__name__}", None, report, at=at)
            return
        for item in members:
            await self._finish(item, OutboxStatus.SENT, channel=platform)
            report.sent += 1

    async def _claim_siblings(
        self, group_key: str, members: list[Outbox], now: datetime
    ) -> tuple[list[Outbox], bool]:
        """Claim the group's due pending rows this pass did not claim.

        They get the same lease as ``members``, under the same guard as :meth:`claim`: a
        conditional update of rows still pending, skipping rows another transaction holds.

        Returns:
            The rows claimed now, and whether this worker now holds every row of the group
            (False when one was already sent, is claimed by another worker, or is not due).
        """
        held = [i.id for i in members]
        chosen = sa.select(OUTBOX.c.id).where(
            OUTBOX.c.group_key == group_key,
            OUTBOX.c.id.not_in(held),
            OUTBOX.c.status == OutboxStatus.PENDING.value,
            OUTBOX.c.next_attempt_at <= now,
        )
        if not self.database.is_sqlite:
            chosen = chosen.order_by(OUTBOX.c.id).with_for_update(skip_locked=True)
        statement = (
            sa.update(OUTBOX)
            .where(
                OUTBOX.c.id.in_(chosen.scalar_subquery()),
                OUTBOX.c.status == OutboxStatus.PENDING.value,
            )
            .values(
                status=OutboxStatus.SENDING.value,
                lease_until=members[0].lease_until,
                attempts=OUTBOX.c.attempts + 1,
            )
            .returning(*OUTBOX.c)
        )
        async with self.database.session() as session:
            conn = await session.connection()
            siblings = [Outbox(**row) for row in (await conn.execute(statement)).mappings().all()]
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
                .order_by(sa.desc(PlatformAccount.__table__.c.last_seen_at))  # type: ignore[attr-defined]
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
            person = await session.get(Person, item.person_id)
            result = await session.exec(
                select(PlatformAccount)
                .where(PlatformAccount.person_id == item.person_id)
                .order_by(sa.desc(PlatformAccount.__table__.c.last_seen_at))  # type: ignore[attr-defined]
            )
            accounts = list(result.all())
        if person is None:
            await self._finish(item, OutboxStatus.UNDELIVERABLE, error="the person was removed")
            report.undeliverable += 1
            return
        replies = [reply_from_dict(r) for r in item.payload]
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
                await sender.deliver(recipient=recipient, replies=replies)
            except Unreachable as exc:
                reasons.append(f"{platform}: {exc}")
                continue
            except TransientDeliveryError as exc:
                await self._retry(item, f"{platform}: {exc}", exc.retry_after, report)
                return
            except Exception as exc:  # a sender bug must not stop the whole pass
                log.exception("outbox %s: %s sender failed", item.id, platform)
                await self._retry(item, f"{platform}: {type(exc).__name__}", None, report)
                return
            await self._finish(item, OutboxStatus.SENT, channel=platform)
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
    ) -> None:
        """Record the outcome, only if our claim is still the current one."""
        values: dict[str, object] = {"status": status.value, "lease_until": None}
        if status is OutboxStatus.SENT:
            values.update(sent_at=self.clock.now(), channel=channel, last_error=None)
        if error is not None:
            values["last_error"] = error[:500]
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        async with self.database.session() as session:
            conn = await session.connection()
            result = await conn.execute(
                sa.update(OUTBOX)
                .where(
                    OUTBOX.c.id == item.id,
                    OUTBOX.c.status == OutboxStatus.SENDING.value,
                    OUTBOX.c.lease_until == item.lease_until,
                )
                .values(**values)
            )
        if result.rowcount != 1:
            log.warning("outbox %s: the claim expired before delivery finished", item.id)
