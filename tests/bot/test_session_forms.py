"""The session log and the feedback survey on each channel's renderer, submitted back.

The real forms (``handlers.sessions.log.LogForm``, ``handlers.sessions.feedback.FeedbackForm``) are
rendered as a Slack modal and as a Teams card, filled in the way each client fills them
in, read back by the channel's own parser and saved through ``Engine.submit``. The HTTP
round trips of forms are in test_forms_slack.py and test_forms_teams.py; the shell's one
question at a time is in tests/handlers/cycle/test_cycle.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack import blocks
from bot.teams import cards, forms
from handlers.core.messages import Form, Inbound, Reply, Submission
from handlers.core.program import Program
from storage import Database, Feedback, Person, SessionLog
from tests.handlers.cycle_world import World, log_session
from tests.helpers import rows


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def reply_of(world: World, person: Person, text: str, channel: str) -> Reply:
    """The one reply to a command that opens a form, on a channel that shows forms."""
    assert person.id is not None
    inbound = Inbound(channel, f"T1/{person.email}", person.id, text=text, forms=True)
    [reply] = await world.engine.handle(inbound)
    assert reply.form is not None, reply.text
    return reply


async def form_of(world: World, person: Person, text: str, channel: str) -> Form:
    form = (await reply_of(world, person, text, channel)).form
    assert form is not None
    return form


async def submit(world: World, person: Person, channel: str, sent: Submission) -> Any:
    assert person.id is not None
    inbound = Inbound(channel, f"T1/{person.email}", person.id, forms=True, form=sent)
    return await world.engine.submit(inbound)


def slack_state(modal: dict[str, Any], picks: dict[str, Any]) -> dict[str, Any]:
    """The ``view`` Slack sends on submit, with each input block answered as a client would."""
    values: dict[str, Any] = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        question_id = block["block_id"].removeprefix("q_")
        element = block["element"]
        answer = picks.get(question_id)
        kind = element["type"]
        if answer is None:
            field: dict[str, Any] = {"type": kind, "value": None}
        elif kind == "datepicker":
            field = {"type": kind, "selected_date": answer}
        elif kind in ("radio_buttons", "static_select"):
            [chosen] = [o for o in element["options"] if o["value"] == answer]
            field = {"type": kind, "selected_option": chosen}
        elif kind in ("checkboxes", "multi_static_select"):
            chosen = [o for o in element["options"] if o["value"] in answer]
            field = {"type": kind, "selected_options": chosen}
        else:
            field = {"type": kind, "value": str(answer)}
        values[block["block_id"]] = {element["action_id"]: field}
    return {**modal, "state": {"values": values}}


def teams_data(card: dict[str, Any], picks: dict[str, Any]) -> dict[str, Any]:
    """The ``value`` Teams sends for the card's submit: its data plus each input's value."""
    [submit_action] = [a for a in card["actions"] if a["data"].get(forms.FORM)]
    data = dict(submit_action["data"])
    inputs = [b for b in card["body"] if str(b.get("type", "")).startswith("Input.")]
    for element in inputs:
        question_id = element["id"].removeprefix(forms.INPUT_PREFIX)
        answer = picks.get(question_id)
        if answer is None:
            continue
        if element["type"] == "Input.ChoiceSet":
            titles = [c["value"] for c in element["choices"]]
            options = data[forms.CHOICES][question_id]
            wanted = answer if isinstance(answer, list) else [answer]
            answer = ",".join(titles[options.index(w)] for w in wanted)
        data[element["id"]] = answer
    return data


LOG_ANSWERS = {
    "date": "2026-11-23",
    "minutes": 40,
    "format": "Group",
    "topics": ["coaching", "influence"],
    "notes": "Agreed a first retro; Lee books the room.",
}


async def test_the_session_log_as_a_slack_modal(world: World) -> None:
    _lee, ana, pairing = await world.pair()
    form = await form_of(world, ana, f"log {pairing.id}", "slack")
    modal = blocks.form_modal(form)
    kinds = {b["block_id"]: b["element"]["type"] for b in modal["blocks"] if b["type"] == "input"}
    assert kinds == {
        "q_date": "datepicker",
        "q_minutes": "number_input",
        "q_format": "radio_buttons",
        "q_topics": "checkboxes",
        "q_notes": "plain_text_input",
    }
    date_block = next(b for b in modal["blocks"] if b.get("block_id") == "q_date")
    assert date_block["element"]["initial_date"] == "2026-11-23"
    minutes = next(b for b in modal["blocks"] if b.get("block_id") == "q_minutes")
    assert (minutes["element"]["min_value"], minutes["element"]["max_value"]) == ("5", "480")
    notes = next(b for b in modal["blocks"] if b.get("block_id") == "q_notes")
    assert notes["optional"] is True

    sent = blocks.submitted_values(slack_state(modal, {**LOG_ANSWERS, "minutes": 600}))
    refused = await submit(world, ana, "slack", Submission("log", form.ref, sent))
    assert list(refused.errors) == ["minutes"]
    assert await rows(world.database, SessionLog) == []

    sent = blocks.submitted_values(slack_state(modal, LOG_ANSWERS))
    saved = await submit(world, ana, "slack", Submission("log", form.ref, sent))
    assert saved.errors == {}
    [log] = await rows(world.database, SessionLog)
    assert (log.minutes, log.format, log.topics, log.notes) == (
        40,
        "Group",
        ["coaching", "influence"],
        "Agreed a first retro; Lee books the room.",
    )


async def test_the_session_log_as_a_teams_card(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    reply = await reply_of(world, lee, f"log {pairing.id}", "teams")
    assert reply.form is not None
    form = reply.form
    card = cards.render_card([reply])
    types = {
        b["id"].removeprefix(forms.INPUT_PREFIX): b["type"]
        for b in card["body"]
        if str(b.get("type", "")).startswith("Input.")
    }
    assert types == {
        "date": "Input.Date",
        "minutes": "Input.Number",
        "format": "Input.ChoiceSet",
        "topics": "Input.ChoiceSet",
        "notes": "Input.Text",
    }
    sent = forms.read_form(teams_data(card, {**LOG_ANSWERS, "date": "2026-12-24"}))
    assert sent is not None
    refused = await submit(world, lee, "teams", sent)
    assert "That date is in the future" in refused.errors["date"]
    assert refused.form is not None and refused.form.initial_of("format") == "Group"
    sent = forms.read_form(teams_data(card, LOG_ANSWERS))
    assert sent is not None and sent.ref == form.ref
    saved = await submit(world, lee, "teams", sent)
    assert "Logged: 40 minutes on Mon 23 Nov" in saved.replies[0].text
    assert [log.logged_by for log in await rows(world.database, SessionLog)] == [lee.id]


@pytest.mark.parametrize("channel", ["slack", "teams"])
async def test_the_feedback_pulse_on_each_channel(world: World, channel: str) -> None:
    lee, ana, pairing = await world.pair()
    await log_session(world.chat(ana))
    form = await form_of(world, lee, f"feedback {pairing.id} pulse", channel)
    assert [q.id for q in form.questions] == ["usefulness", "next_step", "comment"]
    answers = {"usefulness": 9, "next_step": "Yes"}
    if channel == "slack":
        modal = blocks.form_modal(form)
        scale = next(b for b in modal["blocks"] if b.get("block_id") == "q_usefulness")
        assert (scale["element"]["min_value"], scale["element"]["max_value"]) == ("1", "5")

        def read(picks: dict[str, Any]) -> Submission:
            return Submission(
                form.name, form.ref, blocks.submitted_values(slack_state(modal, picks))
            )
    else:
        card = cards.render_card([Reply(form.intro, title=form.title, form=form)])
        scale = next(b for b in card["body"] if b.get("id") == f"{forms.INPUT_PREFIX}usefulness")
        assert (scale["min"], scale["max"]) == (1, 5)

        def read(picks: dict[str, Any]) -> Submission:
            found = forms.read_form(teams_data(card, picks))
            assert found is not None
            return found

    # A rating outside its scale is asked again; nothing is saved.
    refused = await submit(world, lee, channel, read(answers))
    assert "9 is out of range" in refused.errors["usefulness"]
    [asked] = await rows(world.database, Feedback)
    assert (asked.status, asked.answers) == ("asked", None)
    saved = await submit(world, lee, channel, read({**answers, "usefulness": 4}))
    assert saved.replies[0].text == "Thank you! Your feedback is saved."
    [answered] = await rows(world.database, Feedback)
    assert answered.answers == {"usefulness": 4, "next_step": "Yes", "comment": None}
    # A second submission of the same survey changes nothing.
    again = await submit(world, lee, channel, read({**answers, "usefulness": 1}))
    assert "already answered" in again.replies[0].text
    [answered] = await rows(world.database, Feedback)
    assert answered.answers is not None and answered.answers["usefulness"] == 4


@pytest.mark.parametrize("channel", ["slack", "teams"])
async def test_the_other_side_adds_to_a_logged_day_from_the_offer(
    world: World, channel: str
) -> None:
    lee, ana, pairing = await world.pair()
    await log_session(world.chat(ana), minutes="50", notes="Ana's notes.")
    # Lee types log: before any form, Ana's day is offered, as buttons that run commands.
    assert lee.id is not None
    inbound = Inbound(channel, f"T1/{lee.email}", lee.id, text="log", forms=True)
    [offer] = await world.engine.handle(inbound)
    assert offer.text == "Ana already logged Mon 23 Nov — add your notes to that session?"
    if channel == "slack":
        _text, shown = blocks.render_message([offer])
        [buttons] = [b for b in shown if b["type"] == "actions"]
        values = {e["text"]["text"]: e["value"] for e in buttons["elements"]}
    else:
        card = cards.render_card([offer])
        values = {a["title"]: a["data"][cards.COMMAND] for a in card["actions"]}
    assert values == {
        "Add my notes to it": f"log {pairing.id} 2026-11-23",
        "Pick another date": f"log {pairing.id} new",
    }
    # The click opens the additions form: no date, minutes or format to give again.
    form = await form_of(world, lee, values["Add my notes to it"], channel)
    assert [q.id for q in form.questions] == ["notes"]
    picks = {"notes": "Lee's notes."}
    if channel == "slack":
        modal = blocks.form_modal(form)
        sent = Submission(form.name, form.ref, blocks.submitted_values(slack_state(modal, picks)))
    else:
        card = cards.render_card([Reply(form.intro, title=form.title, form=form)])
        found = forms.read_form(teams_data(card, picks))
        assert found is not None
        sent = found
    saved = await submit(world, lee, channel, sent)
    assert "Added to the session Ana logged on Mon 23 Nov" in saved.replies[0].text
    [log] = await rows(world.database, SessionLog)
    assert (log.notes, log.second_notes, log.second_by) == ("Ana's notes.", "Lee's notes.", lee.id)
