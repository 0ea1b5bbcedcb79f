"""A message that counts days says the count of the day it is delivered, not queued.

A nudge is queued when its item falls due, then waits: for working hours, for a busy
platform, for a process that was down. Delivery works the count out with its own clock,
on every path: the platform senders, the shell, and a catch-up that folds late items.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from handlers.core.messages import (
    DaysSince,
    Reply,
    at_delivery,
    counting,
    reply_from_dict,
    reply_to_dict,
)
from handlers.core.program import Program
from handlers.core.programs import Programs
from scheduler.due import run_due
from storage import Database, Outbox
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import rows


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def queue_only(world: World) -> None:
    """Run what is due at the clock's time without delivering anything (senders are down)."""
    await run_due(world.database, Programs.one(world.program), now=world.clock.now())


async def queued_texts(world: World, fragment: str) -> list[str]:
    """The stored text of queued messages that contain ``fragment``."""
    found = []
    for item in await rows(world.database, Outbox):
        for reply in item.payload:
            if fragment in reply["text"]:
                found.append(reply["text"])
    return found


def test_a_count_is_worked_out_again_after_a_round_trip_through_the_outbox() -> None:
    written = datetime.fromisoformat("2026-12-07T10:00+00:00")
    reply = counting(
        ("It's been ", DaysSince(date(2026, 11, 23), "Europe/London"), " since you met."),
        now=written,
        title="Check-in",
    )
    assert reply.text == "It's been 14 days since you met."
    stored = reply_from_dict(reply_to_dict(reply))
    later = at_delivery(stored, datetime.fromisoformat("2026-12-10T09:00+00:00"))
    assert later.text == "It's been 17 days since you met."
    assert later.title == "Check-in"
    # A reply that counts nothing is stored and delivered as it is.
    plain = Reply("Hello")
    assert "counted" not in reply_to_dict(plain)
    assert at_delivery(plain, written) is plain


async def test_a_nudge_queued_on_day_14_and_delivered_on_day_17_says_17(world: World) -> None:
    await world.pair()
    await world.tick()
    world.take()
    world.clock.advance(days=14)  # Mon 7 Dec 10:00: the check-in falls due and is queued...
    await queue_only(world)
    queued = await queued_texts(world, "since you were paired")
    assert len(queued) == 2 and all("It's been 14 days" in text for text in queued)
    world.clock.advance(days=3)  # ...and no sender runs until Thu 10 Dec
    await world.worker.run_once()
    nudges = [m for m in world.take() if "Check-in with" in m.text]
    assert sorted(m.email for m in nudges) == ["ana@x.com", "lee@x.com"]
    for nudge in nudges:
        assert "It's been 17 days since you were paired with" in nudge.text
        assert "14 days" not in nudge.text


async def test_the_shell_shows_the_count_of_the_day_it_is_opened(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    world.clock.advance(days=14)
    await queue_only(world)
    world.clock.advance(days=3)
    shown = await world.read_waiting(lee)
    assert "It's been 17 days since you were paired with Ana" in shown


async def test_a_silent_pairing_counts_its_silence_when_it_is_told(world: World) -> None:
    await world.pair()
    await world.tick()
    world.take()
    # Sixty days without activity; what fell due before is folded into a catch-up.
    world.clock.advance(days=60)
    await queue_only(world)
    world.clock.advance(days=3)
    await world.worker.run_once()
    got = world.take()
    closing = [m for m in got if "Close this pairing?" in m.text]
    assert sorted(m.email for m in closing) == ["ana@x.com", "lee@x.com"]
    for message in closing:
        assert "no session or other activity between you and" in message.text
        assert "for 63 days" in message.text
    [silent] = [m for m in got if m.email == LEAD and "A silent pairing" in m.text]
    assert "have shown no activity for 63 days" in silent.text


async def test_a_catch_up_keeps_its_counts_for_delivery(world: World) -> None:
    await world.pair()
    await world.tick()
    world.take()
    world.clock.advance(days=42)  # down for six weeks: several items fold into one catch-up
    await queue_only(world)
    world.clock.advance(days=2)
    await world.worker.run_once()
    catch_ups = [m for m in world.take() if "fell due while I was offline" in m.text]
    assert len(catch_ups) == 2
    for catch_up in catch_ups:
        assert "• Check-in with" in catch_up.text
        assert "It's been 44 days since you were paired with" in catch_up.text
