"""A lead's matching round through the engine: review, approve all or some (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.core.audit import entries
from handlers.core.program import Program
from handlers.matching import rounds
from storage import Database, Enrollment, Pairing
from tests.handlers.proposal_world import LEAD, Program5, lead_chat, pairing, proposed
from tests.helpers import mentee, mentor, rows, tuned


@pytest.fixture
async def world(database: Database, program: Program) -> Program5:
    return Program5(database, program)


async def test_only_program_leads_can_match(world: Program5) -> None:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    chat = await world.chat(lee)
    await chat.expect("match", "Sorry, match is for the program leads only.")
    async with world.database.session() as session:
        [refused] = await entries(session)
    assert (refused.actor, refused.action, refused.allowed) == ("lee@x.com", "match", False)
    assert "• match" not in await chat.send("help")
    assert await rows(world.database, Pairing) == []


async def test_a_lead_approving_a_round_is_audited(world: Program5) -> None:
    await proposed(world)
    async with world.database.session() as session:
        [approved] = await entries(session)
    assert (approved.actor, approved.action, approved.allowed) == (LEAD, "match-approve", True)
    assert approved.detail == {"approved": 1, "sent": 1, "skipped": 0, "held": 0}


async def test_match_with_nobody_waiting_says_so(world: Program5) -> None:
    lead = await lead_chat(world)
    await lead.expect("match", "There are no mentees waiting for a match")


async def test_a_match_round_lapses_overdue_proposals_first(world: Program5) -> None:
    _, _, lead, _ = await proposed(world)
    world.clock.advance(days=8)
    # A lapse is not a decline: with nobody else for Lee, Ana is proposed again, and why.
    await lead.expect("match", "1. Lee Park → Ana Lima", "proposed before and lapsed unanswered")
    assert (await pairing(world.database)).status == "expired"


async def test_leftover_mentees_are_told_why_and_their_place(world: Program5) -> None:
    first = await mentee(
        world.database, "one@x.com", name="One A", since=world.clock.now() - timedelta(days=9)
    )
    second = await mentee(world.database, "two@x.com", name="Two B", wants=("vision",))
    await mentor(world.database, "ana@x.com", name="Ana Lima", strengths=("coaching",))
    lead = await lead_chat(world)
    await lead.expect("match", "1 proposal for 2 waiting mentees; 1 would stay on the waitlist")
    await lead.expect("1", "1 mentee on the waitlist was told why and where they stand")
    note = await world.inbox(second)
    assert "== You're on the waitlist ==" in note
    assert "no mentor with a free place offers Communicating a vision yet" in note
    assert "You're number 1 of 1 on the waitlist" in note
    assert await world.inbox(first) == ""  # their mentor hears first


async def test_a_lead_can_approve_only_some(world: Program5) -> None:
    one = await mentee(world.database, "one@x.com", name="One A")
    two = await mentee(world.database, "two@x.com", name="Two B")
    await mentor(world.database, "ana@x.com", name="Ana Lima")
    await mentor(world.database, "kim@x.com", name="Kim Chu")
    lead = await lead_chat(world)
    await lead.send("match")
    choose = await lead.send("choose")
    assert "Which proposals should go out?" in choose
    prompt = lead.last[0].prompt
    assert prompt is not None
    second = prompt.options[1].label  # e.g. "2. Two B → Kim Chu (fit 0.61)"
    await lead.expect("7", "There is no proposal 7; they go from 1 to 2.")
    # Numbers no proposal can have are refused in words, never a crash: a superscript,
    # thousands of digits, a range past the end.
    await lead.expect("²", "Please type proposal numbers between 1 and 2")
    await lead.expect("9" * 5000, "There is no proposal 999999999999999999999999…")
    await lead.expect("1-99999999999999999999", "There is no proposal 99999999999999999999;")
    await lead.expect("back", "Proposals to review")
    await lead.send("2")
    done = await lead.send("2")
    assert "Sent 1 proposal" in done
    (sent,) = await rows(world.database, Pairing)
    chosen, held = (two, one) if second.startswith("2. Two B") else (one, two)
    assert sent.mentee_id == chosen.id
    assert "held back this round's proposal" in await world.inbox(held)


async def test_blind_review_hides_names_behind_profiles(world: Program5, program: Program) -> None:
    await mentee(world.database, "lee@x.com", name="Lee Park", department="Sales", level=3)
    await mentor(world.database, "ana@x.com", name="Ana Lima", department="Product", level=6)
    lead = await lead_chat(world, tuned(program, blind_review=True))
    review = await lead.send("match")
    assert "Lee Park" not in review and "Ana Lima" not in review
    assert (
        "1. Mentee 1 (Sales; level 3; London, same time as you; wants Coaching) → "
        "Mentor 1 (Product; level 6; London, same time as you) · fit 0." in review
    )


async def test_blind_review_with_nothing_to_propose_shows_waiting_mentees_as_profiles(
    world: Program5, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    await mentee(world.database, "lee@x.com", name="Lee Park", department="Sales", level=3)
    await mentor(world.database, "ana@x.com", name="Ana Lima", department="Product", level=6)
    # The solver finds no pair it may propose, so the round has nothing to approve.
    monkeypatch.setattr(rounds, "solve", lambda *args, **kwargs: [])
    lead = await lead_chat(world, tuned(program, blind_review=True))
    review = await lead.send("match")
    assert "No proposals this round" in review
    assert "Lee Park" not in review and "Ana Lima" not in review
    assert "• A mentee (Sales; level 3; London, same time as you; wants Coaching): " in review


async def test_a_round_with_nothing_to_propose_for_its_one_mentee_says_so_in_the_singular(
    world: Program5, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    await mentee(world.database, "lee@x.com", name="Lee Park")
    await mentor(world.database, "ana@x.com", name="Ana Lima")
    monkeypatch.setattr(rounds, "solve", lambda *args, **kwargs: [])
    review = await (await lead_chat(world, program)).send("match")
    assert "No proposals this round: the only waiting mentee can't be matched." in review


async def test_the_approval_rechecks_what_changed_since_the_review(world: Program5) -> None:
    await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima")
    lead = await lead_chat(world)
    await lead.send("match")
    async with world.database.session() as session:
        enrollment = next(
            e for e in await rows(world.database, Enrollment) if e.person_id == ana.id
        )
        enrollment.status = "paused"
        session.add(enrollment)
    done = await lead.send("1")
    assert "Sent 0 proposals" in done
    assert "Lee Park → Ana Lima: Ana Lima is not available to mentor right now" in done
    assert await rows(world.database, Pairing) == []
