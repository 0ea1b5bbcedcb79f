"""A pairing that continues for another cycle keeps its series running to the new cycle's
end (handlers.cycle.answers ``continue``, handlers.meetings.booking.run_series_on).

Lee Park (the mentee) works in London and Ana Lima (the mentor) in New York; the world
starts on Monday 23 November 2026 at 10:00 UTC, so the first cycle ends on Sunday 21
February 2027. The series they book meets every 14 days from Wednesday 25 November at
10:00 New York (the organizer's time, 15:00 London): its last meeting in the first cycle
is on Wednesday 17 February.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from handlers.meetings.ics import problems
from handlers.meetings.occurrences import held
from storage import Meeting, Pairing, Person
from tests.handlers.cycle_world import World
from tests.handlers.meetings.meeting_world import only_invite, waiting
from tests.handlers.meetings.test_booking import book, london_and_new_york
from tests.helpers import rows

FIRST = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
OLD_END = datetime(2027, 2, 21, 10, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def every_14_days(until: datetime) -> list[datetime]:
    """The series' starts up to ``until``: 10:00 New York, across its clock change."""
    first = FIRST.astimezone(NEW_YORK)
    found = []
    day = first.date()
    while True:
        start = datetime.combine(day, first.time(), tzinfo=NEW_YORK).astimezone(UTC)
        if start > until:
            return found
        found.append(start)
        day += timedelta(days=14)


def starts(calendar: icalendar.Calendar, until: datetime) -> list[datetime]:
    expanded = recurring_ical_events.of(calendar).between(
        FIRST - timedelta(days=1), until + timedelta(days=1)
    )
    return sorted(e.decoded("DTSTART").astimezone(UTC) for e in expanded)


async def to_the_end_of_the_cycle(world: World) -> tuple[Person, Person, Pairing, Meeting]:
    """A series booked to the first cycle's end, and that end's review asked."""
    lee, ana, pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana)
    assert booked.until == OLD_END
    for person in (lee, ana):
        await waiting(world, person)
    world.clock.current = OLD_END
    await world.tick()  # the end-of-cycle review falls due
    world.take()
    return lee, ana, pairing, booked


async def both_continue(world: World, lee: Person, ana: Person, pairing: Pairing) -> str:
    """Lee, then Ana, choose another cycle; Ana's reply."""
    await world.chat(lee).expect(f"continue {pairing.id}", "as soon as Ana agrees")
    return await world.chat(ana).send(f"continue {pairing.id}")


async def test_continuing_runs_the_series_on_to_the_new_cycles_end(world: World) -> None:
    lee, ana, pairing, booked = await to_the_end_of_the_cycle(world)
    world.clock.current = datetime(2027, 2, 22, 10, 0, tzinfo=UTC)  # Monday 22 February
    new_end = world.clock.now() + timedelta(days=90)  # Sunday 23 May
    reply = await both_continue(world, lee, ana, pairing)
    assert reply == (
        "Wonderful: another 90 days together, starting today. Your meetings with Lee carry "
        "on every 14 days until Sun 23 May, the next on Wed 3 Mar, 10:00–11:00 your time "
        "(15:00 for Lee); I've sent you both the updated calendar invite."
    )

    [meeting] = await rows(world.database, Meeting)
    assert (meeting.status, meeting.uid, meeting.until) == ("booked", booked.uid, new_end)
    assert (meeting.sequence, meeting.exceptions) == (booked.sequence + 1, [])
    expected = every_14_days(new_end)
    # On past the old end, through New York's clock change (14 March): 10:00 there.
    assert expected[7:] == [
        datetime(2027, 3, 3, 15, 0, tzinfo=UTC),
        datetime(2027, 3, 17, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 31, 14, 0, tzinfo=UTC),
        datetime(2027, 4, 14, 14, 0, tzinfo=UTC),
        datetime(2027, 4, 28, 14, 0, tzinfo=UTC),
        datetime(2027, 5, 12, 14, 0, tzinfo=UTC),
    ]
    read = {}
    for person in (lee, ana):
        read[person.email] = await waiting(world, person)
        message, calendar = only_invite(read[person.email])
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.events
        assert event["UID"] == booked.uid and int(event["SEQUENCE"]) == meeting.sequence
        assert "every 14 days until Sun 23 May" in message.text
        assert "It replaces the earlier invite." in message.text
        assert starts(calendar, new_end) == expected
    told = " ".join(r.text for r in read[lee.email])
    assert (
        "Your meetings with Ana carry on every 14 days until Sun 23 May, the next on Wed 3 "
        "Mar, 15:00–16:00 your time (10:00 for Ana); I've sent you both the updated calendar "
        "invite." in told
    )
    status = await world.chat(lee).send("status")
    assert "next meeting Wed 3 Mar, 15:00–16:00 your time" in status


async def test_the_meetings_between_the_cycles_are_left_out_when_the_series_runs_on(
    world: World,
) -> None:
    lee, ana, pairing, _booked = await to_the_end_of_the_cycle(world)
    world.clock.current = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)  # two weeks later
    new_end = world.clock.now() + timedelta(days=90)
    reply = await both_continue(world, lee, ana, pairing)
    assert "the next on Wed 17 Mar, 10:00–11:00 your time (14:00 for Lee)" in reply

    # Wed 3 March fell between the cycles, when the series was in no calendar: it never
    # happened, so it is taken out, not shown as a meeting held.
    between = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)
    [meeting] = await rows(world.database, Meeting)
    assert meeting.exceptions == [{"original": between.isoformat(), "moved_to": None}]
    for person in (lee, ana):
        _message, calendar = only_invite(await waiting(world, person))
        assert problems(calendar.to_ical()) == []
        assert starts(calendar, new_end) == [s for s in every_14_days(new_end) if s != between]
    last = held(meeting, zone="America/New_York", now=world.clock.now())[-1]
    assert last.start == datetime(2027, 2, 17, 15, 0, tzinfo=UTC)  # what log offers


async def test_a_series_cancelled_before_the_cycle_ended_stays_ended(world: World) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana)
    world.clock.advance(days=3)  # the first meeting was held
    await world.chat(lee).expect(f"cancel-meeting {pairing.id} series", "Cancelled")
    [cut] = await rows(world.database, Meeting)
    assert cut.until == booked.starts_at
    for person in (lee, ana):
        await waiting(world, person)
    world.clock.current = OLD_END
    await world.tick()
    world.clock.current = datetime(2027, 2, 22, 10, 0, tzinfo=UTC)
    reply = await both_continue(world, lee, ana, pairing)
    assert reply == "Wonderful: another 90 days together, starting today."
    [meeting] = await rows(world.database, Meeting)
    assert (meeting.until, meeting.sequence) == (cut.until, cut.sequence)
    for person in (lee, ana):
        assert [r for r in await waiting(world, person) if r.attachment] == []
