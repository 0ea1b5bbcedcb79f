"""When a message may reach someone: inside their working hours, on a working day, locally.

Scheduled messages (check-ins, calibration, reviews, nudges) fall due on a day; they are
delivered at the first moment at or after that instant that is inside the recipient's
``cadence.working_hours`` in their own timezone, on one of the working ``days``. Never at
3 a.m. local time, never on a weekend, and daylight-saving changes are handled by the
timezone database: 09:00 is 09:00 local on both sides of the change.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.core.program import WorkingHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def clock_time(text: str) -> time:
    """A ``HH:MM`` setting as a time of day."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as an aware instant.

    A time that does not exist that day (skipped by a spring-forward change) resolves to
    the same wall time after the change, as ``zoneinfo`` does with ``fold=0``.
    """
    local = datetime.combine(day, moment, tzinfo=zone)
    # Round-trip through UTC so a non-existent wall time lands on a real instant.
    return local.astimezone(ZoneInfo("UTC")).astimezone(zone)


def next_delivery(moment: datetime, *, zone: str, hours: WorkingHours) -> datetime:
    """The first instant at or after ``moment`` inside working hours in ``zone``.

    Args:
        moment: When the message falls due (aware).
        zone: The recipient's IANA timezone.
        hours: The program's working hours and days.

    Returns:
        An aware datetime in ``zone``: ``moment`` itself when it is already inside working
        hours, else the start of the next working period.
    """
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    start, end = clock_time(hours.start), clock_time(hours.end)
    working = {WEEKDAYS.index(day) for day in hours.days}
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in working:
            continue
        opens, closes = _at(day, start, tz), _at(day, end, tz)
        if local < opens:
            return opens
        if local < closes:
            return local
    raise AssertionError("working hours name at least one day of the week")  # pragma: no cover


def last_opening(moment: datetime, *, zone: str, hours: WorkingHours) -> datetime:
    """The start of the last working period in ``zone`` that began at or before ``moment``.

    The other way round from :func:`next_delivery`: for a message that must arrive before
    a deadline which falls outside working hours.
    """
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    start = clock_time(hours.start)
    working = {WEEKDAYS.index(day) for day in hours.days}
    for offset in range(8):
        day = local.date() - timedelta(days=offset)
        if day.weekday() in working and (opens := _at(day, start, tz)) <= local:
            return opens
    raise AssertionError("working hours name at least one day of the week")  # pragma: no cover


def local_date(moment: datetime, zone: str) -> date:
    """The calendar day ``moment`` falls on in ``zone``."""
    return moment.astimezone(ZoneInfo(zone)).date()


def day_label(day: date) -> str:
    """A day as people read it: ``Tue 8 Dec``."""
    return day.strftime("%a %-d %b")


def local_moment(moment: datetime, zone: str) -> str:
    """An instant as the reader's wall clock shows it: ``Tue 1 Dec at 10:00``."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{day_label(local.date())} at {local:%H:%M}"


def deadline(moment: datetime, zone: str) -> str:
    """A deadline as its reader reads it: ``Tue 1 Dec at 10:00 (your time)``.

    Every "answer by" reads its day and hour on the reader's own clock: the same lapse is
    Monday evening in Auckland and Sunday night in Los Angeles, and a day alone would have
    one of them answer after the proposal lapsed.
    """
    return f"{local_moment(moment, zone)} (your time)"


_DAY_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%d/%m/%Y")
#: Digits in the longest ``in N days`` worth reading: more weeks than the calendar has.
_LONGEST_COUNT = 6


def parse_day(text: str, today: date, *, past: bool = False) -> date | None:
    """A day typed by a person, or None when it does not read as one.

    Understands ``2026-12-08``, ``8 Dec 2026``, ``today``, ``tomorrow``, ``yesterday``, a
    weekday (``tuesday``, ``tue``: the next one after today, or with ``past`` the last
    one, today included), and ``in 3 days`` / ``in 2 weeks``.
    """
    words = text.strip().lower().replace(",", " ").split()
    if not words:
        return None
    phrase = " ".join(words)
    named = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if phrase in named:
        return today + timedelta(days=named[phrase])
    for index, (name, full) in enumerate(zip(WEEKDAYS, _WEEKDAY_NAMES, strict=True)):
        if past and phrase in (name, full, f"last {name}", f"last {full}"):
            return today - timedelta(days=(today.weekday() - index) % 7)
        if phrase in (name, full, f"next {name}", f"next {full}"):
            ahead = (index - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    if len(words) == 3 and words[0] == "in" and words[1].isascii() and words[1].isdigit():
        # No plan or pause reaches past the calendar's end; a count that far names no day.
        if len(words[1]) > _LONGEST_COUNT:
            return None
        count = int(words[1])
        unit = words[2].rstrip("s")
        try:
            if unit == "day":
                return today + timedelta(days=count)
            if unit == "week":
                return today + timedelta(weeks=count)
        except OverflowError:
            return None
        return None
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(phrase, pattern).date()
        except ValueError:
            continue
    return None
