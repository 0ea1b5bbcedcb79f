"""A person's break: pause, resume, and a pause that ends by itself (handlers.cycle.pause)."""

from __future__ import annotations

from sqlmodel import select

from handlers.matching.lapses import LAPSES
from storage import DueItem, Enrollment
from tests.handlers.cycle.timeline import in_order, seen
from tests.handlers.cycle_world import World
from tests.helpers import make_person, mentee, mentor, rows


async def test_pause_holds_everything_and_resume_starts_again_from_today(world: World) -> None:
    _lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    chat = world.chat(ana)
    await chat.expect("pause", "Paused until you type resume")
    await world.tick()
    [told] = world.take()
    assert (told.email, "Ana Lima is taking a break from mentoring") == (
        "lee@x.com",
        told.text.split(" until")[0].split("\n")[-1],
    )
    await world.walk(35)  # past the check-in (7 Dec) and the calibration (23 Dec)
    assert world.take() == []
    held = sorted(d.kind for d in await rows(world.database, DueItem) if d.status == "held")
    assert held == ["calibration", "checkin", "plan_reminder", "quarterly_review"]
    await chat.expect("resume", "Welcome back! Check-ins start again: the next one is in 14 days.")
    await world.tick()
    back = in_order(world.take())
    assert seen(back) == [
        ("Mon 28 Dec 10:00", "ana", "Quarterly review"),
        ("Mon 28 Dec 10:00", "ana", "One month in"),
        (
            "Mon 28 Dec 10:00",
            "lee",
            "Ana Lima is back from their break, so check-ins for your pairing start again.",
        ),
        # The plan is still Lee's to write: the reminder the pause held goes out now.
        ("Mon 28 Dec 10:00", "lee", "Your plan is still to write"),
        ("Mon 28 Dec 10:00", "lee", "Quarterly review"),
        ("Mon 28 Dec 10:00", "lee", "One month in"),
    ]
    await world.walk(14)
    nudges = [m for m in world.take() if "Check-in" in m.text]
    assert seen(nudges) == [
        ("Mon 11 Jan 10:00", "ana", "Check-in with Lee Park"),
        ("Mon 11 Jan 10:00", "lee", "Check-in with Ana Lima"),
    ]
    await chat.expect("resume", "You're not paused")


async def test_a_pause_with_an_end_date_ends_by_itself(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    chat = world.chat(lee)
    await chat.expect("pause until yesterday", "A pause has to end after today")
    await chat.expect("pause until the cows come home", "I can't read")
    await chat.expect("pause for 2 weeks", "Paused until Mon 7 Dec")
    await world.walk(15)
    got = world.take()
    assert any(
        m.email == "lee@x.com" and "Your break is over, so welcome back" in m.text for m in got
    )
    assert any(
        m.email == "ana@x.com" and "Lee Park is back from their break" in m.text for m in got
    )
    [enrollment] = [e for e in await rows(world.database, Enrollment) if e.person_id == lee.id]
    assert (enrollment.status, enrollment.paused_until) == ("matched", None)


async def test_resume_without_a_pairing_says_where_the_person_stands(world: World) -> None:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima")
    nobody = await make_person(world.database, "sam@x.com", name="Sam Roe")
    await world.chat(nobody).expect("resume", "You're not enrolled in any program")
    for person in (lee, ana):
        await world.chat(person).expect("pause", "Paused until you type resume")
    await world.chat(lee).expect(
        "resume",
        "Welcome back! You're not paired yet, so there are no check-ins to restart; you're "
        "back on the waitlist, and the next match round can find you a mentor.",
    )
    await world.chat(ana).expect(
        "resume",
        "Welcome back! You have no pairing right now, so there are no check-ins to restart; "
        "the next match round can propose mentees to you again.",
    )
    statuses = {e.person_id: e.status for e in await rows(world.database, Enrollment)}
    assert (statuses[lee.id], statuses[ana.id]) == ("waiting", "available")


async def test_resume_after_the_pairing_ended_says_so(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    chat = world.chat(lee)
    await chat.expect(f"close {pairing.id}", "Closed.")
    await chat.expect("pause", "Paused until you type resume")
    await chat.expect(
        "resume",
        "Welcome back! Your pairing has ended, so there are no check-ins to restart. Type "
        "join whenever you'd like a new mentor.",
    )


async def test_resume_while_the_other_side_is_still_on_a_break_says_the_pairing_stays_on_hold(
    world: World,
) -> None:
    lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    await world.chat(ana).expect("pause", "Paused until you type resume")
    await world.chat(lee).expect("pause", "Paused until you type resume")
    await world.walk(15)  # past the check-in of Mon 7 Dec, held
    await world.chat(lee).expect(
        "resume",
        "Welcome back! Ana Lima is still on a break, so your pairing with them stays on hold "
        "until they're back; I'll let you know when check-ins start again.",
    )
    held = [d for d in await rows(world.database, DueItem) if d.status == "held"]
    assert held, "the pairing's due items stay held while Ana is away"
    world.take()
    await world.chat(ana).expect(
        "resume", "Welcome back! Check-ins start again: the next one is in 14 days."
    )
    await world.tick()
    assert any(
        m.email == "lee@x.com"
        and "Ana Lima is back from their break, so check-ins for your pairing start again."
        in m.text
        for m in world.take()
    )
    assert [d for d in await rows(world.database, DueItem) if d.status == "held"] == []


async def test_a_break_that_runs_out_while_the_other_side_is_away_says_so(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    await world.chat(ana).expect("pause for 4 weeks", "Paused until Mon 21 Dec")
    await world.chat(lee).expect("pause for 2 weeks", "Paused until Mon 7 Dec")
    await world.walk(15)
    [back] = [m for m in world.take() if m.email == "lee@x.com" and "break is over" in m.text]
    assert (
        "Your break is over, so welcome back. Ana Lima is still on a break (until Mon 21 Dec), "
        "so your pairing with them stays on hold until they're back; I'll let you know when "
        "check-ins start again. Type pause if you need more time." in back.text
    )
    assert "check-ins and reminders start again" not in back.text


async def test_a_pause_for_lapsed_proposals_does_not_keep_a_pairing_on_hold(
    world: World,
) -> None:
    lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    await world.chat(lee).expect("pause", "Paused until you type resume")
    await world.walk(15)  # past the check-in of Mon 7 Dec, held by Lee's pause
    assert [d for d in await rows(world.database, DueItem) if d.status == "held"]
    # The bot paused Ana for letting proposals lapse (handlers.matching.lapses): that stops
    # new proposals only, never her pairings.
    async with world.database.session() as session:
        [enrollment] = [
            e for e in (await session.exec(select(Enrollment))).all() if e.person_id == ana.id
        ]
        enrollment.status_before_pause = enrollment.status
        enrollment.status = "paused"
        enrollment.paused_reason = LAPSES
        session.add(enrollment)
    await world.chat(lee).expect(
        "resume", "Welcome back! Check-ins start again: the next one is in 14 days."
    )
    assert [d for d in await rows(world.database, DueItem) if d.status == "held"] == []
