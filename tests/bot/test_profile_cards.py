"""Profiles on Slack and Teams: two short profiles side by side, the rest behind "More".

The kickoff and the proposals come from a walk through the engine (both databases):
Lee (mentee, London) and Ana (mentor, New York). Each rendering is checked with the
platform's own models and schema (tests/bot/platform_checks.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block, SectionBlock

from bot.render_text import render_all
from bot.slack import blocks as slack_blocks
from bot.teams.cards import render_card
from handlers.core.messages import PROFILE_LINES, PersonProfile, Reply
from handlers.core.program import Program
from storage import Database
from tests.bot.platform_checks import Payload, card_problems, slack_problems
from tests.bot.slack_harness import SlackHarness, fixture
from tests.handlers.cycle_world import World
from tests.handlers.profile_world import Walk, walk


@pytest.fixture
async def seen(database: Database, program: Program) -> Walk:
    return await walk(World(database, program))


def kickoff(seen: Walk) -> list[Reply]:
    assert len(seen.mentee_kickoff) == 1
    return seen.mentee_kickoff


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


# -- Slack ------------------------------------------------------------------------------------


async def test_the_kickoff_on_slack_is_a_section_of_two_short_profiles(seen: Walk) -> None:
    text, blocks = slack_blocks.render_message(kickoff(seen))
    assert slack_problems(Payload("kickoff", {"text": text, "blocks": blocks})) == []
    [section] = [b for b in blocks if b["type"] == "section" and "fields" in b]
    parsed = Block.parse(section)
    assert isinstance(parsed, SectionBlock)
    parsed.validate_json()
    assert parsed.to_dict() == section
    lee, ana = (field["text"] for field in section["fields"])
    for side in (lee, ana):
        assert len(side.splitlines()) <= PROFILE_LINES
        assert len(side) <= slack_blocks.FIELD_LIMIT
    assert lee.splitlines() == [
        "Lee Park",
        "Title: Senior Analyst",
        "Department: Sales",
        "Time zone: London, 5 h ahead of Ana",
        "Goals: Get ready to lead a team",
        "Wants to develop: Coaching",
    ]
    assert ana.splitlines()[:4] == [
        "Ana Lima",
        "Title: Engineering Manager",
        "Department: Platform",
        "Time zone: New York, 5 h behind Lee",
    ]
    # Typed answers stay literal: the profiles are plain text, not mrkdwn.
    assert {field["type"] for field in section["fields"]} == {"plain_text"}
    # The profiles' More buttons, then the kickoff's own: find a time to meet.
    assert [b["text"]["text"] for b in buttons(blocks)] == [
        "More about Lee Park",
        "More about Ana Lima",
        "Find a time",
    ]


async def test_more_about_someone_on_slack_shows_the_rest_of_their_profile(seen: Walk) -> None:
    _, blocks = slack_blocks.render_message(kickoff(seen))
    more_about_lee = buttons(blocks)[0]
    view = slack_blocks.profile_modal(more_about_lee["value"])
    assert slack_problems(Payload("profile modal", view)) == []
    shown = json.dumps(view["blocks"])
    assert "More about Lee Park" in shown
    for label, value in (("Level", "3"), ("Learns best by", "Talking things through")):
        assert label in shown and value in shown


async def test_a_click_on_more_opens_the_profile_as_a_modal(slack: SlackHarness) -> None:
    profile = PersonProfile("Ana Lima", (("Title", "Engineering Manager"),), (("Level", "6"),))
    _, blocks = slack_blocks.render_message([Reply("Meet Ana.", profiles=(profile,))])
    [button] = buttons(blocks)
    payload = fixture("block_actions.json")
    payload["actions"] = [{**button, "block_id": "x", "action_ts": "1"}]
    assert (await slack.interactive(payload)).status == 200
    [opened] = await slack.fake.wait_for("views.open")
    assert opened["trigger_id"] == payload["trigger_id"]
    assert "More about Ana Lima" in json.dumps(opened["view"])
    assert "Engineering" not in json.dumps(opened["view"])  # the short part is in the message
    assert slack.fake.of("chat.postMessage") == []  # nothing is said in the conversation


def test_a_long_profile_still_fits_a_slack_button() -> None:
    bio = "I have led platform teams for fifteen years. " * 100
    profile = PersonProfile("Ana Lima", (), (("About", bio), ("Level", "6")))
    value = slack_blocks.more_value(profile)
    assert len(value) <= slack_blocks.BUTTON_VALUE_LIMIT
    view = slack_blocks.profile_modal(value)
    assert slack_problems(Payload("profile modal", view)) == []
    assert "Level" in json.dumps(view) and "…" in json.dumps(view, ensure_ascii=False)


def test_a_broken_more_value_is_answered_with_a_notice() -> None:
    view = slack_blocks.profile_modal("not json")
    assert "can't be shown" in json.dumps(view)


# -- Teams ------------------------------------------------------------------------------------


def columns_text(column_set: dict[str, Any]) -> list[list[str]]:
    """Each column's lines: the heading, then ``label: value`` a fact."""
    shown = []
    for column in column_set["columns"]:
        heading, *rest = column["items"]
        facts = [f"{f['title']}: {f['value']}" for item in rest for f in item["facts"]]
        shown.append([heading["text"], *facts])
    return shown


async def test_the_kickoff_on_teams_is_two_columns_and_more_unfolds_the_rest(
    seen: Walk,
) -> None:
    card = render_card(kickoff(seen))
    assert card_problems(Payload("kickoff", card)) == []
    [column_set] = [e for e in card["body"] if e["type"] == "ColumnSet"]
    lee, ana = columns_text(column_set)
    assert all(len(side) <= PROFILE_LINES for side in (lee, ana))
    assert lee == [
        "Lee Park",
        "Title: Senior Analyst",
        "Department: Sales",
        "Time zone: London, 5 h ahead of Ana",
        "Goals: Get ready to lead a team",
        "Wants to develop: Coaching",
    ]
    assert ana[:2] == ["Ana Lima", "Title: Engineering Manager"]
    find, more = card["actions"]
    assert (more["type"], more["title"]) == ("Action.ShowCard", "More")
    assert (find["type"], find["title"]) == ("Action.Submit", "Find a time")
    [rest] = more["card"]["body"]
    lee_more, ana_more = columns_text(rest)
    assert "Learns best by: Talking things through" in lee_more
    assert "Mentees at a time: 1" in ana_more


async def test_a_proposal_on_teams_shows_one_profile_and_names_whose_more_it_is(
    seen: Walk,
) -> None:
    card = render_card(seen.mentee_offer)
    assert card_problems(Payload("proposal", card)) == []
    [column_set] = [e for e in card["body"] if e["type"] == "ColumnSet"]
    [ana] = columns_text(column_set)
    assert ana[0] == "Ana Lima" and "Time zone: New York, 5 h behind you" in ana
    titles = [(a["type"], a["title"]) for a in card["actions"]]
    assert titles == [
        ("Action.Submit", "Accept"),
        ("Action.Submit", "Decline"),
        ("Action.ShowCard", "More about Ana Lima"),
    ]


def test_typed_markdown_in_a_profile_stays_literal_on_teams() -> None:
    profile = PersonProfile("Ana Lima", (("Goals", "*not* [a link](https://x.example)"),))
    card = render_card([Reply("Meet Ana.", profiles=(profile,))])
    [column_set] = [e for e in card["body"] if e["type"] == "ColumnSet"]
    [[_, goals]] = columns_text(column_set)
    assert goals == r"Goals: \*not\* \[a link\](https://x.example)"
    assert "actions" not in card  # nothing more to show


# -- the shell --------------------------------------------------------------------------------


async def test_the_shell_prints_each_profile_whole(seen: Walk) -> None:
    shown = render_all(kickoff(seen))
    assert "  Lee Park\n    Title: Senior Analyst\n    Department: Sales\n" in shown
    assert "    Level: 3\n    Learns best by: Talking things through" in shown
    assert "More" not in shown
