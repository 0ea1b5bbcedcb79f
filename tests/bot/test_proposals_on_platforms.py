"""Proposals reach mentors and mentees in Slack and Teams, and their buttons answer them."""

from __future__ import annotations

from typing import Any

from handlers.core.program import Program
from handlers.matching.review import approve, plan_round, round_data
from storage import Database, Pairing
from tests.bot.slack_harness import SlackHarness, fixture
from tests.bot.teams_harness import teams_server
from tests.helpers import mentee, mentor, rows


async def propose_all(database: Database, program: Program, runtime: Any) -> Pairing:
    async with database.session() as session:
        now = runtime.clock.now()
        plan = await plan_round(session, program, now=now)
        data = round_data(program, plan, reader_zone=None, now=now)
        await approve(
            session,
            program=program,
            lead_id=None,
            actor="cli",
            batch=data["batch"],
            approved=data["proposals"],
            waiting=data["waiting"],
            now=now,
        )
    (pairing,) = await rows(database, Pairing)
    return pairing


async def press(slack: SlackHarness, post: dict[str, Any], label: str, user: str) -> None:
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(b for b in buttons if b["text"]["text"] == label)
    payload = fixture("block_actions.json")
    payload["user"] = {**payload["user"], "id": user}
    payload["actions"] = [{**button, "block_id": "x", "action_ts": "1"}]
    assert (await slack.interactive(payload)).status == 200


async def test_a_proposal_goes_through_slack_buttons_to_an_active_pairing(
    slack: SlackHarness, database: Database, program: Program
) -> None:
    await mentee(database, "ben.kim@example.com", name="Ben Kim")
    await mentor(database, "ana.lopez@example.com", name="Ana Lopez")
    proposal = await propose_all(database, program, slack.runtime)

    assert (await slack.runtime.worker.run_once()).sent == 1
    [offer] = await slack.fake.wait_for("chat.postMessage")
    assert offer["channel"] == "DU0ANA"
    assert "Would you mentor Ben Kim?" in offer["text"]
    buttons = [e for b in offer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    # Under Ben's profile, the button that shows the rest of it; then the answers.
    assert [(b["text"]["text"], b["value"]) for b in buttons[1:]] == [
        ("Accept", f"accept {proposal.id}"),
        ("Decline", f"decline {proposal.id}"),
    ]
    assert buttons[0]["text"]["text"] == "More about Ben Kim"

    await press(slack, offer, "Accept", "U0ANA")
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert "I've asked Ben Kim to confirm" in posts[-1]["text"]
    assert (await slack.runtime.worker.run_once()).sent == 1
    posts = await slack.fake.wait_for("chat.postMessage", 3)
    to_ben = posts[-1]
    assert to_ben["channel"] == "DU0BEN"
    assert "Ana Lopez would like to be your mentor" in to_ben["text"]

    await press(slack, to_ben, "Accept", "U0BEN")
    posts = await slack.fake.wait_for("chat.postMessage", 4)
    assert "you're paired with Ana Lopez" in posts[-1]["text"]
    await press(slack, to_ben, "Accept", "U0BEN")  # the same button again
    posts = await slack.fake.wait_for("chat.postMessage", 5)
    assert "already active; nothing changed" in posts[-1]["text"]
    (pairing,) = await rows(database, Pairing)
    assert pairing.status == "active"


async def test_a_proposal_reaches_teams_as_a_card_whose_buttons_answer_it(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program) as teams:
        await teams.say("help")  # Ana opens a chat with the bot: Teams keeps a reference
        await mentor(database, "ana.lopez@example.com", name="Ana Lopez")
        await mentee(database, "ben.kim@example.com", name="Ben Kim")
        proposal = await propose_all(database, program, teams.runtime)
        assert (await teams.runtime.worker.run_once()).sent == 1
        card = teams.last_card()
        assert "Would you mentor Ben Kim?" in teams.last_text()
        commands = [a["data"].get("mb_command") for a in card["actions"] if "data" in a]
        assert commands == [f"accept {proposal.id}", f"decline {proposal.id}"]
        assert card["actions"][-1]["type"] == "Action.ShowCard"  # the rest of Ben's profile
        submit = teams.activity(
            "card_submit.json",
            value={"mb_command": f"decline {proposal.id}"},
            replyToId=teams.last_card_id(),
        )
        assert (await teams.post(submit)).status in (200, 201)
        assert "won't be proposed to you again" in teams.last_text()
        (pairing,) = await rows(database, Pairing)
        assert (pairing.status, pairing.declined_by) == ("declined", "mentor")
