"""The pairing lifecycle through the engine: review, proposals, accept, decline, expiry (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.render_text import render_all
from handlers import build_engine
from handlers.core.audit import entries
from handlers.core.engine import Engine
from handlers.core.outbox import take_waiting
from handlers.core.program import Program
from storage import Database, Enrollment, Outbox, Pairing, Person
from tests.helpers import (
    MENTOR_ANSWERS,
    Chat,
    FakeClock,
    make_person,
    mentee,
    mentor,
    rows,
    tuned,
)

LEAD = "priya.shah@example.com"


class Program5:
    """One small program: a lead, two mentees and two mentors."""

    def __init__(self, database: Database, program: Program) -> None:
        self.database = database
        self.clock = FakeClock()
        self.engine: Engine = build_engine(program=program, database=database, clock=self.clock)

    async def chat(self, person: Person) -> Chat:
        return Chat(self.engine, person)

    async def inbox(self, person: Person) -> str:
        """What the person sees of their waiting messages when they next open the shell."""
        assert person.id is not None
        async with self.database.session() as session:
            replies = await take_waiting(
                session, person_id=person.id, channel="shell", now=self.clock.now()
            )
        return render_all(replies)


@pytest.fixture
async def world(database: Database, program: Program) -> Program5:
    return Program5(database, program)


async def pairing(database: Database) -> Pairing:
    (found,) = await rows(database, Pairing)
    return found


async def lead_chat(world: Program5, program: Program | None = None) -> Chat:
    lead = await make_person(world.database, LEAD, name="Priya Shah")
    if program is not None:
        world.engine = build_engine(program=program, database=world.database, clock=world.clock)
    return Chat(world.engine, lead)


async def proposed(world: Program5) -> tuple[Person, Person, Chat, Pairing]:
    """Lee Park (mentee) and Ana Lima (mentor), proposed to each other by an approved round."""
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima")
    lead = await lead_chat(world)
    await lead.send("match")
    await lead.send("approve all")
    return lee, ana, lead, await pairing(world.database)


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
