"""Everyone's answers to a circle proposal: accept, decline, lapse, stale clicks (both
databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.core.programs import Programs
from scheduler.due import run_due
from storage import (
    Circle,
    CircleDue,
    CircleMember,
    Database,
    Enrollment,
    Outbox,
    Person,
)
from tests.handlers.circles.circle_world import CIRCLES, CircleWorld
from tests.helpers import make_person, rows


@pytest.fixture
async def world(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> CircleWorld:
    return CircleWorld(database, circle_programs, monkeypatch)


async def proposed(world: CircleWorld, members: int = 3) -> tuple[Person, list[Person], str]:
    """Ana Lima facilitating ``members`` members, approved by the lead: the circle's number."""
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    names = ["Lee Park", "Mo Chen", "Sam Roe", "Kai Ono", "Ida Berg"][:members]
    people = [await world.member(f"{n.split()[0].lower()}@x.com", n) for n in names]
    world.forms((ana, people))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    circle = await world.circle()
    for person in (ana, *people):
        await world.inbox(person)  # the proposals, read
    return ana, people, f"C{circle.id}"


async def places(world: CircleWorld) -> dict[int, str]:
    return {p.person_id: p.status for p in await rows(world.database, CircleMember)}


async def enrollment(world: CircleWorld, person: Person) -> Enrollment:
    return next(
        e
        for e in await rows(world.database, Enrollment)
        if e.person_id == person.id and e.program == CIRCLES
    )


async def test_everyone_accepting_starts_the_circle_with_a_kickoff(world: CircleWorld) -> None:
    ana, members, ref = await proposed(world)
    await world.chat(ana).expect(
        f"accept {ref}", f"Thank you! Circle {ref} starts once at least 3 members accept"
    )
    await world.chat(members[0]).expect(
        f"accept {ref}", "starts once its facilitator and at least 3 members accept"
    )
    await world.chat(members[1]).send(f"accept {ref}")
    assert (await world.circle()).status == "proposed"
    await world.chat(members[2]).expect(
        f"accept {ref}", f"Wonderful: circle {ref} is complete and starts now."
    )
    circle = await world.circle()
    assert circle.status == "active"
    assert circle.activated_at == world.clock.now()
    due = await rows(world.database, CircleDue)
    assert {d.kind for d in due} == {"session", "end_review"}
    assert min(d.due_at for d in due) == world.clock.now() + timedelta(days=14)
    for member in members:
        assert (await enrollment(world, member)).status == "matched"
    kickoff = [o for o in await rows(world.database, Outbox) if o.group_key]
    assert {o.person_id for o in kickoff} == {ana.id, *(m.id for m in members)}
    assert {o.group_key for o in kickoff} == {f"circle:{circle.id}:kickoff"}
    for person in (ana, *members):
        said = await world.inbox(person)
        assert f"Welcome to circle {ref}: Coaching and Influence and stakeholder management!" in (
            said
        )
        assert "• Facilitator: Ana Lima" in said
        assert "• Members: Lee Park, Mo Chen, Sam Roe" in said
        assert "• You meet every 14 days for 90 days." in said
        assert (
            "First step: Ana, please agree a time for your first session with everyone and set "
            "up to 3 shared goals (type goals add and a goal)" in said
        )


async def test_accept_alone_answers_the_one_circle_waiting(world: CircleWorld) -> None:
    _, members, ref = await proposed(world)
    await world.chat(members[0]).expect("accept", f"Circle {ref} starts once its facilitator")
    assert (await places(world))[members[0].id or 0] == "accepted"


async def test_a_facilitator_asked_for_two_circles_names_one(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima", capacity=2)
    first = [await world.member(f"a{n}@x.com", f"First {n}") for n in range(3)]
    second = [await world.member(f"b{n}@x.com", f"Second {n}") for n in range(3)]
    world.forms((ana, first), (ana, second))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.expect("approve all", "Sent 2 circle proposals")
    one, two = sorted(c.id or 0 for c in await rows(world.database, Circle))
    await world.chat(ana).expect(
        "accept", f"You have several proposals (C{one}, C{two}); type accept and its number."
    )
    assert set((await places(world)).values()) == {"invited"}


async def test_a_member_who_declines_goes_back_to_the_waitlist_and_the_circle_goes_ahead(
    world: CircleWorld,
) -> None:
    ana, members, ref = await proposed(world, members=4)
    kai = members[3]
    since = (await enrollment(world, kai)).waiting_since
    await world.chat(kai).expect(
        f"decline {ref}",
        "Thanks for letting me know. You keep your place on the waitlist (number 1 of 1)",
    )
    kept = await enrollment(world, kai)
    assert (kept.status, kept.waiting_since) == ("waiting", since)
    assert kept.waiting_reason == (
        f"you declined circle {ref}; you keep your place, and the next match round will look again"
    )
    for person in (ana, *members[:3]):
        assert await world.inbox(person) == ""  # nobody is alarmed
    for person in (ana, *members[:3]):
        await world.chat(person).send(f"accept {ref}")
    assert (await world.circle()).status == "active"
    said = await world.inbox(ana)
    assert "• Members: Lee Park, Mo Chen, Sam Roe\n" in said
    assert "Kai Ono" not in said
    assert (await enrollment(world, kai)).status == "waiting"


async def test_a_decline_that_leaves_too_few_dissolves_the_circle(world: CircleWorld) -> None:
    ana, members, ref = await proposed(world)
    await world.chat(ana).send(f"accept {ref}")
    await world.chat(members[0]).send(f"accept {ref}")
    await world.chat(members[1]).expect(f"decline {ref}", "You keep your place on the waitlist")
    circle = await world.circle()
    assert (circle.status, circle.end_reason) == ("dissolved", "too_small")
    assert circle.closed_at == world.clock.now()
    told = await world.inbox(ana)
    assert (
        f"Circle {ref} won't go ahead because too few of the members it needs could join; "
        "thank you for offering, and your place as a facilitator is free again." in told
    )
    for member in (members[0], members[2]):
        told = await world.inbox(member)
        assert (
            f"Circle {ref} won't go ahead because too few of the members it needs could join, "
            "so you keep your place on the waitlist for the next match round." in told
        )
        assert (await enrollment(world, member)).status == "waiting"
    assert await world.inbox(members[1]) == ""  # they know: they declined
    assert await rows(world.database, CircleDue) == []


async def test_a_facilitator_who_declines_dissolves_the_circle(world: CircleWorld) -> None:
    ana, members, ref = await proposed(world)
    await world.chat(members[0]).send(f"accept {ref}")
    await world.chat(ana).expect(
        f"decline {ref}",
        f"Circle {ref} won't go ahead, and its members keep their place on the waitlist.",
    )
    circle = await world.circle()
    assert (circle.status, circle.end_reason) == ("dissolved", "facilitator_declined")
    for member in members:
        assert (
            f"Circle {ref} won't go ahead because its facilitator can't take it on"
            in await world.inbox(member)
        )
    assert await world.inbox(ana) == ""
    # The members are on the waitlist again, in their old order.
    status = await world.chat(members[0]).send("status")
    assert "number 1 of 3 on the waitlist for a circle in Leadership Circles." in status
    assert f"circle {ref} didn't go ahead because its facilitator can't take it on" in status


async def test_an_unanswered_member_lapses_and_the_circle_goes_ahead_above_its_size(
    world: CircleWorld,
) -> None:
    ana, members, ref = await proposed(world, members=4)
    for person in (ana, *members[:3]):
        await world.chat(person).send(f"accept {ref}")
    world.clock.advance(days=7)
    report = await run_due(world.database, world.programs, now=world.clock.now())
    circle = await world.circle()
    assert report.circles_lapsed == [circle.id]
    assert circle.status == "active"
    assert (await places(world))[members[3].id or 0] == "declined"
    assert "lapsed because you didn't answer in time" in await world.inbox(members[3])
    assert "• Members: Lee Park, Mo Chen, Sam Roe\n" in await world.inbox(ana)


async def test_a_lapse_that_leaves_too_few_dissolves_the_circle(world: CircleWorld) -> None:
    ana, members, ref = await proposed(world)
    await world.chat(ana).send(f"accept {ref}")
    await world.chat(members[0]).send(f"accept {ref}")
    world.clock.advance(days=6)
    await run_due(world.database, world.programs, now=world.clock.now())
    assert (await world.circle()).status == "proposed"  # not yet
    world.clock.advance(days=1)
    await run_due(world.database, world.programs, now=world.clock.now())
    circle = await world.circle()
    assert (circle.status, circle.end_reason) == ("dissolved", "too_small")
    assert "too few of the members it needs could join" in await world.inbox(members[0])
    assert "lapsed because you didn't answer in time" in await world.inbox(members[1])
    again = await run_due(world.database, world.programs, now=world.clock.now())
    assert again.circles_lapsed == []


async def test_an_answer_after_the_deadline_finds_the_proposal_lapsed(world: CircleWorld) -> None:
    _, members, ref = await proposed(world)
    world.clock.advance(days=8)
    await world.chat(members[0]).expect(
        f"accept {ref}", "This circle proposal lapsed without your answer in time; nothing changed."
    )
    circle = await world.circle()
    assert (circle.status, circle.end_reason) == ("dissolved", "expired")


async def test_stale_and_repeated_answers_change_nothing(world: CircleWorld) -> None:
    ana, members, ref = await proposed(world)
    lee = world.chat(members[0])
    await lee.send(f"accept {ref}")
    await lee.expect(f"accept {ref}", "You already accepted this circle", "nothing changed")
    await lee.expect(f"decline {ref}", "You already accepted this circle", "nothing changed")
    assert (await places(world))[members[0].id or 0] == "accepted"
    await world.chat(members[1]).send(f"decline {ref}")
    await world.chat(members[1]).expect(f"accept {ref}", "You declined this circle already")
    # The circle is dissolved now (2 members left of the 3 it needs).
    await world.chat(members[2]).expect(
        f"accept {ref}", "This circle didn't go ahead", "nothing changed"
    )
    await world.chat(ana).expect(f"accept {ref}", "This circle didn't go ahead")
    outsider = await make_person(world.database, "zed@x.com", name="Zed Ray")
    await world.chat(outsider).expect(
        f"accept {ref}", f"There's no circle {ref} for you. Type status to see yours."
    )
    await world.chat(outsider).expect("decline C99999999999", "There's no circle C99999999999")
    assert (await world.circle()).status == "dissolved"


async def test_a_click_on_the_proposals_button_answers_it(world: CircleWorld) -> None:
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(3)]
    world.forms((ana, members))
    lead = await world.lead()
    await lead.send(f"match {CIRCLES}")
    await lead.send("approve all")
    circle = await world.circle()
    # The shell shows the proposal's buttons as numbered options; a button's value is the
    # command it runs, so it is typed as is, even in the middle of another flow.
    asked = await world.inbox(members[0])
    assert "1. Accept" in asked
    chat = world.chat(members[0])
    await chat.send("join leader-circles")
    await chat.expect(f"accept C{circle.id}", f"Circle C{circle.id} starts once")
    assert (await places(world))[members[0].id or 0] == "accepted"


async def test_pairs_keep_their_own_numbers(world: CircleWorld) -> None:
    _, members, _ = await proposed(world)
    await world.chat(members[0]).expect(
        "accept 1", "There's no proposal 1 for you. Type status to see yours."
    )
    assert (await places(world))[members[0].id or 0] == "invited"
