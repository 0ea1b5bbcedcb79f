"""A lead's round of circles through the engine: review, approve all, some or none (both
databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.core.programs import Programs
from storage import Circle, CircleMember, Database, Enrollment, Outbox
from tests.handlers.circles.circle_world import CIRCLES, CircleWorld
from tests.helpers import make_person, rows


@pytest.fixture
async def world(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> CircleWorld:
    return CircleWorld(database, circle_programs, monkeypatch)


async def test_the_lead_reviews_each_circle_and_who_is_left_over(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    lee, mo, sam = [
        await world.member(f"{n.lower()}@x.com", f"{n} Park") for n in ("Lee", "Mo", "Sam")
    ]
    kai = await world.member("kai@x.com", "Kai Ono")
    world.forms((ana, [lee, mo, sam]), left_over=[(kai, "no facilitator shares their hours")])
    lead = await world.lead()
    await lead.expect(
        f"match {CIRCLES}",
        "Circles for Leadership Circles: 1 circle for 4 waiting members; 1 would stay on the "
        "waitlist.",
        "These circles are within 1.3% of the best possible.",
        "1. Ana Lima facilitates Lee Park, Mo Park, Sam Park · fit 0.72 · shares Coaching and "
        "Influence with 2 others · 5 h of working hours in common with everyone",
        "Left over:\n• Kai Ono: no facilitator shares their hours",
        "Approve all 1",
    )
    assert await rows(world.database, Circle) == []


async def test_a_round_proven_optimal_says_so(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(3)]
    world.forms((ana, members), gap=0.0)
    lead = await world.lead()
    await lead.expect(f"match {CIRCLES}", "These circles are the best possible.")


async def test_approving_all_proposes_each_circle_to_its_people(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    lee, mo, sam = [
        await world.member(f"{n.lower()}@x.com", f"{n} Park") for n in ("Lee", "Mo", "Sam")
    ]
    kai = await world.member("kai@x.com", "Kai Ono")
    world.forms((ana, [lee, mo, sam]), left_over=[(kai, "no facilitator shares their hours")])
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.expect(
        "approve all",
        "Sent 1 circle proposal",
        "Proposals lapse after 7 days",
        "1 member on the waitlist was told why and where they stand.",
    )
    circle = await world.circle()
    assert (circle.status, circle.program, circle.score) == ("proposed", CIRCLES, 0.72)
    assert circle.expires_at == world.clock.now() + timedelta(days=7)
    places = {p.person_id: p for p in await rows(world.database, CircleMember)}
    assert {p: (x.role, x.status) for p, x in places.items()} == {
        ana.id: ("facilitator", "invited"),
        lee.id: ("member", "invited"),
        mo.id: ("member", "invited"),
        sam.id: ("member", "invited"),
    }
    assert places[lee.id].reasons == ["wants Coaching, which Ana Lima offers"]
    asked = await world.inbox(ana)
    assert f"A circle for you to facilitate (C{circle.id})" in asked
    assert "Would you facilitate a circle of 3 members?" in asked
    assert "• Lee Park: wants Coaching and Influence and stakeholder management" in asked
    assert "shares Coaching and Influence with 2 others" in asked
    assert f"accept C{circle.id}" in asked
    invited = await world.inbox(lee)
    assert "facilitated by Ana Lima, with 2 other members?" in invited
    assert "• wants Coaching, which Ana Lima offers" in invited
    assert "Mo Park" not in invited  # members meet each other at the kickoff
    assert f"decline C{circle.id}" in invited
    told = await world.inbox(kai)
    assert "No circle for you in this round: no facilitator shares their hours." in told
    assert "You're number 1 of 1 on the waitlist" in told


async def test_the_member_proposal_names_the_circles_theme(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(3)]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    invited = await world.inbox(members[0])
    assert "Would you join a circle on Coaching and Influence and stakeholder management" in (
        invited
    )


async def test_a_lead_can_approve_only_some_circles(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    kim = await world.facilitator("kim@x.com", "Kim Chu")
    first = [await world.member(f"a{n}@x.com", f"First {n}") for n in range(3)]
    second = [await world.member(f"b{n}@x.com", f"Second {n}") for n in range(3)]
    world.forms((ana, first), (kim, second))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.expect("approve 7", "There is no circle 7; they go from 1 to 2.")
    await lead.expect("approve 2", "Sent 1 circle proposal", "3 members on the waitlist were told")
    assert len(await rows(world.database, Circle)) == 1
    places = await rows(world.database, CircleMember)
    assert {p.person_id for p in places} == {kim.id, *(m.id for m in second)}
    assert "held back this round's circle for you" in await world.inbox(first[0])
    assert await world.inbox(ana) == ""


async def test_a_lead_can_choose_circles_by_number(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    kim = await world.facilitator("kim@x.com", "Kim Chu")
    first = [await world.member(f"a{n}@x.com", f"First {n}") for n in range(3)]
    second = [await world.member(f"b{n}@x.com", f"Second {n}") for n in range(3)]
    world.forms((ana, first), (kim, second))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.expect("choose", "Which circles should go out?", "1. Ana Lima + 3 (fit 0.72)")
    await lead.expect("1", "Sent 1 circle proposal")
    places = await rows(world.database, CircleMember)
    assert {p.person_id for p in places} == {ana.id, *(m.id for m in first)}


async def test_approving_none_sends_nothing(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(3)]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.expect("approve none", "Nothing was sent.")
    assert await rows(world.database, Circle) == []
    assert await rows(world.database, Outbox) == []


async def test_the_approval_rechecks_who_still_waits(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(4)]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    async with world.database.session() as session:
        enrollment = next(
            e for e in await rows(world.database, Enrollment) if e.person_id == members[3].id
        )
        enrollment.status = "paused"
        session.add(enrollment)
    await lead.expect("approve all", "Ana Lima's circle went without Member 3, who no longer wait")
    places = await rows(world.database, CircleMember)
    assert members[3].id not in {p.person_id for p in places}
    assert len(places) == 4


async def test_a_circle_that_falls_under_its_size_is_not_sent(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(3)]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    async with world.database.session() as session:
        enrollment = next(
            e for e in await rows(world.database, Enrollment) if e.person_id == members[0].id
        )
        enrollment.status = "left"
        session.add(enrollment)
    await lead.expect(
        "approve all",
        "Sent 0 circle proposals",
        "Ana Lima's circle: only 2 of its members are still waiting (Member 0 no longer), and "
        "a circle needs 3",
    )
    assert await rows(world.database, Circle) == []


async def test_a_circle_left_with_one_member_says_so_in_the_singular(
    world: CircleWorld,
) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(3)]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    async with world.database.session() as session:
        for enrollment in await rows(world.database, Enrollment):
            if enrollment.person_id in (members[0].id, members[1].id):
                enrollment.status = "left"
                session.add(enrollment)
    await lead.expect(
        "approve all",
        "Ana Lima's circle: only 1 of its members is still waiting (Member 0, Member 1 no "
        "longer), and a circle needs 3",
    )


async def test_a_pool_too_small_for_a_circle_says_so(world: CircleWorld) -> None:
    lee = await world.member("lee@x.com", "Lee Park")
    world.forms(left_over=[(lee, "too few members for a circle")])
    assert world.plan is not None
    world.plan = type(world.plan)(
        world.program,
        (),
        world.plan.left_over,
        0.0,
        too_small="Only 1 member is waiting.",
        waiting=world.plan.waiting,
    )
    lead = await world.lead()
    await lead.expect(f"match {CIRCLES}", "Only 1 member is waiting.", "• Lee Park: too few")
    assert await rows(world.database, Circle) == []


async def test_a_lead_of_another_program_cannot_match_circles(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> None:
    others = Programs(
        [
            p.model_copy(update={"leads": ["kim.lead@example.com"]}) if p.id == CIRCLES else p
            for p in circle_programs
        ],
        leads=circle_programs.leads,
    )
    world = CircleWorld(database, others, monkeypatch)
    lead = await world.lead()
    await lead.expect(
        f"match {CIRCLES}", "You don't lead Leadership Circles, so you can't match for it."
    )
    assert world.planned == 0
    member = await make_person(database, "lee@x.com", name="Lee Park")
    await world.chat(member).expect(f"match {CIRCLES}", "Sorry, match is for the program leads")


async def test_pairs_are_matched_as_before_beside_circles(world: CircleWorld) -> None:
    lead = await world.lead()
    await lead.expect("match leadership-2027", "There are no mentees waiting for a match")
    assert world.planned == 0


async def test_the_round_is_formed_by_the_optimiser(
    database: Database, circle_programs: Programs
) -> None:
    world = CircleWorld(database, circle_programs, None)
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(4)]
    lead = await world.lead()
    review = await lead.expect(
        f"match {CIRCLES}",
        "Circles for Leadership Circles: 1 circle for 4 waiting members; 0 would stay",
        "These circles are the best possible.",
        "1. Ana Lima facilitates Member ",
    )
    assert all(m.name in review for m in members)
    await lead.expect("approve all", "Sent 1 circle proposal")
    places = await rows(world.database, CircleMember)
    assert {p.person_id for p in places} == {ana.id, *(m.id for m in members)}
    assert all(p.reasons for p in places)
    await lead.expect(
        f"match {CIRCLES}", "3 members are needed for a circle and only 0 are waiting."
    )


def blind(programs: Programs) -> Programs:
    """The fixture's programs, the circles one with ``matching.blind_review`` on."""
    return Programs(
        [
            p.model_copy(update={"matching": p.matching.model_copy(update={"blind_review": True})})
            if p.id == CIRCLES
            else p
            for p in programs
        ],
        leads=programs.leads,
    )


async def test_a_blind_review_hides_every_name_behind_profiles(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = CircleWorld(database, blind(circle_programs), monkeypatch)
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    await make_person(database, "ana@x.com", department="Product", level=6)
    members = []
    for n, department in (("Lee", "Sales"), ("Mo", "Finance"), ("Sam", "Sales")):
        members.append(await world.member(f"{n.lower()}@x.com", f"{n} Park"))
        await make_person(database, f"{n.lower()}@x.com", department=department, level=3)
    kai = await world.member("kai@x.com", "Kai Ono")
    await make_person(database, "kai@x.com", department="Legal")
    members = [await make_person(database, m.email) for m in members]
    kai = await make_person(database, kai.email)
    world.forms(
        (await make_person(database, ana.email), members),
        left_over=[(kai, "no facilitator shares their hours")],
        reasons=("Ana can help with Coaching",),
    )
    lead = await world.lead()
    review = await lead.expect(
        f"match {CIRCLES}",
        "1. Facilitator 1 (Product; level 6; London, same time as you) facilitates Member 1.1 "
        "(Sales; level 3; London, same time as you), Member 1.2 (Finance; level 3; London, "
        "same time as you), Member 1.3 (Sales; level 3; London, same time as you) · fit 0.72 · "
        "shares Coaching and Influence with 2 others · 5 h of working hours in common with "
        "everyone · the facilitator can help with Coaching",
        "Left over:\n• A member (Legal; London, same time as you): no facilitator shares "
        "their hours",
    )
    choose = await lead.send("choose")
    assert "1. Facilitator 1 + 3 (fit 0.72)" in choose
    for name in ("Ana", "Lima", "Lee", "Mo ", "Sam", "Park", "Kai", "Ono"):
        assert name not in review + choose
    await lead.send("1")
    # The people themselves read the circle as it is: the blind review is the lead's.
    assert "Ana Lima" in await world.inbox(members[0])
