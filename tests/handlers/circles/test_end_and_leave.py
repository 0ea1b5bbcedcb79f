"""A circle's end (continue for another cycle, or close) and members who leave it."""

from __future__ import annotations

from storage import CircleDue, Enrollment
from tests.handlers.circles.running_world import current_circle, place_of, running_circle
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import rows

REVIEW = "Would the circle like another cycle"


async def test_the_end_review_asks_the_facilitator_and_continue_starts_a_new_cycle(
    world: World,
) -> None:
    running = await running_circle(world)
    n = running.number
    fran = world.chat(running.facilitator)
    await fran.expect(f"circle continue {n}", "which runs until", "Nothing changed.")
    await world.walk(91)
    [asked] = [r for r in world.take() if REVIEW in r.text]
    assert asked.email == running.facilitator.email
    assert "Continue another cycle" in asked.text and "Close the circle" in asked.text
    # Circles read C7 everywhere, and a command takes C7 or a plain 7.
    await fran.expect(f"circle continue C{n}", f"circle C{n} starts cycle 2 today")
    circle = await current_circle(world, running)
    assert (circle.status, circle.cycle, circle.cycle_started_at) == (
        "active",
        2,
        world.clock.now(),
    )
    pending = [d for d in await rows(world.database, CircleDue) if d.status == "pending"]
    assert pending and min(d.due_at for d in pending) > world.clock.now()
    # A second click of the same button changes nothing.
    await fran.expect(f"circle continue {n}", "is in cycle 2", "Nothing changed.")
    assert (await current_circle(world, running)).cycle == 2
    for member in running.members:
        assert "continues for another 90 days (cycle 2)" in await world.read_waiting(member)


async def test_closing_ends_the_circle_and_tells_everyone(world: World) -> None:
    running = await running_circle(world)
    n = running.number
    await world.walk(91)
    world.take()
    fran = world.chat(running.facilitator)
    await fran.expect(f"circle close c{n}", f"Closed circle C{n}")
    circle = await current_circle(world, running)
    assert (circle.status, circle.end_reason) == ("ended", "completed")
    assert {d.status for d in await rows(world.database, CircleDue)} <= {"done", "cancelled"}
    await world.tick()
    told = world.take()
    circle_told = {r.email for r in told if "Thank you all for the time" in r.text}
    assert circle_told == {p.email for p in running.everyone}
    leads_told = {r.email for r in told if f"closed circle C{n} (completed)" in r.text}
    assert LEAD in leads_told
    enrollments = {e.person_id: e.status for e in await rows(world.database, Enrollment)}
    assert {enrollments[m.id] for m in running.members} == {"completed"}
    # Stale clicks: the circle is no longer running, so nothing changes.
    await fran.expect(f"circle close {n}", f"no running circle {n}")
    await fran.expect(f"circle continue {n}", f"no running circle {n}")
    assert (await current_circle(world, running)).status == "ended"


async def test_a_member_leaves_and_the_circle_keeps_running(world: World) -> None:
    running = await running_circle(world, size=3)
    ana = running.members[0]
    chat = world.chat(ana)
    await chat.expect("leave circle", "the circle keeps meeting without you", "Yes, leave")
    assert (await place_of(world, ana)).status == "accepted"
    await chat.expect(f"circle leave {running.number} yes", "You've left circle")
    assert (await place_of(world, ana)).status == "left"
    circle = await current_circle(world, running)
    assert circle.status == "active"
    await world.tick()
    [told] = [r for r in world.take() if "has left circle" in r.text]
    assert told.email == running.facilitator.email
    assert "carries on with 2 members" in told.text
    assert "fewer than the program's smallest circle (3)" in told.text
    # The same click again: Ana is no longer in it, nothing changes.
    await chat.expect(f"circle leave {running.number} yes", "no running circle")


async def test_the_facilitator_cannot_leave_a_running_circle(world: World) -> None:
    running = await running_circle(world)
    fran = world.chat(running.facilitator)
    await fran.expect("leave", "You facilitate circle", "circle close")
    assert (await place_of(world, running.facilitator)).status == "accepted"
