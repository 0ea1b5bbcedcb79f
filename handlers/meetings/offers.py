"""Finding a time: ``schedule`` offers three slots, the other side picks one or asks again.

``schedule [PAIRING] [once]`` (and the "Find a time" button of the kickoff, the plan's
confirmation and every check-in nudge) works out three slots of the pair's usual length
inside both people's working hours in the next 7 days, and never after the pairing's
cycle ends (handlers.meetings.slots; when that leaves no time, it says so and how to go
on), keeps them on a new ``offered`` meeting row, and sends them to the other side with
the buttons "1", "2", "3" and "Other times" (``pick-meeting M S``, ``other-times M``). The
one who typed reads what was offered. A newer offer replaces an unanswered one (``declined``).

Picking books the meeting: by default a series every ``cadence.checkin_every_days`` until
the cycle ends; ``once`` (typed with ``schedule``, or after the pick) books a one-off.
Both sides are told, each in their own time, and the invites go out
(handlers.meetings.invites). "Other times" declines the offer and tells the side that
offered it, whose next ``schedule`` offers the next three.

Picking twice, an offer replaced or declined, an offer withdrawn because the pairing
ended (handlers.meetings.booking.withdraw_offers), someone outside the pairing: nothing
changes, and one sentence says why. A time that has passed since it was offered, or was
taken since by another meeting of either person, is never booked: the picker reads why,
and the offer is replaced by fresh times that suit both now, with their buttons.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Outcome, Turn
from handlers.core.messages import Option, Reply
from handlers.core.program import Program
from handlers.core.refs import fetch, option_index, parse_ref
from handlers.cycle.answers import active_pairing_named
from handlers.cycle.ending import tell
from handlers.cycle.schedule import cycle_end
from handlers.meetings.booking import (
    Sides,
    busy_for,
    changed,
    declined_slots,
    open_offer,
    pairing_meetings,
    sides,
    upcoming,
    usual_minutes,
)
from handlers.meetings.occurrences import Occurrence
from handlers.meetings.slots import (
    LOOK_AHEAD,
    Attendee,
    Slot,
    candidates,
    closest_hours,
    find_slots,
    no_overlap_words,
    slot_words,
)
from handlers.people.lookups import people_by_id
from storage import Meeting, MeetingStatus, Pairing, PairingStatus
from storage.tables import MEETING

#: The word that books a one-off instead of a series.
ONCE = "once"


def series_words(meeting: Meeting, *, zone: str) -> str:
    """How often the meeting recurs, as the reader in ``zone`` reads it."""
    if not meeting.every_days or meeting.until is None:
        return "once"
    until = day_label(local_date(meeting.until, zone))
    return f"every {meeting.every_days} days until {until}"


def occurrence_words(occurrence: Occurrence, *, reader: Attendee, other: Attendee) -> str:
    """One occurrence as ``reader`` reads it (see :func:`slot_words`)."""
    return slot_words(occurrence.slot, reader=reader, other=other)


def _button_time(slot: Slot, *, zone: str) -> str:
    """A slot's start as a button reads it: ``Wed 9 Dec, 12:00``, in the reader's time."""
    local = slot.start.astimezone(ZoneInfo(zone))
    return f"{day_label(local.date())}, {local:%H:%M}"


def _numbered(slots: list[Slot], *, reader: Attendee, other: Attendee) -> str:
    return "\n".join(
        f"{n}. {slot_words(slot, reader=reader, other=other)}" for n, slot in enumerate(slots, 1)
    )


async def schedule(turn: Turn, args: list[str]) -> Outcome:
    """``schedule [PAIRING] [once]``: offer the other side three times to meet."""
    once = bool(args) and args[-1].lower() == ONCE
    words = args[:-1] if once else args
    named = [words[0]] if words and parse_ref(words[0]) is not None else []
    found = await active_pairing_named(turn, named, verb="schedule")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found[0]
    assert pairing.id is not None
    assert turn.person.id is not None
    program = turn.programs.of(pairing.program)
    pair = await sides(turn.session, program, pairing)
    me, other = pair.of(turn.person.id)
    booked = await pairing_meetings(turn.session, pairing, default_zone=program.default_timezone)
    coming = upcoming(booked, now=turn.now)
    if coming:
        owner, next_one = coming[0]
        text = (
            f"You already have a meeting with {other.first} booked "
            f"({series_words(owner.meeting, zone=me.zone)}); the next is "
            f"{occurrence_words(next_one, reader=me, other=other)}. Type move-meeting "
            f"{pairing.id} to move it, or cancel-meeting {pairing.id} to cancel it."
        )
        return Outcome([Reply(text)], None, changed=False)
    minutes = await usual_minutes(turn.session, program, pairing)
    slots, end = await _times_that_suit(turn, program, pairing, (me, other), minutes=minutes)
    if not slots:
        why = _why_none(me, other, turn.now, minutes, end=end, pairing_id=pairing.id)
        return Outcome([Reply(why)], None, changed=False)
    replaced = await open_offer(turn.session, pairing.id)
    if replaced is not None:
        replaced.status = MeetingStatus.DECLINED.value
        replaced.updated_at = turn.now
        turn.session.add(replaced)
    meeting = await _new_offer(
        turn,
        pairing,
        slots=slots,
        minutes=minutes,
        every_days=None if once else program.cadence.checkin_every_days,
        until=None if once else end,
        offered_by=turn.person.id,
    )
    await _offer_to_other(turn, program, pairing, pair, meeting, slots)
    how = (
        "a one-off"
        if once
        else f"a meeting every {program.cadence.checkin_every_days} days to the end of the cycle"
    )
    ends = (
        f"Your cycle ends on {day_label(local_date(end, me.zone))}, so I offered only times "
        "before then.\n"
        if end < turn.now + LOOK_AHEAD
        else ""
    )
    text = (
        f"I've offered {other.first} these times for {how}, {minutes} minutes each:\n"
        f"{_numbered(slots, reader=me, other=other)}\n"
        f"{ends}I'll tell you when {other.first} picks one."
    )
    return Outcome([Reply(text, title=f"Finding a time with {other.first}")], None)


async def _new_offer(
    turn: Turn,
    pairing: Pairing,
    *,
    slots: list[Slot],
    minutes: int,
    every_days: int | None,
    until: datetime | None,
    offered_by: int | None,
) -> Meeting:
    """A new ``offered`` meeting row holding ``slots``, flushed so it has its number."""
    assert pairing.id is not None
    meeting = Meeting(
        pairing_id=pairing.id,
        program=pairing.program,
        status=MeetingStatus.OFFERED.value,
        uid=f"{uuid.uuid4()}@mentorbot",
        minutes=minutes,
        every_days=every_days,
        until=until,
        offered=[slot.to_json() for slot in slots],
        offered_by=offered_by,
        created_at=turn.now,
        updated_at=turn.now,
    )
    turn.session.add(meeting)
    await turn.session.flush()
    return meeting


def _pick_buttons(meeting: Meeting, slots: list[Slot], *, reader: Attendee) -> tuple[Option, ...]:
    """One button per slot (its time as ``reader`` reads it), then "Other times"."""
    # Each button names its time as the reader reads it (a shell numbers buttons after
    # whatever came before, so a bare "1" there would mean another option).
    return (
        *tuple(
            Option(f"pick-meeting {meeting.id} {n}", _button_time(slot, zone=reader.zone))
            for n, slot in enumerate(slots, 1)
        ),
        Option(f"other-times {meeting.id}", "Other times"),
    )


def _why_none(
    me: Attendee, other: Attendee, now: datetime, minutes: int, *, end: datetime, pairing_id: int
) -> str:
    """Why no slot was found: the cycle ends first, hours that never overlap, or a week
    already full.

    Args:
        end: When the pairing's cycle ends: no time after it is offered.
        pairing_id: The pairing, for the command to type once a new cycle starts.
    """
    day = day_label(local_date(end, me.zone))
    again = (
        "When the end-of-cycle review asks, you can both choose to continue for another "
        f"cycle; then type schedule {pairing_id} to find a time in it."
    )
    if end <= now:
        return (
            f"Your cycle with {other.first} ended on {day}, so there's no time left in it to "
            f"book. {again}"
        )
    if end < now + LOOK_AHEAD and not candidates([me, other], now=now, minutes=minutes, until=end):
        return (
            f"Your cycle with {other.first} ends on {day}, and no time before then suits you "
            f"both. {again}"
        )
    if not candidates([me, other], now=now, minutes=minutes):
        if closest_hours(me, other, now=now).gap:
            return no_overlap_words(me, other, now=now)
        return (
            f"Your working hours and {other.first}'s overlap for less than {minutes} minutes "
            "in the next 7 days, so I can't offer a time inside both. Agree a time directly."
        )
    return (
        f"Your and {other.first}'s free working hours in the next 7 days are taken by other "
        "mentoring meetings or times offered before. Try again in a few days."
    )


async def _offer_to_other(
    turn: Turn,
    program: Program,
    pairing: Pairing,
    pair: Sides,
    meeting: Meeting,
    slots: list[Slot],
) -> None:
    """Send the other side the slots, each in their own time, with a button each."""
    assert meeting.id is not None
    assert pairing.id is not None
    receiver = pair.other(turn.person.id)
    assert receiver.id is not None
    them, me = pair.of(receiver.id)
    how = (
        "a one-off meeting"
        if meeting.every_days is None
        else f"a meeting {series_words(meeting, zone=them.zone)}"
    )
    listed = "\n".join(f"• {slot_words(slot, reader=them, other=me)}" for slot in slots)
    text = (
        f"{me.first} would like to book {how} ({meeting.minutes} minutes). Which time suits "
        f"you?\n{listed}"
    )
    actions = _pick_buttons(meeting, slots, reader=them)
    hint = (
        f"Or type pick-meeting {meeting.id} and a number; add once to book it just once."
        if meeting.every_days
        else None
    )
    await tell(
        turn.session,
        program,
        person_id=receiver.id,
        text=text,
        key=f"meeting:{meeting.id}:offered",
        now=turn.now,
        pairing_id=pairing.id,
        title=f"Find a time with {me.first}",
        actions=actions,
        hint=hint,
    )


async def _offer_named(turn: Turn, args: list[str]) -> tuple[Meeting, Pairing] | Reply:
    """The offer ``args[0]`` names, if it was made to this person and is theirs to answer."""
    ref = parse_ref(args[0]) if args else None
    meeting = await fetch(turn.session, Meeting, ref=ref) if ref is not None else None
    pairing = await turn.session.get(Pairing, meeting.pairing_id) if meeting else None
    me = turn.person.id
    if meeting is None or pairing is None or me not in (pairing.mentee_id, pairing.mentor_id):
        # The same answer for someone else's offer as for none: nothing leaks.
        shown = f" {ref.shown}" if ref is not None else ""
        return Reply(f"There's no offer{shown} for you. Type schedule to find a time.")
    if meeting.status == MeetingStatus.WITHDRAWN:
        people = await people_by_id(turn.session, [pairing.mentee_id, pairing.mentor_id])
        other = people.get(pairing.mentor_id if me == pairing.mentee_id else pairing.mentee_id)
        with_whom = f" with {other.name}" if other is not None and other.name else ""
        return Reply(
            f"That offer was withdrawn when your pairing{with_whom} ended, so there's nothing "
            "to book; nothing changed."
        )
    if pairing.status != PairingStatus.ACTIVE:
        return Reply("That pairing has ended, so there's nothing to book; nothing changed.")
    if meeting.offered_by == me:
        return Reply(
            "You offered these times; your pair picks one of them, and I'll tell you which."
        )
    if meeting.status == MeetingStatus.BOOKED:
        return Reply(
            f"That offer was already taken: the meeting is booked. Nothing changed. Type "
            f"status to see when, or move-meeting {pairing.id} to move it."
        )
    if meeting.status != MeetingStatus.OFFERED:
        return Reply(
            "That offer was replaced by newer times or turned down, so nothing changed. "
            f"Type schedule {pairing.id} to find a time."
        )
    return meeting, pairing


async def pick(turn: Turn, args: list[str]) -> Outcome:
    """``pick-meeting OFFER SLOT [once]``: book one of the times offered."""
    found = await _offer_named(turn, args)
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    meeting, pairing = found
    assert meeting.id is not None
    assert pairing.id is not None
    offered = [Slot.from_json(s) for s in meeting.offered]
    number = option_index(args[1], len(offered) + 1) if len(args) > 1 else None
    if not number:
        text = f"Type pick-meeting {meeting.id} and a number from 1 to {len(offered)}."
        return Outcome([Reply(text)], None, changed=False)
    slot = offered[number - 1]
    once = len(args) > 2 and args[2].lower() == ONCE
    program = turn.programs.of(pairing.program)
    pair = await sides(turn.session, program, pairing)
    me, other = pair.of(turn.person.id)
    picked = f"Time {number} ({slot_words(slot, reader=me, other=other)})"
    if slot.start <= turn.now:
        return await _offer_again(
            turn, args, pair, meeting, pairing, why=f"{picked} has passed, so nothing is booked."
        )
    busy = await busy_for(
        turn.session,
        [pairing.mentee_id, pairing.mentor_id],
        default_zone=program.default_timezone,
        after=slot.start,
        before=slot.end,
        leave_out=meeting.id,
    )
    if busy:
        why = (
            f"{picked} was taken since it was offered: it now overlaps another mentoring "
            f"meeting of yours or {other.first}'s, so nothing is booked."
        )
        return await _offer_again(turn, args, pair, meeting, pairing, why=why)
    every = None if once else meeting.every_days
    conn = await turn.session.connection()
    won = await conn.execute(
        sa.update(MEETING)
        .where(MEETING.c.id == meeting.id, MEETING.c.status == MeetingStatus.OFFERED.value)
        .values(
            status=MeetingStatus.BOOKED.value,
            starts_at=slot.start,
            every_days=every,
            until=meeting.until if every else None,
        )
    )
    if not won.rowcount:
        again = await _offer_named(turn, args)
        text = again.text if isinstance(again, Reply) else "That offer changed; nothing changed."
        return Outcome([Reply(text)], None, changed=False)
    await turn.session.refresh(meeting)
    await changed(turn.session, program, meeting=meeting, now=turn.now)
    await _tell_booked(turn, program, pairing, pair, meeting, slot)
    text = (
        f"Booked: {slot_words(slot, reader=me, other=other)} with {other.first}"
        f"{_repeat(meeting, me)}. I've told {other.first} and sent you both a calendar invite."
    )
    return Outcome([Reply(text, title="Meeting booked")], None)


async def _times_that_suit(
    turn: Turn,
    program: Program,
    pairing: Pairing,
    people: tuple[Attendee, Attendee],
    *,
    minutes: int,
) -> tuple[list[Slot], datetime]:
    """Times to offer the pair: inside both's working hours, free in both's calendars of
    mentoring meetings, none they declined, before the cycle's end (also returned)."""
    assert pairing.id is not None
    busy = await busy_for(
        turn.session,
        [pairing.mentee_id, pairing.mentor_id],
        default_zone=program.default_timezone,
        after=turn.now,
        before=turn.now + LOOK_AHEAD,
    )
    avoid = await declined_slots(turn.session, pairing.id, now=turn.now)
    end = cycle_end(pairing, program.cadence)
    slots = find_slots(people, now=turn.now, minutes=minutes, busy=busy, avoid=avoid, until=end)
    return slots, end


async def _offer_again(
    turn: Turn, args: list[str], pair: Sides, meeting: Meeting, pairing: Pairing, *, why: str
) -> Outcome:
    """The time picked has passed or was taken: say why, and offer fresh times that suit
    both now, on a new offer that replaces this one (its old buttons then say so)."""
    assert pairing.id is not None
    program = turn.programs.of(pairing.program)
    me, other = pair.of(turn.person.id)
    slots, end = await _times_that_suit(
        turn, program, pairing, (me, other), minutes=meeting.minutes
    )
    if not slots:
        none = _why_none(me, other, turn.now, meeting.minutes, end=end, pairing_id=pairing.id)
        return Outcome([Reply(f"{why} {none}")], None, changed=False)
    conn = await turn.session.connection()
    won = await conn.execute(
        sa.update(MEETING)
        .where(MEETING.c.id == meeting.id, MEETING.c.status == MeetingStatus.OFFERED.value)
        .values(status=MeetingStatus.DECLINED.value, updated_at=turn.now)
    )
    if not won.rowcount:
        again = await _offer_named(turn, args)
        text = again.text if isinstance(again, Reply) else "That offer changed; nothing changed."
        return Outcome([Reply(text)], None, changed=False)
    fresh = await _new_offer(
        turn,
        pairing,
        slots=slots,
        minutes=meeting.minutes,
        every_days=meeting.every_days,
        until=meeting.until,
        offered_by=meeting.offered_by,
    )
    text = (
        f"{why} These times suit you and {other.first} now:\n"
        f"{_numbered(slots, reader=me, other=other)}"
    )
    hint = (
        f"Or type pick-meeting {fresh.id} and a number; add once to book it just once."
        if fresh.every_days
        else None
    )
    actions = _pick_buttons(fresh, slots, reader=me)
    return Outcome([Reply(text, title="Pick another time", actions=actions, hint=hint)], None)


def _repeat(meeting: Meeting, reader: Attendee) -> str:
    if not meeting.every_days:
        return ", once"
    return f", then {series_words(meeting, zone=reader.zone)}"


async def _tell_booked(
    turn: Turn, program: Program, pairing: Pairing, pair: Sides, meeting: Meeting, slot: Slot
) -> None:
    """Tell the side that offered the times which one was picked, in their own time."""
    receiver = pair.other(turn.person.id)
    assert receiver.id is not None
    them, picker = pair.of(receiver.id)
    await tell(
        turn.session,
        program,
        person_id=receiver.id,
        text=(
            f"{picker.first} picked {slot_words(slot, reader=them, other=picker)}"
            f"{_repeat(meeting, them)}. It's booked, and a calendar invite is on its way."
        ),
        key=f"meeting:{meeting.id}:booked:{meeting.sequence}",
        now=turn.now,
        pairing_id=pairing.id,
        title="Meeting booked",
    )


async def other_times(turn: Turn, args: list[str]) -> Outcome:
    """``other-times OFFER``: none of the times suits; the side that offered is told."""
    found = await _offer_named(turn, args)
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    meeting, pairing = found
    assert pairing.id is not None
    program = turn.programs.of(pairing.program)
    conn = await turn.session.connection()
    won = await conn.execute(
        sa.update(MEETING)
        .where(MEETING.c.id == meeting.id, MEETING.c.status == MeetingStatus.OFFERED.value)
        .values(status=MeetingStatus.DECLINED.value, updated_at=turn.now)
    )
    if not won.rowcount:
        return Outcome([Reply("That offer changed meanwhile; nothing changed.")], None, False)
    pair = await sides(turn.session, program, pairing)
    me, other = pair.of(turn.person.id)
    again = f"schedule {pairing.id}" + ("" if meeting.every_days else f" {ONCE}")
    if meeting.offered_by is not None:
        await tell(
            turn.session,
            program,
            person_id=meeting.offered_by,
            text=(
                f"None of the times you offered suits {me.first}. Find a time offers the next "
                "three."
            ),
            key=f"meeting:{meeting.id}:declined",
            now=turn.now,
            pairing_id=pairing.id,
            title=f"Other times for {me.first}",
            actions=(Option(again, "Find a time"),),
        )
    text = (
        f"Noted: I've asked {other.first} to offer other times. Or type schedule "
        f"{pairing.id} to offer {other.first} some yourself."
    )
    return Outcome([Reply(text)], None)
