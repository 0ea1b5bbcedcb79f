"""The occurrences of a booked meeting: a one-off, or a series with moved and cancelled ones.

Pure: worked out from the :class:`storage.Meeting` row and the organizer's timezone (the
mentor's). A series keeps the wall-clock time of its first occurrence in that timezone
every ``every_days`` days until ``until``, as a calendar expands ``DTSTART;TZID=<zone>``
with ``RRULE:FREQ=DAILY;INTERVAL=<every_days>;UNTIL=<until>``; each entry of
``exceptions`` takes one occurrence out (``moved_to`` None: cancelled) or puts it at
another time (a ``RECURRENCE-ID`` override in the invite).

One rule says which occurrences are behind the pair and which are ahead: a meeting that
has started is held (:func:`held`), even while it is still going on, and only one that
has not started yet is ahead (:func:`ahead`). So cancelling, or a pairing that ends,
during a meeting leaves that meeting in both calendars; "the next meeting" is the one
after it. Busy time (slot finding) still counts a meeting until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from handlers.meetings.slots import Slot, at_wall_time
from storage import Meeting, MeetingStatus

#: Most occurrences a series is expanded to (a two-year cycle met daily).
MOST_OCCURRENCES = 800


@dataclass(frozen=True, order=True)
class Occurrence:
    """One meeting of a series (or the one-off).

    Attributes:
        start: When it starts now (UTC).
        end: When it ends.
        original: When the series put it (UTC); the same as ``start`` unless it was moved.
    """

    start: datetime
    end: datetime
    original: datetime

    @property
    def slot(self) -> Slot:
        """The occurrence's time as a slot."""
        return Slot(self.start, self.end)


def instant(text: str) -> datetime:
    """An ISO instant as stored in ``offered`` and ``exceptions``, in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def originals(meeting: Meeting, *, zone: str) -> list[datetime]:
    """Where the series (or the one-off) puts each occurrence, before any exception."""
    if meeting.starts_at is None:
        return []
    first = meeting.starts_at.astimezone(UTC)
    if not meeting.every_days or meeting.until is None:
        return [first]
    found: list[datetime] = []
    step = 0
    while len(found) < MOST_OCCURRENCES:
        moment = at_wall_time(first, zone, days=step * meeting.every_days)
        if moment > meeting.until:
            break
        found.append(moment)
        step += 1
    return found


def occurrences(
    meeting: Meeting,
    *,
    zone: str,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[Occurrence]:
    """The meeting's occurrences as they stand, in time order; none unless it is booked.

    Args:
        zone: The organizer's (mentor's) timezone, whose wall-clock time a series keeps.
        after: Only occurrences that end after this instant.
        before: Only occurrences that start before this instant.
    """
    if meeting.status != MeetingStatus.BOOKED:
        return []
    length = timedelta(minutes=meeting.minutes)
    changed = {instant(e["original"]): e.get("moved_to") for e in meeting.exceptions}
    found: list[Occurrence] = []
    for original in originals(meeting, zone=zone):
        if original in changed:
            moved = changed[original]
            if moved is None:
                continue
            start = instant(moved)
        else:
            start = original
        found.append(Occurrence(start, start + length, original))
    return sorted(
        o
        for o in found
        if (after is None or o.end > after) and (before is None or o.start < before)
    )


def ahead(meeting: Meeting, *, zone: str, now: datetime) -> list[Occurrence]:
    """The occurrences that have not started at ``now``, in time order."""
    return [o for o in occurrences(meeting, zone=zone, after=now) if o.start > now]


def held(meeting: Meeting, *, zone: str, now: datetime) -> list[Occurrence]:
    """The occurrences that have started by ``now`` (one in progress counts as held)."""
    return [o for o in occurrences(meeting, zone=zone) if o.start <= now]
