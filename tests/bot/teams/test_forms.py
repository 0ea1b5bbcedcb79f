"""Whole forms on Teams: a reply's form is one Adaptive Card, and its submission is saved.

Bot Framework activities into the real server, answered through the fake Bot Connector;
the engine is given the test-only probe form (tests/fixtures/probe_form.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from handlers.core.program import Program
from storage import Database
from tests.bot.teams_harness import TeamsHarness, teams_server
from tests.fixtures.probe_form import FUTURE_DAY, ProbeForm, with_probe


@pytest.fixture
def probe() -> ProbeForm:
    return ProbeForm()


@pytest.fixture
async def teams(
    database: Database, program: Program, probe: ProbeForm
) -> AsyncIterator[TeamsHarness]:
    async with teams_server(database, program, extend=with_probe(probe)) as harness:
        yield harness


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["id"]: b for b in card["body"] if b["type"].startswith("Input.")}


GOOD = {
    "q_day": "2026-11-21",
    "q_rating": "5",
    "q_format": "0",
    "q_topics": "0,1",
    "q_notes": "",
}


async def test_a_form_is_one_card_with_an_input_per_question(teams: TeamsHarness) -> None:
    await teams.say("probe 7")
    card = teams.last_card()
    assert card["body"][:2] == [
        {
            "type": "TextBlock",
            "text": "Probe session log of the week",
            "wrap": True,
            "weight": "Bolder",
            "size": "Medium",
        },
        {"type": "TextBlock", "text": "Tell me how probe 7 went.", "wrap": True},
    ]
    fields = inputs(card)
    assert list(fields) == ["q_day", "q_rating", "q_format", "q_topics", "q_notes"]
    assert fields["q_day"] == {
        "type": "Input.Date",
        "value": "2026-11-20",
        "id": "q_day",
        "label": "When did you meet?",
        "isRequired": True,
        "errorMessage": "Please pick a date.",
    }
    assert fields["q_rating"] == {
        "type": "Input.Number",
        "min": 1,
        "max": 5,
        "value": 4,
        "id": "q_rating",
        "label": "How useful was it?",
        "isRequired": True,
        "errorMessage": "Please enter a whole number from 1 to 5.",
    }
    assert {
        "type": "TextBlock",
        "text": "1 is not at all, 5 is very",
        "wrap": True,
        "isSubtle": True,
        "size": "Small",
        "spacing": "None",
    } in card["body"]
    single = fields["q_format"]
    assert (single["type"], single["style"], single["isMultiSelect"]) == (
        "Input.ChoiceSet",
        "compact",
        False,
    )
    assert single["choices"] == [
        {"title": "Video call", "value": "0"},
        {"title": "In person", "value": "1"},
        {"title": "Chat", "value": "2"},
    ]
    assert single["value"] == "1"
    multi = fields["q_topics"]
    assert (multi["isMultiSelect"], multi["value"]) == (True, "0,2")
    assert multi["choices"][2] == {"title": "Career, and growth", "value": "2"}
    notes = fields["q_notes"]
    assert (notes["type"], notes["isMultiline"], notes["isRequired"]) == ("Input.Text", True, False)
    assert "value" not in notes
    [submit] = card["actions"]
    assert submit == {
        "type": "Action.Submit",
        "title": "Send probe",
        "data": {
            "mb_form": "probe",
            "mb_ref": "7",
            "mb_question": "Probe session log of the week",
            "mb_choices": {
                "format": ["video", "person", "chat"],
                "topics": ["goals", "feedback", "career"],
            },
        },
    }


async def test_a_valid_submission_is_saved_and_answered(
    teams: TeamsHarness, probe: ProbeForm
) -> None:
    await teams.say("probe 7")
    form_card = teams.last_card_id()
    # Some clients send a number input as a JSON number.
    response = await teams.submit_form({**GOOD, "q_rating": 5})
    assert response.status in (200, 201)
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
    assert "Probe 7 saved. When did you meet? 2026-11-21" in teams.last_text()
    assert "What did you cover? Goals, Feedback" in teams.last_text()
    # The sent card is replaced by a note, so it cannot be sent twice.
    [update] = teams.connector.updates()
    assert update.path.endswith(f"/activities/{form_card}")
    assert "✓ Sent" in json.dumps(update.body, ensure_ascii=False)


async def test_invalid_answers_are_listed_then_the_card_comes_back_filled_in(
    teams: TeamsHarness, probe: ProbeForm
) -> None:
    await teams.say("probe 7")
    response = await teams.submit_form({**GOOD, "q_rating": "9", "q_topics": ""})
    assert response.status in (200, 201)
    assert probe.saved == []
    *_, problems, again = teams.connector.sent()
    listed = problems["attachments"][0]["content"]
    # One line per problem: Teams needs a blank line between lines (issue 17, item 5).
    assert listed["body"][0]["text"] == (
        "Nothing was saved yet; please fix this and send the form again:\n\n"
        "• How useful was it?: 9 is out of range. Please enter a whole number from 1 to 5.\n\n"
        "• What did you cover?: This question is required."
    )
    assert "actions" not in listed
    card = again["attachments"][0]["content"]
    fields = inputs(card)
    # What was sent is kept; what was wrong is left empty to fill in again.
    assert fields["q_day"]["value"] == "2026-11-21"
    assert fields["q_format"]["value"] == "0"
    assert "value" not in fields["q_rating"]
    assert "value" not in fields["q_topics"]
    [submit] = card["actions"]
    assert (submit["data"]["mb_form"], submit["data"]["mb_ref"]) == ("probe", "7")
    assert teams.connector.updates() == []


async def test_a_refusal_of_the_form_handler_is_listed_by_question(
    teams: TeamsHarness, probe: ProbeForm
) -> None:
    await teams.say("probe 7")
    await teams.submit_form({**GOOD, "q_day": "2026-11-30"})
    *_, problems, again = teams.connector.sent()
    assert (
        f"• When did you meet?: {FUTURE_DAY}"
        in problems["attachments"][0]["content"]["body"][0]["text"]
    )
    assert inputs(again["attachments"][0]["content"])["q_rating"]["value"] == 5
    assert probe.saved == []


@pytest.mark.parametrize(
    "change",
    [
        {"mb_form": 5},
        {"mb_form": ""},
        {"mb_ref": None},
        {"mb_ref": ["7"]},
        {"mb_choices": "format"},
        {"mb_choices": {"format": "video"}},
        {"q_rating": {"value": 5}},
        {"q_topics": ["0", "1"]},
        {"q_day": True},
        {"mb_form": "no-such-form"},
    ],
)
async def test_a_malformed_submission_gets_a_clear_message(
    teams: TeamsHarness, probe: ProbeForm, change: dict[str, Any]
) -> None:
    await teams.say("probe 7")
    response = await teams.submit_form({**GOOD, **change})
    assert response.status in (200, 201)
    assert (
        "That form is out of date or damaged, so nothing was saved. Type help to start again."
        in teams.last_text()
    )
    assert probe.saved == []
    assert (await teams.http.get(teams.base + "/healthz")).status == 200


async def test_a_missing_ref_is_malformed_too(teams: TeamsHarness, probe: ProbeForm) -> None:
    await teams.say("probe 7")
    card = teams.last_card()
    del card["actions"][0]["data"]["mb_ref"]
    await teams.submit_form(GOOD, card=card)
    assert "out of date or damaged" in teams.last_text()
    assert probe.saved == []


async def test_a_choice_index_that_is_no_option_is_refused_by_the_checks(
    teams: TeamsHarness, probe: ProbeForm
) -> None:
    await teams.say("probe 7")
    await teams.submit_form({**GOOD, "q_format": "7"})
    *_, problems, _again = teams.connector.sent()
    text = problems["attachments"][0]["content"]["body"][0]["text"]
    assert "• How did you meet?: '7' is not one of the options." in text
    assert probe.saved == []
