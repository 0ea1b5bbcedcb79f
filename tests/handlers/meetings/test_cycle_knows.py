"""The rest of the cycle knows about booked meetings: the nudge, missed check-ins, ``log``'s
day, ``status`` and the cadence report (tests/handlers/meetings/test_booking.py books them).
"""

from __future__ import annotations

from datetime import date

from handlers.core.messages import Inbound
from handlers.core.program import Program
from handlers.reports.cadence import cadence
from storage import Database, Pairing, Person, SessionLog
from tests.handlers.cycle_world import World, log_session
from tests.handlers.meetings.test_booking import book, london_and_new_york
from tests.handlers.reports.pairs_world import figures
from tests.helpers import rows


async def missed(world: World) -> int:
    [pairing] = await rows(world.database, Pairing)
    return int(pairing.missed_checkins)


async def test_a_held_meeting_makes_the_next_nudge_how_did_it_go(world: World) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)  # Wed 25 Nov, 15:00 London, every 14 days
    world.take()
    await world.walk(14)  # the first check-in falls due on Mon 7 Dec
    [nudge] = [m for m in world.take() if m.email == "lee@x.com" and "How did it go" in m.text]
    assert "You had a meeting with Ana on Wed 25 Nov. Log the session" in nudge.text
    assert "1. Log the session\n  2. Snooze 3 days" in nudge.text
    assert not [m for m in world.recorder.received if "It's been" in m.text]
    assert await missed(world) == 0

    # The button types log N DATE: the session form with that day filled in.
    last = await log_session(world.chat(lee), f"log {pairing.id} 2026-11-25", day="keep")
    assert "Logged: 45 minutes on Wed 25 Nov" in last
    [logged] = await rows(world.database, SessionLog)
    assert logged.held_on == date(2026, 11, 25)


async def test_without_a_meeting_the_check_in_nudges_and_counts_as_missed(world: World) -> None:
    await london_and_new_york(world)
    await world.walk(14)
    [nudge] = [m for m in world.take() if "Check-in with" in m.text]  # Lee's, 10:00 London
    assert "It's been 14 days since you were paired with Ana" in nudge.text
    assert "3. Reschedule\n  4. Find a time" in nudge.text
    assert await missed(world) == 1


async def test_a_meeting_booked_later_in_the_window_is_no_missed_check_in(world: World) -> None:
    lee, ana, _ = await london_and_new_york(world)
    await world.walk(10)  # Thursday 3 December
    meeting = await book(world, lee, ana, pick=3, once=True)
    assert meeting.starts_at is not None and meeting.starts_at.date() == date(2026, 12, 9)
    world.take()
    await world.walk(5)  # the check-in of Mon 7 Dec falls due before the meeting
    assert [m for m in world.take() if "Check-in with" in m.text or "How did it go" in m.text] == []
    assert await missed(world) == 0


async def test_log_offers_the_day_of_the_last_meeting(world: World) -> None:
    lee, ana, _ = await london_and_new_york(world)
    await book(world, lee, ana)
    world.clock.advance(days=3)  # Thursday 26 November: Wednesday's meeting has passed

    async def day_offered(person: Person) -> str:
        assert person.id is not None
        inbound = Inbound("slack", f"T1/{person.email}", person.id, text="log", forms=True)
        [reply] = await world.engine.handle(inbound)
        assert reply.form is not None, reply.text
        return str(reply.form.initial_of("date"))

    assert await day_offered(lee) == "2026-11-25"
    assert await day_offered(ana) == "2026-11-25"
    await log_session(world.chat(lee), day="keep")
    # Once that day is logged, the form offers today again.
    assert await day_offered(lee) == "2026-11-26"


async def test_log_offers_the_last_meeting_held_after_the_series_was_moved(world: World) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)  # Wed 25 Nov, 15:00 London
    world.clock.advance(days=3)
    await world.chat(lee).expect(
        f"move-meeting {pairing.id} to 2026-12-10 16:00 series", "Moved. The whole series"
    )
    assert lee.id is not None
    inbound = Inbound("slack", f"T1/{lee.email}", lee.id, text="log", forms=True)
    [reply] = await world.engine.handle(inbound)
    assert reply.form is not None, reply.text
    assert reply.form.initial_of("date") == "2026-11-25"


async def test_the_cadence_report_counts_meetings_booked_and_pairs_with_a_next_one(
    database: Database, program: Program
) -> None:
    everyone = program.model_copy(update={"min_group_size": 1})
    world = World(database, everyone)
    lee, ana, _ = await london_and_new_york(world)
    async with database.session() as session:
        before = figures(await cadence(session, everyone, now=world.clock.now()))
    assert before["Meetings booked from now on"] == "0"
    assert before["With a booked next meeting"] == "0% of 1 pair"
    await book(world, lee, ana)
    async with database.session() as session:
        after = figures(await cadence(session, everyone, now=world.clock.now()))
    # Wed 25 Nov and every 14 days until the cycle ends on Sun 21 Feb: 7 meetings.
    assert after["Meetings booked from now on"] == "7"
    assert after["With a booked next meeting"] == "100% of 1 pair"
    async with database.session() as session:
        small = figures(await cadence(session, program, now=world.clock.now()))
    assert small["With a booked next meeting"] == "fewer than 5 of fewer than 5 pairs"
