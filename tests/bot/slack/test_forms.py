"""Whole forms on Slack: a reply's form opens as a modal, and its submission is saved.

Signed requests into the real server, answered through the fake Web API; the engine is
given the test-only probe form (tests/fixtures/probe_form.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from handlers.core.program import Program
from storage import Database
from tests.bot.slack_harness import SlackHarness, fixture, slack_server
from tests.fixtures.probe_form import FUTURE_DAY, ProbeForm, with_probe


@pytest.fixture
def probe() -> ProbeForm:
    return ProbeForm()


@pytest.fixture
async def slack(
    database: Database, program: Program, probe: ProbeForm
) -> AsyncIterator[SlackHarness]:
    async with slack_server(database, program, extend=with_probe(probe)) as harness:
        yield harness


def buttons(post: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def click_command_button(slack: SlackHarness, button: dict[str, Any]) -> dict[str, Any]:
    """Click a command button of a posted message; the block_actions payload sent."""
    payload = fixture("block_actions.json")
    payload["actions"] = [{**button, "block_id": "cmds", "action_ts": "1"}]
    assert (await slack.interactive(payload)).status == 200
    return payload


async def open_probe(slack: SlackHarness) -> dict[str, Any]:
    """Ask for the probe in the DM, click its button; the modal that opened."""
    await slack.dm("probe 7")
    [post] = await slack.fake.wait_for("chat.postMessage")
    [button] = buttons(post)
    await click_command_button(slack, button)
    [opened] = await slack.fake.wait_for("views.open")
    return dict(opened["view"])


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def options(view: dict[str, Any], block: str, *labels: str) -> list[dict[str, Any]]:
    element = inputs(view)[block]["element"]
    return [o for o in element["options"] if o["text"]["text"] in labels]


def submission(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Slack's view_submission for ``view`` with these element states, by block id."""
    payload = fixture("view_submission.json")
    payload["view"].update(
        blocks=view["blocks"],
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        title=view["title"],
    )
    payload["view"]["state"] = {"values": {block: {"value": v} for block, v in values.items()}}
    return payload


def good_values(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "q_day": {"type": "datepicker", "selected_date": "2026-11-21"},
        "q_rating": {"type": "number_input", "value": "5"},
        "q_format": {
            "type": "radio_buttons",
            "selected_option": options(view, "q_format", "Video call")[0],
        },
        "q_topics": {
            "type": "checkboxes",
            "selected_options": options(view, "q_topics", "Goals", "Feedback"),
        },
        "q_notes": {"type": "plain_text_input", "value": None},
    }


# -- opening ---------------------------------------------------------------------------------


async def test_a_typed_request_gets_a_button_that_opens_the_form(slack: SlackHarness) -> None:
    await slack.dm("probe 7")
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post["channel"] == "DU0ANA"
    assert post["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Probe session log of the week", "emoji": True},
    }
    assert "Tell me how probe 7 went." in post["text"]
    [button] = buttons(post)
    assert (button["text"]["text"], button["value"]) == ("Open the form", "probe 7")
    # A typed message carries no trigger_id, so no modal can open yet.
    assert slack.fake.of("views.open") == []


async def test_clicking_the_button_opens_the_form_as_a_modal(slack: SlackHarness) -> None:
    await slack.dm("probe 7")
    [post] = await slack.fake.wait_for("chat.postMessage")
    clicked = await click_command_button(slack, buttons(post)[0])
    [opened] = await slack.fake.wait_for("views.open")
    assert opened["trigger_id"] == clicked["trigger_id"]
    view = opened["view"]
    assert view["type"] == "modal"
    assert view["callback_id"] == "mb_form_view"
    assert json.loads(view["private_metadata"]) == {"form": "probe", "ref": "7"}
    assert view["title"]["text"] == "Probe session log of th…"
    assert len(view["title"]["text"]) <= 24
    assert view["submit"]["text"] == "Send probe"
    assert view["blocks"][0] == {
        "type": "section",
        "text": {"type": "plain_text", "text": "Tell me how probe 7 went.", "emoji": True},
    }
    # The modal is the answer: the click posts nothing more in the DM.
    await slack.idle()
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_the_modal_has_one_prefilled_input_per_question_type(slack: SlackHarness) -> None:
    view = await open_probe(slack)
    blocks = inputs(view)
    assert list(blocks) == ["q_day", "q_rating", "q_format", "q_topics", "q_notes"]

    day = blocks["q_day"]
    assert (day["label"]["text"], day["optional"]) == ("When did you meet?", False)
    assert day["element"] == {
        "type": "datepicker",
        "placeholder": {"type": "plain_text", "text": "Pick a date", "emoji": True},
        "initial_date": "2026-11-20",
        "action_id": "value",
    }
    rating = blocks["q_rating"]
    assert rating["element"] == {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "1",
        "max_value": "5",
        "initial_value": "4",
        "action_id": "value",
    }
    assert rating["hint"]["text"] == "1 is not at all, 5 is very"
    fmt = blocks["q_format"]["element"]
    assert fmt["type"] == "radio_buttons"
    assert [o["value"] for o in fmt["options"]] == ["video", "person", "chat"]
    assert fmt["initial_option"] == {
        "text": {"type": "plain_text", "text": "In person", "emoji": True},
        "value": "person",
    }
    topics = blocks["q_topics"]["element"]
    assert topics["type"] == "checkboxes"
    assert [o["value"] for o in topics["initial_options"]] == ["goals", "career"]
    notes = blocks["q_notes"]
    assert notes["optional"] is True
    assert notes["element"]["type"] == "plain_text_input"
    assert notes["element"]["multiline"] is True
    assert "initial_value" not in notes["element"]


async def test_a_slash_command_opens_the_modal_at_once(slack: SlackHarness) -> None:
    response = await slack.command("probe 7", channel_name="directmessage")
    assert response.status == 200
    [opened] = await slack.fake.wait_for("views.open")
    assert opened["trigger_id"] == "1234567890.1234.abcdef0123456789"
    assert json.loads(opened["view"]["private_metadata"])["form"] == "probe"
    await slack.idle()
    assert slack.fake.of("chat.postMessage") == []


async def test_an_expired_trigger_falls_back_to_the_button(slack: SlackHarness) -> None:
    slack.fake.fail("views.open", status=200, error="expired_trigger_id")
    await slack.command("probe 7", channel_name="directmessage")
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert [(b["text"]["text"], b["value"]) for b in buttons(post)] == [
        ("Open the form", "probe 7")
    ]


async def test_a_form_that_cannot_be_filled_in_says_why(slack: SlackHarness) -> None:
    await slack.command("probe 99", channel_name="directmessage")
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post["text"] == "There is no probe 99."
    assert slack.fake.of("views.open") == []


# -- submitting -----------------------------------------------------------------------------


async def test_a_valid_submission_is_saved_and_answered_in_the_dm(
    slack: SlackHarness, probe: ProbeForm
) -> None:
    view = await open_probe(slack)
    response = await slack.interactive(submission(view, good_values(view)))
    assert response.status == 200
    assert response.text == ""  # the modal closes
    assert probe.saved == [
        (
            "ana.lopez@example.com",
            "7",
            {
                "day": "2026-11-21",
                "rating": 5,
                "format": "video",
                "topics": ["goals", "feedback"],
                "notes": None,
            },
        )
    ]
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert posts[-1]["channel"] == "DU0ANA"
    assert posts[-1]["text"] == (
        "Probe 7 saved. When did you meet? 2026-11-21; How useful was it? 5; "
        "How did you meet? Video call; What did you cover? Goals, Feedback; "
        "Anything else? (skipped)"
    )


async def test_invalid_fields_are_answered_by_block_and_nothing_is_saved(
    slack: SlackHarness, probe: ProbeForm
) -> None:
    view = await open_probe(slack)
    values = good_values(view)
    values["q_rating"]["value"] = "9"
    values["q_day"]["selected_date"] = None
    values["q_topics"]["selected_options"] = []
    response = await slack.interactive(submission(view, values))
    assert response.status == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {
            "q_day": "This question is required.",
            "q_rating": "9 is out of range. Please enter a whole number from 1 to 5.",
            "q_topics": "This question is required.",
        },
    }
    assert probe.saved == []
    await slack.idle()
    assert len(slack.fake.of("chat.postMessage")) == 1  # only the message with the button


async def test_a_refusal_of_the_form_handler_is_shown_on_its_field(
    slack: SlackHarness, probe: ProbeForm
) -> None:
    view = await open_probe(slack)
    values = good_values(view)
    values["q_day"]["selected_date"] = "2026-11-30"
    response = await slack.interactive(submission(view, values))
    assert response.json() == {"response_action": "errors", "errors": {"q_day": FUTURE_DAY}}
    assert probe.saved == []


@pytest.mark.parametrize(
    "metadata",
    [
        "{not json",
        "[1, 2]",
        '{"form": "probe"}',
        '{"form": "no-such-form", "ref": "7"}',
        '{"form": 7, "ref": "7"}',
        "",
    ],
)
async def test_a_forged_or_outdated_view_is_answered_cleanly(
    slack: SlackHarness, probe: ProbeForm, metadata: str
) -> None:
    view = await open_probe(slack)
    payload = submission(view, good_values(view))
    payload["view"]["private_metadata"] = metadata
    response = await slack.interactive(payload)
    assert response.status == 200
    answer = response.json()
    assert answer["response_action"] == "update"
    assert answer["view"]["type"] == "modal"
    assert "out of date or damaged, so nothing was saved" in json.dumps(answer["view"])
    assert probe.saved == []
    assert (await slack.http.get(slack.base + "/healthz")).status == 200


async def test_garbled_field_states_read_as_blank(slack: SlackHarness, probe: ProbeForm) -> None:
    view = await open_probe(slack)
    values: dict[str, Any] = {
        "q_day": {"type": "datepicker", "selected_date": 20261121},
        "q_rating": "not a dict",
        "q_format": {"type": "radio_buttons", "selected_option": "video"},
        "q_topics": {"type": "checkboxes", "selected_options": "goals"},
    }
    response = await slack.interactive(submission(view, values))
    assert response.status == 200
    assert set(response.json()["errors"]) == {"q_day", "q_rating", "q_format", "q_topics"}
    assert probe.saved == []
