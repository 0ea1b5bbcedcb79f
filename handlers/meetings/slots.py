"""Finding a time two people can meet: three slots inside both people's working hours.

Pure: no database, no clock of its own. Everything is worked out on instants (aware
datetimes) and each person's hours are read in their own timezone, so a pair in London
and New York is offered only times inside both days, on both sides of a daylight-saving
change (the US changes two weeks before the UK in March: for those two weeks New York is
4 hours behind London, not 5).

* :func:`find_slots`: the three slots offered, spread over different days at different
  times of day, on a grid (:00 and :30 UTC, which is :00/:30 in every whole- or
  half-hour timezone), in the next 7 days (and before the cycle ends, when told its end),
  never in the past, avoiding other meetings.
* :func:`closest_hours`: for a pair whose hours never overlap, where each one's working
  day comes closest to the other's.
* :func:`slot_words`: a slot as one reader reads it, with the other side's time beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.core.calendar import WEEKDAYS, clock_time, day_label
from handlers.core.program import WorkingHours

#: How far ahead slots are looked for.
LOOK_AHEAD = timedelta(days=7)
#: Slots start on this grid of minutes (UTC).
GRID_MINUTES = 30
#: The least notice a slot gives: a time two hours away is not worth offering.
NOTICE = timedelta(hours=2)
#: How many slots an offer holds.
OFFERED = 3
#: Two slots on the same day are at least this far apart.
SAME_DAY_GAP = timedelta(hours=2)


@dataclass(frozen=True, order=True)
class Slot:
    """A stretch of time, as instants (UTC)."""

    start: datetime
    end: datetime

    def overlaps(self, other: Slot) -> bool:
        """Whether the two share any time (touching end to start does not count)."""
        return self.start < other.end and other.start < self.end

    def to_json(self) -> dict[str, str]:
        """The slot as :attr:`storage.Meeting.offered` keeps it."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Slot:
        """A slot :meth:`to_json` wrote."""
        return cls(
            _utc(datetime.fromisoformat(data["start"])), _utc(datetime.fromisoformat(data["end"]))
        )


@dataclass(frozen=True)
class Attendee:
    """One side of a meeting: whom to name, their timezone and their working hours."""

    name: str
    zone: str
    hours: WorkingHours

    @property
    def first(self) -> str:
        """Their first name, as a message calls them."""
        return self.name.split()[0] if self.name.strip() else "your pair"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def inside_hours(person: Attendee, slot: Slot) -> bool:
    """Whether the slot is wholly inside the person's working hours, on a working day.

    Read in their own timezone, so a daylight-saving change is the timezone database's
    business: 09:00 is 09:00 local on both sides of it.
    """
    zone = ZoneInfo(person.zone)
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    if start.date() != end.date() or WEEKDAYS[start.weekday()] not in person.hours.days:
        return False
    opens, closes = clock_time(person.hours.start), clock_time(person.hours.end)
    return opens <= start.time() and end.time() <= closes


def _first_on_grid(moment: datetime) -> datetime:
    """The first grid point at or after ``moment`` (UTC)."""
    moment = _utc(moment).replace(second=0, microsecond=0) + (
        timedelta(minutes=1) if moment.second or moment.microsecond else timedelta()
    )
    past = moment.minute % GRID_MINUTES
    return moment + timedelta(minutes=(GRID_MINUTES - past) % GRID_MINUTES)


def candidates(
    people: Sequence[Attendee],
    *,
    now: datetime,
    minutes: int,
    busy: Iterable[Slot] = (),
    avoid: Iterable[Slot] = (),
    until: datetime | None = None,
) -> list[Slot]:
    """Every grid slot of ``minutes`` in the next 7 days that suits everyone, in order.

    Args:
        people: Whose working hours the slot must be inside.
        now: The moment of asking; slots start at least :data:`NOTICE` later.
        minutes: How long the meeting is.
        busy: Their other meetings: a slot may not overlap any.
        avoid: Slots offered before (asked for other times): not offered again.
        until: The latest a slot may end (the pairing's cycle ends then), if sooner.
    """
    taken = sorted(busy)
    skipped = {slot.start for slot in avoid}
    length = timedelta(minutes=minutes)
    found: list[Slot] = []
    moment = _first_on_grid(_utc(now) + NOTICE)
    last = _utc(now) + LOOK_AHEAD
    if until is not None:
        last = min(last, _utc(until))
    while moment + length <= last:
        slot = Slot(moment, moment + length)
        if (
            moment not in skipped
            and all(inside_hours(person, slot) for person in people)
            and not any(slot.overlaps(other) for other in taken)
        ):
            found.append(slot)
        moment += timedelta(minutes=GRID_MINUTES)
    return found


def find_slots(
    people: Sequence[Attendee],
    *,
    now: datetime,
    minutes: int,
    busy: Iterable[Slot] = (),
    avoid: Iterable[Slot] = (),
    count: int = OFFERED,
    until: datetime | None = None,
) -> list[Slot]:
    """Up to ``count`` slots that suit everyone, spread out (see :func:`spread`).

    Args:
        until: The latest a slot may end (see :func:`candidates`).

    Returns:
        The slots in time order; fewer than ``count`` (or none) when the week has fewer.
    """
    found = candidates(people, now=now, minutes=minutes, busy=busy, avoid=avoid, until=until)
    return spread(found, count=count, zone=people[0].zone if people else "UTC")


def spread(found: Sequence[Slot], *, count: int, zone: str) -> list[Slot]:
    """``count`` of the slots, spread out: different days, different times of day.

    The days are spread over those the week offers (Monday, Wednesday and Friday of five);
    the first day's slot is its earliest, the last day's its latest, the ones between
    from the middle of their day, so the offer is not three mornings. Only when fewer days
    than ``count`` have a slot does one day hold two, at least :data:`SAME_DAY_GAP` apart.

    Args:
        found: Candidate slots in time order.
        zone: Whose calendar days group them (the first person's).
    """
    if count <= 0 or not found:
        return []
    tz = ZoneInfo(zone)
    days: dict[date, list[Slot]] = {}
    for slot in found:
        days.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    ordered = sorted(days)
    if len(ordered) >= count:
        picks = (
            [round(i * (len(ordered) - 1) / (count - 1)) for i in range(count)]
            if count > 1
            else [0]
        )
        chosen: list[Slot] = []
        for position, index in enumerate(picks):
            slots = days[ordered[index]]
            share = position / (count - 1) if count > 1 else 0.0
            chosen.append(slots[round(share * (len(slots) - 1))])
        return sorted(chosen)
    chosen = [days[day][0] for day in ordered]
    for slot in found:
        if len(chosen) >= count:
            break
        if all(abs(slot.start - other.start) >= SAME_DAY_GAP for other in chosen):
            chosen.append(slot)
    return sorted(chosen)


def _clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def slot_words(slot: Slot, *, reader: Attendee, other: Attendee) -> str:
    """A slot as ``reader`` reads it: ``Tue 12 Jan, 10:00–10:45 your time (16:00 for Dara)``.

    The other side's time is left out when it reads the same as the reader's; their day is
    named when it is another day for them.
    """
    local = slot.start.astimezone(ZoneInfo(reader.zone))
    span = f"{_clock(slot.start, reader.zone)}–{_clock(slot.end, reader.zone)}"
    words = f"{day_label(local.date())}, {span}"
    theirs = slot.start.astimezone(ZoneInfo(other.zone))
    if theirs.utcoffset() == local.utcoffset():
        return words
    when = _clock(slot.start, other.zone)
    if theirs.date() != local.date():
        when = f"{day_label(theirs.date())} {when}"
    return f"{words} your time ({when} for {other.first})"


@dataclass(frozen=True)
class Closest:
    """Where two working days come closest, for a pair whose hours never overlap.

    Attributes:
        edge: Each person's working hour nearest the other's day (the end of one's day,
            the start of the other's), by person.
        gap: How far apart the two days are at their closest.
    """

    edge: tuple[datetime, datetime]
    gap: timedelta


def _day_window(person: Attendee, day: date) -> Slot:
    zone = ZoneInfo(person.zone)
    opens = datetime.combine(day, clock_time(person.hours.start), tzinfo=zone)
    closes = datetime.combine(day, clock_time(person.hours.end), tzinfo=zone)
    return Slot(_utc(opens), _utc(closes))


def closest_hours(first: Attendee, second: Attendee, *, now: datetime) -> Closest:
    """Where ``first``'s and ``second``'s working days come closest in the coming week.

    Each person's nearest hour is the edge of their own working day that is closest to
    the other's: "your day ends at 17:30 (02:30 for Kenji)".
    """
    best: Closest | None = None
    for offset in range(1, 8):
        day = (now + timedelta(days=offset)).astimezone(ZoneInfo(first.zone)).date()
        if WEEKDAYS[day.weekday()] not in first.hours.days:
            continue
        mine = _day_window(first, day)
        for shift in (-1, 0, 1):
            other_day = day + timedelta(days=shift)
            if WEEKDAYS[other_day.weekday()] not in second.hours.days:
                continue
            theirs = _day_window(second, other_day)
            if mine.end <= theirs.start:
                found = Closest((mine.end, theirs.start), theirs.start - mine.end)
            elif theirs.end <= mine.start:
                found = Closest((mine.start, theirs.end), mine.start - theirs.end)
            else:
                found = Closest((max(mine.start, theirs.start),) * 2, timedelta())
            if best is None or found.gap < best.gap:
                best = found
    assert best is not None, "working hours name at least one day of the week"
    return best


def no_overlap_words(first: Attendee, second: Attendee, *, now: datetime) -> str:
    """Why no slot suits the pair, as ``first`` reads it: each one's hours in both times,
    and the nearest hours for each."""
    closest = closest_hours(first, second, now=now)
    mine, theirs = closest.edge
    hours = (
        f"Your working hours are {first.hours.start}–{first.hours.end} your time "
        f"({_window(first, second, now)} for {second.first}); {second.first}'s are "
        f"{second.hours.start}–{second.hours.end} their time ({_window(second, first, now)} "
        "your time), so they never overlap."
    )
    nearest = (
        f"The nearest your days come: {_clock(mine, first.zone)} your time "
        f"({_clock(mine, second.zone)} for {second.first}) and "
        f"{_clock(theirs, second.zone)} for {second.first} ({_clock(theirs, first.zone)} your "
        "time)."
    )
    return f"I can't find a time inside both your working days. {hours} {nearest}"


def _window(person: Attendee, reader: Attendee, now: datetime) -> str:
    """``person``'s working hours in ``reader``'s time, on the next working day."""
    for offset in range(1, 8):
        day = (now + timedelta(days=offset)).astimezone(ZoneInfo(person.zone)).date()
        if WEEKDAYS[day.weekday()] in person.hours.days:
            window = _day_window(person, day)
            return f"{_clock(window.start, reader.zone)}–{_clock(window.end, reader.zone)}"
    return "–"  # pragma: no cover - working hours name at least one day


def at_wall_time(moment: datetime, zone: str, *, days: int) -> datetime:
    """``moment`` moved ``days`` calendar days on, at the same wall-clock time in ``zone``.

    A series keeps its local time across a daylight-saving change, as a calendar does with
    a ``DTSTART;TZID=...`` and an ``RRULE``.
    """
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    moved = datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=tz)
    return _utc(_utc(moved).astimezone(tz))
