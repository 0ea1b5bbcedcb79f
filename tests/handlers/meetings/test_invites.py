"""Invites: the .ics both people get when a meeting is booked, changed or cancelled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events

from handlers.core.program import Program
from handlers.meetings.invites import invite_text
from storage import Database, Meeting, Milestone
from tests.handlers.cycle_world import World, log_session
from tests.handlers.meetings.meeting_world import book, change, only_invite, waiting

#: Tuesday 1 December 2026, 10:00 UTC (and London).
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def address(value: object) -> str:
    return str(value).removeprefix("mailto:")


async def test_a_booked_meeting_sends_both_people_an_invite_they_can_import(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, ana, pairing = await world.pair(mentee_zone="America/New_York")
    meeting = await book(world, pairing, starts_at=TUESDAY)
    texts = {}
    for person in (ana, lee):
        reply, calendar = only_invite(await waiting(world, person))
        texts[person.email] = reply.text
        assert calendar["METHOD"] == "REQUEST"
        assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
        [event] = calendar.events
        assert event["UID"] == meeting.uid
        assert event["SEQUENCE"] == 0
        assert event["SUMMARY"] == "Mentoring: Ana Lima and Lee Park"
        assert event["STATUS"] == "CONFIRMED"
        assert event.decoded("DTSTAMP") == world.clock.now()
        assert event.decoded("DTSTART") == TUESDAY
        assert event.decoded("DTEND") == TUESDAY + timedelta(minutes=45)
        assert event["DTSTART"].params["TZID"] == "Europe/London"  # the organizer's
        assert "RRULE" not in event
        organizer = event["ORGANIZER"]
        assert address(organizer) == "ana@x.com" and organizer.params["CN"] == "Ana Lima"
        attendees = {address(a): a.params for a in event["ATTENDEE"]}
        assert set(attendees) == {"ana@x.com", "lee@x.com"}
        assert attendees["lee@x.com"]["CN"] == "Lee Park"
        assert attendees["lee@x.com"]["ROLE"] == "REQ-PARTICIPANT"
        assert attendees["ana@x.com"]["ROLE"] == "CHAIR"
        for params in attendees.values():
            assert params["PARTSTAT"] == "NEEDS-ACTION" and params["RSVP"] == "TRUE"
    # Each reads the time in their own timezone.
    assert texts["ana@x.com"].startswith(
        "Your mentoring meeting with Lee Park: Tue 1 Dec, 10:00–10:45 your time."
    )
    assert texts["lee@x.com"].startswith(
        "Your mentoring meeting with Ana Lima: Tue 1 Dec, 05:00–05:45 your time."
    )


async def test_an_offered_meeting_sends_no_invite(database: Database, program: Program) -> None:
    world = World(database, program)
    _lee, ana, pairing = await world.pair()
    await waiting(world, ana)
    await book(world, pairing, starts_at=TUESDAY, status="offered")
    assert [r for r in await waiting(world, ana) if r.attachment] == []


async def test_each_change_raises_the_sequence_and_the_new_invite_replaces_the_unsent_one(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, pairing = await world.pair()
    await waiting(world, lee)
    meeting = await book(world, pairing, starts_at=TUESDAY)
    moved = await change(world, meeting, starts_at=TUESDAY + timedelta(days=1, hours=3))
    # The first invite had not gone out: only the newer one arrives.
    reply, calendar = only_invite(await waiting(world, lee))
    [event] = calendar.events
    assert event["UID"] == meeting.uid and event["SEQUENCE"] == moved.sequence == 1
    assert event.decoded("DTSTART") == TUESDAY + timedelta(days=1, hours=3)
    # Lee never got the first, so nothing is said to replace it.
    assert "earlier invite" not in reply.text
    again = await change(world, moved, minutes=30)
    reply, calendar = only_invite(await waiting(world, lee))
    [event] = calendar.events
    assert event["SEQUENCE"] == again.sequence == 2
    assert "It replaces the earlier invite." in reply.text  # the one Lee read above
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)


async def test_sending_twice_for_one_change_queues_one_invite(
    database: Database, program: Program
) -> None:
    from handlers.meetings.invites import send_invites

    world = World(database, program)
    lee, _ana, pairing = await world.pair()
    await waiting(world, lee)
    meeting = await book(world, pairing, starts_at=TUESDAY)
    async with world.database.session() as session:
        await send_invites(session, program=program, meeting=meeting, now=world.clock.now())
    only_invite(await waiting(world, lee))


async def test_a_cancelled_meeting_sends_a_cancel_with_the_same_uid(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    _lee, ana, pairing = await world.pair()
    meeting = await book(world, pairing, starts_at=TUESDAY)
    only_invite(await waiting(world, ana))
    cancelled = await change(world, meeting, status="cancelled")
    reply, calendar = only_invite(await waiting(world, ana))
    assert calendar["METHOD"] == "CANCEL"
    [event] = calendar.events
    assert event["UID"] == meeting.uid and event["SEQUENCE"] == cancelled.sequence == 1
    assert event["STATUS"] == "CANCELLED"
    assert reply.text.startswith("Your mentoring meeting with Lee Park (Tue 1 Dec, 10:00")
    assert "is cancelled" in reply.text


async def test_a_series_carries_its_rule_its_cancelled_and_its_moved_occurrences(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, pairing = await world.pair()
    until = TUESDAY + timedelta(days=42)
    meeting = await book(
        world,
        pairing,
        starts_at=TUESDAY,
        every_days=14,
        until=until,
        exceptions=[
            {"original": (TUESDAY + timedelta(days=14)).isoformat(), "moved_to": None},
            {
                "original": (TUESDAY + timedelta(days=28)).isoformat(),
                "moved_to": (TUESDAY + timedelta(days=29, hours=4)).isoformat(),
            },
        ],
    )
    reply, calendar = only_invite(await waiting(world, lee))
    assert "then every 14 days until Tue 12 Jan" in reply.text
    main, moved = calendar.events
    rule = main["RRULE"]
    assert rule["FREQ"] == ["DAILY"] and rule["INTERVAL"] == [14] and rule["UNTIL"] == [until]
    assert [d.dt for d in main["EXDATE"].dts] == [TUESDAY + timedelta(days=14)]
    assert moved["UID"] == meeting.uid and "RRULE" not in moved
    assert moved.decoded("RECURRENCE-ID") == TUESDAY + timedelta(days=28)
    assert moved.decoded("DTSTART") == TUESDAY + timedelta(days=29, hours=4)
    starts = [
        e.decoded("DTSTART")
        for e in recurring_ical_events.of(calendar).between(TUESDAY, until + timedelta(days=1))
    ]
    assert starts == [
        TUESDAY,
        TUESDAY + timedelta(days=29, hours=4),
        TUESDAY + timedelta(days=42),
    ]


def local_starts(calendar: object, zone: str, start: datetime, end: datetime) -> list[str]:
    events = recurring_ical_events.of(calendar).between(start, end)
    return [f"{e.decoded('DTSTART').astimezone(ZoneInfo(zone)):%d %b %H:%M}" for e in events]


async def test_a_london_series_keeps_its_local_time_across_both_clock_changes(
    database: Database, program: Program
) -> None:
    # Weekly at 10:00 London from 9 March 2027: New York changes its clocks on 14 March,
    # London on 28 March. The meeting stays at 10:00 in London; New York sees it move.
    world = World(database, program)
    lee, _ana, pairing = await world.pair(mentee_zone="America/New_York")
    first = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)
    await book(world, pairing, starts_at=first, every_days=7, until=first + timedelta(days=21))
    _, calendar = only_invite(await waiting(world, lee))
    window = (first - timedelta(days=1), first + timedelta(days=30))
    assert local_starts(calendar, "Europe/London", *window) == [
        "09 Mar 10:00",
        "16 Mar 10:00",
        "23 Mar 10:00",
        "30 Mar 10:00",
    ]
    assert local_starts(calendar, "America/New_York", *window) == [
        "09 Mar 05:00",
        "16 Mar 06:00",
        "23 Mar 06:00",
        "30 Mar 05:00",
    ]


async def test_a_new_york_series_keeps_its_local_time_across_both_clock_changes(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, pairing = await world.pair(mentor_zone="America/New_York")
    first = datetime(2027, 3, 9, 14, 0, tzinfo=UTC)  # 09:00 in New York
    await book(world, pairing, starts_at=first, every_days=7, until=first + timedelta(days=21))
    reply, calendar = only_invite(await waiting(world, lee))
    assert reply.text.startswith("Your mentoring meetings with Ana Lima: Tue 9 Mar, 14:00–14:45")
    window = (first - timedelta(days=1), first + timedelta(days=30))
    assert local_starts(calendar, "America/New_York", *window) == [
        "09 Mar 09:00",
        "16 Mar 09:00",
        "23 Mar 09:00",
        "30 Mar 09:00",
    ]
    assert local_starts(calendar, "Europe/London", *window) == [
        "09 Mar 14:00",
        "16 Mar 13:00",
        "23 Mar 13:00",
        "30 Mar 14:00",
    ]


SECRET_NOTE = "talked about the reorg rumour"
SECRET_GOAL = "get promoted before Dana"


async def seed_private_text(world: World, pairing_id: int, lee: object) -> None:
    """A session note and a goal, the kind of text no calendar may show."""
    await log_session(world.chat(lee), notes=SECRET_NOTE)  # type: ignore[arg-type]
    now = world.clock.now()
    async with world.database.session() as session:
        session.add(
            Milestone(
                pairing_id=pairing_id,
                cycle=1,
                position=9,
                objective=SECRET_GOAL,
                target_date=date(2027, 1, 15),
                status="not_started",
                created_at=now,
                updated_at=now,
            )
        )


async def test_an_invite_holds_no_notes_or_goals(database: Database, program: Program) -> None:
    world = World(database, program)
    lee, ana, pairing = await world.pair()
    assert pairing.id is not None
    await seed_private_text(world, pairing.id, lee)
    meeting = await book(
        world, pairing, starts_at=TUESDAY, every_days=14, until=TUESDAY + timedelta(days=60)
    )
    await change(world, meeting, exceptions=[{"original": TUESDAY.isoformat(), "moved_to": None}])
    for person in (ana, lee):
        reply, _ = only_invite(await waiting(world, person))
        assert reply.attachment is not None
        for private in (SECRET_NOTE, SECRET_GOAL, "reorg", "promoted"):
            assert private not in reply.attachment.content and private not in reply.text


def test_a_series_ended_at_its_first_meeting_reads_as_that_one_meeting() -> None:
    # A move of the series from its second meeting on leaves the first one alone in it.
    meeting = Meeting(
        pairing_id=1,
        program="p",
        status="booked",
        uid="u@test",
        minutes=45,
        starts_at=TUESDAY,
        every_days=14,
        until=TUESDAY,
        created_at=TUESDAY,
        updated_at=TUESDAY,
    )
    text = invite_text(meeting, other="Ana Lima", zone="Europe/London", replaces=True)
    assert text == (
        "Your mentoring meeting with Ana Lima: Tue 1 Dec, 10:00–10:45 your time. Open the "
        "attached invite to put it in your calendar. It replaces the earlier invite."
    )
