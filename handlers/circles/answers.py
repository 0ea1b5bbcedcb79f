"""What the answers to a circle proposal do: accept, decline, lapse; the circle starts or
is dissolved.

``accept C7`` / ``decline C7`` (and the proposal's buttons) answer circle 7; ``accept`` and
``decline`` with no number answer the one proposal waiting for the person, pairing or
circle (:func:`commands` wraps the pairings' commands, so a plain number still answers a
pairing). Then the circle settles (:func:`settle`):

* a member who declines goes back to the waitlist (their place, ``waiting_since``, kept)
  and nobody else hears of it;
* a circle whose facilitator declines, or that can no longer reach ``circles.size.min``
  members, is dissolved: everyone still in it reads why in one sentence, its members
  keep their place on the waitlist, and the program leads hear of it
  (handlers.circles.lapses);
* once the facilitator and everyone still invited have answered, and at least
  ``circles.size.min`` members accepted, the circle starts
  (handlers.circles.lifecycle.start_circle) and the whole circle gets its kickoff.

An unanswered proposal lapses at ``expires_at`` (:func:`expire_circles`, run by the due
pass and before a round): a member who did not answer counts as declining. A day before,
everyone still invited is reminded (handlers.circles.lapses).

The circle's row is locked while it settles, and every answer is a conditional update of
an ``invited`` place, so a double click, a stale button or two answers at once change a
circle once at most.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.lapses import reminder_key, tell_leads_dissolved, tell_leads_lapsed
from handlers.circles.lifecycle import circle_people, start_circle, tell_circle
from handlers.circles.proposals import ask_key, circle_theme, least_members, member_answers
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Reply, plural
from handlers.core.naming import for_reader, for_readers
from handlers.core.outbox import enqueue, withdraw
from handlers.core.program import Program
from handlers.core.refs import Ref, circle_label, fetch, parse_circle_ref
from handlers.matching.proposals import awaiting_pairings
from handlers.matching.waitlist import remember_why, waitlist_positions
from handlers.people.lookups import people_by_id
from storage import (
    Circle,
    CircleMember,
    CircleMemberStatus,
    CircleRole,
    CircleStatus,
    EnrollmentStatus,
    Role,
)
from storage.queries import locked
from storage.tables import CIRCLE, CIRCLE_MEMBER, ENROLLMENT

#: ``accept C7`` / ``decline 12`` typed in the middle of a flow (from a proposal's button).
ANSWER_PATTERN = r"(?i)^(accept|decline)\s+(#?\d+|#?c\d+)$"

#: The people of a circle who are still in it before it starts.
STILL_IN = (CircleMemberStatus.INVITED, CircleMemberStatus.ACCEPTED)


class EndReason(StrEnum):
    """Why a proposed circle was dissolved (``circle.end_reason``)."""

    FACILITATOR = "facilitator_declined"
    TOO_SMALL = "too_small"
    EXPIRED = "expired"


class Settled(StrEnum):
    """What :func:`settle` made of a proposed circle."""

    WAITING = "waiting"
    STARTED = "started"
    DISSOLVED = "dissolved"


# --- finding the proposal an answer is about ------------------------------------------------


async def open_places(session: AsyncSession, person_id: int | None) -> list[CircleMember]:
    """The person's places waiting for their answer: invited to a proposed circle."""
    conn = await session.connection()
    found = await conn.execute(
        sa.select(CIRCLE_MEMBER)
        .join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id)
        .where(
            CIRCLE_MEMBER.c.person_id == person_id,
            CIRCLE_MEMBER.c.status == CircleMemberStatus.INVITED.value,
            CIRCLE.c.status == CircleStatus.PROPOSED.value,
        )
        .order_by(CIRCLE.c.id)
    )
    return [CircleMember.model_validate(dict(row._mapping)) for row in found]


async def place_of(
    session: AsyncSession, circle_id: int, person_id: int | None
) -> CircleMember | None:
    """The person's place in the circle, or None when they are not in it."""
    return (
        await session.exec(
            select(CircleMember).where(
                CircleMember.circle_id == circle_id,
                CircleMember.person_id == person_id,
            )
        )
    ).first()


async def _locked_circle(session: AsyncSession, circle: Circle) -> None:
    """Hold the circle's row until the transaction ends (PostgreSQL), and read it afresh."""
    await session.refresh(circle, with_for_update=True)


# --- the commands ----------------------------------------------------------------------------


def commands(pair_commands: Sequence[Command]) -> list[Command]:
    """The pairings' commands, with ``accept`` and ``decline`` answering circles too.

    ``accept C7`` answers circle 7; ``accept 12`` is pairing 12's, as always; ``accept``
    alone answers the one proposal waiting, of either kind.
    """
    routed: list[Command] = []
    for command in pair_commands:
        if command.name in ("accept", "decline"):
            routed.append(
                replace(
                    command,
                    run=_routed(command.name, command.run),
                    summary=f"{command.name} a mentoring proposal or a circle",
                    mid_flow=ANSWER_PATTERN,
                    # Help's circles block has accept C7 / decline C7.
                    pairs_only=True,
                )
            )
        else:
            routed.append(command)
    return routed


def _routed(
    verb: str, for_pairs: Callable[[Turn, list[str]], Awaitable[Outcome]]
) -> Callable[[Turn, list[str]], Awaitable[Outcome]]:
    async def run(turn: Turn, args: list[str]) -> Outcome:
        if args:
            ref = parse_circle_ref(args[0])
            if ref is None:
                return await for_pairs(turn, args)
            return await answer(turn, ref, accepting=verb == "accept")
        mine = await open_places(turn.session, turn.person.id)
        if not mine:
            return await for_pairs(turn, args)
        pairs = await awaiting_pairings(turn.session, turn.person.id)
        if len(mine) == 1 and not pairs:
            ref = Ref(circle_label(mine[0].circle_id), mine[0].circle_id)
            return await answer(turn, ref, accepting=verb == "accept")
        numbers = [str(p.id) for p in pairs] + [circle_label(p.circle_id) for p in mine]
        text = f"You have several proposals ({', '.join(numbers)}); type {verb} and its number."
        return Outcome([Reply(text)], None, changed=False)

    return run


async def answer(turn: Turn, ref: Ref, *, accepting: bool) -> Outcome:
    """Accept or decline the circle ``ref`` names, for the person typing."""
    me = turn.person.id
    circle = await fetch(turn.session, Circle, ref=ref)
    place = await place_of(turn.session, circle.id, me) if circle and circle.id else None
    if circle is None or place is None:
        return Outcome(
            [Reply(f"There's no circle {ref.shown} for you. Type status to see yours.")],
            None,
            changed=False,
        )
    program = turn.programs.of(circle.program)
    await _locked_circle(turn.session, circle)
    if circle.status == CircleStatus.PROPOSED and circle.expires_at <= turn.now:
        await expire_circles(turn.session, program, now=turn.now)
        await turn.session.refresh(circle)
        await turn.session.refresh(place)
    if circle.status != CircleStatus.PROPOSED or place.status != CircleMemberStatus.INVITED:
        return Outcome([Reply(_already(circle, place))], None, changed=False)
    if not await _answer_place(turn.session, place, accepted=accepting, now=turn.now):
        return Outcome([Reply(_already(circle, place))], None, changed=False)
    await withdraw(
        turn.session,
        dedupe_keys=[ask_key(circle.id, place.person_id), reminder_key(circle.id, place.person_id)],
        reason="proposal answered",
        now=turn.now,
    )
    facilitating = place.role == CircleRole.FACILITATOR
    if not accepting and not facilitating:
        await remember_why(
            turn.session,
            program,
            reasons={
                place.person_id: f"you declined circle {circle_label(circle.id)}; you keep "
                "your place, and the next match round will look again"
            },
            now=turn.now,
        )
    settled = await settle(turn.session, program, circle, now=turn.now)
    return Outcome([await _reply(turn, program, circle, place, settled, accepting)], None)


async def _answer_place(
    session: AsyncSession, place: CircleMember, *, accepted: bool, now: datetime
) -> bool:
    """Record an invited person's answer; False when it was answered already."""
    conn = await session.connection()
    status = CircleMemberStatus.ACCEPTED if accepted else CircleMemberStatus.DECLINED
    result = await conn.execute(
        sa.update(CIRCLE_MEMBER)
        .where(
            CIRCLE_MEMBER.c.id == place.id,
            CIRCLE_MEMBER.c.status == CircleMemberStatus.INVITED.value,
        )
        .values(status=status.value, answered_at=now)
    )
    if not result.rowcount:
        return False
    await session.refresh(place)
    return True


async def _reply(
    turn: Turn,
    program: Program,
    circle: Circle,
    place: CircleMember,
    settled: Settled,
    accepting: bool,
) -> Reply:
    """What the person who answered reads."""
    label = circle_label(circle.id)
    least = least_members(program)
    facilitating = place.role == CircleRole.FACILITATOR
    if accepting and settled is Settled.STARTED:
        return Reply(
            f"Wonderful: circle {label} is complete and starts now. I've sent everyone in it "
            "the introduction.",
            title=f"Circle {label} is starting",
        )
    if accepting and settled is Settled.DISSOLVED:
        return Reply(f"Thank you, but circle {label} can't go ahead: {_why(circle)}.")
    if accepting and facilitating:
        return Reply(
            f"Thank you! Circle {label} starts once at least {plural(least, 'member')} "
            "accept; I'll message you as soon as it does."
        )
    if accepting:
        return Reply(
            f"Thank you! Circle {label} starts once its facilitator and at least "
            f"{plural(least, 'member')} accept; I'll message you as soon as it does."
        )
    if facilitating:
        return Reply(
            f"Thanks for letting me know. Circle {label} won't go ahead, and its members keep "
            "their place on the waitlist."
        )
    positions = await waitlist_positions(turn.session, program)
    place_on = positions.get(place.person_id)
    standing = (
        f"You keep your place on the waitlist (number {place_on} of {len(positions)})"
        if place_on
        else "You keep your place on the waitlist"
    )
    return Reply(f"Thanks for letting me know. {standing}; the next match round will look again.")


def _already(circle: Circle, place: CircleMember) -> str:
    """Why an answer to this circle changes nothing now."""
    if place.status == CircleMemberStatus.LEFT:
        return "You left this circle; nothing changed."
    if place.status == CircleMemberStatus.DECLINED and place.answered_at is None:
        return "This circle proposal lapsed without your answer in time; nothing changed."
    if place.status == CircleMemberStatus.DECLINED:
        return "You declined this circle already; nothing changed."
    if circle.status == CircleStatus.DISSOLVED:
        return f"This circle didn't go ahead ({_why(circle)}); nothing changed."
    if circle.status == CircleStatus.ENDED:
        return "This circle has ended; nothing changed."
    if circle.status == CircleStatus.ACTIVE:
        return "You're already in this circle; nothing changed."
    return (
        "You already accepted this circle; it starts once everyone has answered, so nothing "
        "changed."
    )


def _why(circle: Circle) -> str:
    """Why a circle was dissolved, as the end of a sentence."""
    if circle.end_reason == EndReason.FACILITATOR:
        return "its facilitator can't take it on"
    if circle.end_reason == EndReason.EXPIRED:
        return "its facilitator didn't answer in time"
    return "too few of the members it needs could join"


# --- settling a circle -----------------------------------------------------------------------


async def settle(
    session: AsyncSession, program: Program, circle: Circle, *, now: datetime
) -> Settled:
    """Start or dissolve a proposed circle when its answers decide it; else leave it waiting.

    The caller holds the circle's row (see :func:`_locked_circle`).
    """
    assert circle.id is not None
    if circle.status != CircleStatus.PROPOSED:
        return Settled.WAITING
    places = await circle_people(session, circle.id, statuses=tuple(CircleMemberStatus))
    facilitator = next((p for p in places if p.role == CircleRole.FACILITATOR), None)
    members = [p for p in places if p.role == CircleRole.MEMBER]
    possible = [m for m in members if m.status in STILL_IN]
    if facilitator is None or facilitator.status not in STILL_IN:
        lapsed = facilitator is not None and facilitator.answered_at is None
        why = EndReason.EXPIRED if lapsed else EndReason.FACILITATOR
        await dissolve(session, program, circle, why=why, now=now)
        return Settled.DISSOLVED
    if len(possible) < least_members(program):
        await dissolve(session, program, circle, why=EndReason.TOO_SMALL, now=now)
        return Settled.DISSOLVED
    waiting = [p for p in places if p.status == CircleMemberStatus.INVITED]
    if waiting:
        return Settled.WAITING
    await _start(session, program, circle, members=possible, now=now)
    return Settled.STARTED


async def dissolve(
    session: AsyncSession, program: Program, circle: Circle, *, why: EndReason, now: datetime
) -> None:
    """Dissolve a proposed circle and tell everyone still in it why, in one sentence.

    Its members stay on the waitlist with their place (their enrollment was never
    changed), and the reason is kept for their ``status``.
    """
    assert circle.id is not None
    circle.status = CircleStatus.DISSOLVED.value
    circle.end_reason = why.value
    circle.closed_at = now
    session.add(circle)
    everyone = await circle_people(session, circle.id, statuses=tuple(CircleMemberStatus))
    await withdraw(
        session,
        dedupe_keys=[
            key
            for p in everyone
            for key in (ask_key(circle.id, p.person_id), reminder_key(circle.id, p.person_id))
        ],
        reason="circle dissolved",
        now=now,
    )
    still = [p for p in everyone if p.status in STILL_IN]
    label = circle_label(circle.id)
    reasons: dict[int, str] = {}
    for place in still:
        if place.role == CircleRole.FACILITATOR:
            text = (
                f"Circle {label} won't go ahead because {_why(circle)}; thank you for "
                "offering, and your place as a facilitator is free again."
            )
        else:
            text = (
                f"Circle {label} won't go ahead because {_why(circle)}, so you keep your "
                "place on the waitlist for the next match round."
            )
            reasons[place.person_id] = (
                f"circle {label} didn't go ahead because {_why(circle)}; you keep your "
                "place, and the next match round will look again"
            )
        replies = await for_reader(
            session,
            program,
            person_id=place.person_id,
            replies=[Reply(text, title=f"Circle {label} won't go ahead")],
        )
        await enqueue(
            session,
            person_id=place.person_id,
            replies=replies,
            dedupe_key=f"circle:{circle.id}:dissolved:{place.person_id}",
            now=now,
            program=program,
        )
    await remember_why(session, program, reasons=reasons, now=now)
    await tell_leads_dissolved(session, program, circle, why=_why(circle), now=now)
    await session.flush()


async def _start(
    session: AsyncSession,
    program: Program,
    circle: Circle,
    *,
    members: Sequence[CircleMember],
    now: datetime,
) -> None:
    """Start the circle: its cycle and due work, its members matched, and its kickoff."""
    assert circle.id is not None
    await start_circle(session, program=program, circle=circle, now=now)
    await session.flush()
    conn = await session.connection()
    await conn.execute(
        sa.update(ENROLLMENT)
        .where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == Role.MENTEE.value,
            ENROLLMENT.c.status == EnrollmentStatus.WAITING.value,
            ENROLLMENT.c.person_id.in_([m.person_id for m in members]),
        )
        .values(status=EnrollmentStatus.MATCHED.value, updated_at=now)
    )
    people = await circle_people(session, circle.id)
    await tell_circle(
        session,
        program=program,
        circle=circle,
        replies=await for_readers(
            session,
            program,
            person_ids=[p.person_id for p in people],
            replies=[await kickoff(session, program, circle, people)],
        ),
        what="kickoff",
        now=now,
        people=people,
    )


async def kickoff(
    session: AsyncSession, program: Program, circle: Circle, people: Sequence[CircleMember]
) -> Reply:
    """The introduction the whole circle reads when it starts: who is in it, the cadence,
    and what to do first."""
    named = await people_by_id(session, [p.person_id for p in people])
    facilitator = next(named[p.person_id] for p in people if p.role == CircleRole.FACILITATOR)
    members = [named[p.person_id] for p in people if p.role == CircleRole.MEMBER]
    answers = await member_answers(session, program, [m.id or 0 for m in members])
    theme = circle_theme(program, answers.values())
    cadence = program.cadence
    first = facilitator.name.split()[0] if facilitator.name else facilitator.email
    label = circle_label(circle.id)
    text = (
        f"Welcome to circle {label}: {theme}!\n"
        f"• Facilitator: {facilitator.name}\n"
        f"• Members: {', '.join(m.name for m in members)}\n"
        f"• You meet every {plural(cadence.checkin_every_days, 'day')} for "
        f"{plural(cadence.cycle_days, 'day')}.\n"
        f"First step: {first}, please agree a time for your first session with everyone and "
        f"set up to 3 shared goals (type goals add and a goal); everyone else, bring what "
        f"you'd most like to get from the circle. Type circle any time to see it."
    )
    return Reply(text, title=f"Your circle {label} is starting")


# --- lapses ----------------------------------------------------------------------------------


async def expire_circles(session: AsyncSession, program: Program, *, now: datetime) -> list[int]:
    """Lapse the circle proposals of ``program`` nobody finished answering in time.

    Each person still invited counts as declining (their place ``declined`` with no
    ``answered_at``) and is told their proposal lapsed; then each circle settles: it
    starts when the facilitator and enough members had accepted, and is dissolved
    otherwise.

    Returns:
        The ids of the circles that lapsed now.
    """
    overdue = (
        await session.exec(
            locked(
                select(Circle).where(
                    Circle.program == program.id,
                    Circle.status == CircleStatus.PROPOSED.value,
                    Circle.expires_at <= now,
                )
            )
        )
    ).all()
    lapsed: list[int] = []
    for circle in overdue:
        assert circle.id is not None
        silent = await circle_people(session, circle.id, statuses=(CircleMemberStatus.INVITED,))
        conn = await session.connection()
        await conn.execute(
            sa.update(CIRCLE_MEMBER)
            .where(
                CIRCLE_MEMBER.c.circle_id == circle.id,
                CIRCLE_MEMBER.c.status == CircleMemberStatus.INVITED.value,
            )
            .values(status=CircleMemberStatus.DECLINED.value)
        )
        await _tell_lapsed(session, program, circle, silent, now=now)
        if await settle(session, program, circle, now=now) is Settled.STARTED:
            # Dissolving tells the leads itself; a circle that starts without the silent
            # ones is news to them too.
            await tell_leads_lapsed(session, program, circle, now=now)
        lapsed.append(circle.id)
    return lapsed


async def _tell_lapsed(
    session: AsyncSession,
    program: Program,
    circle: Circle,
    silent: Sequence[CircleMember],
    *,
    now: datetime,
) -> None:
    """Tell each person who did not answer that the proposal lapsed for them."""
    label = circle_label(circle.id)
    await withdraw(
        session,
        dedupe_keys=[
            key
            for p in silent
            for key in (ask_key(circle.id, p.person_id), reminder_key(circle.id, p.person_id))
        ],
        reason="proposal lapsed",
        now=now,
    )
    reasons: dict[int, str] = {}
    for place in silent:
        if place.role == CircleRole.FACILITATOR:
            text = (
                f"The proposal to facilitate circle {label} lapsed because you didn't answer "
                f"within {plural(program.matching.proposal_expiry_days, 'day')}."
            )
        else:
            text = (
                f"The proposal to join circle {label} lapsed because you didn't answer in "
                "time; you keep your place on the waitlist for the next match round."
            )
            reasons[place.person_id] = (
                f"the proposal to join circle {label} lapsed because you didn't answer in "
                "time; you keep your place, and the next match round will look again"
            )
        await enqueue(
            session,
            person_id=place.person_id,
            replies=await for_reader(
                session, program, person_id=place.person_id, replies=[Reply(text)]
            ),
            dedupe_key=f"circle:{circle.id}:lapsed:{place.person_id}",
            now=now,
            program=program,
        )
    await remember_why(session, program, reasons=reasons, now=now)
