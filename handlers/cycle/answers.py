"""The answers to what fell due: the words behind the buttons of the cycle's messages.

* ``calibrate PAIRING yes|no`` answers the one-month calibration; "no" tells the program
  leads and offers a re-match;
* ``rematch PAIRING`` ends the pairing and puts the mentee back on the waitlist;
* ``continue PAIRING`` answers the end-of-cycle review: once both sides say so, a new cycle
  starts, and a series of meetings booked to the old cycle's end runs on to the new one's
  (handlers.meetings.booking.run_series_on);
* ``close PAIRING`` ends the pairing (completed, or closed early);
* ``keep PAIRING`` answers the inactivity check: the pairing carries on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Command, CommandHandler, Outcome, Turn
from handlers.core.messages import Option, Reply
from handlers.cycle.ending import end_pairing, first_name, tell, tell_leads
from handlers.cycle.schedule import (
    cancel_due,
    cycle_end,
    cycle_start,
    due_row,
    insert_due,
    schedule_cycle,
)
from handlers.meetings.booking import pairing_meetings, run_series_on, sides, upcoming
from handlers.meetings.slots import slot_words
from handlers.people.lookups import people_by_id
from handlers.plans.chat import my_pairing, role_in, zone_of
from storage import DueItem, DueKind, DueStatus, Pairing, PairingStatus, Person, Role
from storage.tables import DUE


async def active_pairing_named(
    turn: Turn, args: list[str], *, verb: str, offer: bool = True
) -> tuple[Pairing, Person, Person] | Reply:
    """The active pairing a command names (or the person's only one), mentee and mentor.

    Args:
        offer: With several pairings, offer each as a button (see
            handlers.plans.chat.my_pairing).

    Returns:
        The reply that says why not, when there is no such pairing or it is not active.
    """
    found = await my_pairing(turn, args[:1], verb=verb, offer=offer)
    if isinstance(found, Reply):
        return found
    people = await people_by_id(turn.session, [found.mentee_id, found.mentor_id])
    if found.status == PairingStatus.ENDED:
        other = people.get(
            found.mentor_id if found.mentee_id == turn.person.id else found.mentee_id
        )
        with_whom = f" with {other.name}" if other is not None and other.name else ""
        return Reply(
            f"Your pairing{with_whom} has ended, so there's nothing to answer here any more; "
            "nothing changed. Thank you for the time you gave it."
        )
    if found.status != PairingStatus.ACTIVE:
        return Reply("That pairing isn't active any more; nothing changed.")
    return found, people[found.mentee_id], people[found.mentor_id]


def _other(pairing: Pairing, me: Person, mentee: Person, mentor: Person) -> Person:
    return mentor if role_in(pairing, me) is Role.MENTEE else mentee


async def _latest_item(session: AsyncSession, pairing: Pairing, kind: DueKind) -> DueItem | None:
    result = await session.exec(
        select(DueItem)
        .where(DueItem.pairing_id == pairing.id, DueItem.kind == kind.value)
        .order_by(sa.desc(DUE.c.due_at))
    )
    return result.first()


async def _record_answer(
    session: AsyncSession, pairing: Pairing, kind: DueKind, role: Role, answer: str
) -> DueItem | None:
    item = await _latest_item(session, pairing, kind)
    if item is not None:
        item.answers = {**item.answers, role.value: answer}
        session.add(item)
    return item


async def _calibrate(turn: Turn, args: list[str]) -> Outcome:
    found = await active_pairing_named(turn, args, verb="calibrate")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    program = turn.programs.of(pairing.program)
    answer = (args[1] if len(args) > 1 else "").lower()
    if answer not in ("yes", "no"):
        return Outcome(
            [Reply(f"Type calibrate {pairing.id} yes, or calibrate {pairing.id} no.")],
            None,
            changed=False,
        )
    role = role_in(pairing, turn.person)
    await _record_answer(turn.session, pairing, DueKind.CALIBRATION, role, answer)
    other = _other(pairing, turn.person, mentee, mentor)
    if answer == "yes":
        return Outcome([Reply("Glad to hear it! Keep going; I'll check in as usual.")], None)
    await tell_leads(
        turn.session,
        program,
        text=f"{turn.person.name} ({role.value}) says the pairing {mentee.name} → {mentor.name} "
        "isn't working (one-month calibration). They were offered a re-match.",
        key=f"pairing:{pairing.id}:calibration-no:{turn.person.id}",
        now=turn.now,
        programs=turn.programs,
    )
    return Outcome(
        [
            Reply(
                f"Thanks for being honest; that's what this check is for. I've let the "
                f"program lead know. Would you like a different match, or keep trying with "
                f"{first_name(other.name)} for now?",
                actions=(
                    Option(f"rematch {pairing.id}", "Find a new match"),
                    Option(f"keep {pairing.id}", "Keep trying"),
                ),
            )
        ],
        None,
    )


async def _rematch(turn: Turn, args: list[str]) -> Outcome:
    found = await active_pairing_named(turn, args, verb="rematch", offer=False)
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    program = turn.programs.of(pairing.program)
    if not await end_pairing(
        turn.session, program, pairing=pairing, now=turn.now, reason="rematch", rematch=True
    ):
        return Outcome([Reply("That pairing has already ended.")], None, changed=False)
    mentee_is_me = role_in(pairing, turn.person) is Role.MENTEE
    if mentee_is_me:
        await tell(
            turn.session,
            program,
            person_id=mentor.id or 0,
            text=f"{mentee.name} asked for a different match, so your pairing has ended. Thank "
            "you for the time you gave; your place is free for someone new.",
            key=f"pairing:{pairing.id}:rematch:other",
            now=turn.now,
        )
        text = (
            "Done: your pairing has ended and you're back on the waitlist, keeping your place "
            "from when you first joined it. "
            f"The next match round will look for someone other than {mentor.name}."
        )
    else:
        await tell(
            turn.session,
            program,
            person_id=mentee.id or 0,
            text=f"{mentor.name} felt a different mentor would serve you better, so your pairing "
            "has ended. You're back on the waitlist with the place you had before; the next "
            "match round will "
            "find you someone new.",
            key=f"pairing:{pairing.id}:rematch:other",
            now=turn.now,
        )
        text = (
            f"Done: your pairing with {mentee.name} has ended and they're back on the waitlist, "
            "keeping their place "
            "of the waitlist. Thank you for saying so."
        )
    await tell_leads(
        turn.session,
        program,
        text=f"{turn.person.name} asked for a re-match: {mentee.name} → {mentor.name} has ended "
        f"and {mentee.name} is back on the waitlist.",
        key=f"pairing:{pairing.id}:rematch",
        now=turn.now,
        programs=turn.programs,
    )
    return Outcome([Reply(text)], None)


async def _continue(turn: Turn, args: list[str]) -> Outcome:
    found = await active_pairing_named(turn, args, verb="continue")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    program = turn.programs.of(pairing.program)
    review = await _latest_item(turn.session, pairing, DueKind.END_REVIEW)
    end = cycle_end(pairing, program.cadence)
    if review is None or review.status != DueStatus.DONE or review.due_at < cycle_start(pairing):
        zone = zone_of(turn.person, program.default_timezone)
        return Outcome(
            [
                Reply(
                    f"Your cycle runs until {day_label(local_date(end, zone))}; I'll ask "
                    "then whether you'd like to continue."
                )
            ],
            None,
            changed=False,
        )
    role = role_in(pairing, turn.person)
    review.answers = {**review.answers, role.value: "continue"}
    turn.session.add(review)
    other = _other(pairing, turn.person, mentee, mentor)
    other_role = Role.MENTOR if role is Role.MENTEE else Role.MENTEE
    if review.answers.get(other_role.value) != "continue":
        await tell(
            turn.session,
            program,
            person_id=other.id or 0,
            text=f"{turn.person.name} would like to continue for another cycle. Would you?",
            key=f"pairing:{pairing.id}:continue-asked:{pairing.cycle}",
            now=turn.now,
            pairing_id=pairing.id,
            actions=(
                Option(f"continue {pairing.id}", "Continue another cycle"),
                Option(f"close {pairing.id}", "Close the pairing"),
            ),
        )
        return Outcome(
            [Reply(f"Noted! I'll start another cycle as soon as {first_name(other.name)} agrees.")],
            None,
        )
    pairing.cycle += 1
    pairing.cycle_started_at = turn.now
    pairing.last_activity_at = turn.now
    pairing.missed_checkins = 0
    pairing.at_risk_since = None
    pairing.plan_confirmed_at = None
    turn.session.add(pairing)
    await turn.session.flush()
    await cancel_due(turn.session, [pairing.id or 0], now=turn.now)
    await schedule_cycle(turn.session, program, pairing=pairing, now=turn.now)
    meetings = await _meetings_run_on(turn, pairing, old_end=end)
    days = program.cadence.cycle_days
    await tell(
        turn.session,
        program,
        person_id=other.id or 0,
        text=f"You're both in for another {days} days, cycle {pairing.cycle}. "
        + (
            "Type plan to set fresh milestones."
            if other.id == mentee.id
            else f"{first_name(mentee.name)} will set fresh milestones."
        )
        + meetings.get(other.id or 0, ""),
        key=f"pairing:{pairing.id}:cycle:{pairing.cycle}",
        now=turn.now,
        pairing_id=pairing.id,
    )
    mine = " Type plan to set fresh milestones." if turn.person.id == mentee.id else ""
    return Outcome(
        [
            Reply(
                f"Wonderful: another {days} days together, starting today.{mine}"
                + meetings.get(turn.person.id or 0, "")
            )
        ],
        None,
    )


async def _meetings_run_on(turn: Turn, pairing: Pairing, *, old_end: datetime) -> dict[int, str]:
    """Run the pair's series booked to the old cycle's end on to the new one's; what each
    side reads of it, by person (nothing when no series ran to the end)."""
    program = turn.programs.of(pairing.program)
    until = cycle_end(pairing, program.cadence)
    ran_on = await run_series_on(
        turn.session, program, pairing=pairing, old_end=old_end, until=until, now=turn.now
    )
    if not ran_on:
        return {}
    pair = await sides(turn.session, program, pairing)
    booked = await pairing_meetings(turn.session, pairing, default_zone=program.default_timezone)
    coming = upcoming(booked, now=turn.now)
    every = ran_on[-1].every_days
    words: dict[int, str] = {}
    for person in (pair.mentee, pair.mentor):
        assert person.id is not None
        me, other = pair.of(person.id)
        ends = day_label(local_date(until, me.zone))
        first = (
            f", the next on {slot_words(coming[0][1].slot, reader=me, other=other)}"
            if coming
            else ""
        )
        words[person.id] = (
            f" Your meetings with {other.first} carry on every {every} days until {ends}"
            f"{first}; I've sent you both the updated calendar invite."
        )
    return words


async def _close(turn: Turn, args: list[str]) -> Outcome:
    found = await active_pairing_named(turn, args, verb="close", offer=False)
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    program = turn.programs.of(pairing.program)
    review = await _latest_item(turn.session, pairing, DueKind.END_REVIEW)
    finished = (
        review is not None
        and review.status == DueStatus.DONE
        and review.due_at >= cycle_start(pairing)
    )
    reason = "completed" if finished or pairing.cycle > 1 else "closed"
    if not await end_pairing(turn.session, program, pairing=pairing, now=turn.now, reason=reason):
        return Outcome([Reply("That pairing has already ended.")], None, changed=False)
    other = _other(pairing, turn.person, mentee, mentor)
    follow = (
        " Type join whenever you'd like a new mentor."
        if other.id == mentee.id
        else " Your place is free for a new mentee."
    )
    await tell(
        turn.session,
        program,
        person_id=other.id or 0,
        text=f"{turn.person.name} closed your mentoring pairing. Thank you both for the time "
        f"and care you put into it.{follow}",
        key=f"pairing:{pairing.id}:closed:other",
        now=turn.now,
    )
    await tell_leads(
        turn.session,
        program,
        text=f"{turn.person.name} closed the pairing {mentee.name} → {mentor.name} ({reason}).",
        key=f"pairing:{pairing.id}:closed",
        now=turn.now,
        programs=turn.programs,
    )
    mine = (
        " Type join whenever you'd like a new mentor."
        if turn.person.id == mentee.id
        else " Your place is free for a new mentee."
    )
    return Outcome(
        [Reply(f"Closed. Thank you for taking part, and I hope it was worth it.{mine}")], None
    )


async def _keep(turn: Turn, args: list[str]) -> Outcome:
    found = await active_pairing_named(turn, args, verb="keep")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found[0]
    program = turn.programs.of(pairing.program)
    pairing.last_activity_at = turn.now
    turn.session.add(pairing)
    quiet = timedelta(days=program.cadence.auto_close_after_days)
    assert pairing.id is not None
    await insert_due(
        turn.session,
        [due_row(pairing.id, kind=DueKind.INACTIVITY, due_at=turn.now + quiet, now=turn.now)],
    )
    return Outcome(
        [Reply("Great, keep going! Log your next session so I know how it's going.")], None
    )


def button(name: str, summary: str, *, run: CommandHandler, usage: str = "PAIRING") -> Command:
    """A command behind a message's button: unlisted, and answerable in the middle of a flow."""
    return Command(
        name,
        summary,
        run,
        usage=usage,
        listed=False,
        mid_flow=rf"(?i)^{name}\s+\d+(\s+\w+)?$",
    )


def commands() -> list[Command]:
    """The answers to the calibration, the end-of-cycle review and the inactivity check."""
    return [
        button(
            "calibrate",
            "say whether the pairing is working",
            run=_calibrate,
            usage="PAIRING yes|no",
        ),
        button("rematch", "end the pairing and look for a new match", run=_rematch),
        button("continue", "continue for another cycle", run=_continue),
        button("close", "close the pairing", run=_close),
        button("keep", "keep the pairing going", run=_keep),
    ]
