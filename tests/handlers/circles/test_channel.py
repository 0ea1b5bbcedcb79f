"""The facilitator names a Teams channel for the circle; it is kept and shown to the circle."""

from __future__ import annotations

from tests.handlers.circles.running_world import current_circle, running_circle
from tests.handlers.cycle_world import World

LINK = (
    "https://teams.microsoft.com/l/channel/19%3aa1b2c3d4e5f6%40thread.tacv2/Leaders"
    "?groupId=0f1e2d3c&tenantId=72f988bf"
)


async def test_the_facilitator_names_a_teams_channel_and_the_circle_sees_it(world: World) -> None:
    running = await running_circle(world)
    fran = world.chat(running.facilitator)
    await fran.expect(f"circle channel {LINK}", "Saved", "everyone is told")
    circle = await current_circle(world, running)
    assert circle.conversation == {
        "teams_channel": "19:a1b2c3d4e5f6@thread.tacv2",
        "teams_channel_link": LINK,
    }
    for member in running.members:
        waiting = await world.read_waiting(member)
        assert "named a Teams channel" in waiting and LINK in waiting
        assert "If the link doesn't open for you, ask Fran to add you to the team" in waiting
    await world.chat(running.members[0]).expect("circle", "Teams channel", LINK)
    await fran.expect(f"circle channel {LINK}", "already has that Teams channel")


async def test_a_link_that_is_not_a_teams_channel_is_refused_plainly(world: World) -> None:
    running = await running_circle(world)
    fran = world.chat(running.facilitator)
    await fran.expect("circle channel https://example.com/x", "isn't a Teams channel link")
    await world.chat(running.members[0]).expect(
        f"circle channel {LINK}", "Only a circle's facilitator"
    )
    assert (await current_circle(world, running)).conversation == {}
