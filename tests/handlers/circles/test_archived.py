"""A circles program removed from the program file: archived, its circles run on as circles
(both databases). Its type is no longer written anywhere, so its circle rows say it."""

from __future__ import annotations

from handlers.core.programs import Programs
from storage import Circle
from tests.handlers.circles.running_world import (
    PROGRAM,
    RunningCircle,
    current_circle,
    running_circle,
)
from tests.handlers.circles.test_help import CIRCLE_LINES
from tests.handlers.circles.test_sessions import log_circle_session
from tests.handlers.cycle_world import World
from tests.helpers import make_person, rows

HR = "hr.lead@example.com"


async def removed(world: World, circle_programs: Programs) -> World:
    """The same bot and database, its program file without the circles program."""
    kept = Programs([p for p in circle_programs if p.id != PROGRAM], leads=circle_programs.leads)
    after = World(world.database, kept.first, programs=kept)
    after.clock.current = world.clock.now()
    return after


async def started(world: World, circle_programs: Programs) -> tuple[World, RunningCircle]:
    running = await running_circle(world)
    return await removed(world, circle_programs), running


async def test_members_still_see_their_circle(world: World, circle_programs: Programs) -> None:
    after, running = await started(world, circle_programs)
    ana, fran = running.members[0], running.facilitator
    said = await after.chat(ana).expect(
        "status",
        "You're enrolled as a circle member, in a circle",
        f"Circle C{running.number} on ",
        "next session due Mon 7 Dec",
    )
    assert "mentor" not in said
    await after.chat(fran).expect("status", "You're enrolled as a circle facilitator")
    await after.chat(ana).expect("circle", f"Circle C{running.number} of {PROGRAM}", "Fran Okafor")
    await after.chat(ana).expect("goals", "goals")


async def test_the_facilitator_still_logs_and_is_nudged(
    world: World, circle_programs: Programs
) -> None:
    after, running = await started(world, circle_programs)
    after.clock.advance(days=3)
    assert "3 of 4 members there" in await log_circle_session(after, running, came="1, 2, 3")
    await after.walk(28)
    nudges = [r for r in after.take() if "It's time for circle" in r.text]
    assert [r.email for r in nudges] == [running.facilitator.email]


async def test_the_cycle_ends_with_its_review_and_the_circle_closes(
    world: World, circle_programs: Programs
) -> None:
    after, running = await started(world, circle_programs)
    await after.walk(91)
    assert [r.email for r in after.take() if "Would the circle like another cycle" in r.text] == [
        running.facilitator.email
    ]
    await after.chat(running.facilitator).expect(
        f"circle close C{running.number}", f"Closed circle C{running.number}"
    )
    assert (await current_circle(after, running)).status == "ended"


async def test_a_proposal_still_lapses(world: World, circle_programs: Programs) -> None:
    running = await running_circle(world)
    async with world.database.session() as session:
        circle = await session.get(Circle, running.number)
        assert circle is not None
        circle.status, circle.expires_at = "proposed", world.clock.now()
    after = await removed(world, circle_programs)
    after.clock.advance(hours=1)
    report = await after.tick()
    assert report.circles_lapsed == [1]
    [circle] = await rows(after.database, Circle)
    assert circle.status != "proposed"


async def test_its_reports_are_the_circles(world: World, circle_programs: Programs) -> None:
    after, _ = await started(world, circle_programs)
    hr = after.chat(await make_person(after.database, HR, name="Hana Reyes"))
    said = await hr.expect(f"report circles {PROGRAM}", "(archived)", "Circles active")
    assert "one-to-one" not in said
    said = await hr.expect(f"report overview {PROGRAM}", "Circles active")
    assert "Active pairs" not in said


async def test_help_still_lists_the_circle_words_for_those_in_its_circles(
    world: World, circle_programs: Programs
) -> None:
    after, running = await started(world, circle_programs)
    said = await after.chat(running.members[0]).send("help")
    for line in CIRCLE_LINES:
        assert line in said
    someone = await make_person(after.database, "kim@example.com", name="Kim Ito")
    assert "In a mentor circle" not in await after.chat(someone).send("help")
