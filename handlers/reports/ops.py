"""``report ops``: the outbox backlog, messages given up on (with why), people unreachable."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Kind, Report, Table
from handlers.core.outbox import backlog, count_by_status, failed_messages, unreachable_people
from handlers.core.program import Program


async def ops_report(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """Outbox backlog, messages given up on (with why), and people the bot cannot reach.

    Withdrawn messages (about a pairing that ended before they went out) are counted too.
    """
    counts = await count_by_status(session)
    failed = await failed_messages(session)
    unreachable = await unreachable_people(session)
    figures = (
        ("Waiting to go out", str(backlog(counts))),
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
                    (name, email, f"{queued:%-d %b %H:%M}", reason)
                    for name, email, reason, _, queued in failed
                ),
            )
        )
    if unreachable:
        tables.append(
            Table(
                "People I cannot reach (invite them, or check their account)",
                ("person", "email", "messages", "why"),
                tuple((name, email, count, reason) for name, email, reason, count in unreachable),
            )
        )
    notes = () if tables else ("Every message so far was delivered or is on its way.",)
    return Report("ops", "Operations: message delivery", figures, tuple(tables), None, notes)


KIND = Kind("ops", "outbox backlog, failed and undeliverable messages", ops_report)
