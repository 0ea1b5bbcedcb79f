"""A meeting as iCalendar (RFC 5545): the invite both people get, and the events of a feed.

Pure: it reads a :class:`storage.Meeting` row and the people in it, and writes text with
the ``icalendar`` library; nothing here touches the database or a channel.

Times carry a ``TZID`` (the organizer's, the mentor's timezone) with its ``VTIMEZONE``, not
UTC. A series must keep its wall-clock time: a fortnightly 10:00 meeting is still at 10:00
after the clocks change. An ``RRULE`` over a UTC ``DTSTART`` repeats the UTC instant, so
every occurrence after a daylight-saving change would move by an hour; with a ``TZID`` the
calendar repeats the local time, as people mean it. (A one-off could use UTC, but one rule
for both keeps invites of the same meeting alike when a one-off becomes a series.)

An occurrence of a series is the first one's local time in the organizer's timezone, every
``every_days`` days, while it starts at or before ``until`` (:func:`series_starts`); the
``original`` of a moved or cancelled occurrence (``Meeting.exceptions``) names it by the
local day it fell on, so a booking that counted in UTC across a clock change still finds it.

Only titles, times and the two people go in: never goals, notes or feedback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Event, Timezone, vCalAddress, vRecur

from handlers.meetings.occurrences import originals
from storage import Meeting, MeetingStatus

#: Who made the file (RFC 5545 3.7.3).
PRODID = "-//mentorbot//Mentoring meetings//EN"
#: The media type of an ``.ics`` file.
MEDIA_TYPE = "text/calendar"
UTC = ZoneInfo("UTC")
#: What a display name may not hold inside a quoted parameter (DQUOTE, controls).
_UNQUOTABLE = re.compile(r'["\x00-\x1f\x7f]')
#: A folded line's break: CRLF (or a bare LF) and one space or tab (RFC 5545 3.1).
_FOLD = re.compile(r"\r?\n[ \t]")
#: The longest line, in octets, without its line break (RFC 5545 3.1).
LINE_OCTETS = 75


@dataclass(frozen=True)
class Party:
    """A person in a meeting, as a calendar names them.

    Attributes:
        name: Their name (``CN``).
        email: Their address (``mailto:``).
    """

    name: str
    email: str


def summary(mentor: Party, mentee: Party) -> str:
    """The meeting's title: ``Mentoring: Ana Lima and Lee Park``."""
    return f"Mentoring: {mentor.name} and {mentee.name}"


def series_starts(meeting: Meeting, zone: str) -> list[datetime]:
    """Every occurrence's start (UTC) of a booked meeting, moved or cancelled ones included.

    A one-off has one; a series repeats the first start's wall-clock time in ``zone`` every
    ``every_days`` days up to ``until``, as an ``RRULE`` with a ``TZID`` does: the same
    occurrences the bot itself counts (handlers.meetings.occurrences.originals).
    """
    return originals(meeting, zone=zone)


@dataclass(frozen=True)
class Exceptions:
    """The occurrences of a series taken out (cancelled) or moved, by their original start.

    Attributes:
        cancelled: Originals (UTC) that no longer happen.
        moved: Original (UTC) to the new start (UTC).
    """

    cancelled: tuple[datetime, ...]
    moved: tuple[tuple[datetime, datetime], ...]


def exceptions_of(meeting: Meeting, zone: str) -> Exceptions:
    """The meeting's ``exceptions`` matched to its occurrences (see :func:`series_starts`).

    An original matches the occurrence at that instant, or else the one on the same local
    day in ``zone``; one that matches no occurrence (or does not parse) is left out, so a
    bad row never makes a broken file.
    """
    starts = series_starts(meeting, zone)
    tz = ZoneInfo(zone)
    by_day = {s.astimezone(tz).date(): s for s in starts}
    cancelled: dict[datetime, None] = {}
    moved: dict[datetime, datetime] = {}
    for exception in meeting.exceptions or ():
        original = _instant(exception.get("original"))
        if original is None:
            continue
        found = original if original in starts else by_day.get(original.astimezone(tz).date())
        if found is None:
            continue
        target = exception.get("moved_to")
        if target is None:
            cancelled[found] = None
            moved.pop(found, None)
        elif (moved_to := _instant(target)) is not None:
            moved[found] = moved_to
            cancelled.pop(found, None)
    return Exceptions(tuple(sorted(cancelled)), tuple(sorted(moved.items())))


def _instant(text: object) -> datetime | None:
    """An ISO time from a JSON column as an aware UTC instant, or None."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _display_name(name: str) -> str:
    """A name as a ``CN`` parameter holds it (without what a quoted value may not hold)."""
    return _UNQUOTABLE.sub("", name).strip()


def _address(party: Party, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{party.email}")
    address.params["CN"] = _display_name(party.name) or party.email
    for key, value in params.items():
        address.params[key.replace("_", "-")] = value
    return address


def _people(event: Event, mentor: Party, mentee: Party) -> None:
    """The organizer (the mentor) and both attendees, each asked to answer."""
    event.add("organizer", _address(mentor))
    answer = {"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE", "CUTYPE": "INDIVIDUAL"}
    event.add("attendee", _address(mentor, ROLE="CHAIR", **answer))
    event.add("attendee", _address(mentee, ROLE="REQ-PARTICIPANT", **answer))


def _event(
    meeting: Meeting,
    *,
    start: datetime,
    mentor: Party,
    mentee: Party,
    zone: ZoneInfo,
    now: datetime,
    status: str,
) -> Event:
    """One VEVENT of the meeting, starting at ``start``, with what every one carries."""
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start.astimezone(zone))
    event.add("dtend", (start + timedelta(minutes=meeting.minutes)).astimezone(zone))
    event.add("summary", summary(mentor, mentee))
    event.add("status", status)
    event.add("transp", "OPAQUE")
    _people(event, mentor, mentee)
    return event


def meeting_events(
    meeting: Meeting, *, mentor: Party, mentee: Party, zone: str, now: datetime
) -> list[Event]:
    """The VEVENTs of a booked or cancelled meeting: the meeting (with its ``RRULE`` and
    ``EXDATE`` when a series), then one per moved occurrence (its ``RECURRENCE-ID``).

    Args:
        meeting: The row, with ``starts_at`` set.
        mentor: The organizer.
        mentee: The other attendee.
        zone: The organizer's timezone: every time is written in it.
        now: The moment the file is written (``DTSTAMP``).

    Raises:
        ValueError: the meeting was never booked (no start).
    """
    if meeting.starts_at is None:
        raise ValueError("a meeting that was never booked has no calendar event")
    tz = ZoneInfo(zone)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    status = "CANCELLED" if cancelled else "CONFIRMED"
    common = {"mentor": mentor, "mentee": mentee, "zone": tz, "now": now, "status": status}
    main = _event(meeting, start=meeting.starts_at, **common)  # type: ignore[arg-type]
    if not meeting.every_days or meeting.until is None:
        return [main]
    main.add(
        "rrule",
        vRecur(freq="DAILY", interval=meeting.every_days, until=meeting.until.astimezone(UTC)),
    )
    if cancelled:
        # Cancelling the series cancels every occurrence; the UID says which.
        return [main]
    exceptions = exceptions_of(meeting, zone)
    if exceptions.cancelled:
        main.add("exdate", [moment.astimezone(tz) for moment in exceptions.cancelled])
    events = [main]
    for original, moved_to in exceptions.moved:
        event = _event(meeting, start=moved_to, **common)  # type: ignore[arg-type]
        event.add("recurrence-id", original.astimezone(tz))
        events.append(event)
    return events


def _calendar(
    events: Iterable[Component],
    *,
    method: str | None,
    span: tuple[date, date],
    name: str | None = None,
) -> str:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    if name is not None:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones(first_date=span[0], last_date=span[1])
    return str(calendar.to_ical().decode())


def span_of(moments: Iterable[datetime | date]) -> tuple[date, date]:
    """Days safely around ``moments``: a ``VTIMEZONE`` covers a year either side of them,
    not icalendar's default 1970 to 2038, which would fill a file with old changes."""
    days = [m.date() if isinstance(m, datetime) else m for m in moments]
    if not days:
        days = [date(2000, 1, 1)]
    return min(days) - timedelta(days=366), max(days) + timedelta(days=366)


def meeting_moments(meeting: Meeting) -> list[datetime]:
    """Every time a meeting's events name: its start, its end of series, moved starts."""
    moved = [_instant(e.get("moved_to")) for e in meeting.exceptions or ()]
    named = [meeting.starts_at, meeting.until, *moved]
    return [m for m in named if m is not None]


def invite(meeting: Meeting, *, mentor: Party, mentee: Party, zone: str, now: datetime) -> str:
    """The ``.ics`` both people get: ``METHOD:REQUEST`` while booked, ``CANCEL`` once not.

    See :func:`meeting_events` for the arguments.
    """
    method = "CANCEL" if meeting.status == MeetingStatus.CANCELLED else "REQUEST"
    events = meeting_events(meeting, mentor=mentor, mentee=mentee, zone=zone, now=now)
    return _calendar(events, method=method, span=span_of(meeting_moments(meeting)))


def day_event(*, uid: str, day: date, title: str, now: datetime) -> Event:
    """An all-day event (a check-in's or a review's date) for a feed."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", title)
    # A date to keep in mind, not time taken: it does not show the person as busy.
    event.add("transp", "TRANSPARENT")
    return event


def feed(events: Iterable[Event], *, name: str, span: tuple[date, date], zone: str = "UTC") -> str:
    """A subscription calendar of ``events``: no ``METHOD``, since it is not an invite.

    A calendar must hold at least one component (RFC 5545 3.6), so a feed with no events
    (someone with no pairing, or whose pairing ended) holds the reader's ``VTIMEZONE``.

    Args:
        events: The meetings' and the dates' events.
        name: The calendar's name, as a client lists it.
        span: What its timezones must cover (:func:`span_of`).
        zone: The reader's timezone, for a feed with no events.
    """
    listed: list[Component] = list(events)
    if not listed:
        listed = [Timezone.from_tzid(zone, first_date=span[0], last_date=span[1])]
    return _calendar(listed, method=None, span=span, name=name)


def is_calendar(text: str) -> bool:
    """Whether ``text`` is an iCalendar file (an invite or a feed)."""
    return text.lstrip().upper().startswith("BEGIN:VCALENDAR")


def unfold(text: str) -> str:
    """The file with its folded lines joined again: each content line on one line."""
    return _FOLD.sub("", text)


def fold(text: str) -> str:
    """An unfolded file's lines folded to :data:`LINE_OCTETS`, with CRLF line breaks."""
    return "\r\n".join(_fold_line(line) for line in re.split(r"\r?\n", text))


def _fold_line(line: str) -> str:
    """One content line folded as ``icalendar`` folds it: between characters (never
    inside a UTF-8 sequence), not right after a backslash (some clients then misread the
    escape), each line at most 75 octets with a continuation's leading space."""
    pieces: list[str] = []
    current = ""
    size = 0
    for char in line:
        octets = len(char.encode())
        if current and size + octets >= LINE_OCTETS:
            carried = current[-1] if len(current) > 1 and current[-1] == "\\" else ""
            pieces.append(current.removesuffix(carried))
            current, size = carried, len(carried)
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)


def name_forms(name: str) -> set[str]:
    """Every way this module writes ``name`` in a file (unfolded): as typed, escaped as
    TEXT (``SUMMARY``, a feed's titles: RFC 5545 3.3.11) and as a ``CN`` parameter holds
    it (RFC 6868's ``^^`` for a caret)."""
    typed = name.strip()
    text = (
        typed.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )
    parameter = _display_name(typed).replace("^", "^^")
    return {form for form in (typed, text, parameter) if form}


def problems(text: str) -> list[str]:
    """What is wrong with an ``.ics`` by RFC 5545's rules as ``icalendar`` checks them.

    Parsed back strictly; the calendar needs PRODID, VERSION and a component
    (``Calendar.validate``); each component needs its required properties, at most one of
    each single-valued one, not both of an exclusive pair (``DTEND``/``DURATION``), and
    parses without errors; every ``TZID`` used has its ``VTIMEZONE``. Empty: none found.
    """
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except ValueError as error:
        return [f"does not parse: {error}"]
    if len(calendars) != 1:
        return [f"holds {len(calendars)} calendars, not one"]
    [calendar] = calendars
    found: list[str] = []
    try:
        calendar.validate()  # type: ignore[no-untyped-call]
    except ValueError as error:
        found.append(str(error))
    for component in calendar.walk():
        name = component.name
        required: tuple[str, ...] = component.required
        singletons: tuple[str, ...] = component.singletons
        exclusive: tuple[str, ...] = component.exclusive
        found.extend(f"{name}: {error}" for _, error in component.errors)
        found.extend(f"{name} lacks {p}" for p in required if p not in component)
        for prop in singletons:
            values = component.get(prop)
            if isinstance(values, list) and len(values) > 1:
                found.append(f"{name} has {prop} {len(values)} times")
        if exclusive and all(p in component for p in exclusive):
            found.append(f"{name} has both {' and '.join(exclusive)}")
    missing = calendar.get_missing_tzids()
    if missing:
        found.append(f"no VTIMEZONE for {', '.join(sorted(missing))}")
    return found
