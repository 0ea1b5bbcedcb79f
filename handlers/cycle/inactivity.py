"""What happens when the inactivity check falls due.

A pairing with no session, survey answer or plan change for ``auto_close_after_days`` is
asked whether to close (Close it / Keep going), and the program leads hear of it; a
pairing with a sign of life since just moves its next check to that many days after it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import local_date
from handlers.core.messages import DaysSince, Option, Reply, counting
from handlers.cycle.batch import Due, DueHandler, Handled
from handlers.cycle.schedule import due_row
from storage import DueKind, Role


async def inactivity(session: AsyncSession, due: Due) -> Handled:
    """Propose closing a silent pairing to both sides, and tell the program leads."""
    pair, now = due.pair, due.batch.now
    quiet = timedelta(days=due.batch.program.cadence.auto_close_after_days)
    if now - pair.last_activity < quiet:
        due.follow_ups.append(
            due_row(pair.id, kind=DueKind.INACTIVITY, due_at=pair.last_activity + quiet, now=now)
        )
        return "suppressed"
    due.follow_ups.append(due_row(pair.id, kind=DueKind.INACTIVITY, due_at=now + quiet, now=now))

    def silent(zone: str) -> DaysSince:
        return DaysSince(local_date(pair.last_activity, zone), zone)

    def closing(other: str, role: Role) -> Reply:
        zone = pair.mentee_zone if role is Role.MENTEE else pair.mentor_zone
        return counting(
            (
                f"There's been no session or other activity between you and {other} for ",
                silent(zone),
                ". Shall we close the pairing? If you're still meeting, keep going and "
                "log your next session.",
            ),
            now=now,
            title="Close this pairing?",
            actions=(
                Option(f"close {pair.id}", "Close it"),
                Option(f"keep {pair.id}", "Keep going"),
            ),
        )

    def to_lead(zone: str) -> Reply:
        return counting(
            (
                f"{pair.mentee} and {pair.mentor} have shown no activity for ",
                silent(zone),
                ". I've suggested to both that they close the pairing.",
            ),
            now=now,
            title="A silent pairing",
        )

    due.tell_both(closing)
    due.report.close_proposed.append(pair.id)
    await due.tell_leads(session, to_lead)
    return "sent"


#: The due kinds this module handles (see handlers.cycle.registry).
HANDLERS: dict[DueKind, DueHandler] = {DueKind.INACTIVITY: inactivity}
