"""The circles' due pass (scheduler.circles): run from run_due, each item done once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from handlers.core.programs import Programs
from scheduler.circles import CIRCLE_DUE_ITEMS, LEASE
from scheduler.claims import claim, lease_until
from scheduler.due import run_due
from storage import CircleDue, Database, Outbox
from storage.tables import CIRCLE_DUE
from tests.handlers.circles.running_world import circle_world, running_circle
from tests.helpers import rows


async def test_run_due_does_a_circle_item_once_even_when_two_passes_race(
    database: Database, circle_programs: Programs
) -> None:
    world = circle_world(database, circle_programs)
    await running_circle(world)
    now = world.clock.now() + timedelta(days=15)
    reports = await asyncio.gather(
        run_due(database, circle_programs, now=now), run_due(database, circle_programs, now=now)
    )
    assert sum(r.circles for r in reports) == 1
    assert reports[0].as_dict()["circles"] + reports[1].as_dict()["circles"] == 1
    nudges = [o for o in await rows(database, Outbox) if "session-due" in o.dedupe_key]
    assert len(nudges) == 1
    assert (await run_due(database, circle_programs, now=now)).circles == 0


async def test_an_item_claimed_by_a_pass_that_died_is_done_after_its_lease(
    database: Database, circle_programs: Programs
) -> None:
    world = circle_world(database, circle_programs)
    await running_circle(world)
    now = world.clock.now() + timedelta(days=15)
    async with database.session() as session:
        taken = await claim(
            await session.connection(),
            CIRCLE_DUE_ITEMS,
            now=now,
            until=lease_until(now, LEASE),
            returning=(CIRCLE_DUE.c.id,),
        )
    assert len(taken) == 1  # claimed, then the pass "died"
    assert (await run_due(database, circle_programs, now=now)).circles == 0
    later = now + LEASE + timedelta(seconds=2)
    assert (await run_due(database, circle_programs, now=later)).circles == 1
    done = [d for d in await rows(database, CircleDue) if d.status == "done"]
    assert [(d.kind, d.outcome) for d in done] == [("session", "sent")]
