"""Two logs of one day: the second side's notes and progress join the first side's session.

Ana (the mentor) and Lee (the mentee) both log the meeting they had. Whichever way the second
log comes (offered before the form starts, the day given as the date in the shell, or two
forms open at once), nothing either of them wrote is dropped: one session, each side's notes
kept apart and private to the pair, both sides' milestone progress applied.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from handlers.core.messages import Form, Inbound, Submission
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.people.erasure import forget_person
from handlers.people.privacy import export_person
from handlers.people.retention import expire_notes
from handlers.reports.catalogue import CATALOGUE
from handlers.sessions.summaries import Summary, SummaryContext
from scheduler.summaries import summarize_due
from storage import (
    ConversationState,
    Database,
    Feedback,
    Milestone,
    Outbox,
    Pairing,
    Person,
    SessionLog,
)
from tests.handlers.cycle_world import LEAD, World, log_session
from tests.helpers import Chat, make_person, rows
from tests.storage.migrating import migrate, migration_named

ANA_NOTES = "Ana: we planned the retro; Lee drafts the agenda by Friday."
LEE_NOTES = "Lee: I'll book the room and ask two peers for feedback."
RETRO = "Run my first team retrospective"


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def write_plan(world: World, mentee: Person) -> None:
    """The mentee writes a plan of two milestones, both not started."""
    chat = world.chat(mentee)
    await chat.send("plan")
    await chat.send(RETRO)
    await chat.send("in 3 weeks")
    await chat.send("1")
    await chat.send("Give feedback to a peer")
    await chat.send("in 5 weeks")
    await chat.expect("2", "I've sent your plan")


async def press(chat: Chat, label: str) -> str:
    """Press a button of the last replies: a click sends the button's command."""
    [command] = [a.value for r in chat.last for a in r.actions if a.label == label]
    return await chat.send(command)


async def statuses(world: World) -> dict[int, str]:
    return {m.position: m.status for m in await rows(world.database, Milestone)}


async def the_session(world: World) -> SessionLog:
    [log] = await rows(world.database, SessionLog)
    return log


def slack(person: Person, **kwargs: Any) -> Inbound:
    assert person.id is not None
    return Inbound("slack", f"T1/{person.email}", person.id, forms=True, **kwargs)


async def open_form(world: World, person: Person) -> Form:
    [reply] = await world.engine.handle(slack(person, text="log"))
    assert reply.form is not None, reply.text
    return reply.form


def answers(notes: str, **values: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """A whole session form as Slack sends it: Tue 24 Nov, 50 minutes, and ``values``."""
    given: dict[str, str | tuple[str, ...]] = {
        "date": "2026-11-24",
        "minutes": "50",
        "format": "One-on-one",
        "topics": "coaching",
        "notes": notes,
        **values,
    }
    return {k: (v,) if isinstance(v, str) else v for k, v in given.items()}


async def ana_logs_tuesday(world: World, ana: Person) -> None:
    """Tue 24 Nov: Ana logs their meeting, with notes, both milestones on track."""
    world.clock.advance(days=1)
    await log_session(world.chat(ana), minutes="50", notes=ANA_NOTES, progress="2")


# -- before the form starts -----------------------------------------------------------------


async def test_the_other_side_is_asked_first_and_their_notes_join_that_session(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    await write_plan(world, lee)
    await ana_logs_tuesday(world, ana)
    world.clock.advance(days=2)  # Thursday: Lee gets round to logging the same meeting

    chat = world.chat(lee)
    offer = await chat.expect(
        "log", "Ana already logged Tue 24 Nov — add your notes to that session?"
    )
    assert "Add my notes to it" in offer and "Pick another date" in offer
    # Asked before anything is typed into a form: no form is open yet.
    assert await rows(world.database, ConversationState) == []

    await press(chat, "Add my notes to it")
    assert "Ana logged your session on Tue 24 Nov (50 minutes)" in chat.last[0].text
    await chat.expect(LEE_NOTES, f"Progress on “{RETRO}”", "so far: on track")
    await chat.expect("3", "Progress on “Give feedback to a peer”")
    done = await chat.expect(
        "keep",
        "Added to the session Ana logged on Tue 24 Nov; it counts once, as 50 minutes.",
        "Your notes are kept apart from Ana's, private to the two of you.",
    )
    assert "I've asked" not in done  # Lee was already asked for his pulse after Ana's log

    log = await the_session(world)
    assert (log.minutes, log.notes, log.logged_by) == (50, ANA_NOTES, ana.id)
    assert (log.second_by, log.second_notes, log.second_minutes) == (lee.id, LEE_NOTES, None)
    assert log.second_progress == {"1": "done", "2": "on_track"}
    assert await statuses(world) == {1: "done", 2: "on_track"}
    assert [f.respondent_id for f in await rows(world.database, Feedback)] == [lee.id]
    # Added once: the next log goes straight to the form.
    await chat.expect(f"log {pairing.id}", "When did you meet?")


async def test_picking_another_date_logs_a_session_of_its_own(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await ana_logs_tuesday(world, ana)
    world.clock.advance(days=2)
    chat = world.chat(lee)
    await chat.expect("log", "Ana already logged Tue 24 Nov")
    await press(chat, "Pick another date")
    assert "When did you meet?" in "\n".join(r.text for r in chat.last)
    await chat.send("today")
    await chat.send("30")
    await chat.send("1")
    await chat.send("1")
    await chat.expect("skip", "Logged: 30 minutes on Thu 26 Nov")
    logs = sorted(await rows(world.database, SessionLog), key=lambda s: s.held_on)
    assert [(str(s.held_on), s.logged_by, s.second_by) for s in logs] == [
        ("2026-11-24", ana.id, None),
        ("2026-11-26", lee.id, None),
    ]


# -- the date, given in the shell -----------------------------------------------------------


async def test_a_day_the_other_side_logged_is_said_when_given_as_the_date(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await write_plan(world, lee)
    await ana_logs_tuesday(world, ana)
    world.clock.advance(days=10)  # Sat 5 Dec: too long ago to be offered before the form
    chat = world.chat(lee)
    await chat.expect("log", "When did you meet?")
    said = await chat.expect(
        "2026-11-24",
        "Ana already logged Tue 24 Nov, so your answers will be added to that session: your "
        "notes are kept apart from Ana's. Type back to pick another date.",
        "How long was it",
    )
    assert "Logged" not in said
    await chat.expect("back", "When did you meet?")
    await chat.expect("2026-11-24", "Ana already logged Tue 24 Nov", "How long was it")
    await chat.send("60")
    await chat.send("2")
    await chat.send("1,2")
    await chat.send(LEE_NOTES)
    await chat.send("keep")
    done = await chat.expect("3", "Added to the session Ana logged on Tue 24 Nov")
    assert "it counts once, as 50 minutes. Your 60 minutes are kept with your answers." in done

    log = await the_session(world)
    assert (log.minutes, log.format, log.notes) == (50, "One-on-one", ANA_NOTES)
    assert (log.second_minutes, log.second_format, log.second_notes) == (60, "Group", LEE_NOTES)
    first, second = (c.id for c in world.program.competencies[:2])
    assert log.topics == [first, second]  # Ana's topic, then Lee's new one
    assert await statuses(world) == {1: "on_track", 2: "done"}


async def test_logging_your_own_day_again_asks_for_another_date(world: World) -> None:
    _lee, ana, _pairing = await world.pair()
    await ana_logs_tuesday(world, ana)
    chat = world.chat(ana)
    await chat.expect("log", "When did you meet?")  # her own log is not offered to her
    await chat.expect(
        "today",
        "You already logged a session on Tue 24 Nov for this pairing. Pick another date: a "
        "day counts as one session.",
        "When did you meet?",
    )
    await chat.expect("yesterday", "How long was it")
    assert len(await rows(world.database, SessionLog)) == 1


# -- two forms open at once -----------------------------------------------------------------


async def test_two_forms_open_at_once_keep_both_sides(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await write_plan(world, lee)
    world.clock.advance(days=1)
    # Both open the form on Slack before either has saved: nothing to offer yet.
    ana_form, lee_form = await open_form(world, ana), await open_form(world, lee)
    world.clock.advance(minutes=15)
    saved = await world.engine.submit(
        slack(ana, form=Submission("log", ana_form.ref, answers(ANA_NOTES, milestone_1="on_track")))
    )
    assert "Logged: 50 minutes on Tue 24 Nov" in saved.replies[0].text
    world.clock.advance(minutes=5)
    # Lee left the first milestone as his form showed it and marked the second done.
    lee_answers = answers(
        LEE_NOTES, minutes="45", topics="vision", milestone_1="not_started", milestone_2="done"
    )
    second = await world.engine.submit(
        slack(lee, form=Submission("log", lee_form.ref, lee_answers))
    )
    assert second.errors == {}
    [reply] = second.replies
    assert "Added to the session Ana logged on Tue 24 Nov; it counts once" in reply.text
    assert "Your 45 minutes are kept with your answers." in reply.text
    # What his form showed is older than Ana's change: hers stands, and he is told.
    assert f"“{RETRO}” stays on track: it was updated after you opened this form." in reply.text

    log = await the_session(world)
    assert (log.notes, log.second_notes, log.second_by) == (ANA_NOTES, LEE_NOTES, lee.id)
    assert log.topics == ["coaching", "vision"]
    assert await statuses(world) == {1: "on_track", 2: "done"}
    assert len(await rows(world.database, Feedback)) == 1


async def test_two_submissions_at_the_same_moment_are_both_kept(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    world.clock.advance(days=1)
    forms = {p.email: await open_form(world, p) for p in (ana, lee)}
    world.clock.advance(minutes=15)
    notes = {ana.email: ANA_NOTES, lee.email: LEE_NOTES}
    results = await asyncio.gather(
        *(
            world.engine.submit(
                slack(p, form=Submission("log", forms[p.email].ref, answers(notes[p.email])))
            )
            for p in (ana, lee)
        )
    )
    assert [r.errors for r in results] == [{}, {}]
    texts = sorted(r.replies[0].text.split(":")[0].split(";")[0] for r in results)
    assert texts[0].startswith("Added to the session") and texts[1] == "Logged"
    log = await the_session(world)
    assert {log.notes, log.second_notes} == {ANA_NOTES, LEE_NOTES}
    assert {log.logged_by, log.second_by} == {ana.id, lee.id}
    assert len(await rows(world.database, Feedback)) == 1


async def test_two_chats_logging_the_same_day_at_once_keep_both_sides(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    world.clock.advance(days=1)
    ana_chat, lee_chat = world.chat(ana), world.chat(lee)
    # Both are half-way through the questions when Ana finishes first.
    for chat in (ana_chat, lee_chat):
        await chat.send("log")
        await chat.expect("today", "How long was it")
        await chat.send("40")
        await chat.send("1")
        await chat.send("1")
    await ana_chat.expect(ANA_NOTES, "Logged: 40 minutes on Tue 24 Nov")
    await lee_chat.expect(LEE_NOTES, "Added to the session Ana logged on Tue 24 Nov")
    log = await the_session(world)
    assert (log.notes, log.second_notes) == (ANA_NOTES, LEE_NOTES)


# -- private to the pair, and summarised together -------------------------------------------


async def both_logged(world: World) -> tuple[Person, Person, Pairing]:
    """Ana logged Tuesday with her notes; Lee added his."""
    lee, ana, pairing = await world.pair()
    await ana_logs_tuesday(world, ana)
    chat = world.chat(lee)
    await chat.send(f"log {pairing.id} 2026-11-24")
    await chat.expect(LEE_NOTES, "Added to the session Ana logged on Tue 24 Nov")
    return lee, ana, pairing


async def test_each_sides_notes_reach_only_the_pair(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lee, ana, _pairing = await both_logged(world)
    async with world.database.session() as session:
        mine = await export_person(session, lee.email)
        hers = await export_person(session, ana.email)
    assert mine is not None and hers is not None
    [lee_view] = mine["pairings"][0]["sessions"]
    assert (lee_view["notes"], lee_view["logged_by_me"]) == (ANA_NOTES, False)
    assert lee_view["second_side"]["notes"] == LEE_NOTES
    assert lee_view["second_side"]["added_by_me"] is True
    [ana_view] = hers["pairings"][0]["sessions"]
    assert (ana_view["notes"], ana_view["second_side"]["notes"]) == (ANA_NOTES, LEE_NOTES)
    assert ana_view["second_side"]["added_by_me"] is False
    # The lead's reports, every kind of them, and the logs carry neither side's notes.
    [lead] = [p for p in await rows(world.database, Person) if p.email == LEAD]
    lead_chat = world.chat(lead)
    for kind in CATALOGUE.names():
        shown = await lead_chat.send(f"report {kind}")
        assert any(r.report for r in lead_chat.last), shown
        reports = json.dumps([r.report.as_dict() for r in lead_chat.last if r.report])
        for notes in (ANA_NOTES, LEE_NOTES):
            assert notes not in shown and notes not in reports, kind
    for notes in (ANA_NOTES, LEE_NOTES):
        assert notes not in caplog.text


async def test_retention_removes_both_sides_notes(world: World) -> None:
    await both_logged(world)
    assert world.program.privacy.retain_notes_days == 365
    world.clock.advance(days=400)
    async with world.database.session() as session:
        assert await expire_notes(session, world.program, now=world.clock.now()) == 1
    log = await the_session(world)
    assert (log.notes, log.second_notes, log.minutes) == (None, None, 50)
    assert log.second_at is not None  # the session still says both sides logged it


async def test_erasure_removes_both_sides_notes_and_mentions_in_them(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    await ana_logs_tuesday(world, _ana)
    named = await make_person(world.database, "zuzanna.quill@x.com", name="Zuzanna Quill")
    chat = world.chat(lee)
    await chat.send(f"log {pairing.id} 2026-11-24")
    await chat.expect("Zuzanna Quill could coach me on retros.", "Added to the session")
    await forget_person(
        world.database, Programs.one(world.program), email=named.email, now=world.clock.now()
    )
    assert "Zuzanna" not in ((await the_session(world)).second_notes or "")
    await forget_person(
        world.database, Programs.one(world.program), email=lee.email, now=world.clock.now()
    )
    log = await the_session(world)
    assert (log.notes, log.second_notes, log.minutes) == (None, None, 50)


class Notes:
    """A model that summarises anything, and keeps what it was given to read."""

    def __init__(self) -> None:
        self.read: list[str] = []
        self.release: asyncio.Event | None = None
        self.called = asyncio.Event()

    async def summarize(self, notes: str, context: SummaryContext) -> Summary:
        self.read.append(notes)
        self.called.set()
        if self.release is not None:
            await self.release.wait()
        return Summary(topics=("The retro",), action_items=(), next_focus="The agenda.")


async def consenting(database: Database, program: Program) -> tuple[World, Person, Person, int]:
    world = World(database, program, summaries=True)
    lee, ana, pairing = await world.pair()
    for person in (lee, ana):
        await world.chat(person).expect(f"consent {pairing.id} yes", "")
    assert pairing.id is not None
    return world, lee, ana, pairing.id


def summary_keys(outbox: list[Outbox], log_id: int | None) -> list[str]:
    return sorted(o.dedupe_key for o in outbox if o.dedupe_key.startswith(f"summary:{log_id}:"))


async def test_the_summary_is_written_again_from_both_sides_notes(
    database: Database, program: Program
) -> None:
    world, lee, ana, pairing_id = await consenting(database, program)
    await ana_logs_tuesday(world, ana)
    model = Notes()
    await summarize_due(
        world.database, Programs.one(world.program), summarizer=model, now=world.clock.now()
    )
    assert model.read == [ANA_NOTES]  # Ana's notes alone, as before

    chat = world.chat(lee)
    await chat.send(f"log {pairing_id} 2026-11-24")
    await chat.expect(LEE_NOTES, "A summary of both sides' notes will follow shortly.")
    log = await the_session(world)
    assert log.summary_status == "pending"
    report = await summarize_due(
        world.database, Programs.one(world.program), summarizer=model, now=world.clock.now()
    )
    assert report.written == 1
    # Each side's notes under a heading of whose they are (by role, never by name).
    assert model.read[1] == f"The mentee's notes:\n{LEE_NOTES}\n\nThe mentor's notes:\n{ANA_NOTES}"
    keys = summary_keys(await rows(world.database, Outbox), log.id)
    assert keys == sorted(
        [
            f"summary:{log.id}:{lee.id}",
            f"summary:{log.id}:{ana.id}",
            f"summary:{log.id}:{lee.id}:both-sides",
            f"summary:{log.id}:{ana.id}:both-sides",
        ]
    )
    assert (await the_session(world)).summary_status == "done"


async def test_a_summary_being_written_when_the_other_side_adds_is_written_again(
    database: Database, program: Program
) -> None:
    world, lee, ana, pairing_id = await consenting(database, program)
    await ana_logs_tuesday(world, ana)
    model = Notes()
    model.release = asyncio.Event()
    passing = asyncio.create_task(
        summarize_due(
            world.database, Programs.one(world.program), summarizer=model, now=world.clock.now()
        )
    )
    await model.called.wait()  # the model is reading Ana's notes alone
    chat = world.chat(lee)
    await chat.send(f"log {pairing_id} 2026-11-24")
    await chat.expect(LEE_NOTES, "Added to the session")
    model.release.set()
    first = await passing
    assert (first.written, first.superseded) == (0, 1)  # Ana's alone is not kept
    model.release = None
    again = await summarize_due(
        world.database, Programs.one(world.program), summarizer=model, now=world.clock.now()
    )
    assert again.written == 1
    assert LEE_NOTES in model.read[-1] and ANA_NOTES in model.read[-1]
    log = await the_session(world)
    assert summary_keys(await rows(world.database, Outbox), log.id) == sorted(
        [f"summary:{log.id}:{lee.id}:both-sides", f"summary:{log.id}:{ana.id}:both-sides"]
    )


# -- sessions logged before the upgrade -----------------------------------------------------


async def test_a_session_logged_before_the_upgrade_takes_the_other_sides_notes(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    await ana_logs_tuesday(world, ana)
    # Back to the schema before this change, as a program running the older version had it.
    sides = migration_named("_session_sides.py")
    await migrate(world.database, "downgrade", str(sides.down_revision))
    await world.database.upgrade()

    [pulse] = await rows(world.database, Feedback)
    log = await the_session(world)
    assert (log.notes, log.minutes, log.logged_by, log.second_at) == (ANA_NOTES, 50, ana.id, None)
    assert pulse.session_log_id == log.id  # survey answers stay linked to their session
    chat = world.chat(lee)
    await chat.expect("log", "Ana already logged Tue 24 Nov — add your notes to that session?")
    await chat.send(f"log {pairing.id} 2026-11-24")
    await chat.expect(LEE_NOTES, "Added to the session Ana logged on Tue 24 Nov")
    assert (await the_session(world)).second_notes == LEE_NOTES
