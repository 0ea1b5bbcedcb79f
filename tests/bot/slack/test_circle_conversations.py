"""A circle's messages on Slack: one group conversation for the whole circle, remembered.

Up to Slack's limit for a group DM (8 people besides the bot) the circle gets a group DM;
a bigger circle gets a private channel the bot creates and invites everyone to, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from handlers.circles.lifecycle import tell_circle
from handlers.core.messages import Reply
from handlers.core.programs import Programs
from storage import Circle, Database, Outbox
from tests.fakes.slack_api import fake_slack
from tests.handlers.circles.running_world import RunningCircle, circle_world, running_circle
from tests.handlers.cycle_world import World
from tests.helpers import FakeClock, rows
from tests.scheduler.test_group_delivery import TEAM, Group


@pytest.fixture
async def slack(database: Database) -> AsyncIterator[Group]:
    async with fake_slack() as fake:
        yield Group(fake, database, FakeClock())


async def on_slack(slack: Group, world: World, size: int) -> RunningCircle:
    """A running circle whose people all use Slack (user ids U0P0, U0P1, ...)."""
    slack.clock = world.clock
    running = await running_circle(world, size=size)
    for n, person in enumerate(running.everyone):
        slack.fake.add_user(f"U0P{n}", email=person.email, name=person.name, team=TEAM)
        await slack.link(person, "slack", f"{TEAM}/U0P{n}")
    return running


async def say(world: World, running: RunningCircle, what: str) -> None:
    async with world.database.session() as session:
        circle = await session.get(Circle, running.number)
        assert circle is not None
        await tell_circle(
            session,
            program=world.program,
            circle=circle,
            replies=[Reply(f"To the circle: {what}")],
            what=what,
            now=world.clock.now(),
        )


async def conversation(world: World, running: RunningCircle) -> dict[str, object]:
    [circle] = [c for c in await rows(world.database, Circle) if c.id == running.number]
    return circle.conversation


async def test_a_circle_within_the_group_dm_limit_talks_in_one_group_dm(
    slack: Group, database: Database, circle_programs: Programs
) -> None:
    world = circle_world(database, circle_programs)
    running = await on_slack(slack, world, size=4)
    await say(world, running, "kickoff")
    report = await slack.worker().run_once()
    assert report.sent == 5
    assert slack.opened() == ["U0P0,U0P1,U0P2,U0P3,U0P4"]
    assert slack.posts() == [("GU0P0U0P1U0P2U0P3U0P4", "To the circle: kickoff")]
    assert (await conversation(world, running))["slack"] == "GU0P0U0P1U0P2U0P3U0P4"
    await say(world, running, "goals")
    assert (await slack.worker().run_once()).sent == 5
    assert slack.opened() == ["U0P0,U0P1,U0P2,U0P3,U0P4"]  # remembered, not opened again
    assert [c for c, _ in slack.posts()] == ["GU0P0U0P1U0P2U0P3U0P4"] * 2
    assert not slack.fake.of("conversations.create")


async def test_a_circle_bigger_than_a_group_dm_gets_a_private_channel_once(
    slack: Group, database: Database, circle_programs: Programs
) -> None:
    world = circle_world(database, circle_programs)
    running = await on_slack(slack, world, size=8)  # 9 people: over the group DM limit
    await say(world, running, "kickoff")
    assert (await slack.worker().run_once()).sent == 9
    assert slack.opened() == []
    [created] = slack.fake.of("conversations.create")
    assert created["name"] == f"circle-{running.number}-leader-circles"
    assert str(created["is_private"]).lower() in ("true", "1")
    [invited] = slack.fake.of("conversations.invite")
    users = [f"U0P{n}" for n in range(9)]
    assert (invited["channel"], invited["users"].split(",")) == ("C0CIRCLE001", users)
    assert slack.posts() == [("C0CIRCLE001", "To the circle: kickoff")]
    remembered = await conversation(world, running)
    assert (remembered["slack"], remembered["slack_members"]) == ("C0CIRCLE001", users)
    await say(world, running, "goals")
    assert (await slack.worker().run_once()).sent == 9
    assert len(slack.fake.of("conversations.create")) == 1
    assert len(slack.fake.attempts("conversations.invite")) == 1  # nobody invited twice
    assert [c for c, _ in slack.posts()] == ["C0CIRCLE001"] * 2


async def test_a_channel_created_before_a_failed_invite_is_the_one_the_retry_uses(
    slack: Group, database: Database, circle_programs: Programs
) -> None:
    world = circle_world(database, circle_programs)
    running = await on_slack(slack, world, size=8)
    await say(world, running, "kickoff")
    slack.fake.fail("conversations.invite", status=200, error="fatal_error")
    report = await slack.worker().run_once()
    assert (report.sent, report.retried) == (0, 9)
    assert (await conversation(world, running))["slack"] == "C0CIRCLE001"
    world.clock.advance(minutes=5)
    assert (await slack.worker().run_once()).sent == 9
    assert len(slack.fake.of("conversations.create")) == 1
    assert slack.posts() == [("C0CIRCLE001", "To the circle: kickoff")]
    assert {o.status for o in await rows(database, Outbox)} == {"sent"}
