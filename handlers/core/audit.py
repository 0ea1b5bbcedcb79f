"""The audit log: who did what and when, for every lead action and every refused attempt.

An entry records that something was done (a report run, a match approved, a person
erased) and by whom, never what it showed or erased.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import AuditEntry


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    now: datetime,
    target: str | None = None,
    allowed: bool = True,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction (it commits with the action it records)."""
    session.add(
        AuditEntry(
            at=now, actor=actor, action=action, target=target, allowed=allowed, detail=detail
        )
    )


async def entries(session: AsyncSession, *, since: datetime | None = None) -> list[AuditEntry]:
    """The entries, oldest first; from ``since`` on when given."""
    query = select(AuditEntry)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    result = await session.exec(query.order_by(AuditEntry.at, AuditEntry.id))  # type: ignore[arg-type]
    return list(result.all())
