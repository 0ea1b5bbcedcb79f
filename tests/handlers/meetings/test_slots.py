"""Finding a time (handlers.meetings.slots): pure, across timezones and daylight saving."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.program import WorkingHours
from handlers.meetings.slots import (
    GRID_MINUTES,
    LOOK_AHEAD,
    Attendee,
    Slot,
    candidates,
    closest_hours,
    find_slots,
    inside_hours,
    no_overlap_words,
    slot_words,
)

HOURS = WorkingHours(start="09:00", end="17:30")
LONDON = Attendee("Sam Reed", "Europe/London", HOURS)
NEW_YORK = Attendee("Dara Cole", "America/New_York", HOURS)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(slot: Slot, zone: str) -> str:
    return slot.start.astimezone(ZoneInfo(zone)).strftime("%a %-d %b %H:%M")


def test_three_slots_inside_both_days_on_different_days() -> None:
    # Monday 11 January 2027, 08:00 UTC: New York is 5 hours behind London.
    slots = find_slots([LONDON, NEW_YORK], now=at("2027-01-11T08:00"), minutes=45)
    assert len(slots) == 3
    assert len({s.start.date() for s in slots}) == 3
    for slot in slots:
        assert inside_hours(LONDON, slot) and inside_hours(NEW_YORK, slot)
        # Both days overlap from 14:00 to 17:30 London time only.
        assert slot.start.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") >= "14:00"
    # Spread over the week, and not all at the same time of day.
    assert [local(s, "Europe/London") for s in slots] == [
        "Mon 11 Jan 14:00",
        "Wed 13 Jan 15:00",
        "Fri 15 Jan 16:30",
    ]


def test_no_slot_ends_after_the_cycle_ends() -> None:
    end = at("2027-01-13T16:00")  # Wednesday: the cycle ends mid-week
    slots = find_slots([LONDON, NEW_YORK], now=at("2027-01-11T08:00"), minutes=45, until=end)
    assert slots and all(slot.end <= end for slot in slots)
    assert [local(s, "Europe/London") for s in slots] == [
        "Mon 11 Jan 14:00",
        "Tue 12 Jan 15:00",
        "Wed 13 Jan 15:00",
    ]
    # A cycle that has ended leaves nothing.
    passed = at("2027-01-11T08:00")
    assert candidates([LONDON], now=passed, minutes=45, until=passed) == []


def test_a_slot_reads_in_the_readers_time_with_the_others_beside_it() -> None:
    slot = Slot(at("2027-01-12T15:00"), at("2027-01-12T15:45"))
    assert slot_words(slot, reader=LONDON, other=NEW_YORK) == (
        "Tue 12 Jan, 15:00–15:45 your time (10:00 for Dara)"
    )
    assert slot_words(slot, reader=NEW_YORK, other=LONDON) == (
        "Tue 12 Jan, 10:00–10:45 your time (15:00 for Sam)"
    )
    same = Attendee("Ana Lima", "Europe/London", HOURS)
    assert slot_words(slot, reader=LONDON, other=same) == "Tue 12 Jan, 15:00–15:45"


def test_the_us_change_two_weeks_before_the_uk_opens_an_hour_more_of_overlap() -> None:
    # Thursday 11 March 2027: New York moves to summer time on Sunday 14 March, London
    # not until 28 March, so for two weeks New York is 4 hours behind London, not 5.
    now = at("2027-03-11T08:00")
    found = candidates([LONDON, NEW_YORK], now=now, minutes=45)
    starts = {local(s, "Europe/London") for s in found}
    assert "Fri 12 Mar 13:00" not in starts  # 08:00 in New York, before its day starts
    assert "Fri 12 Mar 14:00" in starts
    assert "Mon 15 Mar 13:00" in starts  # 09:00 in New York after its change
    slot = next(s for s in found if local(s, "Europe/London") == "Mon 15 Mar 13:00")
    assert slot_words(slot, reader=NEW_YORK, other=LONDON) == (
        "Mon 15 Mar, 09:00–09:45 your time (13:00 for Sam)"
    )
    for slot in found:
        assert inside_hours(LONDON, slot) and inside_hours(NEW_YORK, slot)


def test_after_the_uk_change_the_overlap_is_five_hours_apart_again() -> None:
    # Thursday 25 March 2027: London moves to summer time on Sunday 28 March.
    found = candidates([LONDON, NEW_YORK], now=at("2027-03-25T08:00"), minutes=45)
    starts = {local(s, "Europe/London") for s in found}
    assert "Fri 26 Mar 13:00" in starts  # 09:00 in New York, 4 hours behind
    assert "Mon 29 Mar 13:00" not in starts  # 08:00 in New York: 5 hours behind again
    assert "Mon 29 Mar 14:00" in starts
    assert max(
        local(s, "Europe/London") for s in found if "29 Mar" in local(s, "Europe/London")
    ) == ("Mon 29 Mar 16:30")


def test_slots_avoid_other_meetings_and_times_offered_before() -> None:
    now = at("2027-01-11T08:00")
    first = find_slots([LONDON, NEW_YORK], now=now, minutes=45)
    busy = [Slot(first[0].start - timedelta(minutes=15), first[0].end)]
    again = find_slots([LONDON, NEW_YORK], now=now, minutes=45, busy=busy, avoid=first[1:])
    assert not any(s.overlaps(b) for s in again for b in busy)
    assert not {s.start for s in again} & {s.start for s in first}


def test_slots_never_start_in_the_past_or_on_a_weekend() -> None:
    # Friday 15 January 2027, 16:00 UTC: what is left of Friday is not enough notice.
    slots = find_slots([LONDON, NEW_YORK], now=at("2027-01-15T16:00"), minutes=45)
    assert [local(s, "Europe/London")[:3] for s in slots] == ["Mon", "Wed", "Fri"]
    assert all(s.start > at("2027-01-15T16:00") for s in slots)


def test_a_short_week_puts_two_slots_on_one_day_apart() -> None:
    # Thursday evening: only Friday and the next Monday to Thursday are in reach, but
    # with a two-hour overlap a day, Friday holds two slots at most.
    hours = WorkingHours(start="09:00", end="17:30", days=["fri"])
    only_fridays = [Attendee("A", "Europe/London", hours), Attendee("B", "Europe/London", hours)]
    slots = find_slots(only_fridays, now=at("2027-01-14T20:00"), minutes=45)
    assert len(slots) == 3
    assert len({s.start.date() for s in slots}) == 1
    starts = sorted(s.start for s in slots)
    assert all(
        later - earlier >= timedelta(hours=2) for earlier, later in itertools.pairwise(starts)
    )


def test_hours_that_never_overlap_say_where_each_day_comes_closest() -> None:
    sydney = Attendee("Kenji Ito", "Australia/Sydney", HOURS)
    now = at("2027-01-11T08:00")
    assert candidates([LONDON, sydney], now=now, minutes=45) == []
    closest = closest_hours(LONDON, sydney, now=now)
    assert closest.gap == timedelta(hours=2, minutes=30)
    words = no_overlap_words(LONDON, sydney, now=now)
    assert "Your working hours are 09:00–17:30 your time (20:00–04:30 for Kenji)" in words
    assert "Kenji's are 09:00–17:30 their time (22:00–06:30 your time)" in words
    # London's morning is Sydney's evening: the start of one day, the end of the other.
    assert "The nearest your days come: 09:00 your time (20:00 for Kenji)" in words
    assert "and 17:30 for Kenji (06:30 your time)" in words


ZONES = (
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Pacific/Auckland",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@st.composite
def attendees(draw: st.DrawFn) -> Attendee:
    start = draw(st.integers(6, 12))
    end = draw(st.integers(start + 2, 20))
    days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
    hours = WorkingHours(start=f"{start:02d}:00", end=f"{end:02d}:30", days=days)
    return Attendee("X Y", draw(st.sampled_from(ZONES)), hours)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    first=attendees(),
    second=attendees(),
    # Any moment of 2026-2028, so both hemispheres' daylight-saving changes are crossed.
    offset=st.integers(0, 3 * 365 * 24 * 4),
    minutes=st.sampled_from((30, 45, 60, 90)),
    busy=st.lists(st.tuples(st.integers(0, 7 * 24 * 4), st.integers(2, 12)), max_size=6),
)
def test_every_slot_suits_both_on_working_days_within_the_week_clear_of_meetings(
    first: Attendee,
    second: Attendee,
    offset: int,
    minutes: int,
    busy: list[tuple[int, int]],
) -> None:
    now = at("2026-01-01T00:00") + timedelta(minutes=15 * offset)
    meetings = [
        Slot(now + timedelta(minutes=15 * s), now + timedelta(minutes=15 * (s + n)))
        for s, n in busy
    ]
    slots = find_slots([first, second], now=now, minutes=minutes, busy=meetings)
    assert len(slots) <= 3
    assert slots == sorted(set(slots))
    for slot in slots:
        assert inside_hours(first, slot) and inside_hours(second, slot)
        assert now < slot.start and slot.end <= now + LOOK_AHEAD
        assert slot.end - slot.start == timedelta(minutes=minutes)
        assert slot.start.minute % GRID_MINUTES == 0
        assert not any(slot.overlaps(m) for m in meetings)
    if len({s.start.date() for s in slots}) < len(slots):
        # Two on one day only when fewer days than three had a slot, and then apart.
        found = candidates([first, second], now=now, minutes=minutes, busy=meetings)
        assert len({s.start.astimezone(ZoneInfo(first.zone)).date() for s in found}) < 3
