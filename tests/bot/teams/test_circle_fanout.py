"""A circle's messages on Teams: a bot cannot start a group chat there, so each person of the
circle reads the message in their own chat with the bot (through the Bot Connector)."""

from __future__ import annotations

import json

from handlers.circles.lifecycle import tell_circle
from handlers.core.messages import Reply
from handlers.core.programs import Programs
from storage import Circle, Database
from storage.queries import link_account, save_reference
from tests.bot.teams_harness import TENANT, teams_server
from tests.fakes.bot_connector import APP_ID
from tests.handlers.circles.running_world import circle_world, running_circle

CHANNEL_LINK = (
    "https://teams.microsoft.com/l/channel/19%3aa1b2c3d4e5f6%40thread.tacv2/Leaders"
    "?groupId=0f1e2d3c&tenantId=" + TENANT
)


async def test_each_person_of_the_circle_gets_the_message_in_their_own_teams_chat(
    database: Database, circle_programs: Programs
) -> None:
    program = circle_programs.of("leader-circles")
    async with teams_server(database, program) as teams:
        world = circle_world(database, circle_programs)
        world.clock.current = teams.runtime.clock.now()
        running = await running_circle(world, size=3)
        now = world.clock.now()
        async with database.session() as session:
            for n, person in enumerate(running.everyone):
                assert person.id is not None
                await link_account(
                    session,
                    platform="teams",
                    external_id=f"aad-{n}",
                    person_id=person.id,
                    now=now,
                    tenant=TENANT,
                )
                await save_reference(
                    session,
                    person_id=person.id,
                    platform="teams",
                    reference={
                        "user": {"id": f"29:user-{n}", "name": person.name},
                        "bot": {"id": f"28:{APP_ID}", "name": "mentorbot"},
                        "conversation": {"id": f"a:chat-{n}", "tenantId": TENANT},
                        "channelId": "msteams",
                        "serviceUrl": teams.connector.url,
                    },
                    now=now,
                )
            circle = await session.get(Circle, running.number)
            assert circle is not None
            circle.conversation = {"teams_channel_link": CHANNEL_LINK}
            await tell_circle(
                session,
                program=program,
                circle=circle,
                replies=[Reply("Your circle meets on Thursday.")],
                what="kickoff",
                now=now,
            )
        report = await teams.runtime.worker.run_once()
        assert report.sent == 4
        calls = teams.connector.sent_calls()
    chats = sorted(c.path.split("/")[3] for c in calls)
    assert chats == ["a:chat-0", "a:chat-1", "a:chat-2", "a:chat-3"]
    for call in calls:
        card = json.dumps(call.body, ensure_ascii=False)
        assert "Your circle meets on Thursday." in card
        assert CHANNEL_LINK in card  # the facilitator's Teams channel is shown with it


async def test_a_facilitator_naming_a_channel_is_told_the_bot_posts_nothing_there(
    database: Database, circle_programs: Programs
) -> None:
    program = circle_programs.of("leader-circles")
    async with teams_server(database, program) as teams:
        world = circle_world(database, circle_programs)
        world.clock.current = teams.runtime.clock.now()
        # Ana Lopez, who writes from the harness's Teams chat, facilitates the circle.
        running = await running_circle(world, size=3, facilitator="ana.lopez@example.com")
        await teams.say(f"circle channel {CHANNEL_LINK}")
        told = teams.last_text()
        await teams.runtime.worker.run_once()
        paths = [c.path for c in teams.connector.calls]
    assert "I don't post in the channel" in told
    assert "add each member of the circle to the team the channel is in" in told
    assert "start the circle's conversation there yourself" in told
    # Nothing went to the channel's conversation (19:...@thread.tacv2), only to chats.
    assert paths and not [p for p in paths if "thread.tacv2" in p]
    async with database.session() as session:
        circle = await session.get(Circle, running.number)
        assert circle is not None and circle.conversation["teams_channel_link"] == CHANNEL_LINK
