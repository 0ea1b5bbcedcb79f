"""The Slack HTTP edge: junk is a 4xx before any work, and a signed request runs once."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack import blocks
from handlers.core.program import Program
from storage import Database, ProcessedEvent
from tests.bot.slack_harness import FIXTURES, SECRET, SlackHarness, fixture, slack_server
from tests.helpers import rows


def slash_command(text: str, *, trigger: str) -> str:
    """A /mentor command's form body, as Slack sends it."""
    raw = (FIXTURES / "slash_command.txt").read_text().strip()
    form = {k: unquote_plus(v) for k, v in (pair.split("=", 1) for pair in raw.split("&"))}
    form.update(text=text, user_id="U0ANA", trigger_id=trigger)
    return urlencode(form)


FORM = "application/x-www-form-urlencoded"


async def test_a_replayed_slash_command_is_refused_and_runs_once(slack: SlackHarness) -> None:
    body = slash_command("help", trigger="1.1.first")
    stamp = int(time.time())
    first = await slack.post(body, content_type=FORM, timestamp=stamp)
    await slack.fake.wait_for("chat.postMessage")
    replay = await slack.post(body, content_type=FORM, timestamp=stamp)
    assert first.status == 200
    assert replay.status == 401
    assert replay.json()["error"] == "this signed Slack request was already received"
    # A new command (a new trigger) is answered: its answer is the next message posted.
    await slack.post(slash_command("status", trigger="1.1.second"), content_type=FORM)
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert len(posts) == 2
    assert "Here's what I can do" in posts[0]["text"]
    assert "Here's what I can do" not in posts[1]["text"]


async def test_a_replayed_button_click_is_refused(slack: SlackHarness) -> None:
    payload = fixture("block_actions.json")
    button = {"type": "button", "action_id": f"{blocks.COMMAND}:0", "block_id": "x"}
    payload["actions"] = [{**button, "value": "help", "action_ts": "1"}]
    body = urlencode({"payload": json.dumps(payload)})
    stamp = int(time.time())
    first = await slack.post(body, content_type=FORM, timestamp=stamp)
    await slack.fake.wait_for("chat.postMessage")
    replay = await slack.post(body, content_type=FORM, timestamp=stamp)
    assert (first.status, replay.status) == (200, 401)
    await slack.dm("status")
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert ["Here's what I can do" in p["text"] for p in posts] == [True, False]


async def test_a_replayed_view_submission_is_refused(slack: SlackHarness) -> None:
    payload = fixture("view_submission.json")
    payload["view"]["private_metadata"] = '{"form": "no-such-form", "ref": "7"}'
    body = urlencode({"payload": json.dumps(payload)})
    stamp = int(time.time())
    first = await slack.post(body, content_type=FORM, timestamp=stamp)
    replay = await slack.post(body, content_type=FORM, timestamp=stamp)
    assert first.status == 200
    assert first.json()["response_action"] == "update"
    assert replay.status == 401


async def test_a_replay_to_another_replica_is_refused_too(
    database: Database, program: Program
) -> None:
    """Replicas share the record through the database."""
    body = slash_command("help", trigger="1.1.replica")
    stamp = int(time.time())
    async with (
        slack_server(database, program) as one,
        slack_server(database, program) as two,
    ):
        first = await one.post(body, content_type=FORM, timestamp=stamp)
        replay = await two.post(body, content_type=FORM, timestamp=stamp)
        assert (first.status, replay.status) == (200, 401)


async def test_signatures_are_forgotten_once_they_can_no_longer_be_replayed(
    slack: SlackHarness, database: Database
) -> None:
    clock = slack.runtime.clock
    await slack.post(slash_command("help", trigger="1.1.old"), content_type=FORM)
    clock.advance(minutes=11)  # type: ignore[attr-defined]
    await slack.post(slash_command("help", trigger="1.1.new"), content_type=FORM)
    kept = [e for e in await rows(database, ProcessedEvent) if e.platform == "slack-signature"]
    assert len(kept) == 1
    assert kept[0].received_at == clock.now()


@pytest.mark.parametrize(
    "stamp", ["abc", "", "-5", "1.5e9", "１２３", "99999999999999999999999", " 17"]
)
async def test_a_malformed_timestamp_is_a_401_without_a_traceback(
    slack: SlackHarness, stamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps(fixture("event_message_im.json"))
    response = await slack.post(
        body,
        sign=False,
        headers={"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64},
    )
    assert response.status == 401
    assert "Traceback" not in response.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "event_callback", "event": None},
        {"type": "event_callback", "event": "message"},
        {"type": "event_callback", "event": {"type": "message", "channel_type": "im"}},
        {"type": "event_callback", "event": {"type": None}},
        {"type": "block_actions", "actions": None, "user": None},
    ],
)
async def test_a_malformed_payload_leaves_no_traceback_in_the_log(
    slack: SlackHarness, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    if payload["type"] == "block_actions":
        response = await slack.post(urlencode({"payload": json.dumps(payload)}), content_type=FORM)
    else:
        response = await slack.event({**payload, "team_id": "T0MENTOR", "event_id": "Ev0JUNK"})
    assert response.status < 500
    assert "Traceback" not in response.text
    # A positive signal that the server is past the request: a real one is answered.
    await slack.dm("help")
    await slack.fake.wait_for("chat.postMessage")
    noisy = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert noisy == [], [r.getMessage() for r in noisy]


async def test_a_signed_request_has_its_signature_checked_exactly_once(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bot.slack.http checks it; Bolt's own verification (a second check) stays off."""
    body = json.dumps({**fixture("event_message_im.json"), "event_id": "Ev0ONCE"})
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    checks: list[str] = []
    original = SignatureVerifier.generate_signature

    def counted(self: SignatureVerifier, *, timestamp: str, body: str | bytes) -> str | None:
        checks.append(timestamp)
        return original(self, timestamp=timestamp, body=body)

    monkeypatch.setattr(SignatureVerifier, "generate_signature", counted)
    response = await slack.post(body, timestamp=int(stamp), signature=signature)
    await slack.fake.wait_for("chat.postMessage")
    assert response.status == 200
    assert checks == [stamp]


async def test_bolt_answers_an_unsigned_request_that_bot_slack_http_let_through(
    slack: SlackHarness,
) -> None:
    """Bolt trusts the edge: with a second check it would answer 401 here."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    assert slack.runtime.slack is not None
    body = json.dumps({"token": "x", "challenge": "c4ll3ng3", "type": "url_verification"})
    unsigned = AsyncBoltRequest(body=body, headers={"Content-Type": "application/json"})
    response = await slack.runtime.slack.app.async_dispatch(unsigned)
    assert (response.status, "c4ll3ng3" in response.body) == (200, True)
