"""Work that falls due with time, done in one pass at a given instant.

The tick of ``mentorbot serve`` and ``mentorbot run-due`` both call :func:`run_due`. Each
step is idempotent: a second pass at the same instant changes nothing, because every
change is a conditional update and every message has a unique outbox key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from handlers.pairing import expire_proposals
from handlers.program import Program
from storage import Database


@dataclass
class DueReport:
    """What one pass did.

    Attributes:
        lapsed: Ids of proposals that went unanswered past ``matching.proposal_expiry_days``.
    """

    lapsed: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many things the pass changed."""
        return len(self.lapsed)


async def run_due(database: Database, program: Program, now: datetime) -> DueReport:
    """Do everything due at ``now``: lapse unanswered proposals (telling the leads)."""
    async with database.session() as session:
        lapsed = await expire_proposals(session, program, now)
    return DueReport(lapsed=lapsed)
