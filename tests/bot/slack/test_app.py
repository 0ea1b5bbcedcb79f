"""Slack end to end: signed requests into the real server, answers through a fake Web API."""

from __future__ import annotations

import itertools
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from slack_bolt.listener import asyncio_runner

from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import ConversationState, Database, Enrollment, PlatformAccount, ProcessedEvent
from tests.bot.slack_harness import SlackHarness, fixture
from tests.helpers import MENTEE_STORED, rows

# -- conversations --------------------------------------------------------------------------


async def test_a_dm_is_answered_in_the_dm(slack: SlackHarness) -> None:
    response = await slack.dm("help")
    assert response.status == 200
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post["channel"] == "DU0ANA"
    assert "Here's what I can do" in post["text"]
    assert post["blocks"][0]["type"] == "section"


async def test_whole_intake_by_dm_with_buttons(slack: SlackHarness, database: Database) -> None:
    await slack.dm("join")
    await slack.fake.wait_for("chat.postMessage", 1)
    await slack.click("Mentee: I'd like a mentor")
    await slack.fake.wait_for("chat.postMessage", 2)
    await slack.dm("Get ready to lead a team of five")
    await slack.fake.wait_for("chat.postMessage", 3)
    await slack.tick_and_done("Strategic judgment", "People leadership")
    await slack.fake.wait_for("chat.postMessage", 4)
    await slack.click("Trying it myself with feedback")
    await slack.fake.wait_for("chat.postMessage", 5)
    await slack.tick_and_done("One-on-one", "Shadowing")
    await slack.fake.wait_for("chat.postMessage", 6)
    await slack.dm("3")
    await slack.fake.wait_for("chat.postMessage", 7)
    await slack.dm("I prefer mornings")
    await slack.fake.wait_for("chat.postMessage", 8)
    assert "Here is what you told me" in slack.dm_texts()[-1]
    await slack.click("Yes, save")
    posts = await slack.fake.wait_for("chat.postMessage", 9)
    assert "You're enrolled as a mentee" in posts[-1]["text"]

    [enrollment] = await rows(database, Enrollment)
    assert enrollment.answers == MENTEE_STORED
    [account] = await rows(database, PlatformAccount)
    assert (account.platform, account.external_id, account.dm_channel) == (
        "slack",
        "T0MENTOR/U0ANA",
        "DU0ANA",
    )
    # Identity was looked up once, then cached.
    assert len(slack.fake.of("users.info")) == 1


async def test_an_answered_question_shows_the_choice_and_loses_its_buttons(
    slack: SlackHarness,
) -> None:
    await slack.dm("join")
    await slack.fake.wait_for("chat.postMessage")
    question = slack.last_question()
    await slack.click("Mentor: I'd like to mentor someone")
    [update] = await slack.fake.wait_for("chat.update")
    assert update["channel"] == "DU0ANA"
    assert update["ts"] == question.result["ts"]
    assert not any(b.get("block_id") == "mb_prompt" for b in update["blocks"])
    assert any(
        "✓ Mentor: I'd like to mentor someone" in json.dumps(b, ensure_ascii=False)
        for b in update["blocks"]
    )


async def test_a_click_on_an_old_question_is_answered_politely_and_changes_nothing(
    slack: SlackHarness, database: Database
) -> None:
    await slack.dm("join")
    await slack.fake.wait_for("chat.postMessage", 1)
    first = slack.last_question()
    await slack.click("Mentee: I'd like a mentor", message=first)
    await slack.fake.wait_for("chat.postMessage", 2)
    [before] = await rows(database, ConversationState)
    await slack.click("Mentor: I'd like to mentor someone", message=first)
    posts = await slack.fake.wait_for("chat.postMessage", 3)
    assert "already answered, so I left everything as it was" in posts[-1]["text"]
    [after] = await rows(database, ConversationState)
    assert (after.version, after.data["role"]) == (before.version, "mentee")
    assert len(slack.fake.of("chat.update")) == 1


async def test_a_long_single_choice_is_a_select(slack: SlackHarness, program: Program) -> None:
    from bot.slack.blocks import prompt_blocks
    from handlers.core.messages import Option, Prompt, PromptKind

    prompt = Prompt(
        PromptKind.SINGLE, tuple(Option(str(i), f"Option {i}") for i in range(7)), token="t.1"
    )
    [block] = prompt_blocks(prompt)
    assert block["elements"][0]["type"] == "static_select"
    assert block["elements"][0]["options"][3]["value"] == "t.1|3"


async def test_slash_command_acks_at_once_and_answers_in_the_dm(slack: SlackHarness) -> None:
    response = await slack.command("status")
    assert response.status == 200
    assert "answered in our direct messages" in response.text
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post["channel"] == "DU0ANA"
    assert "not enrolled" in post["text"]
    assert slack.fake.of("conversations.open") == [{"users": "U0ANA"}]


async def test_an_app_mention_points_to_the_dm(slack: SlackHarness) -> None:
    payload = fixture("event_app_mention.json")
    assert (await slack.event(payload)).status == 200
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post["channel"] == "C0GENERAL"
    assert post["thread_ts"] == "1763715700.000300"
    assert "direct messages" in post["text"]


async def test_app_home_shows_status_and_command_buttons(slack: SlackHarness) -> None:
    assert (await slack.event(fixture("event_app_home_opened.json"))).status == 200
    [publish] = await slack.fake.wait_for("views.publish")
    assert publish["user_id"] == "U0ANA"
    view = publish["view"]
    assert view["type"] == "home"
    text = json.dumps(view["blocks"])
    assert "Leadership Mentoring Program 2027" in text
    assert "not enrolled" in text
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == ["join", "status", "help"]


async def test_a_command_button_runs_the_command(slack: SlackHarness) -> None:
    payload = fixture("block_actions.json")
    payload["actions"] = [
        {
            "type": "button",
            "action_id": "mb_cmd:1",
            "block_id": "x",
            "text": {"type": "plain_text", "text": "Status"},
            "value": "status",
            "action_ts": "1",
        }
    ]
    assert (await slack.interactive(payload)).status == 200
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert "not enrolled" in post["text"]


async def test_a_user_without_a_visible_email_is_told_what_to_ask_for(
    slack: SlackHarness, database: Database
) -> None:
    slack.fake.add_user("U0GUEST", email=None, name="Guest User")
    await slack.dm("help", user="U0GUEST")
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert "users:read.email" in post["text"]
    assert await rows(database, PlatformAccount) == []


# -- the intake as a modal ------------------------------------------------------------------


async def open_form(slack: SlackHarness) -> dict[str, Any]:
    response = await slack.command("join mentee")
    assert response.status == 200
    offer = response.json()
    button = offer["blocks"][1]["elements"][0]
    assert button["text"]["text"] == "Answer as a form (mentee)"
    payload = fixture("block_actions.json")
    payload["actions"] = [{**button, "block_id": "offer", "action_ts": "1"}]
    await slack.interactive(payload)
    [opened] = await slack.fake.wait_for("views.open")
    assert opened["trigger_id"] == payload["trigger_id"]
    return dict(opened["view"])


def submission(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    payload = fixture("view_submission.json")
    payload["view"].update(blocks=view["blocks"], private_metadata=view["private_metadata"])
    payload["view"]["state"] = {"values": {f"q_{qid}": {"value": v} for qid, v in values.items()}}
    return payload


def option(view: dict[str, Any], qid: str, *labels: str) -> list[dict[str, Any]]:
    block = next(b for b in view["blocks"] if b.get("block_id") == f"q_{qid}")
    return [o for o in block["element"]["options"] if o["text"]["text"] in labels]


def good_values(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "goals": {"type": "plain_text_input", "value": "Get ready to lead a team of five"},
        "competencies": {
            "type": "checkboxes",
            "selected_options": option(
                view, "competencies", "Strategic judgment", "People leadership"
            ),
        },
        "learning_style": {
            "type": "radio_buttons",
            "selected_option": option(view, "learning_style", "Trying it myself with feedback")[0],
        },
        "formats": {
            "type": "checkboxes",
            "selected_options": option(view, "formats", "One-on-one", "Shadowing"),
        },
        "hours_per_month": {"type": "number_input", "value": "3"},
        "anything_else": {"type": "plain_text_input", "value": "I prefer mornings"},
    }


async def test_a_form_saved_after_slacks_three_seconds_is_answered_as_saved(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bolt times its wait for the listener's acknowledgement with time.time(), read when the
    # wait starts and then as it goes. Here every read after the first is ten seconds later:
    # a save on a slow, loaded machine. Bolt's own 3 s would answer 404 ("unhandled") while
    # the form goes on to be saved.
    view = await open_form(slack)
    reads = itertools.count()
    real = time.time
    monkeypatch.setattr(
        asyncio_runner, "time", SimpleNamespace(time=lambda: real() + 10 * min(next(reads), 1))
    )
    response = await slack.interactive(submission(view, good_values(view)))
    assert (response.status, response.text) == (200, "")
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert "You're enrolled as a mentee" in posts[-1]["text"]


async def test_the_intake_form_saves_exactly_what_the_chat_saves(
    slack: SlackHarness, database: Database
) -> None:
    view = await open_form(slack)
    assert view["callback_id"] == "mb_intake_form"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        "q_goals",
        "q_competencies",
        "q_learning_style",
        "q_formats",
        "q_hours_per_month",
        "q_anything_else",
    ]
    response = await slack.interactive(submission(view, good_values(view)))
    assert response.status == 200
    assert response.text == ""
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert "You're enrolled as a mentee" in posts[-1]["text"]
    [enrollment] = await rows(database, Enrollment)
    assert enrollment.answers == MENTEE_STORED
    # The half-started chat intake from `/mentor join` is dropped, not left dangling.
    assert await rows(database, ConversationState) == []


async def test_a_form_with_bad_values_gets_inline_errors_and_saves_nothing(
    slack: SlackHarness, database: Database
) -> None:
    view = await open_form(slack)
    values = good_values(view)
    values["competencies"]["selected_options"] = option(
        view, "competencies", "Strategic judgment", "People leadership", "Coaching", "Communication"
    )
    values["hours_per_month"]["value"] = "40"
    del values["goals"]
    response = await slack.interactive(submission(view, values))
    assert response.status == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        "q_goals": "This question is required.",
        "q_competencies": "You picked 4. Please pick up to 3 of the options, comma-separated (e.g. 1, 3).",
        "q_hours_per_month": "40 is out of range. Please enter a whole number from 1 to 20.",
    }
    assert await rows(database, Enrollment) == []


# -- reliability ----------------------------------------------------------------------------


async def test_a_retried_event_is_answered_once(slack: SlackHarness, database: Database) -> None:
    first = await slack.dm("help", event_id="Ev0RETRY")
    await slack.fake.wait_for("chat.postMessage")
    retry = await slack.dm("help", event_id="Ev0RETRY", retry=1)
    await slack.idle()
    assert (first.status, retry.status) == (200, 200)
    assert len(slack.fake.of("chat.postMessage")) == 1
    events = [e.event_id for e in await rows(database, ProcessedEvent) if e.platform == "slack"]
    assert events == ["Ev0RETRY"]


@pytest.mark.parametrize(
    "tamper",
    ["wrong signature", "no signature", "old timestamp", "future timestamp", "other secret"],
)
async def test_unsigned_or_stale_requests_get_401_and_no_side_effect(
    slack: SlackHarness, database: Database, tamper: str
) -> None:
    from slack_sdk.signature import SignatureVerifier

    payload = fixture("event_message_im.json")
    body = json.dumps(payload)
    now = int(time.time())
    kwargs: dict[str, Any] = {
        "wrong signature": {"signature": "v0=" + "0" * 64},
        "no signature": {"sign": False},
        "old timestamp": {"timestamp": now - 6 * 60},
        "future timestamp": {"timestamp": now + 6 * 60},
        "other secret": {
            "signature": SignatureVerifier("not-the-secret").generate_signature(
                timestamp=str(now), body=body
            ),
            "timestamp": now,
        },
    }[tamper]
    response = await slack.post(body, **kwargs)
    await slack.idle()
    assert response.status == 401
    assert slack.fake.calls == []
    assert await rows(database, ProcessedEvent) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback"}', "application/json"),
        (
            '{"type": "event_callback", "event": {"type": "message", "channel_type": "im"}, "event_id": "Ev9"}',
            "application/json",
        ),
        ('{"type": "something_new", "team_id": "T0MENTOR"}', "application/json"),
        (
            "payload=" + '{"type":"block_actions","actions":[{"action_id":"mb_done"}]}',
            "application/x-www-form-urlencoded",
        ),
        ("", "application/json"),
    ],
)
async def test_malformed_or_unknown_requests_never_get_a_500(
    slack: SlackHarness, body: str, content_type: str
) -> None:
    response = await slack.post(body, content_type=content_type)
    await slack.idle()
    assert response.status < 500
    healthz = await slack.http.get(slack.base + "/healthz")
    assert healthz.status == 200


async def test_url_verification_is_answered(slack: SlackHarness) -> None:
    response = await slack.post(
        json.dumps({"token": "x", "challenge": "c4ll3ng3", "type": "url_verification"})
    )
    assert response.status == 200
    assert "c4ll3ng3" in response.text


async def test_a_failing_listener_apologises_and_resets_the_flow(
    slack: SlackHarness, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.intake.chat import IntakeFlow

    await slack.dm("join mentee")
    await slack.fake.wait_for("chat.postMessage")

    async def broken(self: IntakeFlow, turn: object, state: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(IntakeFlow, "answer", broken)
    await slack.dm("my private goal")
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert "Sorry, something went wrong on my side" in posts[-1]["text"]
    assert await rows(database, ConversationState) == []


async def test_a_429_while_replying_is_waited_out_and_retried(slack: SlackHarness) -> None:
    slack.fake.fail("chat.postMessage", status=429, retry_after=0)
    await slack.dm("help")
    posts = await slack.fake.wait_for("chat.postMessage")
    assert "Here's what I can do" in posts[0]["text"]
    assert [c.result["ok"] for c in slack.fake.attempts("chat.postMessage")] == [False, True]


# -- health and metrics ---------------------------------------------------------------------


async def test_healthz_and_metrics(slack: SlackHarness) -> None:
    health = await slack.http.get(slack.base + "/healthz")
    assert health.status == 200
    assert await health.json() == {"status": "ok", "database": "ok", "slack": "on", "teams": "off"}
    await slack.dm("help")
    await slack.fake.wait_for("chat.postMessage")
    metrics = await (await slack.http.get(slack.base + "/metrics")).text()
    assert 'mentorbot_http_requests_total{route="/slack/events",status="200"} 1.0' in metrics
    assert "mentorbot_http_request_seconds_bucket" in metrics
    assert "mentorbot_outbox_backlog 0.0" in metrics


async def test_healthz_is_503_when_the_database_is_unreachable(program: Program) -> None:
    import aiohttp

    from bot.runtime import build_runtime
    from bot.server import running

    gone = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    runtime = build_runtime(programs=Programs.one(program), database=gone, slack=None)
    async with (
        running(runtime, host="127.0.0.1", port=0, tick_seconds=3600) as runner,
        aiohttp.ClientSession() as http,
    ):
        host, port = runner.addresses[0][:2]
        response = await http.get(f"http://{host}:{port}/healthz")
        assert response.status == 503
        answer = await response.json()
        assert answer["database"] == "unavailable"
        assert "refused" in answer["reason"] or "connect" in answer["reason"].lower()
        slack_off = await http.post(f"http://{host}:{port}/slack/events", data=b"{}")
        assert slack_off.status == 404
    await gone.dispose()


@pytest.mark.parametrize(
    ("slack_text", "typed"),
    [
        ("Grow R&amp;D &lt;fast&gt;", "Grow R&D <fast>"),
        ("mail <mailto:ana@example.com|ana@example.com>", "mail ana@example.com"),
        ("see <https://example.com/plan>", "see https://example.com/plan"),
        ("see <https://example.com/plan|the plan>", "see the plan"),
    ],
)
def test_slack_markup_is_read_back_as_what_was_typed(slack_text: str, typed: str) -> None:
    from bot.slack.blocks import plain_text

    assert plain_text(slack_text) == typed


async def test_a_typed_answer_with_an_ampersand_is_stored_as_typed(
    slack: SlackHarness, database: Database
) -> None:
    await slack.dm("join mentee")
    await slack.fake.wait_for("chat.postMessage")
    await slack.dm("Move into R&amp;D leadership")
    await slack.fake.wait_for("chat.postMessage", 2)
    [state] = await rows(database, ConversationState)
    assert state.data["answers"]["goals"] == "Move into R&D leadership"
