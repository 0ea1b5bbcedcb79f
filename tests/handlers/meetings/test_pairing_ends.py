"""A pairing that ends takes its meetings still ahead out of both calendars; the ones held
stay (handlers.cycle.ending.end_pairing, handlers.meetings.booking.cancel_pairing_meetings).

Lee Park (the mentee) works in London and Ana Lima (the mentor) in New York; the world
starts on Monday 23 November 2026 at 10:00 UTC and the series they book meets on
Wednesdays at 15:00 London, every 14 days from 25 November.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import recurring_ical_events

from handlers.core.outbox import withdraw
from handlers.core.programs import Programs
from handlers.meetings.feed import person_feed
from handlers.meetings.ics import problems
from handlers.people.erasure import forget_person
from storage import Meeting, Person
from tests.handlers.cycle_world import LEAD, World
from tests.handlers.meetings.meeting_world import only_invite, waiting
from tests.handlers.meetings.test_booking import book, london_and_new_york
from tests.handlers.people.test_privacy import every_value
from tests.helpers import rows

NEW_YORK = "America/New_York"
FIRST = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def feed_starts(world: World, person: Person, uid: str) -> list[datetime]:
    """The starts of the meeting ``uid`` in the person's feed, over the cycle."""
    async with world.database.session() as session:
        feed = await person_feed(
            session, programs=world.programs, person=person, now=world.clock.now()
        )
    assert problems(feed) == []
    span = (FIRST - timedelta(days=7), FIRST + timedelta(days=120))
    expanded = recurring_ical_events.of(icalendar.Calendar.from_ical(feed)).between(*span)
    return sorted(e.decoded("DTSTART").astimezone(UTC) for e in expanded if e["UID"] == uid)


async def test_closing_a_pairing_cancels_the_meetings_ahead_and_keeps_the_one_held(
    world: World,
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana)
    for person in (lee, ana):
        await waiting(world, person)
    world.clock.advance(days=3)  # Thursday 26 November: the first meeting was held
    await world.chat(lee).expect(f"close {pairing.id}", "Closed")

    [meeting] = await rows(world.database, Meeting)
    assert (meeting.status, meeting.uid, meeting.until) == ("booked", booked.uid, FIRST)
    assert meeting.sequence == booked.sequence + 1
    for person in (lee, ana):
        reply, calendar = only_invite(await waiting(world, person))
        assert calendar["METHOD"] == "REQUEST"  # the series, cut to the meeting held
        [event] = calendar.events
        assert event["UID"] == booked.uid and int(event["SEQUENCE"]) == meeting.sequence
        expanded = recurring_ical_events.of(calendar).between(
            FIRST - timedelta(days=1), FIRST + timedelta(days=120)
        )
        assert [e.decoded("DTSTART").astimezone(UTC) for e in expanded] == [FIRST]
        assert "none of it is left ahead" in reply.text
        # The feed shows active pairings only: nothing ahead is left in it.
        assert await feed_starts(world, person, booked.uid) == []


async def test_the_invites_of_an_ending_are_not_withdrawn_with_the_pairings_messages(
    world: World,
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)
    for person in (lee, ana):
        await waiting(world, person)
    world.clock.advance(days=3)
    await world.chat(lee).expect(f"close {pairing.id}", "Closed")
    # Whatever withdraws the pairing's messages later leaves the calendar update alone.
    async with world.database.session() as session:
        await withdraw(session, pairing_id=pairing.id, reason="test", now=world.clock.now())
    for person in (lee, ana):
        _reply, calendar = only_invite(await waiting(world, person))
        assert calendar["METHOD"] == "REQUEST"


async def test_leaving_cancels_a_meeting_ahead_in_both_calendars(world: World) -> None:
    lee, ana, _pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana, once=True)
    for person in (lee, ana):
        await waiting(world, person)
        assert await feed_starts(world, person, booked.uid) == [FIRST]
    await world.chat(ana).send("leave")
    await world.chat(ana).expect("yes, leave", "You've left")

    [meeting] = await rows(world.database, Meeting)
    assert (meeting.status, meeting.cancelled_at) == ("cancelled", world.clock.now())
    for person in (lee, ana):
        reply, calendar = only_invite(await waiting(world, person))
        assert calendar["METHOD"] == "CANCEL"
        [event] = calendar.events
        assert event["UID"] == booked.uid and int(event["SEQUENCE"]) == meeting.sequence
        assert event["STATUS"] == "CANCELLED"
        assert "is cancelled" in reply.text
        assert await feed_starts(world, person, booked.uid) == []


async def test_a_meeting_held_before_the_pairing_ends_is_left_as_it_was(world: World) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana, once=True)
    for person in (lee, ana):
        await waiting(world, person)
    world.clock.advance(days=3)
    await world.chat(ana).expect(f"close {pairing.id}", "Closed")
    [meeting] = await rows(world.database, Meeting)
    assert (meeting.status, meeting.sequence) == ("booked", booked.sequence)
    for person in (lee, ana):
        assert [r for r in await waiting(world, person) if r.attachment] == []


async def test_a_meeting_in_progress_when_the_pairing_ends_is_held_and_stays(
    world: World,
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana, once=True)  # Wed 25 Nov, 15:00-16:00 London
    for person in (lee, ana):
        await waiting(world, person)
    world.clock.current = FIRST + timedelta(minutes=20)
    await world.chat(ana).expect(f"close {pairing.id}", "Closed")
    [meeting] = await rows(world.database, Meeting)
    assert (meeting.status, meeting.sequence) == ("booked", booked.sequence)
    for person in (lee, ana):
        assert [r for r in await waiting(world, person) if r.attachment] == []


async def test_a_series_ends_at_the_meeting_in_progress_when_the_pairing_ends(
    world: World,
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana)
    for person in (lee, ana):
        await waiting(world, person)
    world.clock.current = FIRST + timedelta(minutes=20)
    await world.chat(lee).expect(f"close {pairing.id}", "Closed")
    [meeting] = await rows(world.database, Meeting)
    assert (meeting.status, meeting.until) == ("booked", FIRST)
    for person in (lee, ana):
        reply, calendar = only_invite(await waiting(world, person))
        assert calendar["METHOD"] == "REQUEST"
        expanded = recurring_ical_events.of(calendar).between(
            FIRST - timedelta(days=1), FIRST + timedelta(days=120)
        )
        assert [e.decoded("DTSTART").astimezone(UTC) for e in expanded] == [FIRST]
        assert "none of it is left ahead" in reply.text
        assert booked.uid == calendar.events[0]["UID"]


async def test_an_offer_no_one_picked_is_withdrawn_when_the_pairing_ends(world: World) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await world.chat(lee).send("schedule")
    assert "Which time suits you?" in await world.read_waiting(ana)
    [offer] = await rows(world.database, Meeting)
    await world.chat(lee).expect(f"close {pairing.id}", "Closed")
    [offer] = await rows(world.database, Meeting)
    assert (offer.status, offer.updated_at) == ("withdrawn", world.clock.now())
    withdrawn = (
        "That offer was withdrawn when your pairing with Lee Park ended, so there's nothing "
        "to book; nothing changed."
    )
    for button in (f"pick-meeting {offer.id} 1", f"other-times {offer.id}"):
        assert await world.chat(ana).send(button) == withdrawn
    [offer] = await rows(world.database, Meeting)
    assert offer.status == "withdrawn"


async def test_forgetting_someone_cancels_their_meetings_ahead_without_naming_them(
    world: World,
) -> None:
    lee, ana, _pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana)
    for person in (lee, ana):
        await waiting(world, person)
    await forget_person(
        world.database,
        Programs.one(world.program),
        email=lee.email,
        now=world.clock.now(),
        requested_by=LEAD,
    )
    [meeting] = await rows(world.database, Meeting)
    assert meeting.status == "cancelled"
    _reply, calendar = only_invite(await waiting(world, ana))
    assert calendar["METHOD"] == "CANCEL" and calendar.events[0]["UID"] == booked.uid
    text = await every_value(world.database)
    assert lee.email not in text and "lee park" not in text


async def test_a_pause_keeps_the_meetings_booked_and_says_how_to_cancel_them(
    world: World,
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    booked = await book(world, lee, ana)
    for person in (lee, ana):
        await waiting(world, person)
    paused = await world.chat(lee).send("pause for 2 weeks")
    assert (
        "Meetings you've booked stay in your calendar; to cancel them, type "
        f"cancel-meeting {pairing.id} series." in paused
    )
    [meeting] = await rows(world.database, Meeting)
    assert (meeting.status, meeting.sequence, meeting.until) == (
        "booked",
        booked.sequence,
        booked.until,
    )
    assert [r for r in await waiting(world, ana) if r.attachment] == []
