"""Proposals nobody answered: a reminder before they lapse, the lapse, and a mentor's pause.

A proposal waits ``matching.proposal_expiry_days`` for the one whose answer it needs (the
mentor, then the mentee once the mentor accepts). The run-due tick:

* **reminds** them a day before it lapses (see :func:`reminder_moment` for how the day
  before meets working hours and weekends), once, by the outbox's dedupe key;
* **lapses** it when the time is up: the pairing becomes ``expired``; the mentee keeps
  their place on the waitlist and is told so; whoever did not answer hears that it lapsed;
  the program leads hear what the next round can do for the mentee. A lapse is not a
  decline: the pair may be proposed again, after the mentee's other options
  (handlers.matching.rounds);
* **pauses a mentor** who lets ``matching.lapses_before_pause`` proposals lapse in a row:
  counted since they last answered a proposal (accept or decline), and since the bot last
  paused them for lapses, so a mentor who resumes starts afresh. The pause stops new
  proposals only (``enrollment.paused_reason = "lapses"``): their current mentees carry
  on, and ``resume`` ends it as it ends any pause.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import last_opening, next_delivery
from handlers.core.calendar import local_moment as local_moment  # handlers.circles.lapses
from handlers.core.messages import Option, Reply, plural
from handlers.core.outbox import enqueue, withdraw
from handlers.core.program import Program
from handlers.matching.pool import Pool, load_pool
from handlers.matching.score import other_mentors
from handlers.matching.waitlist import remember_why, waitlist_positions
from handlers.people.lookups import move_pairing, people_by_id, program_leads
from storage import (
    Enrollment,
    EnrollmentStatus,
    Pairing,
    PairingStatus,
    Person,
    Role,
)
from storage.tables import ENROLLMENT, OUTBOX, PAIRING

#: ``enrollment.paused_reason`` of a mentor the bot paused for letting proposals lapse.
LAPSES = "lapses"
#: How long before the lapse the reminder aims to arrive.
REMIND_BEFORE = timedelta(days=1)
#: A reminder that would arrive with less notice than this (the day before the lapse is a
#: weekend, say) goes at the start of the last working period before instead.
MIN_NOTICE = timedelta(hours=4)
#: No reminder for a proposal asked less than this long before its reminder would go
#: (a one-day expiry): it would arrive on the heels of the proposal itself.
MIN_WAIT = timedelta(hours=12)

OPEN_ANSWER = (PairingStatus.PROPOSED.value, PairingStatus.ACCEPTED.value)


def _zone(person: Person, program: Program) -> str:
    return person.timezone or program.default_timezone


# --- the reminder --------------------------------------------------------------------------


def reminder_moment(expires_at: datetime, *, zone: str, program: Program) -> datetime:
    """When the reminder of a proposal lapsing at ``expires_at`` should arrive.

    The first working moment from a day before the lapse, in the reader's timezone. When
    that leaves less than :data:`MIN_NOTICE` (a proposal lapsing at 08:00 on a Monday
    would be reminded at 09:00 Monday, after it lapsed), the reminder goes at the start of
    the last working period before that day instead (09:00 on the Friday).
    """
    hours = program.cadence.working_hours
    target = expires_at - REMIND_BEFORE
    first = next_delivery(target, zone=zone, hours=hours)
    if first <= expires_at - MIN_NOTICE:
        return first
    return last_opening(target, zone=zone, hours=hours)


def reminder_reach(program: Program) -> timedelta:
    """How far before a lapse a reminder can go: a day, plus the longest break in the week."""
    working = set(program.cadence.working_hours.days)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    longest = run = 0
    for day in days * 2:  # twice round the week, for a break across Sunday night
        run = 0 if day in working else run + 1
        longest = max(longest, run)
    return REMIND_BEFORE + timedelta(days=min(longest, 7) + 1)


async def remind_lapsing(session: AsyncSession, program: Program, *, now: datetime) -> list[int]:
    """Remind whoever owes the answer to a proposal that lapses soon; once per proposal.

    The mentor for a proposal waiting for them, the mentee once the mentor accepted. A
    reminder that could only arrive (inside the reader's working hours) after the lapse is
    not sent: the notice of the lapse tells them instead.

    Returns:
        The ids of the pairings reminded now.
    """
    conn = await session.connection()
    found = (
        await conn.execute(
            sa.select(
                PAIRING.c.id,
                PAIRING.c.status,
                PAIRING.c.expires_at,
                sa.func.coalesce(PAIRING.c.mentor_answered_at, PAIRING.c.proposed_at),
                PAIRING.c.mentee_id,
                PAIRING.c.mentor_id,
            ).where(
                PAIRING.c.program == program.id,
                PAIRING.c.status.in_(OPEN_ANSWER),
                PAIRING.c.expires_at > now,
                PAIRING.c.expires_at <= now + reminder_reach(program),
            )
        )
    ).all()
    if not found:
        return []
    keys = {row[0]: f"pairing:{row[0]}:lapse-reminder:{row[1]}" for row in found}
    sent = set(
        (
            await conn.execute(
                sa.select(OUTBOX.c.dedupe_key).where(OUTBOX.c.dedupe_key.in_(keys.values()))
            )
        ).scalars()
    )
    due = [row for row in found if keys[row[0]] not in sent]
    people = await people_by_id(session, [r[4] for r in due] + [r[5] for r in due])
    reminded = []
    for pairing_id, status, expires_at, asked_at, mentee_id, mentor_id in due:
        mentor_owes = status == PairingStatus.PROPOSED
        reader = people[mentor_id if mentor_owes else mentee_id]
        other = people[mentee_id if mentor_owes else mentor_id]
        zone = _zone(reader, program)
        moment = reminder_moment(expires_at, zone=zone, program=program)
        if moment > now or moment < asked_at + MIN_WAIT:
            continue
        arrives = next_delivery(now, zone=zone, hours=program.cadence.working_hours)
        if arrives >= expires_at:
            continue
        assert reader.id is not None
        text = _reminder_text(program, reader, other, expires_at, mentor_owes=mentor_owes)
        await enqueue(
            session,
            person_id=reader.id,
            replies=[
                Reply(
                    text,
                    title="Reminder: a proposal waits for your answer",
                    actions=(
                        Option(f"accept {pairing_id}", "Accept"),
                        Option(f"decline {pairing_id}", "Decline"),
                    ),
                    hint=f"Or type accept {pairing_id} or decline {pairing_id}.",
                )
            ],
            dedupe_key=keys[pairing_id],
            now=now,
            not_before=arrives,
            pairing_id=pairing_id,
        )
        reminded.append(pairing_id)
    return reminded


def _reminder_text(
    program: Program, reader: Person, other: Person, expires_at: datetime, *, mentor_owes: bool
) -> str:
    when = local_moment(expires_at, _zone(reader, program))
    if not mentor_owes:
        return (
            f"{other.name} offered to mentor you and waits for your answer. The offer lapses "
            f"on {when} (your time) if you don't answer; either way you keep your place on "
            "the waitlist."
        )
    first = other.name.split()[0] if other.name else other.email
    text = (
        f"Would you mentor {other.name}? The proposal lapses on {when} (your time) if you "
        f"don't answer. If you can't take a mentee now, Decline lets {first} find another "
        "mentor sooner."
    )
    limit = program.matching.lapses_before_pause
    if limit:
        text += (
            f" (A mentor who lets {plural(limit, 'proposal')} in a row lapse is paused "
            "from new proposals.)"
        )
    return text


# --- the lapse -----------------------------------------------------------------------------


async def expire_proposals(session: AsyncSession, program: Program, *, now: datetime) -> list[int]:
    """Lapse proposals nobody answered in time, pause mentors who keep letting them lapse.

    Everyone concerned is told: whoever did not answer, the other side, and the program
    leads (with what the next round can do for the mentee).

    Returns:
        The ids of the pairings that lapsed now.
    """
    overdue = (
        await session.exec(
            select(Pairing).where(
                Pairing.program == program.id,
                Pairing.status.in_(OPEN_ANSWER),  # type: ignore[attr-defined]
                Pairing.expires_at <= now,
            )
        )
    ).all()
    lapsed: list[Pairing] = []
    for pairing in overdue:
        waited_on = Role.MENTOR if pairing.status == PairingStatus.PROPOSED else Role.MENTEE
        if await move_pairing(
            session,
            pairing,
            expected=PairingStatus(pairing.status),
            status=PairingStatus.EXPIRED.value,
            declined_by=waited_on.value,
            closed_at=now,
        ):
            lapsed.append(pairing)
            # The reminder that it lapses soon, if still waiting, would now arrive late.
            await withdraw(session, pairing_id=pairing.id, reason="proposal lapsed", now=now)
    if not lapsed:
        return []
    paused: dict[int, int] = {}
    for mentor_id in sorted({p.mentor_id for p in lapsed if p.declined_by == Role.MENTOR}):
        in_a_row = await _pause_if_too_many(session, program, mentor_id, now)
        if in_a_row:
            paused[mentor_id] = in_a_row
    await _tell_lapsed(session, program, lapsed, paused, now)
    return [p.id for p in lapsed if p.id is not None]


async def lapses_in_a_row(session: AsyncSession, program: Program, *, mentor_id: int) -> int:
    """How many proposals a mentor let lapse since they last answered one (or were paused)."""
    conn = await session.connection()
    answered = await conn.scalar(
        sa.select(sa.func.max(PAIRING.c.mentor_answered_at)).where(
            PAIRING.c.program == program.id, PAIRING.c.mentor_id == mentor_id
        )
    )
    counted_from = await conn.scalar(
        sa.select(ENROLLMENT.c.lapses_counted_from).where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.person_id == mentor_id,
            ENROLLMENT.c.role == Role.MENTOR.value,
        )
    )
    since = max((m for m in (answered, counted_from) if m is not None), default=None)
    query = (
        sa.select(sa.func.count())
        .select_from(PAIRING)
        .where(
            PAIRING.c.program == program.id,
            PAIRING.c.mentor_id == mentor_id,
            PAIRING.c.status == PairingStatus.EXPIRED.value,
            PAIRING.c.declined_by == Role.MENTOR.value,
        )
    )
    if since is not None:
        query = query.where(PAIRING.c.closed_at > since)
    return int(await conn.scalar(query) or 0)


async def _pause_if_too_many(
    session: AsyncSession, program: Program, mentor_id: int, now: datetime
) -> int:
    """Pause a mentor as a mentor when they have let too many proposals lapse in a row.

    Returns:
        How many lapsed in a row, when this paused them; 0 when it did not.
    """
    limit = program.matching.lapses_before_pause
    if not limit:
        return 0
    count = await lapses_in_a_row(session, program, mentor_id=mentor_id)
    if count < limit:
        return 0
    conn = await session.connection()
    result = await conn.execute(
        sa.update(ENROLLMENT)
        .where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.person_id == mentor_id,
            ENROLLMENT.c.role == Role.MENTOR.value,
            ENROLLMENT.c.status == EnrollmentStatus.AVAILABLE.value,
        )
        .values(
            status=EnrollmentStatus.PAUSED.value,
            status_before_pause=EnrollmentStatus.AVAILABLE.value,
            paused_until=None,
            paused_reason=LAPSES,
            lapses_counted_from=now,
            updated_at=now,
        )
    )
    return count if result.rowcount else 0


async def _tell_lapsed(
    session: AsyncSession,
    program: Program,
    lapsed: Sequence[Pairing],
    paused: dict[int, int],
    now: datetime,
) -> None:
    """Tell everyone concerned about each lapse, and store why each mentee still waits."""
    leads = await program_leads(session, program, now=now)
    pool = await load_pool(session, program)
    positions = await waitlist_positions(session, program)
    people = await people_by_id(
        session, [p.mentee_id for p in lapsed] + [p.mentor_id for p in lapsed]
    )
    reasons: dict[int, str] = {}
    for pairing in lapsed:
        mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
        mentor_silent = pairing.declined_by == Role.MENTOR
        place = positions.get(pairing.mentee_id)
        standing = (
            f"You keep your place on the waitlist (number {place} of {len(positions)})"
            if place
            else "You keep your place on the waitlist"
        )
        if mentor_silent:
            reasons[pairing.mentee_id] = (
                "a mentor proposal for you lapsed because the mentor didn't answer in time; "
                "you keep your place, and the next match round will look again"
            )
            to_mentee = (
                "A mentor proposal for you lapsed because the mentor didn't answer in time. "
                f"{standing}; the next match round will look again. Type status any time."
            )
            to_mentor = _mentor_lapse_text(program, mentee, paused.get(pairing.mentor_id, 0))
        else:
            reasons[pairing.mentee_id] = (
                f"{mentor.name}'s offer to mentor you lapsed because you didn't answer in "
                "time; you keep your place, and the next match round will look again"
            )
            to_mentee = (
                f"{mentor.name}'s offer to mentor you lapsed because you didn't answer in "
                f"time. {standing}; the next match round will look again. If you'd rather "
                "not take part for now, type pause or leave."
            )
            to_mentor = (
                f"{mentee.name} didn't answer in time, so the proposal lapsed. "
                "Thank you for accepting; your place is free again."
            )
        key = f"pairing:{pairing.id}:expired"
        await _send(session, program, pairing.mentee_id, to_mentee, f"{key}:mentee", now)
        await _send(session, program, pairing.mentor_id, to_mentor, f"{key}:mentor", now)
        note = _lead_text(program, pool, pairing, mentee, mentor, paused, now)
        for lead in leads:
            assert lead.id is not None
            await _send(
                session, program, lead.id, note, f"pairing:{pairing.id}:expired:lead:{lead.id}", now
            )
    await remember_why(session, program, reasons=reasons, now=now)


async def _send(
    session: AsyncSession, program: Program, person_id: int, text: str, key: str, now: datetime
) -> None:
    await enqueue(
        session,
        person_id=person_id,
        replies=[Reply(text)],
        dedupe_key=key,
        now=now,
        program=program,
    )


def _mentor_lapse_text(program: Program, mentee: Person, in_a_row: int) -> str:
    """What a mentor who did not answer reads when the proposal lapses."""
    text = (
        f"The proposal to mentor {mentee.name} lapsed because you didn't answer within "
        f"{plural(program.matching.proposal_expiry_days, 'day')}. {mentee.name.split()[0]} "
        "goes back on the waitlist."
    )
    if not in_a_row:
        return text
    return (
        f"{text} That's {plural(in_a_row, 'proposal')} in a row you've let lapse, so I've "
        "paused you as a mentor: you won't get new proposals until you type resume. Any "
        "mentees you have now carry on as before. If you'd rather stop mentoring, type leave."
    )


def _lead_text(
    program: Program,
    pool: Pool,
    pairing: Pairing,
    mentee: Person,
    mentor: Person,
    paused: dict[int, int],
    now: datetime,
) -> str:
    """What the program leads read about a lapse: what happened and what comes next."""
    silent, role = (mentor, "mentor") if pairing.declined_by == Role.MENTOR else (mentee, "mentee")
    text = (
        f"The proposal {mentee.name} → {mentor.name} lapsed: {silent.name} ({role}) didn't "
        f"answer within {plural(program.matching.proposal_expiry_days, 'day')}."
    )
    if pairing.mentor_id in paused:
        text += (
            f" {mentor.name} has let {plural(paused[pairing.mentor_id], 'proposal')} in a row "
            "lapse, so they're paused as a mentor until they type resume."
        )
    profile = next((m for m in pool.mentees if m.person_id == pairing.mentee_id), None)
    if profile is None:
        # Not waiting any more (they left, paused or were matched meanwhile).
        return f"{text} {mentee.name} is not on the waitlist now."
    others = other_mentors(program, pool, mentee=profile, now=now)
    # A paused mentor is not in the pool's mentors, so is not offered again.
    again = any(m.person_id == pairing.mentor_id and m.free > 0 for m in pool.mentors)
    if others:
        follow = (
            f"the next match round will look at the {plural(others, 'other mentor')} with a "
            "free place who could mentor them first"
        )
    elif again:
        follow = (
            "no other mentor with a free place can mentor them right now, so the next match "
            f"round may propose {mentor.name} again"
        )
    else:
        follow = (
            "no mentor with a free place can mentor them right now; inviting more mentors "
            "would help"
        )
    return f"{text} {mentee.name} is back on the waitlist; {follow}."


# --- status --------------------------------------------------------------------------------


def paused_for_lapses(enrollments: Sequence[Enrollment]) -> list[str]:
    """For ``status``: why the bot paused someone as a mentor, and how to resume."""
    for enrollment in enrollments:
        if enrollment.status == EnrollmentStatus.PAUSED and enrollment.paused_reason == LAPSES:
            return [
                "You're paused as a mentor because proposals to you lapsed without an "
                "answer: type resume to get new proposals again."
            ]
    return []
