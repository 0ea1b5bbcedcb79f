"""Logging a session with the whole form, feedback pulses and their privacy, and the export.

Forms are submitted as Slack and Teams submit them (``Engine.submit`` with
``Inbound(forms=True)``); the shell's one-question-at-a-time form is in test_cycle.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from handlers.core.messages import Form, Inbound, Submission
from handlers.core.program import FeedbackSettings, Program
from handlers.people.privacy import export_person
from storage import Database, Feedback, Milestone, Person, SessionLog
from tests.handlers.cycle_world import World, log_session
from tests.helpers import make_person, rows


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


def inbound(person: Person, **kwargs: Any) -> Inbound:
    assert person.id is not None
    return Inbound("slack", f"T1/{person.email}", person.id, forms=True, **kwargs)


async def open_log(world: World, person: Person, text: str = "log") -> Form:
    [reply] = await world.engine.handle(inbound(person, text=text))
    assert reply.form is not None, reply.text
    return reply.form


async def write_plan(world: World, mentee: Person) -> None:
    chat = world.chat(mentee)
    await chat.send("plan")
    await chat.send("Run my first team retrospective")
    await chat.send("in 3 weeks")
    await chat.send("1")
    await chat.send("Give feedback to a peer")
    await chat.send("in 5 weeks")
    await chat.expect("2", "I've sent your plan")


def submission(pairing_id: int, **values: str | tuple[str, ...]) -> Submission:
    given = {k: (v,) if isinstance(v, str) else v for k, v in values.items()}
    return Submission("log", str(pairing_id), given)


async def test_on_slack_and_teams_log_answers_with_the_whole_form(world: World) -> None:
    lee, ana, pairing = await world.pair()
    await write_plan(world, lee)
    form = await open_log(world, ana)
    assert [q.id for q in form.questions] == [
        "date",
        "minutes",
        "format",
        "topics",
        "notes",
        "milestone_1",
        "milestone_2",
    ]
    types = {q.id: q.type.value for q in form.questions}
    assert (types["date"], types["minutes"], types["topics"]) == ("date", "number", "multi_choice")
    topics = next(q for q in form.questions if q.id == "topics")
    assert [c.label for c in topics.choices][:2] == ["Strategic judgment", "Communicating a vision"]
    assert form.initial_of("date") == "2026-11-23"
    assert form.initial_of("milestone_1") == "not_started"
    # The ref carries when the form was shown; its button skips the offer of a logged day.
    assert (form.ref, form.reopen) == (
        f"{pairing.id} @2026-11-23T10:00:00+00:00",
        f"log {pairing.id} new",
    )
    assert "Progress on “Run my first team retrospective”" in form.questions[5].prompt
    # The notes say who can read them.
    notes = next(q for q in form.questions if q.id == "notes")
    assert not notes.required and "never the program lead" in (notes.help or "")


async def test_a_submitted_log_saves_everything_and_asks_the_other_side(world: World) -> None:
    lee, ana, pairing = await world.pair()
    await write_plan(world, lee)
    world.clock.advance(days=3)
    result = await world.engine.submit(
        inbound(
            ana,
            form=submission(
                pairing.id,
                date="2026-11-25",
                minutes="50",
                format="Shadowing",
                topics=("coaching", "communication"),
                notes="Talked through the retro format. Lee to draft an agenda.",
                milestone_1="on_track",
                milestone_2="not_started",
            ),
        )
    )
    assert result.errors == {}
    [reply] = result.replies
    assert "Logged: 50 minutes on Wed 25 Nov" in reply.text
    assert "Your notes are private to the two of you" in reply.text
    assert ("Topics", "Coaching, Communication") in reply.fields
    [log] = await rows(world.database, SessionLog)
    assert (log.held_on, log.minutes, log.format, log.topics, log.logged_by) == (
        date(2026, 11, 25),
        50,
        "Shadowing",
        ["coaching", "communication"],
        ana.id,
    )
    assert log.notes == "Talked through the retro format. Lee to draft an agenda."
    assert log.progress == {"1": "on_track", "2": "not_started"}
    statuses = {m.position: m.status for m in await rows(world.database, Milestone)}
    assert statuses == {1: "on_track", 2: "not_started"}
    # The other side (Lee) is asked for a pulse; the logger is not.
    [pulse] = await rows(world.database, Feedback)
    assert (pulse.survey, pulse.respondent_id, pulse.session_log_id, pulse.status) == (
        "pulse",
        lee.id,
        log.id,
        "asked",
    )
    # A logged session is the pair's sign of life: missed check-ins and at-risk reset.
    [current] = [p for p in await rows(world.database, type(pairing)) if p.id == pairing.id]
    assert (current.missed_checkins, current.at_risk_since) == (0, None)

    # Lee logs the same meeting from his side: it counts once, as Ana's, and his answers
    # are added to it (tests/handlers/sessions/test_same_day_logs.py has the whole story).
    again = await world.engine.submit(
        inbound(
            lee,
            form=submission(
                pairing.id, date="2026-11-25", minutes="45", format="Group", topics="coaching"
            ),
        )
    )
    assert "Added to the session Ana logged on Wed 25 Nov" in again.replies[0].text
    [log] = await rows(world.database, SessionLog)
    assert (log.minutes, log.format, log.second_minutes, log.second_by) == (
        50,
        "Shadowing",
        45,
        lee.id,
    )
    assert len(await rows(world.database, Feedback)) == 1


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"date": "2026-11-30"}, "date", "That date is in the future"),
        ({"date": "2026-11-01"}, "date", "before your pairing started (Mon 23 Nov)"),
        ({"date": "someday"}, "date", "'someday' is not a date"),
        ({"minutes": "600"}, "minutes", "600 is out of range"),
        ({"minutes": "-5"}, "minutes", "-5 is out of range"),
        ({"minutes": ""}, "minutes", "This question is required"),
        ({"topics": ("coaching", "astrology")}, "topics", "'astrology' is not one of the options"),
        ({"format": "Carrier pigeon"}, "format", "'Carrier pigeon' is not one of the options"),
    ],
)
async def test_a_log_with_a_bad_answer_is_refused_and_nothing_is_saved(
    world: World, values: dict[str, Any], field: str, message: str
) -> None:
    _lee, ana, pairing = await world.pair()
    world.clock.advance(days=3)
    good: dict[str, Any] = {
        "date": "2026-11-25",
        "minutes": "45",
        "format": "One-on-one",
        "topics": "coaching",
    }
    result = await world.engine.submit(
        inbound(ana, form=submission(pairing.id, **{**good, **values}))
    )
    assert list(result.errors) == [field]
    assert message in result.errors[field]
    assert result.replies == []
    # The form comes back filled in with what was right, for Teams to show again.
    assert result.form is not None and result.form.initial_of("format") in (None, "One-on-one")
    assert await rows(world.database, SessionLog) == []
    assert await rows(world.database, Feedback) == []


async def test_only_the_pair_can_log_for_a_pairing(world: World) -> None:
    _lee, _ana, pairing = await world.pair()
    stranger = await make_person(world.database, "sam@x.com", name="Sam Stone")
    [reply] = await world.engine.handle(inbound(stranger, text=f"log {pairing.id}"))
    assert reply.form is None and f"There's no pairing {pairing.id} for you" in reply.text
    forged = await world.engine.submit(
        inbound(
            stranger,
            form=submission(pairing.id, date="2026-11-23", minutes="30", format="Group"),
        )
    )
    assert f"There's no pairing {pairing.id} for you" in forged.replies[0].text
    assert await rows(world.database, SessionLog) == []


async def test_feedback_stays_with_the_person_who_gave_it(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await log_session(world.chat(ana))
    world.take()
    await world.tick()
    world.take()
    chat = world.chat(lee)
    await chat.expect("feedback", "(1/3) How useful was the session?")
    await chat.expect("5", "Did you leave with a next step?")
    await chat.expect("no", "Anything you'd like to add?")
    await chat.expect("Great session", "Thank you!")
    await world.tick()
    assert world.take() == []  # Ana is told nothing of Lee's answers
    await chat.expect("feedback", "Nothing is waiting for your feedback right now")


async def test_with_share_with_pair_the_other_side_sees_the_answers(
    database: Database, program: Program
) -> None:
    shared = program.model_copy(
        update={
            "feedback": FeedbackSettings(share_with_pair=True, surveys=program.feedback.surveys)
        }
    )
    world = World(database, shared)
    lee, ana, _pairing = await world.pair()
    await log_session(world.chat(ana))
    await world.tick()
    world.take()
    chat = world.chat(lee)
    await chat.send("feedback")
    await chat.send("4")
    await chat.send("yes")
    await chat.expect("skip", "Thank you!")
    await world.tick()
    [shared_message] = world.take()
    assert shared_message.email == "ana@x.com"
    assert "Lee Park shared their feedback" in shared_message.text
    assert "How useful was the session?\n      4" in shared_message.text


@pytest.mark.parametrize("summaries", [True, False])
async def test_a_session_with_notes_waits_for_its_summary_only_with_both_consents(
    database: Database, program: Program, summaries: bool
) -> None:
    world = World(database, program, summaries=summaries)
    lee, ana, pairing = await world.pair()
    await world.chat(lee).expect(f"consent {pairing.id} yes", "")
    await log_session(world.chat(ana), notes="We discussed the retro.")
    [log] = await rows(world.database, SessionLog)
    assert log.summary_status is None  # Ana has not agreed
    await world.chat(ana).expect(f"consent {pairing.id} yes", "")
    world.clock.advance(days=1)
    await log_session(world.chat(ana), notes="Second talk.")
    # The first day, from Lee's side: added to it, counted once.
    await log_session(world.chat(lee), f"log {pairing.id} new", day="yesterday", notes=None)
    logs = sorted(await rows(world.database, SessionLog), key=lambda s: s.held_on)
    # Without a model configured nothing waits for a summary.
    assert [(s.notes, s.summary_status) for s in logs] == [
        ("We discussed the retro.", None),
        ("Second talk.", "pending" if summaries else None),
    ]


async def test_the_privacy_export_has_sessions_notes_and_the_feedback_given(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    await write_plan(world, lee)
    await log_session(world.chat(ana), notes="Private words.")
    async with world.database.session() as session:
        found = [f for f in await rows(world.database, Feedback)]
        assert len(found) == 1
    chat = world.chat(lee)
    await chat.send(f"feedback {pairing.id} pulse")
    await chat.send("3")
    await chat.send("yes")
    await chat.expect("Useful enough", "Thank you!")
    async with world.database.session() as session:
        mine = await export_person(session, "lee@x.com")
        theirs = await export_person(session, "ana@x.com")
    assert mine is not None and theirs is not None
    [pairing_export] = mine["pairings"]
    [logged] = pairing_export["sessions"]
    assert (logged["notes"], logged["minutes"], logged["logged_by_me"]) == (
        "Private words.",
        45,
        False,
    )
    assert [m["objective"] for m in pairing_export["milestones"]] == [
        "Run my first team retrospective",
        "Give feedback to a peer",
    ]
    assert mine["feedback_given"] == [
        {
            "survey": "pulse",
            "pairing_with": "Ana Lima",
            "answers": {"usefulness": 3, "next_step": "Yes", "comment": "Useful enough"},
            "answered_at": mine["feedback_given"][0]["answered_at"],
        }
    ]
    # Ana's export has the session (it is hers too) but not Lee's ratings of it.
    assert theirs["pairings"][0]["sessions"][0]["logged_by_me"] is True
    assert theirs["feedback_given"] == []


async def test_the_next_check_in_brings_back_the_summary_action_items(world: World) -> None:
    _lee, ana, pairing = await world.pair()
    await world.tick()
    world.take()
    world.clock.advance(days=3)
    await log_session(world.chat(ana), notes="Lee drafts the retro agenda; I send examples.")
    async with world.database.session() as session:
        conn = await session.connection()
        await conn.execute(
            sa.update(SessionLog.__table__).values(  # type: ignore[attr-defined]
                summary_status="done",
                summary={
                    "topics": ["Retrospectives"],
                    "action_items": [
                        {"owner": "mentee", "text": "draft the retro agenda"},
                        {"owner": "mentor", "text": "send two example agendas"},
                    ],
                    "next_focus": "Running the first retro",
                },
            )
        )
    await world.walk(16)  # the check-in 14 days after the session finds none logged
    nudges = [m for m in world.take() if "Check-in with" in m.text]
    assert len(nudges) == 2  # both sides are nudged, and both see the action items
    for nudge in nudges:
        assert "Action items from your last session" in nudge.text
        assert "• Lee: draft the retro agenda" in nudge.text
        assert "• Ana: send two example agendas" in nudge.text
    assert pairing.id is not None


async def test_a_platform_retry_of_a_submission_is_answered_once(world: World) -> None:
    lee, ana, pairing = await world.pair()
    await log_session(world.chat(ana))
    [asked] = await rows(world.database, Feedback)
    values = {"usefulness": ("5",), "next_step": ("Yes",)}
    sent = Submission("feedback", str(asked.id), values)
    first = await world.engine.submit(inbound(lee, form=sent, event_id="activity-1"))
    again = await world.engine.submit(inbound(lee, form=sent, event_id="activity-1"))
    assert first.replies[0].text == "Thank you! Your feedback is saved."
    assert (again.replies, again.errors) == ([], {})
    # A refused submission leaves no record, so its corrected retry is handled.
    wrong = Submission("log", str(pairing.id), {"date": ("2030-01-01",)})
    refused = await world.engine.submit(inbound(ana, form=wrong, event_id="activity-2"))
    assert refused.errors
    fixed = Submission(
        "log",
        str(pairing.id),
        {
            "date": ("2026-11-23",),
            "minutes": ("30",),
            "format": ("Group",),
            "topics": ("coaching",),
        },
    )
    retried = await world.engine.submit(inbound(ana, form=fixed, event_id="activity-2"))
    # Handled, not taken for the retry of the first: Ana's own day again is refused, the
    # form kept, so she can pick another date (the answers are not dropped).
    assert "You already logged a session on Mon 23 Nov" in retried.errors["date"]
