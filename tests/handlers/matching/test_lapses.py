"""Lapsed proposals as people live them: reminders, notices, a second chance, a mentor's pause.

Walked through the engine and the run-due tick in simulated time, on both databases. The
program starts on Monday 23 November 2026 at 10:00 UTC (London time); proposals lapse
after 7 days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from handlers.core.program import Matching, Program
from handlers.matching.pool import load_pool
from handlers.matching.rounds import plan_matches
from storage import Database, Enrollment, Pairing, Person
from tests.handlers.cycle_world import LEAD, Received, World
from tests.helpers import Chat, make_person, mentee, mentor, rows

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def with_matching(program: Program, **changes: object) -> Program:
    """The program with other matching settings (programs are frozen)."""
    return program.model_copy(update={"matching": program.matching.model_copy(update=changes)})


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def lead_of(world: World) -> Chat:
    world.zones[LEAD] = "Europe/London"
    return world.chat(await make_person(world.database, LEAD, name="Priya Shah"))


async def approve_round(lead: Chat) -> str:
    """The lead runs a round and approves all of it; returns the review."""
    review = await lead.send("match")
    await lead.send("approve all")
    return review


async def open_pairings(world: World) -> list[Pairing]:
    return [p for p in await rows(world.database, Pairing) if p.status in ("proposed", "accepted")]


async def lapse(world: World) -> list[Received]:
    """Move to just after the open proposals lapse, tick, and return what arrived."""
    await world.tick()
    world.take()
    world.clock.current = max(p.expires_at for p in await open_pairings(world)) + timedelta(
        minutes=1
    )
    await world.tick()
    return world.take()


def to(received: list[Received], email: str) -> str:
    return "\n".join(r.text for r in received if r.email == email)


async def enrollment(world: World, person: Person, role: str) -> Enrollment:
    (found,) = [
        e
        for e in await rows(world.database, Enrollment)
        if e.person_id == person.id and e.role == role
    ]
    return found


async def lee_and_ana(world: World) -> tuple[Person, Person]:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima")
    return lee, ana


# --- a lapse is not a decline ---------------------------------------------------------------


async def test_a_lapsed_pair_is_proposed_again_when_nobody_else_fits_and_says_why(
    world: World,
) -> None:
    await lee_and_ana(world)
    lead = await lead_of(world)
    await approve_round(lead)
    await lapse(world)
    review = await lead.send("match")
    assert "1. Lee Park → Ana Lima" in review
    assert "proposed before and lapsed unanswered" in review
    await lead.send("approve all")
    await world.tick()
    offer = to(world.take(), "ana@x.com")
    assert "Would you mentor Lee Park?" in offer
    assert "you were proposed to Lee before and that proposal lapsed without an answer" in offer


async def test_after_a_lapse_any_other_allowed_mentor_comes_first(world: World) -> None:
    await mentee(world.database, "lee@x.com", name="Lee Park", wants=("coaching", "vision"))
    await mentor(world.database, "ana@x.com", name="Ana Lima", strengths=("coaching", "vision"))
    lead = await lead_of(world)
    assert "1. Lee Park → Ana Lima" in await approve_round(lead)  # the better fit
    await lapse(world)
    await mentor(world.database, "kim@x.com", name="Kim Ito", strengths=("execution",))
    review = await lead.send("match")
    assert "1. Lee Park → Kim Ito" in review
    assert "Ana Lima" not in review


async def test_a_lapsed_pair_is_used_when_the_other_mentors_are_taken(
    database: Database, program: Program
) -> None:
    lee = await mentee(database, "lee@x.com", name="Lee Park")
    ana = await mentor(database, "ana@x.com", name="Ana Lima")
    # Max can only have Kim: Ana is too far from Honolulu.
    await mentee(database, "max@x.com", name="Max Roy", timezone="Pacific/Honolulu")
    await mentor(database, "kim@x.com", name="Kim Ito", timezone="America/Los_Angeles")
    assert lee.id is not None and ana.id is not None
    async with database.session() as session:
        session.add(
            Pairing(
                program="leadership-2027",
                mentee_id=lee.id,
                mentor_id=ana.id,
                status="expired",
                declined_by="mentor",
                batch="earlier",
                proposed_at=MONDAY - timedelta(days=20),
                expires_at=MONDAY - timedelta(days=13),
                closed_at=MONDAY - timedelta(days=13),
            )
        )
    async with database.session() as session:
        plan = plan_matches(program, await load_pool(session, program), now=MONDAY)
    found = {(p.mentee.email, p.mentor.email): p for p in plan.proposals}
    assert set(found) == {("lee@x.com", "ana@x.com"), ("max@x.com", "kim@x.com")}
    lapsed = found["lee@x.com", "ana@x.com"].reasons[-1]
    assert lapsed.lead == (
        "proposed before and lapsed unanswered; no other mentor with a free place was left for them"
    )


async def test_a_declined_pair_stays_apart(world: World) -> None:
    await lee_and_ana(world)
    lead = await lead_of(world)
    await approve_round(lead)
    [proposal] = await open_pairings(world)
    await world.tick()
    await world.chat(await _person(world, "ana@x.com")).send(f"decline {proposal.id}")
    await lead.expect("match", "No mentee–mentor pair is allowed", "paired or declined before")


async def _person(world: World, email: str) -> Person:
    return next(p for p in await rows(world.database, Person) if p.email == email)


# --- what people are told --------------------------------------------------------------------


async def test_at_a_lapse_the_mentor_the_mentee_and_the_leads_hear_what_is_true(
    world: World,
) -> None:
    await lee_and_ana(world)
    await approve_round(await lead_of(world))
    told = await lapse(world)
    assert "The proposal to mentor Lee Park lapsed because you didn't answer within 7 days." in to(
        told, "ana@x.com"
    )
    assert (
        "A mentor proposal for you lapsed because the mentor didn't answer in time. You keep "
        "your place on the waitlist (number 1 of 1)"
    ) in to(told, "lee@x.com")
    lead = to(told, LEAD)
    assert "The proposal Lee Park → Ana Lima lapsed: Ana Lima (mentor) didn't answer" in lead
    # Ana was the only fit: the lead is not told the next round will find someone else.
    assert "will look for someone else" not in lead
    assert (
        "no other mentor with a free place can mentor them right now, so the next match "
        "round may propose Ana Lima again"
    ) in lead


async def test_the_lead_hears_when_other_mentors_could_take_the_mentee(world: World) -> None:
    await lee_and_ana(world)
    lead = await lead_of(world)
    await approve_round(lead)
    await mentor(world.database, "kim@x.com", name="Kim Ito")
    told = to(await lapse(world), LEAD)
    assert (
        "the next match round will look at the 1 other mentor with a free place who could "
        "mentor them first"
    ) in told


async def test_a_mentee_who_lets_an_offer_lapse_keeps_their_place_and_is_told(
    world: World,
) -> None:
    lee, ana = await lee_and_ana(world)
    await approve_round(await lead_of(world))
    [proposal] = await open_pairings(world)
    await world.tick()
    await world.chat(ana).expect(f"accept {proposal.id}", "I've asked Lee Park to confirm")
    told = await lapse(world)
    assert (
        "Ana Lima's offer to mentor you lapsed because you didn't answer in time. You keep "
        "your place on the waitlist (number 1 of 1)"
    ) in to(told, "lee@x.com")
    assert "Lee Park didn't answer in time, so the proposal lapsed." in to(told, "ana@x.com")
    assert (await enrollment(world, ana, "mentor")).status == "available"  # not Ana's lapse
    assert (await enrollment(world, lee, "mentee")).status == "waiting"


# --- the reminder ---------------------------------------------------------------------------


async def test_the_mentor_is_reminded_the_working_day_before_and_only_once(
    world: World,
) -> None:
    world.clock.current = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday
    await lee_and_ana(world)
    await approve_round(await lead_of(world))
    await world.tick()
    world.take()
    world.clock.current = datetime(2026, 11, 30, 9, 59, tzinfo=UTC)  # a day before, almost
    await world.tick()
    assert to(world.take(), "ana@x.com") == ""
    world.clock.current = datetime(2026, 11, 30, 10, 5, tzinfo=UTC)
    await world.tick()
    await world.tick()
    world.clock.advance(hours=3)
    await world.tick()
    [reminder] = [r for r in world.take() if r.email == "ana@x.com"]
    assert reminder.at == datetime(2026, 11, 30, 10, 5, tzinfo=UTC)
    assert "Would you mentor Lee Park? The proposal lapses on Tue 1 Dec at 10:00" in reminder.text
    assert "Accept" in reminder.text and "Decline" in reminder.text


async def test_a_reminder_never_arrives_after_the_lapse(world: World) -> None:
    # Approved at 08:00 on a Monday: it lapses at 08:00 next Monday. A day before is a
    # Sunday, and the first working hour after that is past the lapse: Friday it is.
    world.clock.current = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    await lee_and_ana(world)
    await approve_round(await lead_of(world))
    for day, hour, minute in [
        (26, 9, 0),  # Thursday
        (26, 16, 0),
        (27, 8, 0),  # Friday
        (27, 9, 0),
        (27, 12, 0),
        (28, 10, 0),  # the weekend
        (29, 10, 0),
        (30, 7, 59),  # Monday: the lapse is at 08:00
        (30, 8, 1),
        (30, 9, 0),
    ]:
        world.clock.current = datetime(2026, 11, day, hour, minute, tzinfo=UTC)
        await world.tick()
    to_ana = [r for r in world.recorder.received if r.email == "ana@x.com"]
    [reminder] = [r for r in to_ana if "Reminder" in r.text]
    lapsed = next(r for r in to_ana if "lapsed because you didn't answer" in r.text)
    assert reminder.at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday, 09:00 London
    assert reminder.at < datetime(2026, 11, 30, 8, 0, tzinfo=UTC) <= lapsed.at
    assert all(9 <= r.local.hour < 17 and r.local.weekday() < 5 for r in to_ana)


async def test_an_answered_proposal_is_not_reminded(world: World) -> None:
    _lee, ana = await lee_and_ana(world)
    await approve_round(await lead_of(world))
    [proposal] = await open_pairings(world)
    await world.chat(ana).send(f"decline {proposal.id}")
    await world.run(days=8, step=6)
    assert not [r for r in world.recorder.received if "Reminder" in r.text]


# --- a mentor who keeps letting proposals lapse ----------------------------------------------


async def test_a_mentor_who_lets_two_proposals_lapse_is_paused_and_told_how_to_resume(
    world: World,
) -> None:
    lee, ana = await lee_and_ana(world)
    lead = await lead_of(world)
    await approve_round(lead)
    first = await lapse(world)
    assert "paused" not in to(first, "ana@x.com")
    await approve_round(lead)  # Ana again: nobody else fits Lee
    second = await lapse(world)
    told = to(second, "ana@x.com")
    assert (
        "That's 2 proposals in a row you've let lapse, so I've paused you as a mentor: you "
        "won't get new proposals until you type resume."
    ) in told
    assert (
        "Ana Lima has let 2 proposals in a row lapse, so they're paused as a mentor until "
        "they type resume."
    ) in to(second, LEAD)
    assert "no mentor with a free place can mentor them right now" in to(second, LEAD)
    chat = world.chat(ana)
    status = await chat.send("status")
    assert "You're paused as a mentor because proposals to you lapsed without an answer" in status
    await lead.expect("match", "Every enrolled mentor is paused right now")
    await chat.expect("resume", "The next match round can propose mentees to you again.")
    assert (await enrollment(world, ana, "mentor")).status == "available"
    # Counting starts afresh after the pause: one more lapse does not pause Ana again.
    await approve_round(lead)
    await lapse(world)
    assert (await enrollment(world, ana, "mentor")).status == "available"
    assert lee.id is not None


async def test_answering_a_proposal_starts_the_count_again(world: World) -> None:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima", capacity=2)
    lead = await lead_of(world)
    await approve_round(lead)
    await lapse(world)  # one lapse
    await mentee(world.database, "max@x.com", name="Max Roy")
    await approve_round(lead)  # Lee and Max, both to Ana
    await world.tick()
    max_proposal = next(p for p in await open_pairings(world) if p.mentee_id != lee.id)
    await world.chat(ana).expect(f"accept {max_proposal.id}", "I've asked Max Roy to confirm")
    await lapse(world)  # Lee's lapses again, but Ana answered Max's in between
    assert (await enrollment(world, ana, "mentor")).status == "available"


async def test_a_mentor_paused_for_lapses_keeps_mentoring_their_mentee(world: World) -> None:
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima", capacity=2)
    max_ = await mentee(world.database, "max@x.com", name="Max Roy")
    lead = await lead_of(world)
    await approve_round(lead)
    [proposal] = await open_pairings(world)
    await world.chat(ana).send(f"accept {proposal.id}")
    await world.chat(max_).expect(f"accept {proposal.id}", "you're paired with")
    await mentee(world.database, "lee@x.com", name="Lee Park")
    for _ in range(2):
        await approve_round(lead)
        await lapse(world)
    assert (await enrollment(world, ana, "mentor")).paused_reason == "lapses"
    await world.walk(15)
    got = world.take()
    assert "Check-in with Max Roy" in to(got, "ana@x.com")
    assert "break" not in to(got, "max@x.com")


async def test_lapses_before_pause_zero_never_pauses(database: Database, program: Program) -> None:
    world = World(database, with_matching(program, lapses_before_pause=0))
    _lee, ana = await lee_and_ana(world)
    lead = await lead_of(world)
    for _ in range(3):
        await approve_round(lead)
        await lapse(world)
    assert (await enrollment(world, ana, "mentor")).status == "available"


def test_lapses_before_pause_is_checked() -> None:
    assert Matching().lapses_before_pause == 2
    for wrong in (-1, 11):
        with pytest.raises(ValidationError, match="lapses_before_pause"):
            Matching(lapses_before_pause=wrong)


# --- status says why a mentee waits ---------------------------------------------------------


async def test_status_says_no_round_has_run_since_the_mentee_joined(world: World) -> None:
    lee, _ana = await lee_and_ana(world)
    status = await world.chat(lee).send("status")
    assert (
        "No match round has run since you joined the waitlist on Mon 2 Nov, so there's no "
        "proposal for you yet."
    ) in status


async def test_status_gives_the_reason_the_last_round_gave(world: World) -> None:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park", timezone="Pacific/Honolulu")
    await mentor(world.database, "ana@x.com", name="Ana Lima")
    lead = await lead_of(world)
    await lead.expect("match", "No mentee–mentor pair is allowed")
    status = await world.chat(lee).send("status")
    assert (
        "On Mon 23 Nov, the match round found no mentor for you: the only mentor with a free "
        "place can't mentor you because they're more than 8 h from your timezone."
    ) in status


async def test_status_gives_the_reason_a_round_with_proposals_told_the_mentee(
    world: World,
) -> None:
    await lee_and_ana(world)
    max_ = await mentee(world.database, "max@x.com", name="Max Roy", since=MONDAY)
    await approve_round(await lead_of(world))
    await world.tick()
    note = to(world.take(), "max@x.com")
    why = note.split("No mentor for you in this round: ")[1].split(". You're number")[0]
    status = await world.chat(max_).send("status")
    assert f"On Mon 23 Nov, the match round found no mentor for you: {why}." in status


async def test_status_says_a_proposal_lapsed(world: World) -> None:
    lee, _ana = await lee_and_ana(world)
    await approve_round(await lead_of(world))
    await lapse(world)
    status = await world.chat(lee).send("status")
    assert (
        "On Mon 30 Nov, a mentor proposal for you lapsed because the mentor didn't answer in "
        "time; you keep your place, and the next match round will look again."
    ) in status


async def test_status_says_a_proposal_was_declined(world: World) -> None:
    lee, ana = await lee_and_ana(world)
    await approve_round(await lead_of(world))
    [proposal] = await open_pairings(world)
    await world.chat(ana).send(f"decline {proposal.id}")
    status = await world.chat(lee).send("status")
    assert "On Mon 23 Nov, a mentor proposal for you was declined" in status
