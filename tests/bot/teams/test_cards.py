"""Teams cards people can use: labelled answer fields, date pickers, scales to pick from, and
lines that stay lines.

The intake runs through the real server and the fake Bot Connector with a program whose
mentee intake asks a date and a scale too (tests.bot.payload_corpus); the kickoff comes
from a real match. Card text is read with a CommonMark parser, as Teams reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from markdown_it import MarkdownIt

from bot.teams.cards import render_card
from handlers.core.messages import Reply
from handlers.core.outbox import take_waiting
from handlers.core.program import Program
from storage import Database, Enrollment
from tests.bot.payload_corpus import corpus_program
from tests.bot.teams_harness import TeamsHarness, teams_server
from tests.handlers.cycle_world import World
from tests.helpers import rows

MARKDOWN = MarkdownIt("js-default")


@pytest.fixture
async def teams(database: Database) -> AsyncIterator[TeamsHarness]:
    """Teams, serving a program whose intake asks every type of question."""
    async with teams_server(database, corpus_program()) as harness:
        yield harness


def answer_field(card: dict[str, Any]) -> dict[str, Any]:
    [field] = [e for e in card["body"] if str(e["type"]).startswith("Input.")]
    return field


def paragraphs(markdown: str) -> list[str]:
    """The paragraphs Teams shows for a TextBlock's Markdown, one per line on screen."""
    tokens = MARKDOWN.parse(markdown)
    return [t.content for t in tokens if t.type == "inline"]


async def answer_until(teams: TeamsHarness, question: str) -> dict[str, Any]:
    """Answer the mentee intake with valid answers up to the question whose label has this."""
    answers = {
        "What do you want": {"text": "Lead a team"},
        "Which competencies": {"labels": ("Coaching",)},
        "How do you learn": {"labels": ("Talking things through",)},
        "Which formats": {"labels": ("One-on-one",)},
        "How many hours": {"text": "3"},
        "Anything else": {"text": "Mornings suit me"},
        "When would you like to start": {"text": "2026-12-01"},
    }
    await teams.say("join mentee")
    while question not in (label := answer_field(teams.last_card())["label"]):
        given = next(a for start, a in answers.items() if start in label)
        await teams.submit(*given.get("labels", ()), text=given.get("text"))
    return answer_field(teams.last_card())


# -- answer fields -------------------------------------------------------------------------------


async def test_each_question_field_is_labelled_with_the_question_and_says_what_it_needs(
    teams: TeamsHarness,
) -> None:
    await teams.say("join")
    role = teams.last_card()
    field = answer_field(role)
    # A question of the engine's own: the field is named, and says what is missing.
    assert (field["label"], field["isRequired"]) == ("Your choice", True)
    assert field["errorMessage"] == "Please pick one option."
    await teams.submit("Mentee: I'd like a mentor")
    card = teams.last_card()
    field = answer_field(card)
    assert field["label"] == (
        "Question 1 of 10: What do you want to get out of mentoring in the next 90 days?"
    )
    assert field["errorMessage"] == "Please type your answer."
    # The question is the label, not said twice; the help follows the field, as in a form.
    texts = [e["text"] for e in card["body"] if e["type"] == "TextBlock"]
    assert not any("Question 1 of 10" in text for text in texts)
    field_at = card["body"].index(field)
    assert card["body"][field_at + 1]["text"].startswith("A sentence or two")
    assert card["body"][field_at + 1]["isSubtle"] is True
    await teams.submit(text="Lead a team")
    multi = answer_field(teams.last_card())
    assert multi["label"] == "Question 2 of 10: Which competencies do you most want to develop?"
    assert multi["errorMessage"] == "Please pick at least one option."
    await teams.submit("Coaching")
    await teams.submit("Talking things through")
    await teams.submit("One-on-one")
    number = answer_field(teams.last_card())
    assert number["errorMessage"] == "Please enter a whole number from 1 to 20."
    await teams.submit(text="3")
    optional = answer_field(teams.last_card())
    assert optional["label"] == "Question 6 of 10: Anything else your mentor should know?"
    assert optional["isRequired"] is False


async def test_a_date_question_is_a_date_picker_and_its_date_is_saved(
    teams: TeamsHarness, database: Database
) -> None:
    field = await answer_until(teams, "When would you like to start?")
    assert field == {
        "type": "Input.Date",
        "id": "answer",
        "label": "Question 7 of 10: When would you like to start?",
        "isRequired": True,
        "errorMessage": "Please pick a date.",
    }
    await teams.submit(text="2026-12-01")  # what Teams sends for a picked date
    assert "Question 8 of 10" in teams.last_text()
    await teams.submit("4")
    await teams.submit("London")
    await teams.submit("Design")
    await teams.submit("Yes, save")
    [enrollment] = await rows(database, Enrollment)
    assert (enrollment.answers["start_date"], enrollment.answers["confidence"]) == (
        "2026-12-01",
        4,
    )


async def test_a_scale_is_its_points_to_pick_from(teams: TeamsHarness, database: Database) -> None:
    field = await answer_until(teams, "How confident do you feel")
    assert field["type"] == "Input.ChoiceSet"
    assert field["style"] == "expanded"
    assert [c["title"] for c in field["choices"]] == ["1", "2", "3", "4", "5"]
    assert field["label"] == "Question 8 of 10: How confident do you feel leading a team today?"
    assert field["errorMessage"] == "Please pick a number from 1 to 5."
    await teams.submit("5")
    assert "Question 9 of 10" in teams.last_text()
    # The answered card shows the point picked.
    assert "✓ 5" in str(teams.connector.updates()[-1].body)


async def test_a_compact_choice_in_a_form_has_a_placeholder(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    # Ana Lopez, who writes from Teams in the harness, is the mentor.
    _lee, _ana, pairing = await world.pair(mentor_email="ana.lopez@example.com")
    async with teams_server(database, program) as teams:
        await teams.say(f"log {pairing.id}")
        card = teams.last_card()
    [chosen] = [e for e in card["body"] if e.get("id") == "q_format"]
    assert (chosen["style"], chosen["placeholder"]) == ("compact", "Choose one")
    assert chosen["label"] and chosen["errorMessage"]


# -- lines ------------------------------------------------------------------------------------


async def test_the_kickoff_shows_each_reason_for_the_match_on_its_own_line(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, _pairing = await world.pair()
    assert lee.id is not None
    async with database.session() as session:
        waiting = await take_waiting(
            session, person_id=lee.id, channel="teams", now=world.clock.now()
        )
    [kickoff] = [r for r in waiting if r.title and r.title.startswith("Meet your")]
    card = render_card([kickoff])
    [text] = [e["text"] for e in card["body"] if "Why you were matched" in e.get("text", "")]
    shown = paragraphs(text)
    why = shown.index("Why you were matched:")
    reasons = [line for line in shown[why + 1 :] if line.startswith("•")]
    assert reasons == [line for line in kickoff.text.splitlines() if line.startswith("•")]
    assert len(reasons) >= 2
    assert "Suggested agenda for your first meeting:" in shown


def test_a_fact_of_several_lines_shows_them_as_lines() -> None:
    card = render_card(
        [Reply("Your profile", fields=(("Bio", "Ten years in sales.\nLoves coaching."),))]
    )
    [facts] = [e for e in card["body"] if e["type"] == "FactSet"]
    assert paragraphs(facts["facts"][0]["value"]) == ["Ten years in sales.", "Loves coaching."]
