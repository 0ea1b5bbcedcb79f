"""Text a person typed is shown as text on every channel, never as markup.

A milestone, a goal, a bio, a name or a note's topic holding a Markdown link, emphasis or
a Slack mention must reach Slack (blocks and the fallback text), Teams (the card, read by
a real CommonMark parser as Teams reads it) and the shell exactly as it was typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from markdown_it import MarkdownIt

from bot.render_text import render_all
from bot.slack.blocks import answered, escape, more_value, profile_modal, render_message
from bot.teams.cards import answered_card, render_card
from handlers.core.figures import Report, Table
from handlers.core.messages import Reply
from handlers.core.outbox import take_waiting
from handlers.core.program import Program
from handlers.sessions.summaries import ActionItem, Owner, Summary, summary_reply
from storage import Database, Pairing, Person
from tests.bot.slack_harness import SlackHarness
from tests.bot.teams_harness import TeamsHarness
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import make_person, mentee, mentor, rows

LINK = "[Urgent: re-verify your SSO](https://evil.example) **now**"
#: Each piece of markup a person might type, on its own.
PIECES = [LINK, "<!channel>", "<@U123>", "*bold*", "_x_", "[x](y)"]
#: All of them in one sentence, as a goal, a bio or a milestone could hold them.
TYPED = "Plan: " + " ".join(PIECES)
#: A directory name with markup in it.
NAME = "Lee *bold* <@U123> Park"
#: Words that only the person's text holds: never inside Slack mrkdwn.
PERSONS_WORDS = ("evil.example", "bold", "U123", "channel", "[x](y)", "_x_")

#: Teams renders card Markdown with markdown-it (its default preset); these token types are
#: plain paragraphs of text, and any other (a link, emphasis, a list...) is markup.
TEAMS_MARKDOWN = MarkdownIt("js-default")
PLAIN_TOKENS = {"paragraph_open", "paragraph_close", "inline", "text", "softbreak", "hardbreak"}


# -- reading what each channel shows ---------------------------------------------------------


def teams_markdown(node: Any) -> Iterator[str]:
    """Every text of a card that Teams reads as Markdown: text blocks and facts."""
    if isinstance(node, list):
        for item in node:
            yield from teams_markdown(item)
    elif isinstance(node, dict):
        if node.get("type") == "TextBlock":
            yield node["text"]
        elif node.get("type") == "FactSet":
            for fact in node["facts"]:
                yield fact["title"]
                yield fact["value"]
        for key, value in node.items():
            if key == "actions":
                # What a "More" button unfolds (Action.ShowCard) is shown too.
                yield from teams_markdown([a["card"] for a in value if "card" in a])
            elif key != "data":
                yield from teams_markdown(value)


def shown_by_teams(markdown: str) -> str:
    """What Teams shows for a Markdown text; fails if any of it renders as markup."""
    tokens = TEAMS_MARKDOWN.parse(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert kinds <= PLAIN_TOKENS, f"{markdown!r} renders as {sorted(kinds - PLAIN_TOKENS)}"
    shown = []
    for token in tokens:
        if token.type == "paragraph_open" and shown:
            shown.append("\n")  # each paragraph shows on a line of its own
        for child in token.children or []:
            shown.append(child.content if child.type == "text" else "\n")
    return "".join(shown)


def card_shows(card: dict[str, Any]) -> list[str]:
    """The texts of a card as Teams shows them, each checked to render as plain text."""
    shown = {"body": card["body"], "actions": card.get("actions", [])}
    return [shown_by_teams(text) for text in teams_markdown(shown)]


def slack_texts(node: Any, kind: str) -> Iterator[str]:
    """Every text of ``kind`` in blocks: ``mrkdwn``, ``plain_text`` or rich text's ``text``."""
    if isinstance(node, list):
        for item in node:
            yield from slack_texts(item, kind)
    elif isinstance(node, dict):
        if node.get("type") == kind and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from slack_texts(value, kind)


def literal_slack_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Texts Slack shows as they are: plain text objects and rich text's text elements."""
    return [*slack_texts(blocks, "plain_text"), *slack_texts(blocks, "text")]


def assert_slack_shows_as_text(replies: list[Reply], typed: str) -> None:
    """On Slack: the person's text is never mrkdwn, and the fallback is escaped.

    What a "More about NAME" button opens (the rest of a profile, in a modal) counts as shown.
    """
    fallback, blocks = render_message(replies)
    blocks += [
        block
        for reply in replies
        for profile in reply.profiles
        for block in profile_modal(more_value(profile))["blocks"]
    ]
    for mrkdwn in slack_texts(blocks, "mrkdwn"):
        assert not [w for w in PERSONS_WORDS if w in mrkdwn], mrkdwn
    assert any(typed in text for text in literal_slack_texts(blocks)), blocks
    # The fallback text is mrkdwn: a mention or a link is only ever escaped there.
    assert "<" not in fallback and ">" not in fallback, fallback
    assert escape(typed) in fallback


def assert_teams_shows_as_text(replies: list[Reply], typed: str) -> None:
    card = render_card(replies)
    assert any(typed in shown for shown in card_shows(card)), card["body"]
    assert typed in card["fallbackText"]


# -- one reply, each piece of markup ----------------------------------------------------------


@pytest.mark.parametrize("typed", [*PIECES, TYPED])
def test_typed_markup_is_text_in_a_reply_on_every_channel(typed: str) -> None:
    reply = Reply(
        f"Your goal: {typed}",
        title=f"{typed}'s plan",
        fields=((f"1. {typed}", typed), ("Bio", f"{typed}\n- {typed}\n# {typed}")),
        hint=typed,
    )
    assert_slack_shows_as_text([reply], typed)
    _, [header, *_] = render_message([reply])
    assert header["text"] == {"type": "plain_text", "text": f"{typed}'s plan", "emoji": True}
    assert_teams_shows_as_text([reply], typed)
    shown = card_shows(render_card([reply]))
    # Each text shows whole: the title, the text, a fact's label and value, the hint.
    for text in (f"{typed}'s plan", f"Your goal: {typed}", f"1. {typed}", typed):
        assert text in shown
    assert f"{typed}\n- {typed}\n# {typed}" in shown
    assert typed in render_all([reply])


def test_an_answered_question_shows_the_chosen_label_as_text() -> None:
    blocks = answered([], TYPED)
    assert list(slack_texts(blocks, "mrkdwn")) == []
    assert literal_slack_texts(blocks) == [f"✓ {TYPED}"]
    card = answered_card(f"Who? {NAME}", TYPED)
    assert card_shows(card) == [f"Who? {NAME}", f"✓ {TYPED}"]


def test_names_from_the_directory_in_a_report_are_text_on_teams() -> None:
    table = Table("Pairs", ("mentee", "mentor"), ((NAME, TYPED),), note=f"Led by {NAME}")
    report = Report("pairs", f"Pairs of {NAME}", ((NAME, "1"),), (table,), None, (TYPED,))
    reply = Reply("", report=report)
    shown = card_shows(render_card([reply]))
    for text in (f"Pairs of {NAME}", NAME, TYPED, f"Led by {NAME}"):
        assert text in shown


# -- end to end: what the engine sends about a real pairing -----------------------------------


async def taken(world: World, person: Person) -> list[Reply]:
    """The replies waiting for a person (proposals, the kickoff, a plan), as a channel gets them."""
    assert person.id is not None
    async with world.database.session() as session:
        return await take_waiting(
            session, person_id=person.id, channel="shell", now=world.clock.now()
        )


async def test_goals_bios_names_milestones_and_notes_are_text_on_every_channel(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee = await mentee(database, "lee@x.com", name=NAME, goals=TYPED, timezone="Europe/London")
    ana = await mentor(database, "ana@x.com", name="Ana Lima", bio=TYPED, timezone="Europe/London")
    lead = world.chat(await make_person(database, LEAD, name="Priya Shah"))
    await lead.send("match")
    await lead.send("approve all")
    [pairing] = await rows(database, Pairing)

    proposal_to_mentor = await taken(world, ana)  # Lee's goals and name
    await world.chat(ana).expect(f"accept {pairing.id}", "I've asked")
    proposal_to_mentee = await taken(world, lee)  # Ana's bio
    await world.chat(lee).expect(f"accept {pairing.id}", "you're paired with")
    kickoff = await taken(world, lee)  # both profiles
    plan = world.chat(lee)
    await plan.send("plan")
    await plan.send(TYPED)
    await plan.send("in 3 weeks")
    await plan.expect("2", "I've sent your plan")
    plan_for_mentor = await taken(world, ana)  # the milestone
    summary = summary_reply(
        Summary((TYPED,), (ActionItem(Owner.MENTEE, TYPED),), TYPED),
        session_id=1,
        held_on=date(2026, 11, 24),
        reader=Owner.MENTOR,
        mentee=NAME,
        mentor="Ana Lima",
    )

    conversations = {
        "proposal to the mentor": proposal_to_mentor,
        "proposal to the mentee": proposal_to_mentee,
        "kickoff": kickoff,
        "plan as saved": plan.last,
        "plan for the mentor": plan_for_mentor,
        "summary of the notes": [summary],
    }
    for what, replies in conversations.items():
        assert replies, what
        # Each holds what a person wrote in a label or value (of a profile, too).
        pairs = [(k, v) for r in replies for p in r.profiles for k, v in p.whole()]
        pairs += [(k, v) for r in replies for k, v in r.fields]
        assert any(TYPED in f"{k} {v}" for k, v in pairs), what
        assert TYPED in render_all(replies), what
        assert_slack_shows_as_text(replies, TYPED)
        assert_teams_shows_as_text(replies, TYPED)
    assert NAME in render_all(proposal_to_mentor)
    assert any(NAME in shown for shown in card_shows(render_card(proposal_to_mentor)))
    _, blocks = render_message(proposal_to_mentor)
    assert any(NAME in text for text in literal_slack_texts(blocks))


# -- end to end: through each platform's real HTTP edge ---------------------------------------


async def test_an_intake_answer_comes_back_as_text_in_slack(slack: SlackHarness) -> None:
    await slack.dm("join mentee")
    await slack.fake.wait_for("chat.postMessage", 1)
    # Slack sends what was typed with &, < and > escaped.
    await slack.dm(escape(TYPED))
    await slack.fake.wait_for("chat.postMessage", 2)
    await slack.tick_and_done("Strategic judgment")
    await slack.fake.wait_for("chat.postMessage", 3)
    await slack.click("Trying it myself with feedback")
    await slack.fake.wait_for("chat.postMessage", 4)
    await slack.tick_and_done("One-on-one")
    await slack.fake.wait_for("chat.postMessage", 5)
    await slack.dm("3")
    await slack.fake.wait_for("chat.postMessage", 6)
    await slack.dm(escape(TYPED))
    posts = await slack.fake.wait_for("chat.postMessage", 7)
    summary = posts[-1]
    assert "Here is what you told me" in summary["text"]
    assert "<" not in summary["text"] and escape(TYPED) in summary["text"]
    for mrkdwn in slack_texts(summary["blocks"], "mrkdwn"):
        assert not [w for w in PERSONS_WORDS if w in mrkdwn], mrkdwn
    assert any(TYPED in text for text in literal_slack_texts(summary["blocks"]))


async def test_an_intake_answer_comes_back_as_text_in_teams(teams: TeamsHarness) -> None:
    await teams.say("join mentee")
    await teams.submit(text=TYPED)
    await teams.submit("Strategic judgment")
    await teams.submit("Trying it myself with feedback")
    await teams.submit("One-on-one")
    await teams.submit(text="3")
    await teams.say(TYPED)
    card = teams.last_card()
    shown = card_shows(card)
    assert any("Here is what you told me" in text for text in shown)
    assert TYPED in shown


@pytest.mark.parametrize("typed", [*PIECES, TYPED])
def test_a_name_in_a_form_or_a_notice_is_text_in_slack_modals(typed: str) -> None:
    """A form's intro names the other person; a notice can repeat what was typed."""
    from bot.slack.blocks import form_modal, notice_modal
    from handlers.core.messages import Form

    form = Form(name="log", ref="1", title="Session log", questions=(), intro=f"With {typed}")
    for view in (form_modal(form), notice_modal("Not saved", f"About {typed}")):
        assert not list(slack_texts(view["blocks"], "mrkdwn"))
        assert any(typed in text for text in literal_slack_texts(view["blocks"])), view
