"""Snoozing and rescheduling a check-in (handlers.cycle.reschedule)."""

from __future__ import annotations

from tests.handlers.cycle_world import World, log_session


async def test_snooze_and_reschedule_move_the_reminder(world: World) -> None:
    _lee, ana, pairing = await world.pair()
    n = pairing.id
    await world.walk(14)
    assert any("Check-in with Lee Park" in m.text for m in world.take() if m.email == "ana@x.com")
    chat = world.chat(ana)
    await chat.expect(f"snooze {n}", "Snoozed: I'll remind you on Thu 10 Dec")
    await world.walk(3)
    [reminder] = world.take()
    assert "Check-in with Lee Park" in reminder.text
    assert reminder.local.strftime("%a %-d %b %H:%M") == "Thu 10 Dec 10:00"

    asked = await chat.send(f"reschedule {n}")
    assert "When will you meet?" in asked and "1. Fri 11 Dec" in asked
    await chat.expect("saturday", "Got it: I'll check in with you on Sat 12 Dec")
    await world.walk(4)
    [rescheduled] = world.take()
    assert "Today's the day you planned to meet Lee" in rescheduled.text
    # A Saturday in the mentor's calendar is still not a working day.
    assert rescheduled.local.strftime("%a %-d %b %H:%M") == "Mon 14 Dec 09:00"

    await chat.expect(f"snooze {n}", "Snoozed")
    await log_session(chat, minutes="30")
    await world.walk(4)
    assert [m for m in world.take() if "Check-in" in m.text] == []
    await chat.expect(f"reschedule {n} yesterday", "Pick a day after today")
