"""Reading what a simulated pairing received: in order, by local time, in working hours."""

from __future__ import annotations

from storage import Database, Pairing
from tests.handlers.cycle_world import Received
from tests.helpers import rows


def in_order(messages: list[Received]) -> list[Received]:
    """Messages by delivery time, then recipient.

    Messages delivered at the same moment to different people go out concurrently, so
    they are ordered by recipient; one person's messages keep the order they arrived in.
    """
    return sorted(messages, key=lambda m: (m.at, m.email))


def seen(messages: list[Received]) -> list[tuple[str, str, str]]:
    """(local day and time, who, title) of each message, in order (see :func:`in_order`)."""
    out = []
    for m in in_order(messages):
        title = m.text.split("\n", 1)[0].strip("= ")
        out.append((m.local.strftime("%a %-d %b %H:%M"), m.email.split("@")[0], title))
    return out


def assert_working_hours(messages: list[Received]) -> None:
    for m in messages:
        local = m.local
        assert local.weekday() < 5, f"{m.email} got a message on a weekend: {local}"
        assert "09:00" <= local.strftime("%H:%M") <= "17:30", f"{m.email} at {local}: {m.text}"


async def current(database: Database, pairing: Pairing) -> Pairing:
    """The pairing as the database has it now."""
    return next(p for p in await rows(database, Pairing) if p.id == pairing.id)
