"""Finding a time, picking, moving and cancelling through the chat engine
(handlers.meetings.offers, handlers.meetings.changes), on both databases.

Lee Park (the mentee) works in London and Ana Lima (the mentor) in New York; the world
starts on Monday 23 November 2026 at 10:00 UTC. Both gave two hours a month, so with a
check-in every 14 days their meetings are an hour long.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers.core.program import Program
from handlers.meetings import invites
from handlers.meetings.booking import cancel_ahead
from handlers.meetings.occurrences import occurrences
from handlers.meetings.slots import Slot
from storage import Meeting, Pairing, Person
from tests.handlers.cycle_world import World
from tests.helpers import make_person, rows


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str, int]]:
    """Every call to send_invites: (meeting, its status, its sequence) as it was then."""
    calls: list[tuple[int, str, int]] = []

    async def record(session: Any, *, program: Program, meeting: Meeting, now: datetime) -> None:
        assert meeting.id is not None
        calls.append((meeting.id, meeting.status, meeting.sequence))

    monkeypatch.setattr(invites, "send_invites", record)
    return calls


async def london_and_new_york(world: World) -> tuple[Person, Person, Pairing]:
    lee, ana, pairing = await world.pair(mentor_zone="America/New_York")
    await world.read_waiting(lee)
    await world.read_waiting(ana)
    return lee, ana, pairing


async def only_meeting(world: World) -> Meeting:
    [meeting] = await rows(world.database, Meeting)
    return meeting


async def book(
    world: World, lee: Person, ana: Person, pick: int = 2, *, once: bool = False
) -> Meeting:
    """Lee offers times, Ana picks one; returns the booked meeting."""
    await world.chat(lee).send("schedule once" if once else "schedule")
    await world.read_waiting(ana)
    offer = [m for m in await rows(world.database, Meeting) if m.status == "offered"][-1]
    await world.chat(ana).expect(f"pick-meeting {offer.id} {pick}", "Booked")
    return next(m for m in await rows(world.database, Meeting) if m.id == offer.id)


async def test_schedule_offers_three_times_in_each_readers_own_time(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    offered = await world.chat(lee).send("schedule")
    assert "I've offered Ana these times for a meeting every 14 days" in offered
    assert "60 minutes each" in offered
    assert "1. Mon 23 Nov, 14:00–15:00 your time (09:00 for Ana)" in offered
    assert "2. Wed 25 Nov, 15:00–16:00 your time (10:00 for Ana)" in offered
    assert "3. Fri 27 Nov, 16:30–17:30 your time (11:30 for Ana)" in offered
    meeting = await only_meeting(world)
    assert (meeting.status, meeting.offered_by, meeting.minutes) == ("offered", lee.id, 60)
    assert len(meeting.offered) == 3

    asked = await world.read_waiting(ana)
    assert "Lee would like to book a meeting every 14 days until Sun 21 Feb" in asked
    assert "• Mon 23 Nov, 09:00–10:00 your time (14:00 for Lee)" in asked
    assert "• Wed 25 Nov, 10:00–11:00 your time (15:00 for Lee)" in asked
    # Each button names its time in Ana's own time (never a bare number, which the shell
    # would number again after whatever came before).
    assert (
        "1. Mon 23 Nov, 09:00\n  2. Wed 25 Nov, 10:00\n  3. Fri 27 Nov, 11:30\n  4. Other times"
        in asked
    )

    booked = await world.chat(ana).send(f"pick-meeting {meeting.id} 2")
    assert booked.startswith("== Meeting booked ==\nBooked: Wed 25 Nov, 10:00–11:00 your time")
    assert "(15:00 for Lee) with Lee, then every 14 days until Sun 21 Feb" in booked
    told = await world.read_waiting(lee)
    assert "Ana picked Wed 25 Nov, 15:00–16:00 your time (10:00 for Ana)" in told

    meeting = await only_meeting(world)
    assert meeting.status == "booked"
    assert meeting.starts_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert (meeting.every_days, meeting.sequence) == (14, 1)
    assert meeting.until == datetime(2027, 2, 21, 10, 0, tzinfo=UTC)  # the cycle's end
    assert sent == [(meeting.id, "booked", 1)]
    status = await world.chat(lee).send("status")
    assert f"Pairing {pairing.id}: day 1 of 90" in status
    assert "next meeting Wed 25 Nov, 15:00–16:00 your time (10:00 for Ana)" in status


async def test_a_one_off_is_booked_with_once(world: World, sent: list[Any]) -> None:
    lee, ana, _ = await london_and_new_york(world)
    offered = await world.chat(lee).send("schedule once")
    assert "for a one-off" in offered
    assert "Lee would like to book a one-off meeting" in await world.read_waiting(ana)
    meeting = await only_meeting(world)
    reply = await world.chat(ana).send(f"pick-meeting {meeting.id} 1")
    assert "Booked: Mon 23 Nov, 09:00–10:00 your time (14:00 for Lee) with Lee, once." in reply
    meeting = await only_meeting(world)
    assert (meeting.every_days, meeting.until) == (None, None)


async def test_the_picker_may_book_a_series_offer_just_once(world: World, sent: list[Any]) -> None:
    lee, ana, _ = await london_and_new_york(world)
    await world.chat(lee).send("schedule")
    meeting = await only_meeting(world)
    await world.chat(ana).expect(f"pick-meeting {meeting.id} 3 once", "Booked", ", once.")
    assert (await only_meeting(world)).every_days is None


async def test_other_times_tells_the_offering_side_and_the_next_offer_is_new_times(
    world: World, sent: list[Any]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await world.chat(lee).send("schedule")
    first = await only_meeting(world)
    reply = await world.chat(ana).send(f"other-times {first.id}")
    assert "I've asked Lee to offer other times" in reply
    told = await world.read_waiting(lee)
    assert "None of the times you offered suits Ana" in told and "Find a time" in told
    assert (await only_meeting(world)).status == "declined"
    again = await world.chat(lee).send(f"schedule {pairing.id}")
    assert "I've offered Ana these times" in again
    offers = await rows(world.database, Meeting)
    assert [m.status for m in offers] == ["declined", "offered"]
    assert not {s["start"] for s in offers[0].offered} & {s["start"] for s in offers[1].offered}
    assert sent == []


async def test_picking_twice_or_from_a_replaced_offer_changes_nothing(
    world: World, sent: list[Any]
) -> None:
    lee, ana, _ = await london_and_new_york(world)
    await world.chat(lee).send("schedule")
    old = await only_meeting(world)
    await world.chat(lee).send("schedule")  # a newer offer replaces the first
    stale = await world.chat(ana).send(f"pick-meeting {old.id} 1")
    assert "That offer was replaced by newer times or turned down, so nothing changed" in stale
    new = next(m for m in await rows(world.database, Meeting) if m.status == "offered")
    await world.chat(ana).expect(f"pick-meeting {new.id} 1", "Booked")
    twice = await world.chat(ana).send(f"pick-meeting {new.id} 2")
    assert "That offer was already taken: the meeting is booked. Nothing changed." in twice
    mine = await world.chat(lee).send(f"pick-meeting {new.id} 2")
    assert "You offered these times" in mine
    booked = next(m for m in await rows(world.database, Meeting) if m.id == new.id)
    assert booked.sequence == 1 and len(sent) == 1


def offered(meeting: Meeting) -> list[Slot]:
    return [Slot.from_json(s) for s in meeting.offered]


async def test_a_time_taken_since_it_was_offered_is_not_booked_and_fresh_times_are_offered(
    world: World, sent: list[Any]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await world.chat(lee).send("schedule")
    offer = await only_meeting(world)
    first = offer.offered[0]
    # Meanwhile another meeting of theirs was booked over the first time.
    async with world.database.session() as session:
        session.add(
            Meeting(
                pairing_id=pairing.id,
                program=pairing.program,
                status="booked",
                uid="other@test",
                minutes=30,
                starts_at=datetime.fromisoformat(first["start"]),
                created_at=world.clock.now(),
                updated_at=world.clock.now(),
            )
        )
    reply = await world.chat(ana).send(f"pick-meeting {offer.id} 1")
    assert reply.startswith(
        "== Pick another time ==\nTime 1 (Mon 23 Nov, 09:00–10:00 your time (14:00 for Lee)) "
        "was taken since it was offered: it now overlaps another mentoring meeting of yours or "
        "Lee's, so nothing is booked. These times suit you and Lee now:\n1. "
    )
    meetings = {m.uid: m for m in await rows(world.database, Meeting)}
    assert meetings[offer.uid].status == "declined"  # its old buttons say it was replaced
    [fresh] = [m for m in meetings.values() if m.status == "offered"]
    other_start = datetime.fromisoformat(first["start"])
    taken = Slot(other_start, other_start + timedelta(minutes=30))
    assert len(offered(fresh)) == 3
    assert not any(slot.overlaps(taken) for slot in offered(fresh))
    assert (fresh.offered_by, fresh.every_days, fresh.until) == (lee.id, 14, offer.until)
    assert f"pick-meeting {fresh.id} and a number" in reply
    stale = await world.chat(ana).send(f"pick-meeting {offer.id} 2")
    assert "That offer was replaced by newer times" in stale
    booked = await world.chat(ana).send(f"pick-meeting {fresh.id} 1")
    assert booked.startswith("== Meeting booked ==")
    assert "Ana picked" in await world.read_waiting(lee)
    assert [status for _, status, _ in sent] == ["booked"]


async def test_a_time_that_has_passed_is_never_booked_and_fresh_times_are_offered(
    world: World, sent: list[Any]
) -> None:
    lee, ana, _ = await london_and_new_york(world)
    await world.chat(lee).send("schedule")
    offer = await only_meeting(world)
    world.clock.advance(days=3)  # Thursday: the Monday and Wednesday times have passed
    passed = await world.chat(ana).send(f"pick-meeting {offer.id} 2")
    assert (
        "Time 2 (Wed 25 Nov, 10:00–11:00 your time (15:00 for Lee)) has passed, so nothing is "
        "booked. These times suit you and Lee now:" in passed
    )
    [fresh] = [m for m in await rows(world.database, Meeting) if m.status == "offered"]
    assert fresh.id != offer.id
    assert all(slot.start > world.clock.now() for slot in offered(fresh))
    await world.chat(ana).expect(f"pick-meeting {fresh.id} 1", "Booked")
    booked = next(m for m in await rows(world.database, Meeting) if m.id == fresh.id)
    assert booked.starts_at is not None and booked.starts_at > world.clock.now()
    assert len(sent) == 1


async def test_someone_outside_the_pairing_reads_no_offer(world: World) -> None:
    lee, _, _ = await london_and_new_york(world)
    await world.chat(lee).send("schedule")
    offer = await only_meeting(world)
    kim = await make_person(world.database, "kim@x.com", name="Kim Olsen")
    reply = await world.chat(kim).send(f"pick-meeting {offer.id} 1")
    assert reply == f"There's no offer {offer.id} for you. Type schedule to find a time."
    assert "You have no active pairing to schedule" in await world.chat(kim).send("schedule")


async def test_a_pair_whose_hours_never_overlap_is_told_the_nearest_hours(world: World) -> None:
    lee, ana, _ = await world.pair()
    async with world.database.session() as session:
        moved = await session.get(Person, ana.id)
        assert moved is not None
        moved.timezone = "Australia/Sydney"
        session.add(moved)
    reply = await world.chat(lee).send("schedule")
    assert "I can't find a time inside both your working days." in reply
    assert "Your working hours are 09:00–17:30 your time (20:00–04:30 for Ana)" in reply
    assert "Ana's are 09:00–17:30 their time (22:00–06:30 your time)" in reply
    assert "The nearest your days come: 09:00 your time (20:00 for Ana)" in reply
    assert await rows(world.database, Meeting) == []


async def test_moving_one_occurrence_keeps_the_series(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    meeting = await book(world, lee, ana)
    world.take()
    shown = await world.chat(lee).send(f"move-meeting {pairing.id}")
    assert "Your next meeting with Ana is Wed 25 Nov, 15:00–16:00 your time" in shown
    assert f"move-meeting {pairing.id} 2026-11-25 to DAY HH:MM" in shown
    moved = await world.chat(lee).send(f"move-meeting {pairing.id} to 2026-11-26 16:00")
    assert (
        "Moved. Your meeting of Wed 25 Nov, 15:00–16:00 your time (10:00 for Ana) is now" in moved
    )
    assert "Thu 26 Nov, 16:00–17:00 your time (11:00 for Ana)" in moved
    told = await world.read_waiting(ana)
    assert "Lee moved your meeting of Wed 25 Nov, 10:00–11:00 your time (15:00 for Lee) to" in told
    assert "Thu 26 Nov, 11:00–12:00 your time (16:00 for Lee)" in told
    meeting = await only_meeting(world)
    assert meeting.exceptions == [
        {"original": "2026-11-25T15:00:00+00:00", "moved_to": "2026-11-26T16:00:00+00:00"}
    ]
    assert meeting.starts_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert sent[-1] == (meeting.id, "booked", 2)
    # The next after it is where the series puts it.
    status = await world.chat(ana).send("status")
    assert "next meeting Thu 26 Nov, 11:00–12:00 your time (16:00 for Lee)" in status


async def test_moving_the_series_moves_every_meeting_from_then_on(
    world: World, sent: list[Any]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)
    reply = await world.chat(ana).send(f"move-meeting {pairing.id} to 2026-11-27 09:00 series")
    assert "The whole series of Wed 25 Nov, 10:00–11:00 your time" in reply
    meeting = await only_meeting(world)
    assert meeting.starts_at == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    assert (meeting.exceptions, meeting.every_days, meeting.sequence) == ([], 14, 2)


async def test_moving_the_series_from_a_later_meeting_splits_it_and_cancelling_ends_both(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    first = await book(world, lee, ana)  # Wed 25 Nov, 15:00 London, every 14 days
    # From Wed 23 Dec on, Thursdays at 16:00; Wed 25 Nov and Wed 9 Dec stay as they are.
    moved = await world.chat(lee).send(
        f"move-meeting {pairing.id} 2026-12-23 to 2026-12-24 16:00 series"
    )
    assert "Moved. The whole series of Wed 23 Dec, 15:00–16:00 your time" in moved
    told = await world.read_waiting(ana)
    assert "and the ones after it follow from there" in told
    booked = sorted(
        (m for m in await rows(world.database, Meeting) if m.status == "booked"),
        key=lambda m: m.id or 0,
    )
    assert [(m.id, m.starts_at, m.until) for m in booked] == [
        (first.id, first.starts_at, datetime(2026, 12, 9, 15, 0, tzinfo=UTC)),
        (booked[1].id, datetime(2026, 12, 24, 16, 0, tzinfo=UTC), first.until),
    ]
    assert sent == [(first.id, "booked", 1), (booked[1].id, "booked", 1), (first.id, "booked", 2)]
    status = await world.chat(lee).send("status")
    assert "next meeting Wed 25 Nov, 15:00–16:00 your time" in status
    # The meeting of Wed 9 Dec is still there to move or cancel by its day.
    one = await world.chat(lee).send(f"cancel-meeting {pairing.id} 2026-12-09")
    assert "Cancelled your meeting of Wed 9 Dec, 15:00–16:00 your time" in one

    everything = await world.chat(ana).send(f"cancel-meeting {pairing.id} series")
    assert "Cancelled your meetings with Lee (every 14 days until Sun 21 Feb)" in everything
    assert {m.status for m in await rows(world.database, Meeting)} == {"cancelled"}
    assert "next meeting" not in await world.chat(lee).send("status")


async def test_moving_the_series_onto_the_time_of_one_of_its_own_later_meetings_is_allowed(
    world: World, sent: list[Any]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)
    world.clock.advance(days=3)  # the first meeting is held; the next is Wed 9 Dec
    # Wed 23 Dec 15:30 overlaps the series' own meeting of that day, which moves with it.
    moved = await world.chat(lee).send(f"move-meeting {pairing.id} to 2026-12-23 15:30 series")
    assert moved.startswith("== Meeting moved ==")
    starts = sorted(
        m.starts_at
        for m in await rows(world.database, Meeting)
        if m.status == "booked" and m.starts_at is not None
    )
    assert starts == [
        datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        datetime(2026, 12, 23, 15, 30, tzinfo=UTC),
    ]


async def test_a_move_to_the_past_outside_the_cycle_or_onto_a_meeting_is_refused(
    world: World, sent: list[Any]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)
    chat = world.chat(lee)
    past = await chat.send(f"move-meeting {pairing.id} to 2026-11-23 09:00")
    assert past == "That time has passed; pick a time from now on. Nothing changed."
    late = await chat.send(f"move-meeting {pairing.id} to 2027-03-01 10:00")
    assert "That's outside this cycle, which runs from Mon 23 Nov to Sun 21 Feb" in late
    clash = await chat.send(f"move-meeting {pairing.id} to 2026-12-09 15:30")
    assert "overlaps another mentoring meeting of yours or Ana's" in clash
    nonsense = await chat.send(f"move-meeting {pairing.id} to someday")
    assert "I can't read 'someday' as a day and a time" in nonsense
    none_then = await chat.send(f"move-meeting {pairing.id} 2026-11-24 to 2026-11-26 16:00")
    assert "There's no meeting with Ana on Tue 24 Nov; the next are on Wed 25 Nov" in none_then
    meeting = await only_meeting(world)
    assert (meeting.sequence, meeting.exceptions) == (1, [])


async def test_cancelling_one_occurrence_then_the_series(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)
    one = await world.chat(lee).send(f"cancel-meeting {pairing.id} 2026-12-09")
    assert "Cancelled your meeting of Wed 9 Dec, 15:00–16:00 your time (10:00 for Ana)" in one
    assert "The others in the series stay booked." in one
    assert "Lee cancelled your meeting of Wed 9 Dec, 10:00–11:00 your time" in (
        await world.read_waiting(ana)
    )
    meeting = await only_meeting(world)
    assert meeting.exceptions == [{"original": "2026-12-09T15:00:00+00:00", "moved_to": None}]
    world.clock.advance(days=3)  # past the first meeting
    status = await world.chat(lee).send("status")
    assert "next meeting Wed 23 Dec, 15:00–16:00 your time" in status

    # The meeting of Wed 25 Nov was held: it stays, and the series now ends there.
    everything = await world.chat(ana).send(f"cancel-meeting {pairing.id} series")
    assert (
        "Cancelled your meetings with Lee from Wed 23 Dec on; the ones you've had stay in your "
        "calendar." in everything
    )
    assert "Ana cancelled your meetings from Wed 23 Dec on" in await world.read_waiting(lee)
    meeting = await only_meeting(world)
    assert (meeting.status, meeting.until, meeting.sequence) == (
        "booked",
        datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        3,
    )
    assert meeting.exceptions == []  # the one cancelled before is past the new end
    assert sent[-1] == (meeting.id, "booked", 3)
    assert "next meeting" not in await world.chat(lee).send("status")
    none = await world.chat(lee).send(f"cancel-meeting {pairing.id}")
    assert "You have no meeting with Ana booked from now on" in none


async def test_a_meeting_in_progress_is_held_so_cancelling_the_series_keeps_it(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    first = await book(world, lee, ana)  # Wed 25 Nov, 15:00-16:00 London, every 14 days
    world.clock.current = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # half-way through it
    status = await world.chat(lee).send("status")
    assert "next meeting Wed 9 Dec, 15:00–16:00 your time" in status
    everything = await world.chat(lee).send(f"cancel-meeting {pairing.id} series")
    assert (
        "Cancelled your meetings with Ana from Wed 9 Dec on; the ones you've had stay in your "
        "calendar." in everything
    )
    meeting = await only_meeting(world)
    assert (meeting.status, meeting.until) == ("booked", first.starts_at)
    assert sent[-1] == (meeting.id, "booked", 2)


async def test_cancelling_during_a_meeting_cancels_the_next_one_not_the_one_going_on(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)
    world.clock.current = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    one = await world.chat(ana).send(f"cancel-meeting {pairing.id}")
    assert "Cancelled your meeting of Wed 9 Dec, 10:00–11:00 your time" in one
    meeting = await only_meeting(world)
    assert meeting.exceptions == [{"original": "2026-12-09T15:00:00+00:00", "moved_to": None}]


async def test_cancelling_a_split_series_keeps_the_part_held(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    first = await book(world, lee, ana)
    world.clock.advance(days=3)  # Wed 25 Nov was held
    await world.chat(lee).expect(
        f"move-meeting {pairing.id} to 2026-12-10 16:00 series", "Moved. The whole series"
    )
    everything = await world.chat(ana).send(f"cancel-meeting {pairing.id} series")
    assert (
        "Cancelled your meetings with Lee from Thu 10 Dec on; the ones you've had stay in your "
        "calendar." in everything
    )
    meetings = {m.id: m for m in await rows(world.database, Meeting)}
    held = meetings.pop(first.id)
    [following] = meetings.values()
    assert (held.status, held.until) == ("booked", first.starts_at)
    assert following.status == "cancelled"


async def test_cancelling_the_series_before_any_meeting_is_held_cancels_it_whole(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana)
    everything = await world.chat(ana).send(f"cancel-meeting {pairing.id} series")
    assert "Cancelled your meetings with Lee (every 14 days until Sun 21 Feb)." in everything
    meeting = await only_meeting(world)
    assert (meeting.status, meeting.cancelled_at) == ("cancelled", world.clock.now())
    assert sent[-1] == (meeting.id, "cancelled", 2)


async def test_cancelling_a_one_off_cancels_the_meeting(world: World, sent: list[Any]) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    await book(world, lee, ana, once=True)
    reply = await world.chat(ana).send(f"cancel-meeting {pairing.id}")
    assert "Cancelled your meeting of Wed 25 Nov, 10:00–11:00 your time (15:00 for Lee)" in reply
    assert "stay booked" not in reply
    assert (await only_meeting(world)).status == "cancelled"


async def test_the_kickoff_offers_find_a_time_to_both(world: World) -> None:
    _lee, ana, pairing = await world.pair(mentor_zone="America/New_York")
    kickoff = await world.read_waiting(ana)
    assert "Meet your mentoring partner" in kickoff and "1. Find a time" in kickoff
    reply = await world.chat(ana).send(f"schedule {pairing.id}")
    assert "I've offered Lee these times" in reply


async def test_reschedule_with_a_meeting_booked_says_how_to_move_the_meeting(
    world: World, sent: list[tuple[int, str, int]]
) -> None:
    lee, ana, pairing = await london_and_new_york(world)
    before = await world.chat(lee).send(f"reschedule {pairing.id}")
    assert "Your next meeting" not in before  # nothing booked: only the check-in's days
    await world.chat(lee).send("cancel")
    await book(world, lee, ana)
    asked = await world.chat(lee).send(f"reschedule {pairing.id}")
    assert (
        "Your next meeting is Wed 25 Nov, 15:00–16:00 your time (10:00 for Ana). To move it "
        f"(or the whole series), type move-meeting {pairing.id}" in asked
    )
    assert "Move the meeting" in asked
    assert "When will you meet? I'll check in with you that day." in asked
    await world.chat(lee).send("cancel")
    moved = await world.chat(lee).send(f"move-meeting {pairing.id}")
    assert "Wed 25 Nov" in moved


def test_cancelling_ahead_keeps_the_meetings_held_and_cancels_an_earlier_one_moved_ahead() -> None:
    monday = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    week = timedelta(days=7)
    meeting = Meeting(
        pairing_id=1,
        program="p",
        status="booked",
        uid="u@test",
        minutes=60,
        starts_at=monday,
        every_days=7,
        until=monday + 8 * week,
        exceptions=[
            # The second meeting was moved past now; a later one was cancelled.
            {
                "original": (monday + week).isoformat(),
                "moved_to": (monday + 3 * week + timedelta(days=1)).isoformat(),
            },
            {"original": (monday + 5 * week).isoformat(), "moved_to": None},
        ],
        created_at=monday,
        updated_at=monday,
    )
    now = monday + 2 * week + timedelta(days=3)  # the 1st and 3rd are held
    assert cancel_ahead(meeting, zone="Europe/London", now=now) is False
    assert meeting.until == monday + 2 * week
    assert meeting.exceptions == [{"original": (monday + week).isoformat(), "moved_to": None}]
    held = [o.start for o in occurrences(meeting, zone="Europe/London")]
    assert held == [monday, monday + 2 * week]


#: The cycle of a pairing made at the world's start ends on Sunday 21 February 2027.
CYCLE_END = datetime(2027, 2, 21, 10, 0, tzinfo=UTC)


async def test_schedule_offers_no_time_after_the_cycle_ends(world: World, sent: list[Any]) -> None:
    lee, _ana, _ = await london_and_new_york(world)
    world.clock.advance(days=87)  # Thursday 18 February: the week runs past the cycle
    offered_now = await world.chat(lee).send("schedule")
    assert "I've offered Ana these times" in offered_now
    assert "Your cycle ends on Sun 21 Feb, so I offered only times before then." in offered_now
    [offer] = await rows(world.database, Meeting)
    assert offer.offered and all(slot.end <= CYCLE_END for slot in offered(offer))


async def test_schedule_says_kindly_when_the_cycle_ends_before_any_time_suits(
    world: World, sent: list[Any]
) -> None:
    lee, _, pairing = await london_and_new_york(world)
    world.clock.advance(days=89)  # Saturday 20 February: no working day before the end
    reply = await world.chat(lee).send("schedule")
    assert reply == (
        "Your cycle with Ana ends on Sun 21 Feb, and no time before then suits you both. "
        "When the end-of-cycle review asks, you can both choose to continue for another "
        f"cycle; then type schedule {pairing.id} to find a time in it."
    )
    world.clock.advance(days=2)  # Monday 22 February: the cycle has ended
    after = await world.chat(lee).send("schedule once")
    assert after.startswith(
        "Your cycle with Ana ended on Sun 21 Feb, so there's no time left in it to book."
    )
    assert await rows(world.database, Meeting) == []


async def test_fresh_times_for_a_passed_pick_stop_at_the_cycles_end(
    world: World, sent: list[Any]
) -> None:
    lee, ana, _ = await london_and_new_york(world)
    world.clock.advance(days=84)  # Monday 15 February
    await world.chat(lee).send("schedule")
    [offer] = await rows(world.database, Meeting)
    world.clock.advance(days=3)  # Thursday 18 February: the first time has passed
    reply = await world.chat(ana).send(f"pick-meeting {offer.id} 1")
    assert "has passed, so nothing is booked. These times suit you and Lee now:" in reply
    [fresh] = [m for m in await rows(world.database, Meeting) if m.status == "offered"]
    assert fresh.offered and all(slot.end <= CYCLE_END for slot in offered(fresh))
