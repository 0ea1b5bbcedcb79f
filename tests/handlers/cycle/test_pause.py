"""A person's break: pause, resume, and a pause that ends by itself (handlers.cycle.pause)."""

from __future__ import annotations

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
