"""What falls due in a running circle: the facilitator's session nudge, and a word for a
member who missed two sessions in a row."""

from __future__ import annotations

from storage import CircleDue
from tests.handlers.circles.running_world import running_circle
from tests.handlers.circles.test_sessions import log_circle_session
from tests.handlers.cycle_world import World
from tests.helpers import rows

DUE_TEXT = "It's time for circle"
MISSED = "We've missed you at your circle's last"


def in_working_hours(world: World, email: str) -> bool:
    return all(r.local.weekday() < 5 and 9 <= r.local.hour < 18 for r in world.inbox(email))


async def test_the_facilitator_is_nudged_when_a_session_is_due_and_none_was_logged(
    world: World,
) -> None:
    running = await running_circle(world)
    await world.walk(13)
    assert not [r for r in world.take() if DUE_TEXT in r.text]
    await world.walk(2)
    nudges = [r for r in world.take() if DUE_TEXT in r.text]
    assert [r.email for r in nudges] == [running.facilitator.email]
    assert "None is logged yet" in nudges[0].text and "Log a session" in nudges[0].text
    assert in_working_hours(world, running.facilitator.email)
    done = [d for d in await rows(world.database, CircleDue) if d.status == "done"]
    assert [(d.kind, d.outcome) for d in done] == [("session", "sent")]


async def test_no_nudge_when_the_circle_met_in_the_window(world: World) -> None:
    running = await running_circle(world)
    world.clock.advance(days=8)
    await log_circle_session(world, running, came="1, 2, 3, 4")
    await world.walk(8)
    assert not [r for r in world.take() if DUE_TEXT in r.text]
    [done] = [d for d in await rows(world.database, CircleDue) if d.status == "done"]
    assert done.outcome == "suppressed"


async def test_a_member_who_missed_two_sessions_gets_one_gentle_word(world: World) -> None:
    running = await running_circle(world)
    dev = running.members[3]
    world.clock.advance(days=3)
    await log_circle_session(world, running, came="1, 2, 3")
    world.clock.advance(days=7)
    await log_circle_session(world, running, came="1, 2, 3")
    await world.walk(5)
    words = [r for r in world.take() if MISSED in r.text]
    assert [r.email for r in words] == [dev.email]
    assert "last 2 sessions" in words[0].text and "tell Fran" in words[0].text
    # The next session falls due with the same run of misses: no second word.
    await world.walk(14)
    assert not [r for r in world.take() if MISSED in r.text]


async def test_sessions_that_fell_due_while_nobody_ran_the_pass_bring_one_nudge(
    world: World,
) -> None:
    # Nothing runs for six weeks (the bot was down): three sessions are due at once.
    running = await running_circle(world)
    world.clock.advance(days=43)
    await world.tick()
    await world.run(hours=24)
    nudges = [r for r in world.take() if DUE_TEXT in r.text]
    assert [r.email for r in nudges] == [running.facilitator.email]
    done = sorted(
        (d.due_at, d.outcome) for d in await rows(world.database, CircleDue) if d.status == "done"
    )
    assert [outcome for _, outcome in done] == ["folded", "folded", "sent"]
