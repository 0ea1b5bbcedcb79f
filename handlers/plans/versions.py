"""The versions of a pairing's plan: each save is a new version, and a mentor confirms one.

A mentor's card (and the command its button types) names the version it showed, so
confirming an older card never confirms text the mentor did not see. Saving and confirming
are conditional UPDATEs of the pairing's ``plan_version`` (its e-tag), so a save and a
confirmation at the same moment, or a double click, cannot confirm the wrong version or
confirm one twice. Every version is kept: what was agreed, by whom, and when.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.outbox import withdraw
from storage import OutboxStatus, Pairing, PairingStatus, PlanVersion
from storage.tables import OUTBOX, PAIRING, PLAN_VERSION


def card_key(pairing_id: int, version: int) -> str:
    """The outbox dedupe key of the card that asks the mentor to confirm a version."""
    return f"pairing:{pairing_id}:plan:v{version}"


async def version_of(session: AsyncSession, pairing: Pairing, *, number: int) -> PlanVersion | None:
    """Version ``number`` of the pairing's plan, in whichever cycle it was written."""
    found = await session.exec(
        select(PlanVersion).where(
            PlanVersion.pairing_id == pairing.id, PlanVersion.version == number
        )
    )
    return found.first()


async def current_and_earlier(
    session: AsyncSession, pairing: Pairing
) -> tuple[PlanVersion | None, PlanVersion | None]:
    """The plan's current version in this cycle, and the one it replaced in this cycle.

    Returns:
        (current, earlier); current is None when no plan is written for this cycle, earlier
        when the current one is the cycle's first.
    """
    number = pairing.plan_version
    found = await session.exec(
        select(PlanVersion).where(
            PlanVersion.pairing_id == pairing.id,
            PlanVersion.cycle == pairing.cycle,
            PlanVersion.version.in_((number, number - 1)),  # type: ignore[attr-defined]
        )
    )
    by_number = {v.version: v for v in found.all()}
    current = by_number.get(number)
    return current, by_number.get(number - 1) if current is not None else None


async def save_version(
    session: AsyncSession,
    pairing: Pairing,
    *,
    milestones: list[dict[str, str]],
    author_id: int,
    now: datetime,
) -> PlanVersion | None:
    """Record a new version of the plan, which is unconfirmed until the mentor says so.

    The pairing's version number goes up in one conditional UPDATE: two saves at once get
    two numbers, and a confirmation of the version before waits, then finds it replaced.
    A card of the version before that has not gone out yet is withdrawn.

    Args:
        milestones: The objectives and target dates, ``{"objective", "target"}`` each.

    Returns:
        The new version, or None when the pairing is no longer active (nothing saved).
    """
    conn = await session.connection()
    bumped = await conn.execute(
        sa.update(PAIRING)
        .where(PAIRING.c.id == pairing.id, PAIRING.c.status == PairingStatus.ACTIVE.value)
        .values(plan_version=PAIRING.c.plan_version + 1, plan_confirmed_at=None)
    )
    if not bumped.rowcount:
        return None
    # Our UPDATE holds the row until the transaction ends, so this reads our own number.
    await session.refresh(pairing)
    assert pairing.id is not None
    version = PlanVersion(
        pairing_id=pairing.id,
        cycle=pairing.cycle,
        version=pairing.plan_version,
        milestones=milestones,
        written_by=author_id,
        written_at=now,
    )
    session.add(version)
    await withdraw(
        session,
        dedupe_keys=[card_key(pairing.id, pairing.plan_version - 1)],
        reason="plan replaced",
        now=now,
    )
    await session.flush()
    return version


async def confirm_version(
    session: AsyncSession, pairing: Pairing, *, version: PlanVersion, mentor_id: int, now: datetime
) -> bool:
    """Confirm this version, only if it is still the current one and still unconfirmed.

    Returns:
        False when something changed first (a new version, a confirmation, the pairing
        ended); the pairing is then re-read, so the caller can say what holds now.
    """
    conn = await session.connection()
    confirmed = await conn.execute(
        sa.update(PAIRING)
        .where(
            PAIRING.c.id == pairing.id,
            PAIRING.c.status == PairingStatus.ACTIVE.value,
            PAIRING.c.cycle == version.cycle,
            PAIRING.c.plan_version == version.version,
            PAIRING.c.plan_confirmed_at.is_(None),
        )
        .values(plan_confirmed_at=now)
    )
    if confirmed.rowcount:
        await conn.execute(
            sa.update(PLAN_VERSION)
            .where(PLAN_VERSION.c.id == version.id)
            .values(confirmed_at=now, confirmed_by=mentor_id)
        )
        await session.refresh(version)
    await session.refresh(pairing)
    return bool(confirmed.rowcount)


async def mark_shown(session: AsyncSession, version: PlanVersion, *, now: datetime) -> None:
    """Remember that a reply showed the mentor this version (see :func:`reached_mentor`)."""
    if version.shown_to_mentor_at is not None:
        return
    conn = await session.connection()
    shown = sa.update(PLAN_VERSION).where(PLAN_VERSION.c.id == version.id)
    await conn.execute(shown.values(shown_to_mentor_at=now))
    await session.refresh(version)


async def reached_mentor(session: AsyncSession, version: PlanVersion) -> bool:
    """Whether the mentor has seen this version: its card was delivered, or a reply showed it.

    A ``confirm-plan`` typed without a version confirms only a version that reached the
    mentor; any other is shown first, with its own button.
    """
    if version.shown_to_mentor_at is not None:
        return True
    conn = await session.connection()
    delivered = await conn.scalar(
        sa.select(OUTBOX.c.id).where(
            OUTBOX.c.dedupe_key == card_key(version.pairing_id, version.version),
            OUTBOX.c.status == OutboxStatus.SENT.value,
        )
    )
    return delivered is not None
