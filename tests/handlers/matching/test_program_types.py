"""Matching per program type and program: reverse, peer, cohort, several programs (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.render_text import render_all
from handlers import build_engine
from handlers.core.outbox import take_waiting
from handlers.core.programs import Programs
from handlers.matching.pool import load_pool
from handlers.matching.review import plan_round
from storage import Database, DueItem, Enrollment, Outbox, Pairing, Person
from tests.helpers import Chat, FakeClock, enroll_as, make_person, rows, tuned

NOW = datetime(2027, 2, 10, 10, tzinfo=UTC)


class World:
    """Several programs (tests/fixtures/programs.yaml) over one database, at a fake time."""

    def __init__(self, database: Database, programs: Programs, now: datetime = NOW) -> None:
        self.database = database
        self.programs = programs
        self.clock = FakeClock(now)
        self.engine = build_engine(programs=programs, database=database, clock=self.clock)

    async def person(self, email: str, **fields: object) -> Person:
        name = email.split("@")[0].replace(".", " ").title()
        return await make_person(self.database, email, name=name, **fields)

    async def peer(
        self,
        email: str,
        *,
        level: int,
        wants: list[str],
        offers: list[str],
        status: str | None = None,
        **fields: object,
    ) -> Person:
        found = await self.person(email, level=level, **fields)
        await enroll_as(
            self.database,
            found,
            "peer",
            program="peer-circle",
            status=status,
            answers={"wants": wants, "offers": offers, "goals": "Grow as a leader"},
        )
        return found

    async def plan(self, program_id: str):  # type: ignore[no-untyped-def]
        async with self.database.session() as session:
            return await plan_round(session, self.programs.of(program_id), now=self.clock.now())

    async def inbox(self, person: Person) -> str:
        assert person.id is not None
        async with self.database.session() as session:
            replies = await take_waiting(
                session, person_id=person.id, channel="shell", now=self.clock.now()
            )
        return render_all(replies)


@pytest.fixture
def world(database: Database, programs: Programs) -> World:
    return World(database, programs)


# --- reverse -------------------------------------------------------------------------------


async def _reverse_mentee(world: World, email: str, level: int, **fields: object) -> Person:
    found = await world.person(email, level=level, **fields)
    await enroll_as(
        world.database,
        found,
        "mentee",
        program="reverse-2027",
        answers={"goals": "Understand how younger colleagues use AI", "competencies": ["coaching"]},
    )
    return found


async def _reverse_mentor(world: World, email: str, level: int, **fields: object) -> Person:
    found = await world.person(email, level=level, **fields)
    await enroll_as(
        world.database,
        found,
        "mentor",
        program="reverse-2027",
        capacity=1,
        answers={"strengths": ["coaching"], "capacity": 1, "bio": "AI tools every day"},
    )
    return found


async def test_reverse_mentors_are_at_least_min_level_gap_below_and_never_in_the_chain(
    world: World,
) -> None:
    boss = await _reverse_mentee(world, "boss@x.com", 8)
    vp = await _reverse_mentee(world, "vp@x.com", 7)
    junior = await _reverse_mentor(world, "junior@x.com", 3, manager_id=boss.id)  # in the chain
    await _reverse_mentor(world, "almost@x.com", 7)  # 1 below boss, level with vp
    fresh = await _reverse_mentor(world, "fresh@x.com", 2)
    plan = await world.plan("reverse-2027")
    gap = world.programs.of("reverse-2027").matching.min_level_gap
    assert plan.proposals
    for proposal in plan.proposals:
        assert proposal.mentee.level is not None and proposal.mentor.level is not None
        assert proposal.mentee.level - proposal.mentor.level >= gap
        assert not (proposal.mentee.person_id == boss.id and proposal.mentor.person_id == junior.id)
    pairs = {(p.mentee.person_id, p.mentor.person_id) for p in plan.proposals}
    assert pairs == {(boss.id, fresh.id), (vp.id, junior.id)}
    reasons = {r.lead for p in plan.proposals for r in p.reasons}
    assert any("levels junior: brings a fresh view" in r for r in reasons)


# --- peers ---------------------------------------------------------------------------------


async def test_peers_pair_within_the_level_gap_nobody_twice_no_chain_and_the_odd_one_waits(
    world: World,
) -> None:
    ana = await world.peer("ana@x.com", level=3, wants=["coaching"], offers=["influence"])
    await world.peer("ben@x.com", level=4, wants=["influence"], offers=["coaching"])
    cy = await world.peer(
        "cy@x.com", level=3, wants=["vision"], offers=["coaching"], manager_id=ana.id
    )
    dee = await world.peer("dee@x.com", level=7, wants=["vision"], offers=["vision"])
    eve = await world.peer("eve@x.com", level=4, wants=["execution"], offers=["vision"])
    paused = await world.peer(
        "paused@x.com", level=3, wants=["coaching"], offers=["coaching"], status="paused"
    )
    plan = await world.plan("peer-circle")
    assert plan.problem is None
    seen: list[int] = []
    for proposal in plan.proposals:
        a, b = proposal.mentee, proposal.mentor
        assert a.person_id < b.person_id  # the lower id on the mentee side
        assert abs((a.level or 0) - (b.level or 0)) <= 1
        assert {a.person_id, b.person_id} != {ana.id, cy.id}  # manager and report
        seen += [a.person_id, b.person_id]
    assert len(seen) == len(set(seen))
    assert paused.id not in seen
    assert len(plan.proposals) == 2  # ana-ben, cy-eve; dee (level 7) has nobody near
    waiting = {w.mentee.person_id: w.why for w in plan.waiting}
    assert set(waiting) == {dee.id}
    assert "too many levels apart" in waiting[dee.id]
    ana_ben = next(p for p in plan.proposals if p.mentee.person_id == ana.id)
    leads = " · ".join(r.lead for r in ana_ben.reasons)
    assert "Ben can help Ana with Coaching" in leads
    assert "Ana can help Ben with Influence and stakeholder management" in leads
    assert eve.id in seen


async def test_one_paused_peer_and_nobody_waiting_reads_in_the_singular(world: World) -> None:
    await world.peer("ana@x.com", level=3, wants=["coaching"], offers=["coaching"], status="paused")
    plan = await world.plan("peer-circle")
    assert "(1 enrolled peer is paused.)" in (plan.problem or "")


async def test_two_peers_in_one_chain_each_hear_why_the_only_other_cannot_pair(
    world: World,
) -> None:
    ana = await world.peer("ana@x.com", level=3, wants=["coaching"], offers=["influence"])
    await world.peer(
        "ben@x.com", level=3, wants=["influence"], offers=["coaching"], manager_id=ana.id
    )
    plan = await world.plan("peer-circle")
    assert {w.why for w in plan.waiting} == {
        "the only other peer waiting can't pair with you because they're in your management chain"
    }


async def test_a_peer_proposal_asks_one_peer_then_the_other_as_learning_partners(
    world: World,
) -> None:
    ana = await world.peer("ana@x.com", level=3, wants=["coaching"], offers=["influence"])
    ben = await world.peer("ben@x.com", level=3, wants=["influence"], offers=["coaching"])
    lead = Chat(world.engine, await world.person("marcus.lee@example.com"))
    review = await lead.send("match peer-circle")
    assert "1 proposal for 2 waiting peers" in review
    assert "Ana ↔ Ben" in review
    done = await lead.send("approve all")
    assert "in each pair one peer is asked first" in done
    (pairing,) = await rows(world.database, Pairing)
    assert (pairing.mentee_id, pairing.mentor_id) == (ana.id, ben.id)
    first = await world.inbox(ben)
    assert "Would you like Ana as your learning partner?" in first
    assert "you can help Ana with Coaching" in first
    assert await world.inbox(ana) == ""
    await Chat(world.engine, ben).expect(f"accept {pairing.id}", "I've asked Ana to confirm")
    second = await world.inbox(ana)
    assert "Ben would like to be your learning partner" in second
    await Chat(world.engine, ana).expect(f"accept {pairing.id}", "you're paired with Ben")
    told = await world.inbox(ben)
    assert "you're now learning partners" in told
    status = await Chat(world.engine, ana).send("status")
    assert "You're paired with Ben, your learning partner, since" in status
    for text in (first, second, told, status, await world.inbox(ana)):
        assert "your mentor" not in text and "your mentee" not in text
    async with world.database.session() as session:
        assert not (await load_pool(session, world.programs.of("peer-circle"))).peers
    # Both peers' enrollments read as paired, and both are done when the pairing closes.
    assert await _peer_statuses(world) == {ana.id: "matched", ben.id: "matched"}
    assert "enrolled as a peer, paired with a peer" in status
    await Chat(world.engine, ben).expect(f"close {pairing.id}", "Closed")
    assert await _peer_statuses(world) == {ana.id: "completed", ben.id: "completed"}


async def test_a_blind_review_of_one_waiting_peer_does_not_name_them(
    database: Database, programs: Programs
) -> None:
    blind = Programs(
        [tuned(p, blind_review=True) if p.id == "peer-circle" else p for p in programs],
        leads=programs.leads,
    )
    world = World(database, blind)
    await world.peer("ana.lima@x.com", level=3, wants=["coaching"], offers=["influence"])
    lead = Chat(world.engine, await world.person("marcus.lee@example.com"))
    review = await lead.send("match peer-circle")
    assert "One peer is the only peer waiting for a learning partner" in review
    assert "Ana" not in review


async def _peer_statuses(world: World) -> dict[int | None, str]:
    return {
        e.person_id: e.status
        for e in await rows(world.database, Enrollment)
        if e.program == "peer-circle"
    }


# --- cohorts -------------------------------------------------------------------------------


async def _pilot_pair(world: World) -> tuple[Person, Person]:
    lee = await world.person("lee@x.com", department="Sales", level=3)
    ana = await world.person("ana@x.com", department="Sales", level=6)
    await enroll_as(
        world.database,
        lee,
        "mentee",
        program="sales-pilot",
        answers={"goals": "Lead a sales team", "competencies": ["coaching"]},
    )
    await enroll_as(
        world.database,
        ana,
        "mentor",
        program="sales-pilot",
        capacity=1,
        answers={"strengths": ["coaching"], "capacity": 1, "bio": "Sales leader"},
    )
    return lee, ana


async def test_a_cohort_is_matched_only_from_the_end_of_enrolment(
    database: Database, programs: Programs
) -> None:
    world = World(database, programs, now=datetime(2027, 1, 20, 10, tzinfo=UTC))
    await _pilot_pair(world)
    early = await world.plan("sales-pilot")
    assert early.problem == (
        "Matching for Sales Leadership Pilot runs from Fri 29 Jan, when enrolment closes."
    )
    lead = Chat(world.engine, await world.person("priya.shah@example.com"))
    await lead.expect("match sales-pilot", "runs from Fri 29 Jan, when enrolment closes")
    world.clock.current = datetime(2027, 1, 29, 9, tzinfo=UTC)
    assert len((await world.plan("sales-pilot")).proposals) == 1


async def test_a_cohort_pairing_starts_its_cycle_on_the_cohort_start(
    database: Database, programs: Programs
) -> None:
    world = World(database, programs, now=datetime(2027, 1, 29, 10, tzinfo=UTC))
    lee, ana = await _pilot_pair(world)
    lead = Chat(world.engine, await world.person("priya.shah@example.com"))
    await lead.send("match sales-pilot")
    await lead.send("approve all")
    (pairing,) = await rows(world.database, Pairing)
    await Chat(world.engine, ana).send(f"accept {pairing.id}")
    await world.inbox(lee)
    reply = await Chat(world.engine, lee).send(f"accept {pairing.id}")
    assert "You start together on Mon 1 Feb." in reply
    (pairing,) = await rows(world.database, Pairing)
    start = datetime(2027, 2, 1, tzinfo=UTC)  # midnight in Europe/London
    assert pairing.cycle_started_at == start
    assert pairing.activated_at == world.clock.now()
    kickoffs = [o for o in await rows(world.database, Outbox) if ":kickoff:" in o.dedupe_key]
    assert len(kickoffs) == 2
    assert all(o.next_attempt_at >= start for o in kickoffs)  # the kickoff waits for the start
    checkins = [d for d in await rows(world.database, DueItem) if d.kind == "checkin"]
    every = world.programs.of("sales-pilot").cadence.checkin_every_days
    assert [d.due_at for d in checkins] == [start + timedelta(days=every)]


# --- several programs ----------------------------------------------------------------------


async def test_a_mentor_in_two_programs_has_a_capacity_in_each_and_messages_name_the_program(
    world: World,
) -> None:
    dana = await world.person("dana@x.com", level=8)
    await enroll_as(
        world.database,
        dana,
        "mentee",
        program="reverse-2027",
        answers={"goals": "Learn AI tools", "competencies": ["coaching"]},
    )
    sam = await world.person("sam@x.com", level=3)
    lee = await world.person("lee@x.com", level=2)
    await enroll_as(
        world.database,
        lee,
        "mentee",
        program="leadership-2027",
        answers={"goals": "Lead a team", "competencies": ["coaching"]},
    )
    for program in ("reverse-2027", "leadership-2027"):
        await enroll_as(
            world.database,
            sam,
            "mentor",
            program=program,
            capacity=1,
            answers={"strengths": ["coaching"], "capacity": 1, "bio": "Coach"},
        )
    lead = Chat(world.engine, await world.person("hr.lead@example.com"))
    await lead.send("match leadership-2027")
    await lead.send("approve all")
    async with world.database.session() as session:
        pool = await load_pool(session, world.programs.of("reverse-2027"))
    assert [m.free for m in pool.mentors] == [1]  # the leadership proposal takes no place here
    await lead.send("match reverse-2027")
    await lead.send("approve all")
    assert len(await rows(world.database, Pairing)) == 2
    offers = await world.inbox(sam)
    assert "In Reverse Mentoring 2027: Would you mentor Dana" in offers
    status = await Chat(world.engine, sam).send("status")
    # status reads one block per program, each under its program's name.
    at = status.index("In Reverse Mentoring 2027:")
    leadership, reverse = status[:at], status[at:]
    assert leadership.startswith("In Leadership Mentoring Program 2027:")
    assert "Lee is proposed to you as a mentee" in leadership
    assert "Dana is proposed to you as a mentee" in reverse


async def test_pairing_peers_by_hand_says_the_round_pairs_them_and_changes_nothing(
    world: World,
) -> None:
    await world.peer("ana@x.com", level=3, wants=["coaching"], offers=["influence"])
    await world.peer("ben@x.com", level=3, wants=["influence"], offers=["coaching"])
    lead = Chat(world.engine, await world.person("marcus.lee@example.com"))
    await lead.expect(
        "pair peer-circle ana@x.com ben@x.com",
        "Peer Learning Pairs pairs peers, so there is no mentee or mentor to pair by hand; "
        "type match peer-circle to pair everyone waiting.",
    )
    assert await rows(world.database, Pairing) == []
