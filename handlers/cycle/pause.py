"""A person's break: ``pause [until DATE | for N weeks]``, ``resume``, and pauses that run out.

A pause holds the due items of the person's pairings (the due pass marks them held) and
keeps them out of new matches; the other side of each pairing is told. Meetings booked
ahead stay in both calendars (the pairing goes on; the pause says how to cancel them).
Resuming restores the person's standing and restarts their pairings' cadence from that day
(:func:`resume_person`); the due pass resumes whoever's pause has run out
(:func:`resume_due_pauses`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date, parse_day
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Reply
from handlers.core.program import Program, ProgramType
from handlers.cycle.ending import tell
from handlers.cycle.schedule import cancel_due, due_row, insert_due, move_checkin, release_held
from handlers.matching.lapses import LAPSES
from handlers.meetings.booking import pairing_meetings, upcoming
from handlers.people.lookups import pairings_of
from handlers.plans.chat import active_pairings, zone_of
from storage import DueKind, Enrollment, EnrollmentStatus, Pairing, PairingStatus, Person, Role
from storage.queries import enrollments_of

ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]


async def enrollments_kept(turn: Turn) -> list[Enrollment]:
    """The person's enrollments they have not left, in every program."""
    found = await enrollments_of(turn.session, turn.person.id or 0, program=None)
    return [e for e in found if e.status != EnrollmentStatus.LEFT]


def _pause_until(args: list[str], today: date) -> date | str | None:
    """The end of a pause from ``pause [until DATE | for N days|weeks]``; a str is a problem."""
    words = [w for w in args if w.lower() not in ("until", "till", "til")]
    if not words:
        return None
    text = " ".join(words).lower()
    if words[0].lower() == "for":
        text = "in " + " ".join(words[1:])
    day = parse_day(text, today)
    if day is None:
        return (
            f"I can't read {' '.join(args)!r} as a date. Type pause, pause until 2027-01-10, "
            "or pause for 2 weeks."
        )
    if day <= today:
        return "A pause has to end after today. Type pause on its own to pause until resume."
    if day > today + timedelta(days=366):
        return "A pause can last a year at most; type pause on its own and resume later."
    return day


async def _pause(turn: Turn, args: list[str]) -> Outcome:
    enrollments = await enrollments_kept(turn)
    if not enrollments:
        return Outcome(
            [Reply("You're not enrolled, so there's nothing to pause.")], None, changed=False
        )
    zone = zone_of(turn.person, turn.programs.default_timezone)
    until = _pause_until(args, local_date(turn.now, zone))
    if isinstance(until, str):
        return Outcome([Reply(until)], None, changed=False)
    paused_until = (
        datetime.combine(until, datetime.min.time(), tzinfo=ZoneInfo(zone)) if until else None
    )
    # A pause for lapsed proposals held no pairings, so pausing now is news to the other side.
    already = all(
        e.status == EnrollmentStatus.PAUSED and e.paused_reason is None for e in enrollments
    )
    moved = already and any(e.paused_until != paused_until for e in enrollments)
    for enrollment in enrollments:
        if enrollment.status != EnrollmentStatus.PAUSED:
            enrollment.status_before_pause = enrollment.status
            enrollment.status = EnrollmentStatus.PAUSED.value
        enrollment.paused_reason = None  # their own pause now, whatever paused them before
        enrollment.paused_until = paused_until
        enrollment.updated_at = turn.now
        turn.session.add(enrollment)
    when = f"until {day_label(until)}" if until else "until you type resume"
    if not already or moved:
        # A new pause, or one made shorter (or longer): the other side hears when to expect
        # them back.
        if already:
            told, key = (
                f"{turn.person.name}'s break from mentoring now lasts {when}",
                "pause-change",
            )
        else:
            told, key = f"{turn.person.name} is taking a break from mentoring {when}", "pause"
        for pairing in await active_pairings(turn):
            other = pairing.mentor_id if pairing.mentee_id == turn.person.id else pairing.mentee_id
            await tell(
                turn.session,
                turn.programs.of(pairing.program),
                person_id=other,
                text=f"{told}. Check-ins for your pairing are on hold; I'll let you know when "
                "they're back.",
                key=f"{key}:{turn.person.id}:{turn.now.isoformat()}:{pairing.id}",
                now=turn.now,
                pairing_id=pairing.id,
            )
    return Outcome(
        [
            Reply(
                f"Paused {when}: no check-ins, reminders or new matches for you meanwhile. "
                f"Your pairings and answers stay as they are.{await _meetings_kept(turn)}"
            )
        ],
        None,
    )


async def _meetings_kept(turn: Turn) -> str:
    """What a pause says of the meetings booked ahead: they stay in both calendars (a break
    may be short, and the pair may still meet), and how to cancel them. Only a pairing that
    ends cancels its meetings (handlers.cycle.ending)."""
    ids: list[int] = []
    for pairing in await active_pairings(turn):
        assert pairing.id is not None
        program = turn.programs.of(pairing.program)
        booked = await pairing_meetings(
            turn.session, pairing, default_zone=program.default_timezone
        )
        if upcoming(booked, now=turn.now):
            ids.append(pairing.id)
    if not ids:
        return ""
    how = " or ".join(f"cancel-meeting {i} series" for i in ids)
    return f" Meetings you've booked stay in your calendar; to cancel them, type {how}."


async def resume_person(
    session: AsyncSession, program: Program, *, person: Person, now: datetime
) -> bool:
    """End a person's pause: restore their standing and restart their pairings' cadence.

    Check-ins start again ``checkin_every_days`` from now; reviews held during the pause
    fall due now. A pairing whose other side is still on their own break stays on hold
    (the replies say so: :func:`_still_on_hold`) until that side is back; a pause the bot
    made for lapsed proposals holds nothing, so it does not hold the pairing.

    Returns:
        False when the person was not paused (another tick or command resumed them).
    """
    result = await session.exec(
        select(Enrollment).where(
            Enrollment.person_id == person.id,
            Enrollment.program == program.id,
            Enrollment.status == EnrollmentStatus.PAUSED.value,
        )
    )
    enrollments = list(result.all())
    if not enrollments:
        return False
    # Only a pause the person asked for held their pairings; one for lapsed proposals
    # (handlers.matching.lapses) stopped new proposals only, so their pairings need no restart.
    held = any(e.paused_reason is None for e in enrollments)
    conn = await session.connection()
    for enrollment in enrollments:
        restored = await conn.execute(
            sa.update(ENROLLMENT)
            .where(
                ENROLLMENT.c.id == enrollment.id,
                ENROLLMENT.c.status == EnrollmentStatus.PAUSED.value,
            )
            .values(
                status=enrollment.status_before_pause or _unpaused(enrollment),
                status_before_pause=None,
                paused_until=None,
                paused_reason=None,
                updated_at=now,
            )
        )
        if not restored.rowcount:
            return False
    if not held:
        return True
    every = timedelta(days=program.cadence.checkin_every_days)
    quiet = timedelta(days=program.cadence.auto_close_after_days)
    for pairing in await pairings_of(
        session, program, person_id=person.id, statuses=[PairingStatus.ACTIVE]
    ):
        other = pairing.mentor_id if pairing.mentee_id == person.id else pairing.mentee_id
        if await _on_break(session, program, person_id=other) is not None:
            continue
        assert pairing.id is not None
        pairing.last_activity_at = now
        pairing.missed_checkins = 0
        session.add(pairing)
        await release_held(session, pairing.id, now=now)
        await move_checkin(session, program, pairing=pairing, due_at=now + every, now=now)
        await cancel_due(session, [pairing.id], now=now, kinds=[DueKind.INACTIVITY])
        await insert_due(
            session, [due_row(pairing.id, kind=DueKind.INACTIVITY, due_at=now + quiet, now=now)]
        )
        await tell(
            session,
            program,
            person_id=other,
            text=f"{person.name} is back from their break, so check-ins for your pairing start "
            "again.",
            key=f"resume:{person.id}:{now.isoformat()}:{pairing.id}",
            now=now,
            pairing_id=pairing.id,
        )
    return True


async def _on_break(
    session: AsyncSession, program: Program, *, person_id: int
) -> Enrollment | None:
    """The person's own break in the program, if they are on one.

    A pause the bot made for lapsed proposals (handlers.matching.lapses) is no break: it
    holds no pairing, as the due pass knows (handlers.cycle.due_pass).
    """
    found = await session.exec(
        select(Enrollment).where(
            Enrollment.person_id == person_id,
            Enrollment.program == program.id,
            Enrollment.status == EnrollmentStatus.PAUSED.value,
            col(Enrollment.paused_reason).is_(None),
        )
    )
    return found.first()


async def _still_on_hold(
    session: AsyncSession, program: Program, *, pairing: Pairing, person: Person
) -> str | None:
    """Why a pairing stays on hold though ``person`` is back: the other side is still on
    their own break (:func:`resume_person` restarts it only when both are back). None when
    its check-ins start again.
    """
    other_id = pairing.mentor_id if pairing.mentee_id == person.id else pairing.mentee_id
    away = await _on_break(session, program, person_id=other_id)
    if away is None:
        return None
    other = await session.get(Person, other_id)
    name = other.name if other is not None and other.name else "Your pair"
    until = ""
    if away.paused_until is not None:
        # The day they gave: their break ends at its start, in their own timezone.
        zone = (other.timezone if other is not None else None) or program.default_timezone
        until = f" (until {day_label(local_date(away.paused_until, zone))})"
    return (
        f"{name} is still on a break{until}, so your pairing with them stays on hold until "
        "they're back; I'll let you know when check-ins start again."
    )


def _unpaused(enrollment: Enrollment) -> str:
    if enrollment.role == Role.MENTOR.value:
        return EnrollmentStatus.AVAILABLE.value
    return EnrollmentStatus.WAITING.value


async def _resume(turn: Turn, args: list[str]) -> Outcome:
    kept = await enrollments_kept(turn)
    if not kept:
        return Outcome(
            [
                Reply(
                    "You're not enrolled in any program, so there's nothing to resume. Type "
                    "join to take part."
                )
            ],
            None,
            changed=False,
        )
    paused = [e for e in kept if e.status == EnrollmentStatus.PAUSED]
    resumed = [
        program
        for program in turn.programs.with_ids({e.program for e in paused})
        if await resume_person(turn.session, program, person=turn.person, now=turn.now)
    ]
    if not resumed:
        return Outcome([Reply("You're not paused; nothing to resume.")], None, changed=False)
    if all(e.paused_reason == LAPSES for e in paused):
        return Outcome(
            [Reply("Welcome back! The next match round can propose mentees to you again.")],
            None,
        )
    ids = {program.id for program in resumed}
    paired = [p for p in await active_pairings(turn) if p.program in ids]
    if paired:
        said: list[str] = []
        going: list[Pairing] = []
        for pairing in paired:
            program = turn.programs.of(pairing.program)
            held = await _still_on_hold(turn.session, program, pairing=pairing, person=turn.person)
            if held is None:
                going.append(pairing)
            else:
                said.append(held)
        if going:
            every = min(turn.programs.of(p.program).cadence.checkin_every_days for p in going)
            said.insert(0, f"Check-ins start again: the next one is in {every} days.")
        return Outcome([Reply("Welcome back! " + " ".join(said))], None)
    back = [e for e in paused if e.program in ids]
    return Outcome([Reply("Welcome back! " + _unpaired_standing(turn, back))], None)


def _unpaired_standing(turn: Turn, enrollments: list[Enrollment]) -> str:
    """Where someone back from a break stands with no active pairing, in one sentence.

    Args:
        enrollments: Their enrollments as they were paused; each goes back to the status
            it had before (:func:`resume_person`).
    """
    roles = {Role(e.role) for e in enrollments}
    kinds = {turn.programs.of(e.program).type for e in enrollments}
    restored = {e.status_before_pause or _unpaused(e) for e in enrollments}
    partner = (
        "circle"
        if kinds == {ProgramType.CIRCLES}
        else "learning partner"
        if kinds == {ProgramType.PEER}
        else "mentor"
    )
    if EnrollmentStatus.COMPLETED in restored and EnrollmentStatus.WAITING not in restored:
        return (
            f"Your pairing has ended, so there are no check-ins to restart. Type join "
            f"whenever you'd like a new {partner}."
        )
    if ProgramType.CIRCLES in kinds and EnrollmentStatus.MATCHED in restored:
        return "Your circle's sessions carry on as planned."
    if roles == {Role.MENTOR}:
        offered = "a circle to facilitate" if partner == "circle" else "mentees"
        return (
            "You have no pairing right now, so there are no check-ins to restart; the next "
            f"match round can propose {offered} to you again."
        )
    return (
        "You're not paired yet, so there are no check-ins to restart; you're back on the "
        f"waitlist, and the next match round can find you a {partner}."
    )


async def resume_due_pauses(session: AsyncSession, program: Program, *, now: datetime) -> list[int]:
    """Resume everyone whose pause has run out; tell them. Returns their person ids."""
    result = await session.exec(
        select(Enrollment.person_id)
        .where(
            Enrollment.program == program.id,
            Enrollment.status == EnrollmentStatus.PAUSED.value,
            Enrollment.paused_until <= now,  # type: ignore[operator]
        )
        .distinct()
    )
    resumed = []
    for person_id in result.all():
        person = await session.get(Person, person_id)
        if person is None or not await resume_person(session, program, person=person, now=now):
            continue
        resumed.append(person_id)
        held: list[str] = []
        going = False
        for pairing in await pairings_of(
            session, program, person_id=person_id, statuses=[PairingStatus.ACTIVE]
        ):
            words = await _still_on_hold(session, program, pairing=pairing, person=person)
            if words is None:
                going = True
            else:
                held.append(words)
        if held:
            again = " Check-ins and reminders start again for your other pairings." if going else ""
            text = f"Your break is over, so welcome back.{again} {' '.join(held)}"
        else:
            text = "Your break is over, so welcome back: check-ins and reminders start again."
        await tell(
            session,
            program,
            person_id=person_id,
            text=f"{text} Type pause if you need more time.",
            key=f"resumed:{person_id}:{now.isoformat()}",
            now=now,
        )
    return resumed


def commands() -> list[Command]:
    """``pause`` and ``resume``."""
    return [
        Command(
            "pause",
            "take a break: no check-ins or new matches",
            _pause,
            usage="[until DATE | for N weeks]",
        ),
        Command("resume", "come back from a break", _resume),
    ]
