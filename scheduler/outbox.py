"""Delivering the outbox: claim due messages atomically, send them, record the outcome.

A claim sets ``status='sending'`` with a lease. A process that dies mid-send leaves a lease
that expires, and the message is claimed again on a later pass. PostgreSQL claims with
``FOR UPDATE SKIP LOCKED`` so replicas never claim the same row; SQLite takes its write
lock up front (BEGIN IMMEDIATE), which serialises claims.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from handlers.messages import reply_from_dict
from handlers.ports import Clock, Recipient, Sender, TransientDeliveryError, Unreachable
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
        for item in await self.claim(now):
            await self._deliver(item, report)
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
        self, item: Outbox, reason: str, retry_after: float | None, report: DeliveryReport
    ) -> None:
        if item.attempts >= self.max_attempts:
            await self._finish(
                item,
                OutboxStatus.FAILED,
                error=f"gave up after {item.attempts} attempts: {reason}",
            )
            report.failed += 1
            return
        wait = min(self.backoff * 2 ** (item.attempts - 1), self.max_backoff)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        await self._finish(
            item, OutboxStatus.PENDING, error=reason, next_attempt_at=self.clock.now() + wait
        )
        report.retried += 1

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
