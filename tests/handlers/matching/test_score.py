"""Scoring, hard rules, explanations and waitlist reasons of a matching round (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.core.program import Program
from handlers.matching.pool import Pool, Profile, load_pool
from handlers.matching.rounds import MatchPlan, plan_matches
from handlers.matching.score import explain, score_pool, shared_hours, timezone_gap
from storage import Database, Pairing, Person
from tests.helpers import enroll_as, make_person, mentee, mentor, rows, tuned

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def plan(database: Database, program: Program, now: datetime = NOW) -> MatchPlan:
    async with database.session() as session:
        pool = await load_pool(session, program)
    return plan_matches(program, pool, now=now)


def pairs(result: MatchPlan) -> set[tuple[str, str]]:
    return {(p.mentee.email, p.mentor.email) for p in result.proposals}


async def add_pairing(
    database: Database, mentee_person: Person, mentor_person: Person, status: str
) -> None:
    assert mentee_person.id is not None and mentor_person.id is not None
    async with database.session() as session:
        session.add(
            Pairing(
                program="leadership-2027",
                mentee_id=mentee_person.id,
                mentor_id=mentor_person.id,
                status=status,
                batch="earlier",
                proposed_at=NOW - timedelta(days=100),
                expires_at=NOW - timedelta(days=93),
            )
        )


# --- scoring and explanations --------------------------------------------------------------


def profile(email: str, role: str, **fields: object) -> Profile:
    from storage import Role

    base: dict[str, object] = {
        "person_id": abs(hash(email)) % 10_000_000,
        "name": email.split("@")[0].title(),
        "email": email,
        "role": Role(role),
        "department": None,
        "title": None,
        "level": None,
        "timezone": "Europe/London",
    }
    base.update(fields)
    return Profile(**base)  # type: ignore[arg-type]


def test_every_score_is_between_zero_and_one_and_better_coverage_scores_higher(
    program: Program,
) -> None:
    learner = profile("lee@x.com", "mentee", competencies=("coaching", "vision"))
    strong = profile("s@x.com", "mentor", competencies=("coaching", "vision"), free=1)
    weak = profile("w@x.com", "mentor", competencies=("execution",), free=1)
    scores = score_pool(program, Pool([learner], [strong, weak], set(), {}), now=NOW)
    assert ((scores.total >= 0) & (scores.total <= 1)).all()
    assert scores.parts["competencies"][0].tolist() == [1.0, 0.0]
    assert scores.total[0, 0] > scores.total[0, 1]


def test_the_explanation_names_competencies_hours_and_the_new_function(program: Program) -> None:
    learner = profile(
        "lee@x.com",
        "mentee",
        department="Sales",
        level=3,
        competencies=("strategic-judgment", "coaching", "vision"),
        formats=("One-on-one",),
    )
    guide = profile(
        "ana@x.com",
        "mentor",
        department="Product",
        level=6,
        timezone="America/New_York",
        competencies=("strategic-judgment", "coaching", "execution"),
        formats=("One-on-one", "Shadowing"),
        free=1,
    )
    program = tuned(program, goals=0)  # keep the text part out of this test
    result = plan_matches(program, Pool([learner], [guide], set(), {}), now=NOW)
    (proposal,) = result.proposals
    texts = [r.mentee for r in proposal.reasons]
    assert texts == [
        "covers 2 of the 3 competencies you want to develop (Strategic judgment, Coaching)",
        "Sales → Product, a new function",
        "both of you want One-on-one",  # ties with seniority (0.10 each); formats list first
    ]
    everything = {
        r.part: r.mentee
        for r in explain(
            program,
            score_pool(program, Pool([learner], [guide], set(), {}), now=NOW),
            mentee=learner,
            mentor=guide,
            row=0,
            column=0,
            now=NOW,
            top=6,
        )
    }
    # London 09:00–17:30 and New York 09:00–17:30 share 14:00–17:30 UTC in November.
    assert everything["timezone"] == "3.5 h of shared working hours"
    assert everything["seniority"] == "3 levels more senior than you"
    assert proposal.reasons[0].mentor.startswith(
        "you can help with 2 of the 3 competencies Lee wants to develop"
    )


def test_goal_fit_finds_the_words_goals_and_bio_share(program: Program) -> None:
    learner = profile(
        "lee@x.com", "mentee", text="I want to learn pricing strategy for enterprise deals"
    )
    pricing = profile(
        "p@x.com", "mentor", text="Twenty years of enterprise pricing and deal strategy", free=1
    )
    other = profile("o@x.com", "mentor", text="I run the warehouse logistics team", free=1)
    scores = score_pool(program, Pool([learner], [pricing, other], set(), {}), now=NOW)
    assert scores.parts["goals"][0, 0] > 0.3
    assert scores.parts["goals"][0, 1] == 0
    assert set(scores.goal_terms(0, 0)) <= {"pricing", "enterprise", "strategy", "deals", "deal"}
    assert "pricing" in scores.goal_terms(0, 0)


def test_shared_hours_and_gaps_follow_daylight_saving_and_the_date_line(program: Program) -> None:
    summer = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert timezone_gap("Europe/London", "America/New_York", at=NOW) == 5
    assert timezone_gap("Europe/London", "Europe/Berlin", at=summer) == 1
    # Auckland (UTC+13 in November) and Honolulu (UTC-10) are 1 h apart round the date line.
    assert timezone_gap("Pacific/Auckland", "Pacific/Honolulu", at=NOW) == 1
    assert shared_hours(program, first="Europe/London", second="Europe/Berlin", at=NOW) == 7.5
    # Tokyo's morning is Los Angeles' evening of the day before: 00:00–01:30 UTC.
    assert shared_hours(program, first="Asia/Tokyo", second="America/Los_Angeles", at=NOW) == 1.5
    assert shared_hours(program, first="Asia/Kolkata", second="America/Los_Angeles", at=NOW) == 0


# --- hard rules (through the database) -----------------------------------------------------


async def test_a_simple_pool_is_matched(database: Database, program: Program) -> None:
    await mentee(database, "lee@x.com")
    await mentor(database, "ana@x.com")
    assert pairs(await plan(database, program)) == {("lee@x.com", "ana@x.com")}


async def test_never_the_manager_or_anyone_above_or_below(
    database: Database, program: Program
) -> None:
    boss = await mentor(database, "boss@x.com", capacity=3)
    middle = await make_person(database, "mid@x.com", manager_id=boss.id)
    await mentee(database, "lee@x.com", manager_id=middle.id)
    # Reports of the mentor, directly or further down, are out too.
    report = await mentee(database, "rep@x.com", manager_id=boss.id)
    assert report.id is not None
    result = await plan(database, program)
    assert result.proposals == []
    assert "management chain" in (result.problem or "")


async def test_never_the_mentees_own_report(database: Database, program: Program) -> None:
    lead = await mentee(database, "lee@x.com")
    await mentor(database, "junior@x.com", manager_id=lead.id)
    result = await plan(database, program)
    assert result.proposals == []


async def test_never_themselves(database: Database, program: Program) -> None:
    both = await mentee(database, "both@x.com")
    await enroll_as(
        database,
        both,
        "mentor",
        capacity=1,
        answers={"strengths": ["coaching"], "capacity": 1, "formats": ["One-on-one"]},
    )
    result = await plan(database, program)
    assert result.proposals == []
    assert "both sides" in (result.problem or "")


def test_a_round_blocked_by_one_pair_counts_it_in_the_singular(program: Program) -> None:
    boss = profile("ana@x.com", "mentor", person_id=1, competencies=("coaching",), free=1)
    report = profile("lee@x.com", "mentee", person_id=2, competencies=("coaching",))
    result = plan_matches(program, Pool([report], [boss], set(), {2: 1, 1: None}), now=NOW)
    assert "1 pair within a management chain" in (result.problem or "")


def test_one_pair_declined_before_is_counted_in_the_singular(program: Program) -> None:
    ana = profile("ana@x.com", "mentor", person_id=1, competencies=("coaching",), free=1)
    lee = profile("lee@x.com", "mentee", person_id=2, competencies=("coaching",))
    result = plan_matches(program, Pool([lee], [ana], {(2, 1)}, {}), now=NOW)
    assert "1 pair that was paired or declined before" in (result.problem or "")


def test_one_person_on_both_sides_is_counted_in_the_singular(program: Program) -> None:
    both = dict(person_id=1, competencies=("coaching",))
    result = plan_matches(
        program,
        Pool(
            [profile("b@x.com", "mentee", **both)],
            [profile("b@x.com", "mentor", free=1, **both)],
            set(),
            {},
        ),
        now=NOW,
    )
    assert "1 person enrolled on both sides" in (result.problem or "")


def test_a_mentee_whose_only_mentor_is_themselves_is_told_so(program: Program) -> None:
    both = dict(person_id=1, competencies=("coaching",))
    mentees, mentors = (
        [profile("b@x.com", "mentee", **both)],
        [profile("b@x.com", "mentor", free=1, **both)],
    )
    (waiting,) = plan_matches(program, Pool(mentees, mentors, set(), {}), now=NOW).waiting
    assert waiting.why == "the only mentor with a free place is you"


@pytest.mark.parametrize("status", ["ended", "declined"])
async def test_never_a_pair_that_was_together_or_declined_before(
    database: Database, program: Program, status: str
) -> None:
    lee = await mentee(database, "lee@x.com")
    ana = await mentor(database, "ana@x.com", capacity=2)
    await add_pairing(database, lee, ana, status)
    result = await plan(database, program)
    assert result.proposals == []
    assert "before" in (result.problem or "")


async def test_never_past_the_timezone_gap(database: Database, program: Program) -> None:
    await mentee(database, "lee@x.com", timezone="Asia/Kolkata")  # 10.5 h from LA
    await mentor(database, "ana@x.com", timezone="America/Los_Angeles")
    await mentor(database, "kim@x.com", timezone="Asia/Seoul")
    assert pairs(await plan(database, program)) == {("lee@x.com", "kim@x.com")}


async def test_never_someone_paused(database: Database, program: Program) -> None:
    await mentor(database, "ana@x.com", status="paused")
    paused = await make_person(database, "zed@x.com")
    await enroll_as(database, paused, "mentee", status="paused", answers={})
    result = await plan(database, program)
    assert result.proposals == []
    assert (
        result.problem
        == "There are no mentees waiting for a match, so there is nothing to propose."
    )
    await mentee(database, "lee@x.com")
    result = await plan(database, program)
    assert result.problem == (
        "Every enrolled mentor is paused right now, so the 1 waiting mentee can't be matched "
        "until one resumes."
    )


async def test_capacity_counts_open_pairings_and_a_lowered_capacity_takes_no_one_new(
    database: Database, program: Program
) -> None:
    ana = await mentor(database, "ana@x.com", capacity=1)
    first = await mentee(database, "one@x.com")
    second = await mentee(database, "two@x.com")
    await add_pairing(database, first, ana, "active")
    await add_pairing(database, second, ana, "active")  # capacity was 2, now lowered to 1
    await mentee(database, "three@x.com")
    await mentor(database, "kim@x.com", capacity=1)
    result = await plan(database, program)
    assert pairs(result) == {("three@x.com", "kim@x.com")}
    async with database.session() as session:
        pool = await load_pool(session, program)
    assert {m.email: m.free for m in pool.mentors} == {"ana@x.com": 0, "kim@x.com": 0 + 1}
    assert {p.status for p in await _pairings(database)} == {"active"}


async def _pairings(database: Database) -> list[Pairing]:
    return await rows(database, Pairing)


async def test_capacity_is_never_exceeded_and_as_many_as_possible_are_matched(
    database: Database, program: Program
) -> None:
    await mentor(database, "ana@x.com", capacity=2, strengths=("coaching",))
    await mentor(database, "kim@x.com", capacity=1, strengths=("vision",))
    for n in range(5):
        await mentee(database, f"m{n}@x.com", wants=("coaching",))
    result = await plan(database, program)
    assert len(result.proposals) == 3
    per_mentor: dict[str, int] = {}
    for proposal in result.proposals:
        per_mentor[proposal.mentor.email] = per_mentor.get(proposal.mentor.email, 0) + 1
    assert per_mentor == {"ana@x.com": 2, "kim@x.com": 1}
    assert len(result.waiting) == 2


# --- the waitlist --------------------------------------------------------------------------


async def test_the_longest_waiting_are_matched_first_when_fits_tie(
    database: Database, program: Program
) -> None:
    await mentor(database, "ana@x.com")
    await mentee(database, "new@x.com", since=NOW - timedelta(days=1))
    await mentee(database, "old@x.com", since=NOW - timedelta(days=40))
    await mentee(database, "mid@x.com", since=NOW - timedelta(days=10))
    result = await plan(database, program)
    assert pairs(result) == {("old@x.com", "ana@x.com")}
    assert [w.mentee.email for w in result.waiting] == ["mid@x.com", "new@x.com"]


async def test_a_clearly_better_fit_beats_a_longer_wait(
    database: Database, program: Program
) -> None:
    await mentor(database, "ana@x.com", strengths=("coaching", "vision"))
    await mentee(database, "old@x.com", wants=("execution",), since=NOW - timedelta(days=60))
    await mentee(database, "new@x.com", wants=("coaching", "vision"), since=NOW - timedelta(days=1))
    assert pairs(await plan(database, program)) == {("new@x.com", "ana@x.com")}


async def test_the_waitlist_says_which_competency_no_free_mentor_offers(
    database: Database, program: Program
) -> None:
    await mentor(database, "ana@x.com", strengths=("coaching",))
    await mentee(database, "fit@x.com", wants=("coaching",))
    await mentee(database, "lee@x.com", wants=("vision",))
    result = await plan(database, program)
    assert pairs(result) == {("fit@x.com", "ana@x.com")}
    (waiting,) = result.waiting
    assert waiting.why.startswith("no mentor with a free place offers Communicating a vision yet")


async def test_the_waitlist_speaks_of_the_only_mentor_in_the_singular(
    database: Database, program: Program
) -> None:
    await mentor(database, "ana@x.com")
    await mentee(database, "old@x.com", since=NOW - timedelta(days=40))
    await mentee(database, "new@x.com", since=NOW - timedelta(days=1))
    (waiting,) = (await plan(database, program)).waiting
    assert waiting.why == (
        "the only mentor with a free place who could mentor you was matched with a mentee "
        "who fits them better or waited longer"
    )


async def test_the_waitlist_names_the_rules_that_leave_no_mentor(
    database: Database, program: Program
) -> None:
    await mentor(database, "ana@x.com", timezone="Europe/Berlin")
    await mentor(database, "kim@x.com")
    await mentee(database, "ok@x.com")
    await mentee(database, "far@x.com", timezone="Pacific/Honolulu")
    result = await plan(database, program)
    far = next(w for w in result.waiting if w.mentee.email == "far@x.com")
    assert "more than 8 h from your timezone" in far.why


async def test_with_nobody_to_match_the_round_says_so(database: Database, program: Program) -> None:
    result = await plan(database, program)
    assert (
        result.problem
        == "There are no mentees waiting for a match, so there is nothing to propose."
    )
    await mentee(database, "lee@x.com")
    result = await plan(database, program)
    assert result.problem is not None and result.problem.startswith("No mentors have enrolled yet")
