"""A meeting's iCalendar invite, sent to both people of its pairing.

The contract between booking meetings (finding a time, picking, moving, cancelling) and
putting them in calendars. Booking changes the :class:`storage.Meeting` row (raising its
``sequence`` on every change) and then calls :func:`send_invites`, which builds the
``.ics`` from the row as it now stands and queues it for both people.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.program import Program
from storage import Meeting


async def send_invites(
    session: AsyncSession, *, program: Program, meeting: Meeting, now: datetime
) -> None:
    """Queue the meeting's invite for both people: ``METHOD:REQUEST`` while it is booked
    (the whole series with its moved and cancelled occurrences), ``METHOD:CANCEL`` once it
    is cancelled. Being built (issue 21): until then nothing is sent.
    """
    return None
