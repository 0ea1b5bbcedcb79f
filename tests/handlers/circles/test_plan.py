"""A circle's plan: up to three shared goals, set by the facilitator, shown to the circle."""

from __future__ import annotations

from tests.handlers.circles.running_world import current_circle, running_circle
from tests.handlers.cycle_world import World


async def test_the_facilitator_sets_goals_and_every_member_reads_them(world: World) -> None:
    running = await running_circle(world)
    fran = world.chat(running.facilitator)
    await fran.expect("goals add Give feedback that lands", "Added.", "1. Give feedback that lands")
    circle = await current_circle(world, running)
    assert circle.goals == [{"text": "Give feedback that lands", "status": "open"}]
    for member in running.members:
        waiting = await world.read_waiting(member)
        assert "Fran Okafor added a goal for the circle: Give feedback that lands" in waiting
    ana = world.chat(running.members[0])
    await ana.expect("circle goals", "The goals of circle", "1. Give feedback that lands")


async def test_a_fourth_goal_is_refused_with_the_reason(world: World) -> None:
    running = await running_circle(world)
    fran = world.chat(running.facilitator)
    for goal in ("Give feedback", "Run a one-to-one", "Lead through change"):
        await fran.expect(f"circle goals add {goal}", "Added.")
    reply = await fran.send("goals add Hire well")
    assert "already has 3 goals, the most a circle keeps so everyone can hold them in mind" in reply
    assert "goals remove" in reply
    assert len((await current_circle(world, running)).goals) == 3
    await fran.expect("goals remove 2", "Removed.", "2. Lead through change")
    await fran.expect("goals add Hire well", "Added.", "3. Hire well")


async def test_only_the_facilitator_changes_the_goals(world: World) -> None:
    running = await running_circle(world)
    ana = world.chat(running.members[0])
    await ana.expect("goals add My own goal", "Only the circle's facilitator sets its goals")
    assert (await current_circle(world, running)).goals == []


async def test_two_goals_set_at_one_moment_both_reach_the_circle(world: World) -> None:
    # The clock stands still (as MENTORBOT_NOW holds it in a demo): two changes, two words.
    running = await running_circle(world)
    fran = world.chat(running.facilitator)
    await fran.expect("goals add Give feedback that lands", "Added.")
    await fran.expect("goals add Run a hard conversation", "Added.")
    waiting = await world.read_waiting(running.members[0])
    assert "added a goal for the circle: Give feedback that lands" in waiting
    assert "added a goal for the circle: Run a hard conversation" in waiting
