"""A program lead pairs by hand (``pair``) and lifts a past no (``unexclude``), both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.core.audit import entries
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.matching.by_hand import pair_by_hand
from storage import Database, Pairing, Person
from tests.handlers.circles.running_world import PROGRAM as CIRCLE_PROGRAM
from tests.handlers.circles.running_world import circle_world
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import Chat, enroll_as, make_person, mentee, mentor, rows


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def lead_of(world: World) -> Chat:
    return world.chat(await make_person(world.database, LEAD, name="Priya Shah"))


async def lee_and_ana(world: World, **lee: object) -> tuple[Person, Person]:
    return (
        await mentee(world.database, "lee@x.com", name="Lee Park", **lee),
        await mentor(world.database, "ana@x.com", name="Ana Lima"),
    )


async def pairings(world: World) -> list[Pairing]:
    return await rows(world.database, Pairing)


async def audited(world: World) -> list[tuple[str, str, bool]]:
    async with world.database.session() as session:
        return [(e.actor, e.action, e.allowed) for e in await entries(session)]


# --- pair -----------------------------------------------------------------------------------


async def test_a_lead_pairs_by_hand_and_it_goes_to_the_mentor_like_any_proposal(
    world: World,
) -> None:
    lee, ana = await lee_and_ana(world)
    lead = await lead_of(world)
    done = await lead.send("pair lee@x.com ana@x.com")
    assert "Proposed Lee Park → Ana Lima (fit 0." in done
    assert "Ana Lima has it now with Accept / Decline; Lee Park hears once they accept." in done
    [proposal] = await pairings(world)
    assert (proposal.status, proposal.proposed_by) == ("proposed", lead.person.id)
    offer = await world.read_waiting(ana)
    assert "Would you mentor Lee Park? The program lead suggests you: a " in offer
    assert "fit 0." not in offer  # the number is for leads
    assert "Accept" in offer and "Decline" in offer
    await world.chat(ana).expect(f"accept {proposal.id}", "I've asked Lee Park to confirm")
    assert "Ana Lima would like to be your mentor" in await world.read_waiting(lee)
    await world.chat(lee).expect(f"accept {proposal.id}", "you're paired with Ana Lima")
    assert (LEAD, "pair", True) in await audited(world)


async def test_people_can_be_named_by_full_or_first_name(world: World) -> None:
    await lee_and_ana(world)
    lead = await lead_of(world)
    await lead.expect("pair Lee Park Ana Lima", "Proposed Lee Park → Ana Lima")
    await mentee(world.database, "max@x.com", name="Max Roy")
    await mentor(world.database, "kim@x.com", name="Kim Ito Sato")
    await lead.expect("pair max with kim ito sato", "Proposed Max Roy → Kim Ito Sato")


async def test_an_unknown_or_ambiguous_name_is_refused_with_what_to_type(world: World) -> None:
    await lee_and_ana(world)
    await mentee(world.database, "lee.wong@x.com", name="Lee Wong")
    lead = await lead_of(world)
    reply = await lead.send("pair Lee Ana")
    assert (
        "Several people match 'Lee': Lee Park <lee@x.com>, Lee Wong <lee.wong@x.com>. Use the "
        "email of the one you mean."
    ) in reply
    await lead.expect("pair zoe@x.com ana@x.com", "I can't find 'zoe@x.com' in the directory")
    await lead.expect("pair", "Type pair followed by the mentee and the mentor")
    await lead.expect(
        "pair Lee Park Zed Quinn", "I can't find two people in 'Lee Park Zed Quinn'. Type pair"
    )
    assert await pairings(world) == []


async def test_only_program_leads_can_pair_or_unexclude(world: World) -> None:
    lee, _ana = await lee_and_ana(world)
    chat = world.chat(lee)
    await chat.expect("pair lee@x.com ana@x.com", "Sorry, pair is for the program leads only.")
    await chat.expect("unexclude lee@x.com ana@x.com", "for the program leads only")
    assert await audited(world) == [("lee@x.com", "pair", False), ("lee@x.com", "unexclude", False)]
    listed = await chat.send("help")
    assert "• pair" not in listed and "• unexclude" not in listed
    lead_help = await (await lead_of(world)).send("help")
    assert "• pair MENTEE MENTOR: propose one mentee to one mentor outside a round" in lead_help
    assert "• unexclude MENTEE MENTOR: let a mentee and a mentor be proposed again" in lead_help


async def test_pairing_someone_with_themselves_is_refused(world: World) -> None:
    both = await mentee(world.database, "lee@x.com", name="Lee Park")
    await mentor(world.database, "lee@x.com", name="Lee Park")
    reply = await (await lead_of(world)).send("pair lee@x.com lee@x.com")
    assert "I can't propose Lee Park → Lee Park:\n• Lee Park can't mentor themselves." in reply
    assert both.id is not None and await pairings(world) == []


async def test_the_management_chain_blocks_a_pair(world: World) -> None:
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima")
    await mentee(world.database, "lee@x.com", name="Lee Park", manager_id=ana.id)
    reply = await (await lead_of(world)).send("pair lee@x.com ana@x.com")
    assert (
        "• Ana Lima is in Lee Park's management chain (their manager or above, or reporting "
        "to them); choose a mentor outside it."
    ) in reply


async def test_the_timezone_gap_blocks_a_pair(world: World) -> None:
    await lee_and_ana(world, timezone="Pacific/Honolulu")
    reply = await (await lead_of(world)).send("pair lee@x.com ana@x.com")
    assert (
        "• Lee Park and Ana Lima are 10 h apart, more than matching.max_timezone_gap_hours "
        "(8); choose a mentor nearer in time, or raise that setting."
    ) in reply


async def test_someone_not_enrolled_in_the_role_is_named_with_how_to_join(world: World) -> None:
    await make_person(world.database, "lee@x.com", name="Lee Park")
    await make_person(world.database, "ana@x.com", name="Ana Lima")
    await mentee(world.database, "kim@x.com", name="Kim Ito")  # a mentee, not a mentor
    lead = await lead_of(world)
    reply = await lead.send("pair lee@x.com kim@x.com")
    assert "• Kim Ito isn't enrolled as a mentor; they can type join mentor." in reply
    assert "• Lee Park isn't enrolled as a mentee; they can type join mentee." in reply


async def test_an_open_proposal_or_a_full_mentor_blocks_a_pair(world: World) -> None:
    await lee_and_ana(world)
    await mentee(world.database, "max@x.com", name="Max Roy")
    await mentor(world.database, "kim@x.com", name="Kim Ito")
    lead = await lead_of(world)
    await lead.expect("pair lee@x.com ana@x.com", "Proposed")
    reply = await lead.send("pair lee@x.com kim@x.com")
    assert "• Lee Park already has a proposal open with Ana Lima (pairing 1); wait for" in reply
    reply = await lead.send("pair max@x.com ana@x.com")
    assert (
        "• Ana Lima has no free place (1 of 1 place taken); they can take one more by "
        "updating their answers (join), or choose another mentor."
    ) in reply


async def test_a_past_decline_blocks_a_pair_until_a_lead_unexcludes_it(world: World) -> None:
    _lee, ana = await lee_and_ana(world)
    lead = await lead_of(world)
    await lead.expect("pair lee@x.com ana@x.com", "Proposed")
    await world.chat(ana).send("decline 1")
    reply = await lead.send("pair lee@x.com ana@x.com")
    assert (
        "• Lee Park and Ana Lima declined a proposal before (pairing 1, declined by the "
        "mentor); if both agree now, type unexclude lee@x.com ana@x.com first."
    ) in reply
    await lead.expect("match", "No mentee–mentor pair is allowed")
    done = await lead.send("unexclude Lee Park Ana Lima")
    assert "Done: Lee Park and Ana Lima may be proposed to each other again." in done
    assert (LEAD, "unexclude", True) in await audited(world)
    await lead.expect("match", "1. Lee Park → Ana Lima")


async def test_a_lapsed_pair_can_be_paired_by_hand(world: World) -> None:
    await lee_and_ana(world)
    lead = await lead_of(world)
    await lead.expect("pair lee@x.com ana@x.com", "Proposed")
    world.clock.advance(days=7, minutes=1)
    await world.tick()
    assert (await pairings(world))[0].status == "expired"
    await lead.expect("pair lee@x.com ana@x.com", "Proposed Lee Park → Ana Lima")


async def test_unexclude_lifts_a_lapse_so_it_no_longer_comes_last(world: World) -> None:
    await mentee(world.database, "lee@x.com", name="Lee Park", wants=("coaching", "vision"))
    await mentor(world.database, "ana@x.com", name="Ana Lima", strengths=("coaching", "vision"))
    lead = await lead_of(world)
    await lead.expect("pair lee@x.com ana@x.com", "Proposed")
    world.clock.advance(days=7, minutes=1)
    await world.tick()
    await mentor(world.database, "kim@x.com", name="Kim Ito", strengths=("execution",))
    await lead.expect("match", "1. Lee Park → Kim Ito")
    await lead.send("cancel")
    await lead.expect("unexclude lee@x.com ana@x.com", "may be proposed to each other again")
    await lead.expect("match", "1. Lee Park → Ana Lima")


async def test_unexclude_says_when_there_is_nothing_to_lift_or_they_were_paired(
    world: World,
) -> None:
    lee, ana = await lee_and_ana(world)
    lead = await lead_of(world)
    await lead.expect(
        "unexclude lee@x.com ana@x.com",
        "Nothing keeps Lee Park and Ana Lima apart: there's no declined or lapsed proposal",
    )
    assert lee.id is not None and ana.id is not None
    async with world.database.session() as session:
        session.add(
            Pairing(
                program="leadership-2027",
                mentee_id=lee.id,
                mentor_id=ana.id,
                status="ended",
                batch="earlier",
                proposed_at=world.clock.now() - timedelta(days=200),
                expires_at=world.clock.now() - timedelta(days=193),
            )
        )
    await lead.expect(
        "unexclude lee@x.com ana@x.com",
        "Lee Park and Ana Lima were paired before (pairing 1); unexclude lifts only a declined "
        "or lapsed proposal.",
    )
    assert [e for e in await audited(world) if e[1] == "unexclude"] == []


async def test_a_lead_reads_when_an_open_proposal_lapses_on_their_own_clock(
    world: World,
) -> None:
    # Proposed at noon UTC on Mon 23 Nov, it lapses a week later: Tuesday 01:00 in Auckland.
    world.clock.advance(hours=2)
    await lee_and_ana(world)
    await mentor(world.database, "kim@x.com", name="Kim Ito")
    lead = world.chat(await make_person(world.database, LEAD, timezone="Pacific/Auckland"))
    await lead.expect("pair lee@x.com ana@x.com", "Proposed")
    await lead.expect(
        "pair lee@x.com kim@x.com", "or for it to lapse on Tue 1 Dec at 01:00 (your time)."
    )


# --- a circles program ----------------------------------------------------------------------


async def test_pair_in_a_circles_program_is_refused_with_what_to_do_there(
    database: Database, circle_programs: Programs
) -> None:
    world = circle_world(database, circle_programs)
    lee = await make_person(database, "lee@x.com", name="Lee Park")
    await enroll_as(database, lee, "mentee", program=CIRCLE_PROGRAM, answers={})
    ana = await make_person(database, "ana@x.com", name="Ana Lima")
    await enroll_as(database, ana, "mentor", program=CIRCLE_PROGRAM, capacity=1, answers={})
    lead = await lead_of(world)
    refused = (
        "Leadership Circles forms circles, not pairs, so there is no pair to propose by hand. "
        f"Type match {CIRCLE_PROGRAM} to form circles from everyone waiting"
    )
    await lead.expect(f"pair {CIRCLE_PROGRAM} lee@x.com ana@x.com", refused)
    # The command line proposes through pair_by_hand, which refuses as well.
    async with database.session() as session:
        result = await pair_by_hand(
            session,
            circle_programs.of(CIRCLE_PROGRAM),
            mentee=lee,
            mentor=ana,
            lead=lead.person,
            now=world.clock.now(),
        )
    assert not result.done and result.headline.startswith(refused)
    assert await pairings(world) == []
