"""Booking through chat puts the meeting in both calendars, and the calendars agree with the
bot: the invite's series, expanded as a calendar expands it, is exactly the bot's own list
of meetings (what ``status``, the nudges and ``log`` use), across both spring clock changes.

Lee works in London and Ana mentors from New York; the pairing starts on Monday 1 March
2027, so its series crosses the US change (14 March) and the UK one (28 March).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from handlers.core.program import Program
from handlers.meetings.feed import person_feed
from handlers.meetings.ics import problems
from handlers.meetings.occurrences import occurrences
from storage import Database, Meeting
from tests.handlers.cycle_world import World
from tests.handlers.meetings.meeting_world import only_invite, waiting
from tests.helpers import rows

MONDAY = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"


async def test_a_series_booked_in_chat_is_the_same_meetings_in_both_calendars(
    database: Database, program: Program
) -> None:
    world = World(database, program, start=MONDAY)
    lee, ana, _pairing = await world.pair(mentor_zone=NEW_YORK)
    await waiting(world, lee)
    await waiting(world, ana)

    await world.chat(lee).send("schedule")
    offer = [m for m in await rows(database, Meeting) if m.status == "offered"][-1]
    await waiting(world, ana)
    booked = await world.chat(ana).send(f"pick-meeting {offer.id} 1")
    assert "Booked" in booked
    [meeting] = [m for m in await rows(database, Meeting) if m.id == offer.id]
    assert meeting.status == "booked" and meeting.every_days == program.cadence.checkin_every_days

    # Both were sent the invite; each file is the same series.
    bot_starts = [o.start for o in occurrences(meeting, zone=NEW_YORK)]
    assert len(bot_starts) >= 5
    for person in (lee, ana):
        _reply, calendar = only_invite(await waiting(world, person))
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.events
        assert event["UID"] == meeting.uid and "RRULE" in event
        expanded = recurring_ical_events.of(calendar).between(
            MONDAY, MONDAY + timedelta(days=program.cadence.cycle_days + 1)
        )
        calendar_starts = sorted(e.decoded("DTSTART").astimezone(UTC) for e in expanded)
        assert calendar_starts == bot_starts
    # Ana's wall-clock time holds across the US change, so London sees it move by an hour
    # for the two weeks between the changes, as a real calendar would show it.
    local = [s.astimezone(ZoneInfo(NEW_YORK)).strftime("%H:%M") for s in bot_starts]
    assert len(set(local)) == 1

    # Cancelling the series sends both a cancellation with a higher sequence.
    await world.chat(ana).expect(
        f"cancel-meeting {meeting.pairing_id} series", "Cancelled your meetings with Lee"
    )
    for person in (lee, ana):
        _reply, calendar = only_invite(await waiting(world, person))
        assert calendar["METHOD"] == "CANCEL"
        [event] = calendar.events
        assert event["UID"] == meeting.uid and int(event["SEQUENCE"]) > meeting.sequence


async def test_moving_the_series_from_a_later_meeting_keeps_the_meetings_held(
    database: Database, program: Program
) -> None:
    world = World(database, program, start=MONDAY)
    lee, ana, pairing = await world.pair(mentor_zone=NEW_YORK)
    await world.chat(lee).send("schedule")
    offer = [m for m in await rows(database, Meeting) if m.status == "offered"][-1]
    await world.chat(ana).expect(f"pick-meeting {offer.id} 1", "Booked")
    [booked] = [m for m in await rows(database, Meeting) if m.id == offer.id]
    before = [o.start for o in occurrences(booked, zone=NEW_YORK)]
    for person in (lee, ana):
        await waiting(world, person)

    # Two meetings are held; the series moves from the third on, a day later at 10:00.
    world.clock.advance(days=20)
    third = before[2].astimezone(ZoneInfo(NEW_YORK))
    target = (third + timedelta(days=1)).replace(hour=10, minute=0)
    moved = await world.chat(ana).send(
        f"move-meeting {pairing.id} to {target:%Y-%m-%d %H:%M} series"
    )
    assert "Moved. The whole series of" in moved

    rows_now = sorted(
        (m for m in await rows(database, Meeting) if m.status == "booked"), key=lambda m: m.id
    )
    held, following = rows_now
    assert held.id == booked.id
    assert (held.uid, held.starts_at, held.until) == (booked.uid, booked.starts_at, before[1])
    assert held.sequence == booked.sequence + 1  # its invite goes again, ending earlier
    assert (following.starts_at, following.until) == (target.astimezone(UTC), booked.until)
    assert following.uid != booked.uid
    bot_starts = sorted(o.start for m in (held, following) for o in occurrences(m, zone=NEW_YORK))
    assert bot_starts[:2] == before[:2]  # the meetings held are still there
    assert bot_starts[2:5] == [target.astimezone(UTC) + timedelta(days=14 * k) for k in range(3)]

    span = (MONDAY, MONDAY + timedelta(days=program.cadence.cycle_days + 1))
    for person in (lee, ana):
        invites = [r for r in await waiting(world, person) if r.attachment is not None]
        calendar_starts: list[datetime] = []
        uids = []
        for reply in invites:
            _reply, calendar = only_invite([reply])
            [event] = calendar.events
            uids.append(str(event["UID"]))
            calendar_starts += [
                e.decoded("DTSTART").astimezone(UTC)
                for e in recurring_ical_events.of(calendar).between(*span)
            ]
        assert sorted(uids) == sorted([held.uid, following.uid])
        assert sorted(calendar_starts) == bot_starts

        async with database.session() as session:
            feed = await person_feed(
                session, programs=world.programs, person=person, now=world.clock.now()
            )
        assert problems(feed) == []
        expanded = recurring_ical_events.of(icalendar.Calendar.from_ical(feed)).between(*span)
        meeting_starts = sorted(
            e.decoded("DTSTART").astimezone(UTC)
            for e in expanded
            if str(e["UID"]) in (held.uid, following.uid)
        )
        assert meeting_starts == bot_starts

    status = await world.chat(lee).send("status")
    assert f"next meeting {target.astimezone(ZoneInfo('Europe/London')):%a %-d %b, %H:%M}" in (
        status
    )


async def test_cancelling_the_series_keeps_the_meetings_held_in_both_calendars(
    database: Database, program: Program
) -> None:
    world = World(database, program, start=MONDAY)
    lee, ana, pairing = await world.pair(mentor_zone=NEW_YORK)
    await world.chat(lee).send("schedule")
    offer = [m for m in await rows(database, Meeting) if m.status == "offered"][-1]
    await world.chat(ana).expect(f"pick-meeting {offer.id} 1", "Booked")
    [booked] = [m for m in await rows(database, Meeting) if m.id == offer.id]
    before = [o.start for o in occurrences(booked, zone=NEW_YORK)]
    for person in (lee, ana):
        await waiting(world, person)

    world.clock.advance(days=20)  # two meetings are held
    cancelled = await world.chat(ana).send(f"cancel-meeting {pairing.id} series")
    third = before[2].astimezone(ZoneInfo(NEW_YORK))
    assert (
        f"Cancelled your meetings with Lee from {third:%a %-d %b} on; the ones you've had stay "
        "in your calendar." in cancelled
    )
    told = await waiting(world, lee)
    assert any(
        "Ana cancelled your meetings from" in r.text and "the ones you've had stay" in r.text
        for r in told
    )

    [kept] = await rows(database, Meeting)
    assert (kept.status, kept.uid, kept.starts_at) == ("booked", booked.uid, booked.starts_at)
    assert kept.until == before[1] and kept.sequence == booked.sequence + 1
    assert [o.start for o in occurrences(kept, zone=NEW_YORK)] == before[:2]

    span = (MONDAY, MONDAY + timedelta(days=program.cadence.cycle_days + 1))
    for person, replies in ((lee, told), (ana, await waiting(world, ana))):
        reply, calendar = only_invite(replies)  # checked with ics.problems()
        assert calendar["METHOD"] == "REQUEST"  # an updated series, not a CANCEL
        assert "none of it is left ahead" in reply.text
        [event] = calendar.events
        assert event["UID"] == booked.uid and int(event["SEQUENCE"]) == kept.sequence
        assert event["RRULE"]["UNTIL"][0].astimezone(UTC) == before[1]
        expanded = recurring_ical_events.of(calendar).between(*span)
        assert sorted(e.decoded("DTSTART").astimezone(UTC) for e in expanded) == before[:2]

        async with database.session() as session:
            feed = await person_feed(
                session, programs=world.programs, person=person, now=world.clock.now()
            )
        assert problems(feed) == []
        in_feed = recurring_ical_events.of(icalendar.Calendar.from_ical(feed)).between(*span)
        assert (
            sorted(e.decoded("DTSTART").astimezone(UTC) for e in in_feed if e["UID"] == kept.uid)
            == before[:2]
        )

    status = await world.chat(lee).send("status")
    assert "next meeting" not in status
