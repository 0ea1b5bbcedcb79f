"""``privacy.retain_notes_days`` expires circle session notes as it does pairs' (both
databases)."""

from __future__ import annotations

from datetime import timedelta

from storage import CircleSession
from tests.handlers.circles.running_world import running_circle
from tests.handlers.cycle_world import World
from tests.helpers import rows


async def test_the_tick_deletes_circle_session_notes_past_retention_only(world: World) -> None:
    # tests/fixtures/circles.yaml keeps notes 365 days.
    assert world.programs.privacy.retain_notes_days == 365
    running = await running_circle(world)
    today = world.clock.now().date()
    long_ago = today - timedelta(days=400)
    async with world.database.session() as session:
        for held_on, notes in ((long_ago, "Old words."), (today, "New words.")):
            session.add(
                CircleSession(
                    circle_id=running.number,
                    held_on=held_on,
                    minutes=60,
                    notes=notes,
                    logged_by=running.facilitator.id,
                    created_at=world.clock.now(),
                )
            )
    report = await world.tick()
    assert report.notes_expired == 1
    held = {s.held_on: s for s in await rows(world.database, CircleSession)}
    assert (held[long_ago].notes, held[long_ago].minutes) == (None, 60)
    assert held[today].notes == "New words."
    assert (await world.tick()).notes_expired == 0
