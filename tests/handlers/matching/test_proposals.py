"""Proposals through the engine: accept, decline, expiry, status (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.core.program import Program
from storage import Database, Enrollment, Outbox
from tests.handlers.proposal_world import Program5, lead_chat, pairing, proposed
from tests.helpers import MENTOR_ANSWERS, make_person, mentee, mentor, rows

AUCKLAND, LOS_ANGELES = "Pacific/Auckland", "America/Los_Angeles"


@pytest.fixture
async def world(database: Database, program: Program) -> Program5:
    return Program5(database, program)


async def test_the_whole_lifecycle_from_match_to_an_active_pairing(world: Program5) -> None:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park", department="Sales", level=3)
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima", department="Product", level=6)
    lead = await lead_chat(world)
    review = await lead.send("match")
    assert (
        "Matching round: 1 proposal for 1 waiting mentee; 0 would stay on the waitlist." in review
    )
    assert "1. Lee Park → Ana Lima · fit " in review
    assert "Sales → Product, a new function" in review
    assert await world.inbox(ana) == ""  # nothing goes out before the lead approves

    done = await lead.send("1")  # approve all
    assert "Sent 1 proposal to the mentors" in done
    proposal = await pairing(world.database)
    assert proposal.status == "proposed"
    assert proposal.proposed_by is not None

    offer = await world.inbox(ana)
    assert "== A mentee for you: Lee Park ==" in offer
    assert "Would you mentor Lee Park?" in offer
    assert "Goals: Get ready to lead a team" in offer
    assert "1. Accept" in offer and "2. Decline" in offer
    assert await world.inbox(lee) == ""  # the mentee hears only once the mentor accepts

    mentor_chat = await world.chat(ana)
    await mentor_chat.expect(f"accept {proposal.id}", "I've asked Lee Park to confirm")
    offered = await world.inbox(lee)
    assert "Ana Lima would like to be your mentor" in offered
    assert "Sales → Product, a new function" in offered
    assert "About: Fifteen years leading teams" in offered

    mentee_chat = await world.chat(lee)
    await mentee_chat.expect("status", "Ana Lima has offered to mentor you")
    await mentee_chat.expect(f"accept {proposal.id}", "you're paired with Ana Lima")
    assert (await pairing(world.database)).status == "active"
    assert "Lee Park accepted: you're now paired" in await world.inbox(ana)
    await mentee_chat.expect("status", "You're paired with Ana Lima, your mentor, since")
    await mentor_chat.expect("status", "You're mentoring Lee Park since")
    (enrollment,) = [e for e in await rows(world.database, Enrollment) if e.role == "mentee"]
    assert enrollment.status == "matched"


async def test_a_repeated_or_stale_answer_changes_nothing(world: Program5) -> None:
    lee, ana, _, proposal = await proposed(world)
    mentor_chat, mentee_chat = await world.chat(ana), await world.chat(lee)
    await mentee_chat.expect(
        f"accept {proposal.id}", "Your mentor hasn't answered this proposal yet"
    )
    await mentor_chat.send(f"accept {proposal.id}")
    await mentor_chat.expect(
        f"accept {proposal.id}", "You already accepted this proposal", "nothing changed"
    )
    await mentor_chat.expect(f"decline {proposal.id}", "nothing changed")
    assert (await pairing(world.database)).status == "accepted"
    await mentee_chat.send(f"accept {proposal.id}")
    await mentee_chat.expect(f"accept {proposal.id}", "already active; nothing changed")
    await mentee_chat.expect(f"decline {proposal.id}", "already active; nothing changed")
    assert (await pairing(world.database)).status == "active"
    outbox = await rows(world.database, Outbox)
    assert len([o for o in outbox if o.dedupe_key.endswith(":active")]) == 1


async def test_someone_elses_or_a_missing_proposal_is_refused(world: Program5) -> None:
    await mentee(world.database, "lee@x.com")
    await mentor(world.database, "ana@x.com")
    stranger = await make_person(world.database, "zed@x.com")
    lead = await lead_chat(world)
    await lead.send("match")
    await lead.send("1")
    proposal = await pairing(world.database)
    chat = await world.chat(stranger)
    await chat.expect(f"accept {proposal.id}", f"There's no proposal {proposal.id} for you")
    await chat.expect("accept 999", "There's no proposal 999 for you")
    await chat.expect("decline", "You have no proposal waiting for your answer")
    await chat.expect("accept soon", "Type accept followed by the proposal's number")
    assert (await pairing(world.database)).status == "proposed"


async def test_a_mentor_decline_returns_the_mentee_to_the_pool_without_that_mentor(
    world: Program5,
) -> None:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima", strengths=("coaching",))
    lead = await lead_chat(world)
    await lead.send("match")
    await lead.send("1")
    mentor_chat = await world.chat(ana)
    await mentor_chat.expect(
        "decline", "Lee goes back to the pool and won't be proposed to you again"
    )
    assert await world.inbox(lee) == ""  # Lee never saw the proposal
    await lead.expect("match", "No mentee–mentor pair is allowed", "paired or declined before")
    kim = await mentor(world.database, "kim@x.com", name="Kim Chu", strengths=("vision",))
    await lead.expect("match", "1. Lee Park → Kim Chu")
    assert kim.id is not None


async def test_a_mentee_decline_tells_the_mentor_kindly(world: Program5) -> None:
    lee, ana, _, _ = await proposed(world)
    await (await world.chat(ana)).send("accept")
    await world.inbox(ana)
    await (await world.chat(lee)).expect("decline", "you won't be proposed to Ana Lima again")
    told = await world.inbox(ana)
    assert "Lee Park decided to look for a different match" in told
    assert "Thank you for offering" in told
    proposal = await pairing(world.database)
    assert (proposal.status, proposal.declined_by) == ("declined", "mentee")
    await (await world.chat(lee)).expect("status", "You're number 1 of 1 on the waitlist")


async def test_an_unanswered_proposal_lapses_and_the_lead_is_told(world: Program5) -> None:
    lee, ana, lead, proposal = await proposed(world)
    world.clock.advance(days=7, seconds=1)
    mentor_chat = await world.chat(ana)
    await mentor_chat.expect(f"accept {proposal.id}", "lapsed", "nothing changed")
    proposal = await pairing(world.database)
    assert (proposal.status, proposal.declined_by) == ("expired", "mentor")
    told = await world.inbox(lead.person)
    assert (
        "The proposal Lee Park → Ana Lima lapsed: Ana Lima (mentor) didn't answer within 7 days."
        in told
    )
    await (await world.chat(lee)).expect("status", "You're number 1 of 1 on the waitlist")


async def test_a_proposal_can_be_answered_in_the_middle_of_an_intake(world: Program5) -> None:
    _, ana, _, proposal = await proposed(world)
    chat = await world.chat(ana)
    await chat.expect("join mentor", "Do you want to update your mentor answers?")
    await chat.send("yes")
    await chat.send(MENTOR_ANSWERS[0])
    reply = await chat.send(f"accept {proposal.id}")
    assert "I've asked Lee Park to confirm" in reply
    assert "How many mentees can you take on at the same time?" in reply  # intake goes on
    assert (await pairing(world.database)).status == "accepted"


async def test_each_side_reads_the_deadline_on_their_own_clock(world: Program5) -> None:
    # Approved at noon UTC, the proposal lapses on Mon 30 Nov 12:00 UTC: 01:00 on Tuesday
    # in Auckland, 04:00 on Monday in Los Angeles.
    world.clock.current = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    lee = await mentee(world.database, "lee@x.com", name="Lee Park", timezone=LOS_ANGELES)
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima", timezone=AUCKLAND)
    lead = await lead_chat(world)
    await lead.send("match")
    await lead.send("approve all")
    proposal = await pairing(world.database)
    assert "Please answer by Tue 1 Dec at 01:00 (your time)" in await world.inbox(ana)
    await (await world.chat(ana)).expect(
        "status", f"type accept {proposal.id} or decline {proposal.id} by Tue 1 Dec at 01:00"
    )
    await (await world.chat(ana)).send(f"accept {proposal.id}")
    assert "Please answer by Mon 30 Nov at 04:00 (your time)" in await world.inbox(lee)
    await (await world.chat(lee)).expect(
        "status", f"type accept {proposal.id} or decline {proposal.id} by Mon 30 Nov at 04:00"
    )
