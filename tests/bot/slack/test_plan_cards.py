"""Plan cards in Slack: each Confirm button carries the version its card shows.

Signed requests into the real server, answered through the fake Web API: the mentee writes
the plan in a DM, rewrites it, and the mentor presses Confirm on the first card.
"""

from __future__ import annotations

from typing import Any

from storage import Database, Pairing
from tests.bot.slack_harness import SlackHarness, fixture
from tests.helpers import mentee, mentor, rows


async def said(slack: SlackHarness, text: str, *, user: str, expect: str) -> str:
    """DM the bot; the texts it posted in answer, once one of them contains ``expect``."""
    before = len(slack.fake.posts())
    await slack.dm(text, user=user)
    for count in range(before + 1, before + 6):
        await slack.fake.wait_for("chat.postMessage", count)
        texts = [c.args.get("text", "") for c in slack.fake.posts()[before:]]
        if any(expect in t for t in texts):
            return "\n".join(texts)
    raise AssertionError(f"no {expect!r} in the answer to {text!r}")


async def deliver(slack: SlackHarness) -> None:
    """Send everything waiting in the outbox."""
    while (await slack.runtime.worker.run_once()).total:
        pass


def confirm_buttons(post: dict[str, Any]) -> list[dict[str, Any]]:
    """The Confirm buttons of a posted message."""
    found = [e for b in post.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]
    return [b for b in found if b["text"]["text"] == "Confirm the plan"]


def cards(slack: SlackHarness) -> list[dict[str, Any]]:
    """Every message to Ana that has a Confirm button, oldest first."""
    return [c.args for c in slack.fake.posts() if confirm_buttons(c.args)]


async def press(slack: SlackHarness, button: dict[str, Any], *, user: str) -> None:
    payload = fixture("block_actions.json")
    payload["user"] = {**payload["user"], "id": user}
    payload["actions"] = [{**button, "block_id": "x", "action_ts": "1"}]
    assert (await slack.interactive(payload)).status == 200


async def write_plan(slack: SlackHarness, objective: str) -> None:
    await said(slack, "plan", user="U0BEN", expect="Milestone 1")
    await said(slack, objective, user="U0BEN", expect="By when?")
    await said(slack, "in 3 weeks", user="U0BEN", expect="Add another milestone?")
    await said(slack, "2", user="U0BEN", expect="I've sent your plan to Ana Lopez")


async def test_an_older_plan_cards_confirm_button_shows_the_new_version(
    slack: SlackHarness, database: Database
) -> None:
    await mentee(database, "ben.kim@example.com", name="Ben Kim")
    await mentor(database, "ana.lopez@example.com", name="Ana Lopez")
    await said(slack, "match", user="U0PRIYA", expect="approve")
    await said(slack, "approve all", user="U0PRIYA", expect="Sent")
    (proposal,) = await rows(database, Pairing)
    n = proposal.id
    await said(slack, f"accept {n}", user="U0ANA", expect="I've asked Ben Kim")
    await said(slack, f"accept {n}", user="U0BEN", expect="you're paired with Ana Lopez")
    slack.runtime.clock.advance(hours=5)  # 10:00 in New York: Ana's working day
    await deliver(slack)

    await write_plan(slack, "Run my first team retrospective")
    await deliver(slack)
    [first] = cards(slack)
    [old_button] = confirm_buttons(first)
    assert old_button["value"] == f"confirm-plan {n} 1"
    await write_plan(slack, "Lead the team offsite")
    await deliver(slack)
    assert [confirm_buttons(c)[0]["value"] for c in cards(slack)] == [
        f"confirm-plan {n} 1",
        f"confirm-plan {n} 2",
    ]

    before = len(slack.fake.posts())
    await press(slack, old_button, user="U0ANA")
    [*_, answer] = await slack.fake.wait_for("chat.postMessage", before + 1)
    assert answer["channel"] == "DU0ANA"
    assert "Ben Kim has changed the plan since the version you saw (version 1)" in answer["text"]
    assert "Lead the team offsite" in answer["text"]
    assert "Run my first team retrospective" not in answer["text"]
    (pairing,) = await rows(database, Pairing)
    assert pairing.plan_confirmed_at is None

    [new_button] = confirm_buttons(answer)
    assert new_button["value"] == f"confirm-plan {n} 2"
    await press(slack, new_button, user="U0ANA")
    [*_, confirmed] = await slack.fake.wait_for("chat.postMessage", before + 2)
    assert "Confirmed; I've told your mentee. That's version 2" in confirmed["text"]
    (pairing,) = await rows(database, Pairing)
    assert (pairing.plan_version, pairing.plan_confirmed_at) == (2, slack.runtime.clock.now())
