"""``report ops``: the outbox backlog, messages given up on (with why), people unreachable.

The outbox has no program of its own, so a program's messages are those about one of its
pairings, and those about no pairing sent to someone enrolled in it or in no program at
all (a lead, someone invited who has not joined). A lead of one program never sees who in
another program the bot cannot reach; ``mentorbot outbox`` shows the whole outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Kind, Report, Table
from handlers.core.program import Program
from handlers.reports.queries import ENROLLMENT, PAIRING, PERSON, fetch_rows
from storage import OutboxStatus
from storage.tables import OUTBOX

#: The newest messages given up on that the report lists.
FAILED_LISTED = 20


def _of_program(program_id: str) -> Any:
    """SQL: an outbox message that belongs to the program (see the module's docstring)."""
    enrolled = sa.exists().where(ENROLLMENT.c.person_id == OUTBOX.c.person_id)
    enrolled_here = sa.exists().where(
        ENROLLMENT.c.person_id == OUTBOX.c.person_id, ENROLLMENT.c.program == program_id
    )
    about_pairing_here = sa.exists().where(
        PAIRING.c.id == OUTBOX.c.pairing_id, PAIRING.c.program == program_id
    )
    return sa.or_(
        about_pairing_here,
        sa.and_(OUTBOX.c.pairing_id.is_(None), sa.or_(enrolled_here, ~enrolled)),
    )


async def _counts(conn: AsyncConnection, program_id: str) -> dict[str, int]:
    counts = {status.value: 0 for status in OutboxStatus}
    for status, count in await fetch_rows(
        conn,
        sa.select(OUTBOX.c.status, sa.func.count())
        .where(_of_program(program_id))
        .group_by(OUTBOX.c.status),
    ):
        counts[str(status)] = int(count)
    return counts


async def ops_report(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """Outbox backlog, messages given up on (with why), and people the bot cannot reach.

    Withdrawn messages (about a pairing that ended before they went out) are counted too.
    """
    conn = await session.connection()
    here = _of_program(program.id)
    counts = await _counts(conn, program.id)
    failed = await fetch_rows(
        conn,
        sa.select(PERSON.c.name, PERSON.c.email, OUTBOX.c.last_error, OUTBOX.c.created_at)
        .join(PERSON, PERSON.c.id == OUTBOX.c.person_id)
        .where(OUTBOX.c.status == OutboxStatus.FAILED.value, here)
        .order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.id.desc())
        .limit(FAILED_LISTED),
    )
    unreachable = await fetch_rows(
        conn,
        sa.select(PERSON.c.name, PERSON.c.email, OUTBOX.c.last_error, sa.func.count())
        .join(PERSON, PERSON.c.id == OUTBOX.c.person_id)
        .where(OUTBOX.c.status == OutboxStatus.UNDELIVERABLE.value, here)
        .group_by(PERSON.c.name, PERSON.c.email, OUTBOX.c.last_error)
        .order_by(sa.func.count().desc(), PERSON.c.email),
    )
    figures = (
        (
            "Waiting to go out",
            str(counts[OutboxStatus.PENDING.value] + counts[OutboxStatus.SENDING.value]),
        ),
        ("Sent", str(counts["sent"])),
        ("Failed", str(counts["failed"])),
        ("Undeliverable", str(counts["undeliverable"])),
        # Taken back before they went out: what they said stopped being true.
        ("Withdrawn", str(counts["withdrawn"])),
    )
    tables = []
    if failed:
        tables.append(
            Table(
                "Messages given up on (newest first)",
                ("person", "email", "queued (UTC)", "why"),
                tuple(
                    (str(name), str(email), f"{queued:%-d %b %H:%M}", str(reason or ""))
                    for name, email, reason, queued in failed
                ),
            )
        )
    if unreachable:
        tables.append(
            Table(
                "People I cannot reach (invite them, or check their account)",
                ("person", "email", "messages", "why"),
                tuple(
                    (str(name), str(email), int(count), str(reason or ""))
                    for name, email, reason, count in unreachable
                ),
            )
        )
    notes = (
        *(() if tables else ("Every message so far was delivered or is on its way.",)),
        "Messages of this program: about one of its pairings, or about none and sent to "
        "someone enrolled in it or in no program.",
    )
    return Report("ops", "Operations: message delivery", figures, tuple(tables), None, notes)


KIND = Kind("ops", "outbox backlog, failed and undeliverable messages", ops_report)
