"""Forming circles from a circles program's pool (both databases): sizes, capacity, the
rules (management chains, paused people, open circles), explanations and a pool too small.
"""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.circles.circle_pool import facilitator_capacity
from handlers.circles.formation import CirclePlan, plan_circles
from handlers.core.programs import Programs
from handlers.matching.review import plan_round
from storage import Circle, CircleMember, Database, Person
from tests.helpers import enroll_as, make_person

NOW = datetime(2027, 2, 10, 10, tzinfo=UTC)
PROGRAM = "leader-circles"


async def member(
    database: Database,
    email: str,
    *,
    wants: tuple[str, ...] = ("coaching",),
    status: str | None = None,
    **fields: object,
) -> Person:
    name = email.split("@")[0].replace(".", " ").title()
    person = await make_person(database, email, name=name, **fields)
    await enroll_as(
        database,
        person,
        "mentee",
        program=PROGRAM,
        status=status,
        answers={
            "goals": "Grow as a leader",
            "competencies": list(wants),
            "formats": ["Group"],
            "hours_per_month": 2,
            "learning_style": "Talking things through",
        },
    )
    return person


async def facilitator(
    database: Database,
    email: str,
    *,
    strengths: tuple[str, ...] = ("coaching",),
    capacity: int = 1,
    status: str | None = None,
    **fields: object,
) -> Person:
    name = email.split("@")[0].replace(".", " ").title()
    person = await make_person(database, email, name=name, **fields)
    await enroll_as(
        database,
        person,
        "mentor",
        program=PROGRAM,
        capacity=capacity,
        status=status,
        answers={
            "strengths": list(strengths),
            "capacity": capacity,
            "formats": ["Group"],
            "hours_per_month": 2,
            "bio": "Years of leading teams and coaching new managers.",
        },
    )
    return person


async def plan(database: Database, programs: Programs) -> CirclePlan:
    async with database.session() as session:
        return await plan_circles(session, program=programs.of(PROGRAM), now=NOW, time_limit=10)


def emails(plan: CirclePlan) -> list[tuple[str, set[str]]]:
    return [(c.facilitator.email, {m.email for m in c.members}) for c in plan.circles]


async def test_everyone_is_placed_in_circles_within_the_sizes(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(7):
        await member(database, f"m{k}@x.com")
    await facilitator(database, "fa@x.com")
    await facilitator(database, "fb@x.com")
    found = await plan(database, circle_programs)
    assert found.too_small is None
    assert sorted(len(c.members) for c in found.circles) == [3, 4]
    assert found.left_over == {}
    assert found.optimality_gap == 0.0
    assert {c.facilitator.email for c in found.circles} == {"fa@x.com", "fb@x.com"}
    assert all(0 < c.score <= 1 for c in found.circles)


async def test_a_facilitator_takes_no_more_circles_than_their_capacity(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(8):
        await member(database, f"m{k}@x.com")
    await facilitator(database, "fa@x.com", capacity=1)
    found = await plan(database, circle_programs)
    (circle,) = found.circles
    assert len(circle.members) == 5  # size.max
    assert len(found.left_over) == 3
    assert set(found.left_over.values()) == {
        "every circle a facilitator who can take you runs is full (5 members): you are "
        "first in line for the next round"
    }


async def test_two_circles_for_a_facilitator_with_room_for_two(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(8):
        await member(database, f"m{k}@x.com")
    await facilitator(database, "fa@x.com", capacity=2)
    found = await plan(database, circle_programs)
    sizes = [len(c.members) for c in found.circles]
    assert len(sizes) == 2 and sum(sizes) == 8 and all(3 <= k <= 5 for k in sizes)
    assert found.left_over == {}


async def test_nobody_sits_with_anyone_in_their_management_chain(
    database: Database, circle_programs: Programs
) -> None:
    boss = await member(database, "boss@x.com")
    middle = await member(database, "middle@x.com", manager_id=boss.id)
    report = await member(database, "report@x.com", manager_id=middle.id)
    for k in range(6):
        await member(database, f"m{k}@x.com")
    chief = await facilitator(database, "chief@x.com")
    await make_person(database, "boss@x.com", manager_id=chief.id)
    await facilitator(database, "fa@x.com")
    await facilitator(database, "fb@x.com")
    found = await plan(database, circle_programs)
    chain = {"boss@x.com", "middle@x.com", "report@x.com"}
    assert found.placed == 8
    for lead, people in emails(found):
        assert len(people & chain) <= 1
        if lead == "chief@x.com":  # above all three of them
            assert not people & chain
    # Two circles can take one of the three each; the third is left over, and hears why.
    (left,) = found.left_over.items()
    assert left[0] in {boss.id, middle.id, report.id}
    assert left[1] == "the circles with room include someone in your management chain"


async def test_paused_people_and_people_in_open_circles_are_not_in_the_pool(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(4):
        await member(database, f"m{k}@x.com")
    await member(database, "paused@x.com", status="paused")
    busy = await member(database, "busy@x.com")
    await facilitator(database, "resting@x.com", status="paused")
    full = await facilitator(database, "full@x.com")
    await facilitator(database, "fa@x.com")
    async with database.session() as session:
        circle = Circle(
            program=PROGRAM, status="active", batch="b1", proposed_at=NOW, expires_at=NOW
        )
        session.add(circle)
        await session.flush()
        assert circle.id is not None and busy.id is not None and full.id is not None
        session.add(
            CircleMember(
                circle_id=circle.id, person_id=full.id, role="facilitator", status="accepted"
            )
        )
        session.add(
            CircleMember(circle_id=circle.id, person_id=busy.id, role="member", status="accepted")
        )
    found = await plan(database, circle_programs)
    assert emails(found) == [("fa@x.com", {f"m{k}@x.com" for k in range(4)})]
    assert found.mentees == 4 and found.facilitators == 1


async def test_when_the_only_facilitator_is_full_the_problem_says_so_in_the_singular(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(4):
        await member(database, f"m{k}@x.com")
    full = await facilitator(database, "full@x.com")
    async with database.session() as session:
        circle = Circle(
            program=PROGRAM, status="active", batch="b1", proposed_at=NOW, expires_at=NOW
        )
        session.add(circle)
        await session.flush()
        assert circle.id is not None and full.id is not None
        session.add(
            CircleMember(
                circle_id=circle.id, person_id=full.id, role="facilitator", status="accepted"
            )
        )
    found = await plan(database, circle_programs)
    assert found.too_small == (
        "No facilitator has room for another circle: the only facilitator already "
        "facilitates as many circles as they can."
    )


async def test_reasons_say_what_members_share_in_words(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(3):
        await member(database, f"m{k}@x.com", wants=("coaching", "influence"))
    await member(database, "m3@x.com", wants=("vision",))
    await facilitator(database, "priya@x.com", strengths=("coaching", "influence"))
    found = await plan(database, circle_programs)
    (circle,) = found.circles
    assert circle.reasons == (
        "3 members want Coaching, 3 want Influence and stakeholder management",
        "8 h of working hours in common with everyone",
        "Priya can help with Coaching and Influence and stakeholder management",
    )
    first = circle.members[0]
    assert first.email != "m3@x.com"  # the best fit first
    assert circle.member_reasons[first.person_id][:2] == (
        "you share Coaching and Influence and stakeholder management with 2 others",
        "8 h of working hours in common with everyone",
    )
    assert circle.member_reasons[first.person_id][2].startswith("Priya: covers both")
    odd = next(m for m in circle.members if m.email == "m3@x.com")
    assert circle.member_reasons[odd.person_id][0] == (
        "8 h of working hours in common with everyone"
    )


async def test_a_circle_of_two_says_both_members_want_what_they_share(
    database: Database, circle_programs: Programs
) -> None:
    program = circle_programs.of(PROGRAM)
    assert program.circles is not None
    pairs = program.circles.model_copy(
        update={"size": program.circles.size.model_copy(update={"min": 2, "max": 2})}
    )
    program = program.model_copy(update={"circles": pairs})
    for k in range(2):
        await member(database, f"m{k}@x.com", wants=("coaching",))
    await facilitator(database, "priya@x.com", strengths=("coaching",))
    async with database.session() as session:
        found = await plan_circles(session, program=program, now=NOW, time_limit=10)
    (circle,) = found.circles
    assert circle.reasons[0] == "both members want Coaching"


async def test_a_pool_too_small_for_one_circle_says_so(
    database: Database, circle_programs: Programs
) -> None:
    await member(database, "m0@x.com")
    await member(database, "m1@x.com")
    await facilitator(database, "fa@x.com")
    found = await plan(database, circle_programs)
    assert found.circles == ()
    assert found.too_small == "3 members are needed for a circle and only 2 are waiting."
    assert set(found.left_over.values()) == {
        "not enough people are waiting to make a circle of 3 (2 in all)"
    }


async def test_no_facilitator_with_room_says_so(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(3):
        await member(database, f"m{k}@x.com")
    await facilitator(database, "resting@x.com", status="paused")
    found = await plan(database, circle_programs)
    assert found.too_small == "No facilitator can take a circle: every facilitator is paused."


async def test_a_mentee_whose_every_facilitator_is_in_their_chain_hears_why(
    database: Database, circle_programs: Programs
) -> None:
    chief = await facilitator(database, "chief@x.com")
    for k in range(3):
        await member(database, f"m{k}@x.com")
    report = await member(database, "report@x.com", manager_id=chief.id)
    found = await plan(database, circle_programs)
    assert report.id is not None
    assert found.left_over == {report.id: "every facilitator with room is in your management chain"}


async def test_the_pairs_round_never_pairs_a_circles_program(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(3):
        await member(database, f"m{k}@x.com")
    await facilitator(database, "fa@x.com")
    async with database.session() as session:
        pairs = await plan_round(session, circle_programs.of(PROGRAM), now=NOW)
    assert pairs.proposals == []
    assert pairs.problem is not None and "forms circles, not pairs" in pairs.problem


async def dissolved_circle(
    database: Database, facilitator: Person, places: list[tuple[Person, datetime | None]]
) -> None:
    """A dissolved circle of ``facilitator`` whose members each declined (answered at a
    moment) or let it lapse (None)."""
    async with database.session() as session:
        circle = Circle(
            program=PROGRAM, status="dissolved", batch="b0", proposed_at=NOW, expires_at=NOW
        )
        session.add(circle)
        await session.flush()
        assert circle.id is not None and facilitator.id is not None
        session.add(
            CircleMember(
                circle_id=circle.id, person_id=facilitator.id, role="facilitator", status="accepted"
            )
        )
        for person, answered_at in places:
            assert person.id is not None
            session.add(
                CircleMember(
                    circle_id=circle.id,
                    person_id=person.id,
                    role="member",
                    status="declined",
                    answered_at=answered_at,
                )
            )


async def test_a_member_who_declined_a_facilitators_circle_is_not_proposed_it_again(
    database: Database, circle_programs: Programs
) -> None:
    # Four members who all want Coaching: with fa alone they would form one circle of four.
    declined, lapsed = [await member(database, f"m{k}@x.com") for k in range(2)]
    for k in range(2, 5):
        await member(database, f"m{k}@x.com")
    fa = await facilitator(database, "fa@x.com")
    await dissolved_circle(database, fa, [(declined, NOW), (lapsed, None)])
    found = await plan(database, circle_programs)
    # The one who declined fa is left waiting; the one who let it lapse is not kept apart.
    assert emails(found) == [("fa@x.com", {f"m{k}@x.com" for k in range(1, 5)})]
    assert found.left_over == {
        declined.id: "you declined a circle of (or were paired before with) every facilitator "
        "who has room"
    }
    # Another facilitator can have them.
    await facilitator(database, "fb@x.com")
    found = await plan(database, circle_programs)
    assert all(
        not (c.facilitator.email == "fa@x.com" and "m0@x.com" in {m.email for m in c.members})
        for c in found.circles
    )
    assert "m0@x.com" in {m.email for c in found.circles for m in c.members}


def test_a_facilitators_capacity_is_their_answer_or_the_programs(
    circle_programs: Programs,
) -> None:
    program = circle_programs.of(PROGRAM)
    assert program.circles is not None and program.circles.capacity == 1
    assert facilitator_capacity(program, answered=3) == 3
    assert facilitator_capacity(program, answered=None) == 1
    assert facilitator_capacity(program, answered=0) == 1
    asks_nothing = program.model_copy(
        update={"intake": program.intake.model_copy(update={"mentor": []})}
    )
    assert facilitator_capacity(asks_nothing, answered=3) == 1
