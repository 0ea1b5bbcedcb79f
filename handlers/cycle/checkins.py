"""What happens when a check-in falls due, or a reminder someone snoozed or rescheduled.

A **check-in** with no session logged in its window nudges both sides, since either may
book the meeting or log it (Log session / Snooze 3 days / Reschedule / Find a time), and
schedules the next check-in. A booked meeting (handlers.meetings) changes that: one held in
the window and not logged makes the nudge "How did it go? Log the session" with its day
filled in, and one booked later in the window means nothing was missed (no nudge); neither
counts as a missed check-in. A snoozed or rescheduled **reminder** goes to whoever asked for it. A
logged session suppresses either. ``escalate_after_missed`` check-ins in a row with no
session put the pair at risk and tell the program leads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date
from handlers.core.messages import DaysSince, Option, Pieces, Reply, counting, plural
from handlers.cycle.batch import Due, DueHandler, Handled
from handlers.cycle.ending import first_name
from handlers.cycle.schedule import due_row, start_of
from handlers.meetings.booking import find_a_time
from handlers.meetings.occurrences import Occurrence
from storage import DueKind


def nudge_actions(pairing_id: int) -> tuple[Option, ...]:
    """The buttons of a nudge: Log session, Snooze 3 days, Reschedule, Find a time."""
    return (
        Option(f"log {pairing_id}", "Log session"),
        Option(f"snooze {pairing_id}", "Snooze 3 days"),
        Option(f"reschedule {pairing_id}", "Reschedule"),
        find_a_time(pairing_id),
    )


async def check_in(session: AsyncSession, due: Due) -> Handled:
    """A check-in or a reminder fell due: nudge, unless a session covers its window."""
    item, pair, batch = due.item, due.pair, due.batch
    cadence = batch.program.cadence
    now = batch.now
    every = timedelta(days=cadence.checkin_every_days)
    last = batch.last_session.get(pair.id)
    if item.kind == DueKind.CHECKIN:
        # The window is the days since the previous check-in fell due: a session on
        # that day already reset the cadence that led here.
        since = (item.due_at - every).date() + timedelta(days=1)
        upcoming = item.due_at + every
        if last is not None and last >= since:
            upcoming = max(upcoming, start_of(last, item.due_at) + every)
        while upcoming <= now:
            upcoming += every
        end = pair.start + timedelta(days=cadence.cycle_days)
        if upcoming < end:
            due.follow_ups.append(due_row(pair.id, kind=DueKind.CHECKIN, due_at=upcoming, now=now))
        opened = item.due_at - every
    else:
        since = date.fromisoformat(item.answers.get("since", item.due_at.date().isoformat()))
        opened = datetime.combine(since, time(), tzinfo=UTC)
        upcoming = now + every
    if last is not None and last >= since:
        if item.kind == DueKind.CHECKIN and pair.missed:
            pair.missed, pair.changed = 0, True
        return "suppressed"
    meetings = batch.meetings.get(pair.id, [])
    held = [o for o in meetings if o.start >= opened and o.end <= now]
    if held:
        # They met, by their calendar, and have not logged it: ask how it went instead.
        # A meeting held is not a missed check-in.
        for person_id, zone, other in _readers(due):
            due.tell(person_id, zone, reply=_how_did_it_go(due, held[-1], zone=zone, other=other))
        return "sent"
    if any(now < o.end and o.start < upcoming for o in meetings):
        # A meeting is booked inside the window: nothing is missed, nothing to nudge.
        return "suppressed"
    for person_id, zone, other in _readers(due):
        due.tell(person_id, zone, reply=_nudge(due, zone=zone, other=other))
    if item.kind == DueKind.CHECKIN:
        pair.missed += 1
        pair.changed = True
        if pair.missed == cadence.escalate_after_missed:
            await _at_risk(session, due, last)
    return "sent"


async def _at_risk(session: AsyncSession, due: Due, last: date | None) -> None:
    """Too many check-ins in a row passed with no session: tell the program leads."""
    pair = due.pair
    pair.at_risk_since = due.batch.now
    due.report.at_risk.append(pair.id)
    when = day_label(last) if last is not None else "none yet"
    at_risk = Reply(
        f"{pair.mentee} and {pair.mentor} are at risk: "
        f"{plural(pair.missed, 'check-in')} in a row passed with no session "
        f"logged (last session: {when}). I've nudged both of them each time; a "
        "word from you may help, or a re-match if it isn't working.",
        title="A pairing at risk",
    )
    await due.tell_leads(session, lambda zone: at_risk)


def _readers(due: Due) -> list[tuple[int, str, str]]:
    """Who a check-in nudges, as (person, zone, the other's name).

    A check-in nudges both sides: either may book the meeting or log it. A snoozed or
    rescheduled reminder goes to whoever asked for it (the mentor, for reminders set before
    it was recorded who asked).
    """
    pair, item = due.pair, due.item
    mentee = (pair.mentee_id, pair.mentee_zone, pair.mentor)
    mentor = (pair.mentor_id, pair.mentor_zone, pair.mentee)
    if item.kind == DueKind.CHECKIN:
        return [mentee, mentor]
    return [mentee] if item.answers.get("by") == pair.mentee_id else [mentor]


def _nudge(due: Due, *, zone: str, other: str) -> Reply:
    """The check-in nudge as one side reads it, counting the days since they last met."""
    pair, batch = due.pair, due.batch
    last = batch.last_session.get(pair.id)
    if due.item.answers.get("why") == "rescheduled":
        text: Pieces = (
            f"Today's the day you planned to meet {first_name(other)}. Once you have, log the "
            "session so your check-ins stay on track.",
        )
    else:
        if last is not None:
            since = DaysSince(last, zone)
            gap = f" since your last session with {first_name(other)}"
        else:
            since = DaysSince(local_date(pair.activated, zone), zone)
            gap = f" since you were paired with {first_name(other)}, and no session is logged yet"
        text = (
            "It's been ",
            since,
            f"{gap}. A short conversation keeps the momentum going: book a time, or log a "
            "session you've had.",
        )
    return counting(
        text,
        now=batch.now,
        title=f"Check-in with {other}",
        fields=_action_item_fields(due),
        actions=nudge_actions(pair.id),
    )


def _how_did_it_go(due: Due, held: Occurrence, *, zone: str, other: str) -> Reply:
    """The nudge after a booked meeting passed unlogged: its day, and a button to log it."""
    pair = due.pair
    day = local_date(held.start, zone)
    return Reply(
        f"How did it go? You had a meeting with {first_name(other)} on {day_label(day)}. "
        "Log the session so your check-ins stay on track: it takes a minute.",
        title=f"How did it go with {other}?",
        fields=_action_item_fields(due),
        actions=(
            Option(f"log {pair.id} {day.isoformat()}", "Log the session"),
            Option(f"snooze {pair.id}", "Snooze 3 days"),
        ),
    )


def _action_item_fields(due: Due) -> tuple[tuple[str, str], ...]:
    """The last summary's action items, brought back in the check-in reminder."""
    items = due.batch.action_items.get(due.pair.id)
    if not items:
        return ()
    return (("Action items from your last session", "\n".join(f"• {i}" for i in items)),)


#: The due kinds this module handles (see handlers.cycle.registry).
HANDLERS: dict[DueKind, DueHandler] = {
    DueKind.CHECKIN: check_in,
    DueKind.REMINDER: check_in,
}
