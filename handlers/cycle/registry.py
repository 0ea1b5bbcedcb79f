"""Which handler runs when an item of each due kind falls due.

Each module that owns due kinds lists its handlers in a ``HANDLERS`` table, as each
journey lists its chat commands; this module joins them into one table, :data:`HANDLERS`,
through which the due pass (handlers.cycle.due_pass) dispatches every item:

=====================================================  ==========================
kind                                                   module
=====================================================  ==========================
``checkin``, ``reminder`` (snoozed or rescheduled)      handlers.cycle.checkins
``calibration``, ``midpoint``, ``quarterly_review``,    handlers.cycle.reviews
``end_review``
``inactivity``                                          handlers.cycle.inactivity
``plan_reminder``, ``survey_reminder``                  handlers.cycle.reminders
=====================================================  ==========================
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.cycle import checkins, inactivity, reminders, reviews
from handlers.cycle.batch import Due, DueHandler, Handled
from storage import DueKind


def _joined(*tables: Mapping[DueKind, DueHandler]) -> dict[str, DueHandler]:
    """One table from each module's; a kind two modules claim is a mistake caught at import."""
    joined: dict[str, DueHandler] = {}
    for table in tables:
        for kind, handler in table.items():
            if kind in joined:
                raise ValueError(f"two handlers for the due kind '{kind}'")
            joined[kind] = handler
    return joined


#: Every due kind's handler, by kind.
HANDLERS = _joined(checkins.HANDLERS, reviews.HANDLERS, inactivity.HANDLERS, reminders.HANDLERS)


async def handle(session: AsyncSession, due: Due) -> Handled:
    """Run the handler of the item's kind; returns its outcome (``sent`` or ``suppressed``)."""
    handler = HANDLERS.get(due.item.kind)
    if handler is None:
        return "suppressed"  # a kind this version does not know: nothing to send
    return await handler(session, due)
