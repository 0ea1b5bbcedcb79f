"""Moving and cancelling a booked meeting: one occurrence, or the whole series.

* ``move-meeting [PAIRING] [DAY] [to DAY HH:MM] [series]``: without ``to``, shows the
  next meeting (or the one on DAY) and three other times that suit both, as buttons; with
  ``to``, moves it there (the time read in the mover's own timezone). ``series`` moves
  that meeting and every later one of the series to the new weekday and time.
* ``cancel-meeting [PAIRING] [DAY | series]``: cancels the next meeting (or the one on
  DAY); ``series`` cancels it and every later one. The meetings already held stay: the
  series now ends at the last of them (its invite sent again, shorter), and only a series
  with none held yet is cancelled whole (a ``CANCEL`` invite). A one-off is cancelled.

Moving a series from a meeting that is not its first splits it, as calendars do with
"this and following": the old series now ends at the meeting before (its ``until``
brought forward, its invite sent again), and a new series (a new ``UID``) starts at the
new time and runs to the old end. The meetings before stay where they were, in both
calendars and in the pairing's history; a later meeting that had been moved or cancelled
on its own follows the new series like the rest.

These are not ``reschedule PAIRING``, which moves the day a check-in reminder comes
(handlers.cycle.reschedule) and books nothing.

A moved or cancelled occurrence of a series is kept in ``exceptions``; every change raises
the sequence and sends the invites again (handlers.meetings.booking.changed), and the other
side is told in their own time. A move to the past, outside the cycle, or onto another
mentoring meeting of either person is refused, saying why.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from handlers.core.calendar import day_label, local_date, parse_day
from handlers.core.engine import Outcome, Turn
from handlers.core.messages import Option, Reply
from handlers.core.program import Program
from handlers.core.refs import parse_ref
from handlers.cycle.answers import active_pairing_named
from handlers.cycle.ending import tell
from handlers.cycle.schedule import cycle_end, cycle_start
from handlers.meetings.booking import (
    Booked,
    Sides,
    busy_for,
    cancel_all_ahead,
    changed,
    last_held,
    pairing_meetings,
    sides,
    upcoming,
)
from handlers.meetings.occurrences import Occurrence, instant, originals
from handlers.meetings.offers import series_words
from handlers.meetings.slots import LOOK_AHEAD, Attendee, Slot, find_slots, slot_words
from storage import Meeting, MeetingStatus, Pairing

#: The word that moves or cancels the whole series.
SERIES = ("series", "all")
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


@dataclass(frozen=True)
class _Found:
    """What a move or cancel is about: the pairing, its people, the meeting, the occurrence,
    and every booked meeting of the pairing (two once a series was split)."""

    pairing: Pairing
    program: Program
    pair: Sides
    booked: Booked
    occurrence: Occurrence
    every: tuple[Booked, ...]


def _split(args: list[str]) -> tuple[list[str], list[str], bool, list[str]]:
    """(the pairing's number if given, the occurrence's day, series?, the new time's words)."""
    named = [args[0]] if args and parse_ref(args[0]) is not None else []
    rest = args[len(named) :]
    whole = bool(rest) and rest[-1].lower() in SERIES
    if whole:
        rest = rest[:-1]
    lowered = [w.lower() for w in rest]
    if "to" in lowered:
        at = lowered.index("to")
        return named, rest[:at], whole, rest[at + 1 :]
    return named, rest, whole, []


async def _find(turn: Turn, named: list[str], day_words: list[str], *, verb: str) -> _Found | Reply:
    """The pairing's booked meeting and the occurrence meant: the next, or the one on a day."""
    found = await active_pairing_named(turn, named, verb=verb)
    if isinstance(found, Reply):
        return found
    pairing = found[0]
    program = turn.programs.of(pairing.program)
    pair = await sides(turn.session, program, pairing)
    me, other = pair.of(turn.person.id)
    every = await pairing_meetings(turn.session, pairing, default_zone=program.default_timezone)
    coming = upcoming(every, now=turn.now)
    if not coming:
        return Reply(
            f"You have no meeting with {other.first} booked from now on. Type schedule "
            f"{pairing.id} to find a time."
        )
    booked, occurrence = coming[0]
    if day_words:
        typed = " ".join(day_words)
        day = parse_day(typed, local_date(turn.now, me.zone))
        if day is None:
            return Reply(f"I can't read {typed!r} as a date; try 2027-01-12, tuesday or today.")
        on_day = [(b, o) for b, o in coming if local_date(o.start, me.zone) == day]
        if not on_day:
            listed = ", ".join(day_label(local_date(o.start, me.zone)) for _, o in coming[:3])
            return Reply(
                f"There's no meeting with {other.first} on {day_label(day)}; the next are "
                f"on {listed}."
            )
        booked, occurrence = on_day[0]
    return _Found(pairing, program, pair, booked, occurrence, tuple(every))


def _target(words: list[str], *, today: date, zone: str) -> datetime | str:
    """The new start typed as ``DAY HH:MM`` in ``zone``, or why it can't be read."""
    typed = " ".join(words)
    clock = _CLOCK.match(words[-1]) if words else None
    day = parse_day(" ".join(words[:-1]), today) if clock and len(words) > 1 else None
    if clock is None or day is None:
        return f"I can't read {typed!r} as a day and a time; try 2027-01-13 15:00 or friday 10:30."
    local = datetime.combine(day, time(int(clock[1]), int(clock[2])), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


async def move(turn: Turn, args: list[str]) -> Outcome:
    """``move-meeting [PAIRING] [DAY] [to DAY HH:MM] [series]``."""
    named, day_words, whole, to_words = _split(args)
    found = await _find(turn, named, day_words, verb="move-meeting")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    me, other = found.pair.of(turn.person.id)
    if not to_words:
        return Outcome([await _choices(turn, found, whole=whole)], None, changed=False)
    start = _target(to_words, today=local_date(turn.now, me.zone), zone=me.zone)
    if isinstance(start, str):
        return Outcome([Reply(start)], None, changed=False)
    meeting = found.booked.meeting
    new = Slot(start, start + (found.occurrence.end - found.occurrence.start))
    series = bool(meeting.every_days)
    refused = await _refusal(turn, found, new, whole=series and whole)
    if refused is not None:
        return Outcome([Reply(refused)], None, changed=False)
    old = found.occurrence
    if not series:
        meeting.starts_at = new.start
    elif whole:
        await _move_from(turn, found, new)
    else:
        kept = [
            e for e in meeting.exceptions if datetime.fromisoformat(e["original"]) != old.original
        ]
        if new.start != old.original:
            kept.append({"original": old.original.isoformat(), "moved_to": new.start.isoformat()})
        meeting.exceptions = kept
    await changed(turn.session, found.program, meeting=meeting, now=turn.now)
    which = "The whole series" if series and whole else "Your meeting"
    mine = slot_words(old.slot, reader=me, other=other)
    await _tell_other(
        turn,
        found,
        text=lambda reader, mover: (
            f"{mover.first} moved {'your meetings' if series and whole else 'your meeting'} of "
            f"{slot_words(old.slot, reader=reader, other=mover)} to "
            f"{slot_words(new, reader=reader, other=mover)}"
            f"{', and the ones after it follow from there' if series and whole else ''}. The "
            "calendar invite is updated."
        ),
        key=f"moved:{meeting.sequence}",
    )
    text = (
        f"Moved. {which} of {mine} is now {slot_words(new, reader=me, other=other)}. "
        f"I've told {other.first} and updated the calendar invite."
    )
    return Outcome([Reply(text, title="Meeting moved")], None)


async def _move_from(turn: Turn, found: _Found, new: Slot) -> None:
    """Move the occurrence found and every later one of its series to start at ``new``.

    From the series' first occurrence, the series starts again from the new time. From a
    later one, the series is split: it ends at the occurrence before (``until``), and a
    new series starts at ``new`` and runs to the old end; its invites go out too.
    """
    meeting, old = found.booked.meeting, found.occurrence
    earlier = [o for o in originals(meeting, zone=found.booked.zone) if o < old.original]
    # Exceptions of the occurrences it replaces go with them.
    meeting.exceptions = [e for e in meeting.exceptions if instant(e["original"]) < old.original]
    if not earlier:
        meeting.starts_at = new.start
        return
    assert meeting.until is not None
    following = Meeting(
        pairing_id=meeting.pairing_id,
        program=meeting.program,
        status=MeetingStatus.BOOKED.value,
        uid=f"{uuid.uuid4()}@mentorbot",
        minutes=meeting.minutes,
        starts_at=new.start,
        every_days=meeting.every_days,
        until=max(meeting.until, new.start),
        offered_by=meeting.offered_by,
        created_at=turn.now,
        updated_at=turn.now,
    )
    meeting.until = earlier[-1]
    turn.session.add(following)
    await turn.session.flush()
    await changed(turn.session, found.program, meeting=following, now=turn.now)


async def _refusal(turn: Turn, found: _Found, new: Slot, *, whole: bool) -> str | None:
    """Why the meeting can't move to ``new``: the past, outside the cycle, a clash.

    Args:
        whole: The series moves from this occurrence on: its later ones, which move with
            it, are no clash.
    """
    me, other = found.pair.of(turn.person.id)
    if new.start <= turn.now:
        return "That time has passed; pick a time from now on. Nothing changed."
    cadence = found.program.cadence
    first, last = cycle_start(found.pairing), cycle_end(found.pairing, cadence)
    if new.start < first or new.end > last:
        return (
            f"That's outside this cycle, which runs from {day_label(local_date(first, me.zone))} "
            f"to {day_label(local_date(last, me.zone))}; pick a time inside it. Nothing changed."
        )
    meeting = found.booked.meeting
    busy = await busy_for(
        turn.session,
        [found.pairing.mentee_id, found.pairing.mentor_id],
        default_zone=found.program.default_timezone,
        after=new.start,
        before=new.end,
        leave_out=meeting.id,
    )
    own = [
        o.slot
        for o in found.booked.occurrences(after=new.start, before=new.end)
        if o.original != found.occurrence.original
        and not (whole and o.original > found.occurrence.original)
    ]
    if busy or own:
        return (
            f"{slot_words(new, reader=me, other=other)} overlaps another mentoring meeting of "
            f"yours or {other.first}'s; pick another time. Nothing changed."
        )
    return None


async def _choices(turn: Turn, found: _Found, *, whole: bool) -> Reply:
    """The meeting to move, and three times that suit both, as buttons."""
    me, other = found.pair.of(turn.person.id)
    occurrence, pairing = found.occurrence, found.pairing
    busy = await busy_for(
        turn.session,
        [pairing.mentee_id, pairing.mentor_id],
        default_zone=found.program.default_timezone,
        after=turn.now,
        before=turn.now + LOOK_AHEAD,
        leave_out=found.booked.meeting.id,
    )
    own = [
        o.slot
        for o in found.booked.occurrences(after=turn.now, before=turn.now + LOOK_AHEAD)
        if o.original != occurrence.original
    ]
    minutes = int((occurrence.end - occurrence.start).total_seconds() // 60)
    slots = find_slots(
        [me, other],
        now=turn.now,
        minutes=minutes,
        busy=busy + own,
        avoid=[occurrence.slot],
        until=cycle_end(pairing, found.program.cadence),
    )
    day = local_date(occurrence.start, me.zone).isoformat()
    tail = " series" if whole else ""
    actions = tuple(
        Option(
            f"move-meeting {pairing.id} {day} to "
            f"{s.start.astimezone(ZoneInfo(me.zone)):%Y-%m-%d %H:%M}{tail}",
            slot_words(s, reader=me, other=other).split(" your time")[0],
        )
        for s in slots
    )
    times = "\n".join(f"• {slot_words(s, reader=me, other=other)}" for s in slots)
    text = (
        f"Your next meeting with {other.first} is "
        f"{slot_words(occurrence.slot, reader=me, other=other)}. "
        + (
            f"These times suit you both:\n{times}"
            if slots
            else "No other time in the next 7 days suits you both."
        )
    )
    hint = f"Or type move-meeting {pairing.id} {day} to DAY HH:MM (your time)" + (
        "; add series to move every meeting from then on."
        if found.booked.meeting.every_days and not whole
        else "."
    )
    return Reply(text, title="Move a meeting", actions=actions, hint=hint)


async def cancel(turn: Turn, args: list[str]) -> Outcome:
    """``cancel-meeting [PAIRING] [DAY | series]``."""
    named, day_words, whole, _ = _split(args)
    found = await _find(turn, named, day_words, verb="cancel-meeting")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    me, other = found.pair.of(turn.person.id)
    meeting, occurrence = found.booked.meeting, found.occurrence
    if whole:
        return await _cancel_series(turn, found)
    if meeting.every_days:
        kept = [
            e
            for e in meeting.exceptions
            if datetime.fromisoformat(e["original"]) != occurrence.original
        ]
        kept.append({"original": occurrence.original.isoformat(), "moved_to": None})
        meeting.exceptions = kept
    else:
        meeting.status = MeetingStatus.CANCELLED.value
        meeting.cancelled_at = turn.now
    await changed(turn.session, found.program, meeting=meeting, now=turn.now)
    await _tell_other(
        turn,
        found,
        text=lambda reader, mover: (
            f"{mover.first} cancelled your meeting of "
            f"{slot_words(occurrence.slot, reader=reader, other=mover)}. The calendar invite "
            f"is updated. Type schedule {found.pairing.id} to find another time."
        ),
        key=f"cancelled:{meeting.sequence}",
    )
    rest = " The others in the series stay booked." if meeting.every_days else ""
    text = (
        f"Cancelled your meeting of {slot_words(occurrence.slot, reader=me, other=other)}. "
        f"I've told {other.first} and updated the calendar invite.{rest}"
    )
    return Outcome([Reply(text, title="Meeting cancelled")], None)


async def _cancel_series(turn: Turn, found: _Found) -> Outcome:
    """``cancel-meeting ... series``: cancel every meeting from the next one on.

    The meetings already held stay in both calendars and in the pairing's history: the
    series ends at the last of them (handlers.meetings.booking.cancel_ahead); a series with
    none held yet is cancelled whole. A series split by a move is two meetings: both go.
    """
    me, other = found.pair.of(turn.person.id)
    meeting, occurrence = found.booked.meeting, found.occurrence
    ahead = [b.meeting for b in found.every if b.ahead(now=turn.now)]
    # The words name the series as it was, to the end of its last part.
    as_was = max(ahead, key=lambda m: m.until or turn.now).model_copy()
    await cancel_all_ahead(turn.session, found.program, booked=found.every, now=turn.now)
    held = last_held(found.every, now=turn.now) is not None

    def what(reader: Attendee, mover: Attendee, *, whom: str = "") -> str:
        """What was cancelled, as ``reader`` reads it (``whom``: " with NAME")."""
        if not as_was.every_days:
            return f"meeting of {slot_words(occurrence.slot, reader=reader, other=mover)}"
        if held:
            first = day_label(local_date(occurrence.start, reader.zone))
            return f"meetings{whom} from {first} on; the ones you've had stay in your calendar"
        return f"meetings{whom} ({series_words(as_was, zone=reader.zone)})"

    await _tell_other(
        turn,
        found,
        text=lambda reader, mover: (
            f"{mover.first} cancelled your {what(reader, mover)}. The calendar invite is "
            f"updated. Type schedule {found.pairing.id} to find another time."
        ),
        key=f"cancelled:{meeting.sequence}",
    )
    said = what(me, other, whom=f" with {other.first}")
    text = f"Cancelled your {said}. I've told {other.first} and updated the calendar invite."
    return Outcome([Reply(text, title="Meeting cancelled")], None)


async def _tell_other(
    turn: Turn, found: _Found, *, text: Callable[[Attendee, Attendee], str], key: str
) -> None:
    """Tell the other side what changed, worded for them (``text(reader, mover)``)."""
    receiver = found.pair.other(turn.person.id)
    assert receiver.id is not None
    assert found.booked.meeting.id is not None
    reader, mover = found.pair.of(receiver.id)
    await tell(
        turn.session,
        found.program,
        person_id=receiver.id,
        text=text(reader, mover),
        key=f"meeting:{found.booked.meeting.id}:{key}",
        now=turn.now,
        pairing_id=found.pairing.id,
        title="Meeting changed",
    )
