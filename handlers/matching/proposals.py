"""A proposal's life: sent to the mentor, then the mentee; accept and decline.

Each proposal, from a lead's round (handlers.matching.review) or made by hand
(handlers.matching.by_hand), goes to the mentor first, with Accept / Decline; once the
mentor accepts, it goes to the mentee; when both have accepted, the pairing is active. A
decline returns the mentee to the pool with that mentor excluded for good; no answer within
``matching.proposal_expiry_days`` lapses the proposal (handlers.matching.lapses), which is not a
decline.

Every status change is a conditional ``UPDATE ... WHERE status = <expected>``, so a double
click, a stale button or an answer racing the expiry changes a pairing once at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, deadline, local_date
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Option, Reply
from handlers.core.naming import in_several
from handlers.core.naming import opening as program_opening
from handlers.core.outbox import enqueue, withdraw
from handlers.core.program import Program, ProgramType
from handlers.core.refs import fetch, parse_ref
from handlers.core.words import fit_in_words, zone_in_words
from handlers.matching.lapses import expire_proposals
from handlers.matching.score import reasons_from
from handlers.matching.waitlist import remember_why, waitlist_positions, why_waiting_line
from handlers.people.lookups import enrollment_of, pairings_of, people_by_id, person_profile
from handlers.people.lookups import move_pairing as _move
from handlers.plans.chat import zone_of
from handlers.plans.kickoff import begin_pairing
from storage import OPEN_PAIRING, EnrollmentStatus, Pairing, PairingStatus, Person, Role

#: How the batch of a pair a program lead proposed by hand begins (``pair``).
MANUAL = "manual-"


def _day(moment: datetime, zone: str) -> str:
    """The reader's calendar day of ``moment``, with its year: ``Mon 30 Nov 2026``."""
    return local_date(moment, zone).strftime("%a %-d %b %Y")


def is_peer(program: Program) -> bool:
    """Whether the program pairs peers (no "mentor"/"mentee" in what its people read)."""
    return program.type is ProgramType.PEER


def _accept_decline(pairing_id: int) -> tuple[Option, ...]:
    return (Option(f"accept {pairing_id}", "Accept"), Option(f"decline {pairing_id}", "Decline"))


async def propose(
    session: AsyncSession,
    *,
    program: Program,
    mentee: Person,
    mentor: Person,
    score: float,
    reasons: list[dict[str, Any]],
    batch: str,
    lead_id: int | None,
    now: datetime,
) -> Pairing | None:
    """Propose a mentee to a mentor: the mentor is asked first, with Accept / Decline.

    The one way a proposal goes out, from a round (:func:`approve`) or by hand
    (handlers.matching.by_hand). The caller has checked the rules.

    Args:
        batch: The round's id, or a :data:`MANUAL` one for a pair proposed by hand.
        lead_id: The program lead who proposed it (None: the command line).

    Returns:
        The proposal; None when the mentee got another proposal a moment ago.
    """
    assert mentee.id is not None
    assert mentor.id is not None
    pairing = Pairing(
        program=program.id,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        status=PairingStatus.PROPOSED.value,
        score=score,
        reasons=reasons,
        batch=batch,
        proposed_by=lead_id,
        proposed_at=now,
        expires_at=now + timedelta(days=program.matching.proposal_expiry_days),
    )
    try:
        async with session.begin_nested():
            session.add(pairing)
            await session.flush()
    except IntegrityError:
        return None  # the unique index: one open pairing per mentee
    await _send_proposal(session, program, pairing, reader=mentor, other=mentee, now=now)
    return pairing


def cycle_start_for(program: Program, *, accepted: datetime) -> datetime:
    """When a pairing accepted at ``accepted`` starts its cycle.

    A cohort starts together: on ``cohort.starts`` (midnight in the program's timezone),
    or the moment it is accepted if that is later. Any other pairing starts when accepted.
    """
    cohort = program.cohort
    if cohort is None:
        return accepted
    start = datetime.combine(cohort.starts, time(), tzinfo=ZoneInfo(program.default_timezone))
    return max(accepted, start.astimezone(UTC))


def _cohort_start_note(program: Program, pairing: Pairing, *, now: datetime) -> str:
    """`` You start together on Mon 1 Feb.`` for a cohort pairing that starts later."""
    start = pairing.cycle_started_at
    if start is None or start <= now:
        return ""
    return f" You start together on {day_label(local_date(start, program.default_timezone))}."


def _why_lines(reasons: Sequence[str]) -> str:
    return "\n".join(f"• {r}" for r in reasons if r)


def _proposal(
    program: Program,
    pairing: Pairing,
    *,
    reader: Person,
    other: Person,
    answers: dict[str, Any],
    now: datetime,
    several: bool = False,
) -> Reply:
    """A proposal as its reader sees it: the other side's profile, why, Accept / Decline.

    The fit is said in words (handlers.core.words.fit_in_words): the number is for leads.
    """
    assert pairing.id is not None
    stored = reasons_from(pairing.reasons)
    fit = fit_in_words(pairing.score)
    where = program_opening(program) if several else ""
    if is_peer(program):
        return _peer_proposal(
            program, pairing, reader=reader, other=other, answers=answers, now=now, where=where
        )
    if pairing.mentor_id == reader.id and pairing.batch.startswith(MANUAL):
        opening = (
            f"Would you mentor {other.name}? The program lead suggests you: {fit} for "
            f"{other.name.split()[0]}. Why:"
        )
        reasons, title, lapse = [r.mentor for r in stored], f"A mentee for you: {other.name}", ""
    elif pairing.mentor_id == reader.id:
        opening = (
            f"Would you mentor {other.name}? In this round you're the best match for them, "
            f"{fit}. Why:"
        )
        reasons, title, lapse = [r.mentor for r in stored], f"A mentee for you: {other.name}", ""
    else:
        opening = f"{other.name} would like to be your mentor: {fit} for you. Why we matched you:"
        reasons, title = [r.mentee for r in stored], f"Your mentor proposal: {other.name}"
        lapse = " and you keep your place on the waitlist"
    fallback = program.default_timezone
    time_zone = zone_in_words(
        zone_of(other, fallback), reader_zone=zone_of(reader, fallback), at=now
    )
    role = Role.MENTEE if pairing.mentor_id == reader.id else Role.MENTOR
    by = deadline(pairing.expires_at, zone_of(reader, fallback))
    return Reply(
        f"{where}{opening}\n{_why_lines(reasons)}\nPlease answer by {by}; "
        f"after that the proposal lapses{lapse}.",
        title=title,
        profiles=(person_profile(program, other, role=role, answers=answers, time_zone=time_zone),),
        actions=_accept_decline(pairing.id),
        hint=f"Or type accept {pairing.id} or decline {pairing.id}.",
    )


def _peer_proposal(
    program: Program,
    pairing: Pairing,
    *,
    reader: Person,
    other: Person,
    answers: dict[str, Any],
    now: datetime,
    where: str,
) -> Reply:
    """A peer proposal: asked of the ``mentor_id`` side first, then of the other."""
    assert pairing.id is not None
    stored = reasons_from(pairing.reasons)
    fit = fit_in_words(pairing.score)
    first = other.name.split()[0]
    if pairing.mentor_id == reader.id:
        lead = (
            "The program lead suggests you"
            if pairing.batch.startswith(MANUAL)
            else ("In this round you're the best match for each other")
        )
        opening = (
            f"Would you like {other.name} as your learning partner? {lead}: {fit}. "
            f"If you accept, I'll ask {first} too. Why:"
        )
        lapse = ""
    else:
        opening = (
            f"{other.name} would like to be your learning partner: {fit} for you both. "
            "Why we paired you:"
        )
        lapse = " and you keep your place on the waitlist"
    reasons = [r.mentor if pairing.mentor_id == reader.id else r.mentee for r in stored]
    fallback = program.default_timezone
    time_zone = zone_in_words(
        zone_of(other, fallback), reader_zone=zone_of(reader, fallback), at=now
    )
    by = deadline(pairing.expires_at, zone_of(reader, fallback))
    return Reply(
        f"{where}{opening}\n{_why_lines(reasons)}\nPlease answer by {by}; "
        f"after that the proposal lapses{lapse}.",
        title=f"A learning partner for you: {other.name}",
        profiles=(
            person_profile(program, other, role=Role.PEER, answers=answers, time_zone=time_zone),
        ),
        actions=_accept_decline(pairing.id),
        hint=f"Or type accept {pairing.id} or decline {pairing.id}.",
    )


async def _send_proposal(
    session: AsyncSession,
    program: Program,
    pairing: Pairing,
    *,
    reader: Person,
    other: Person,
    now: datetime,
) -> None:
    """Queue the proposal for ``reader`` (the mentor, then the mentee) with the other's profile."""
    assert reader.id is not None
    assert other.id is not None
    role = Role.MENTEE if pairing.mentor_id == reader.id else Role.MENTOR
    enrollment = await enrollment_of(
        session, program, person_id=other.id, role=Role.PEER if is_peer(program) else role
    )
    several = reader.id in await in_several(session, [reader.id or 0])
    await enqueue(
        session,
        person_id=reader.id,
        replies=[
            _proposal(
                program,
                pairing,
                reader=reader,
                other=other,
                answers=enrollment.answers if enrollment else {},
                now=now,
                several=several,
            )
        ],
        dedupe_key=f"pairing:{pairing.id}:{'proposed' if role is Role.MENTEE else 'offered'}",
        now=now,
        program=program,
        pairing_id=pairing.id,
    )


async def _tell_mentor(turn: Turn, pairing: Pairing, reply: Reply, *, step: str) -> None:
    """Queue what the mentee's answer means for the mentor (once per ``step``)."""
    await enqueue(
        turn.session,
        person_id=pairing.mentor_id,
        replies=[reply],
        dedupe_key=f"pairing:{pairing.id}:{step}",
        now=turn.now,
        program=turn.programs.of(pairing.program),
        pairing_id=pairing.id,
    )


# --- accept and decline --------------------------------------------------------------------


async def awaiting_pairings(session: AsyncSession, person_id: int | None) -> list[Pairing]:
    """The proposals waiting for this person's answer: as a mentor (or the peer asked
    first) before they answered, as a mentee once their mentor accepted."""
    awaiting = await session.exec(
        select(Pairing).where(
            sa.or_(
                sa.and_(
                    Pairing.mentor_id == person_id,  # type: ignore[arg-type]
                    Pairing.status == PairingStatus.PROPOSED.value,  # type: ignore[arg-type]
                ),
                sa.and_(
                    Pairing.mentee_id == person_id,  # type: ignore[arg-type]
                    Pairing.status == PairingStatus.ACCEPTED.value,  # type: ignore[arg-type]
                ),
            ),
        )
    )
    return list(awaiting.all())


async def _answerable(turn: Turn, args: list[str], verb: str) -> Pairing | Reply:
    """The pairing an ``accept`` / ``decline`` refers to, or the reply that says why not."""
    me = turn.person.id
    if args:
        ref = parse_ref(args[0])
        if ref is None:
            return Reply(f"Type {verb} followed by the proposal's number, e.g. {verb} 12.")
        pairing = await fetch(turn.session, Pairing, ref=ref)
        if pairing is None or me not in (
            pairing.mentee_id,
            pairing.mentor_id,
        ):
            return Reply(f"There's no proposal {ref.shown} for you. Type status to see yours.")
        return pairing
    found = await awaiting_pairings(turn.session, me)
    if not found:
        return Reply(
            "You have no proposal waiting for your answer. Type status to see where you stand."
        )
    if len(found) > 1:
        numbers = ", ".join(str(p.id) for p in found)
        return Reply(f"You have several proposals ({numbers}); type {verb} and its number.")
    return found[0]


def _already(pairing: Pairing, me: int | None, *, peer: bool = False) -> str:
    """Why an answer to this pairing changes nothing now."""
    status = pairing.status
    if peer and status == PairingStatus.ACCEPTED and pairing.mentor_id == me:
        return "You already accepted this proposal; it's with your peer now, so nothing changed."
    if peer and status == PairingStatus.PROPOSED and pairing.mentee_id == me:
        return "Your peer hasn't answered this proposal yet; I'll message you when they do."
    mine = "mentor" if pairing.mentor_id == me else "mentee"
    if status == PairingStatus.ACTIVE:
        return "This pairing is already active; nothing changed."
    if status == PairingStatus.ACCEPTED and mine == "mentor":
        return "You already accepted this proposal; it's with your mentee now, so nothing changed."
    if status == PairingStatus.DECLINED:
        who = "You" if pairing.declined_by == mine else "The other side"
        return f"{who} declined this proposal already; nothing changed."
    if status == PairingStatus.EXPIRED:
        return "This proposal lapsed without an answer in time; nothing changed."
    if status == PairingStatus.ENDED:
        return "This pairing has ended; nothing changed."
    if status == PairingStatus.PROPOSED and mine == "mentee":
        return "Your mentor hasn't answered this proposal yet; I'll message you when they do."
    return "This proposal isn't waiting for your answer; nothing changed."


async def _answered(turn: Turn, pairing: Pairing) -> None:
    """Withdraw what still asks this person to answer the proposal they just answered.

    The proposal itself if it has not reached them yet, and the reminder that it lapses.
    """
    await withdraw(
        turn.session,
        pairing_id=pairing.id,
        person_id=turn.person.id,
        reason="proposal answered",
        now=turn.now,
    )


async def accept(turn: Turn, args: list[str], *, summaries: bool | None = None) -> Outcome:
    """The ``accept`` command (and button): say yes to a proposal.

    Args:
        summaries: Whether a model for note summaries is configured, so the consent
            question the new pair is sent says what is true.
    """
    found = await _answerable(turn, args, "accept")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, me, now = found, turn.person.id, turn.now
    program = turn.programs.of(pairing.program)
    if pairing.expires_at <= now and pairing.status in (
        PairingStatus.PROPOSED,
        PairingStatus.ACCEPTED,
    ):
        await expire_proposals(turn.session, program, now=now)
        await turn.session.refresh(pairing)
    people = await people_by_id(turn.session, [pairing.mentee_id, pairing.mentor_id])
    mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
    if me == pairing.mentor_id and await _move(
        turn.session,
        pairing,
        expected=PairingStatus.PROPOSED,
        status=PairingStatus.ACCEPTED.value,
        mentor_answered_at=now,
        expires_at=now + timedelta(days=program.matching.proposal_expiry_days),
    ):
        await _answered(turn, pairing)
        await _send_proposal(turn.session, program, pairing, reader=mentee, other=mentor, now=now)
        return Outcome(
            [
                Reply(
                    f"Thank you! I've asked {mentee.name} to confirm; I'll tell you as soon "
                    "as they answer."
                )
            ],
            None,
        )
    if me == pairing.mentee_id and await _move(
        turn.session,
        pairing,
        expected=PairingStatus.ACCEPTED,
        status=PairingStatus.ACTIVE.value,
        activated_at=now,
        cycle_started_at=cycle_start_for(program, accepted=now),
        last_activity_at=now,
    ):
        await _answered(turn, pairing)
        # A mentee is matched now; in a peer program both peers are.
        paired = (
            [(mentee.id, Role.PEER), (mentor.id, Role.PEER)]
            if is_peer(program)
            else [(mentee.id, Role.MENTEE)]
        )
        for person_id, role in paired:
            enrollment = await enrollment_of(turn.session, program, person_id=person_id, role=role)
            if enrollment is not None:
                enrollment.status = EnrollmentStatus.MATCHED.value
                enrollment.updated_at = now
                turn.session.add(enrollment)
        await _tell_mentor(
            turn,
            pairing,
            Reply(
                f"{mentee.name} accepted: you're now learning partners. "
                "I'll introduce you both and help you plan the first 90 days."
                if is_peer(program)
                else f"{mentee.name} accepted: you're now paired as their mentor. "
                "I'll introduce you both and help you plan the first 90 days.",
                title=f"You're paired with {mentee.name}",
            ),
            step="active",
        )
        await begin_pairing(turn.session, program, pairing=pairing, now=now, summaries=summaries)
        return Outcome(
            [
                Reply(
                    f"Wonderful, you're paired with {mentor.name}! I've let them know; "
                    "I'll introduce you both and help you plan the first 90 days."
                    + _cohort_start_note(program, pairing, now=now),
                    title=f"You're paired with {mentor.name}",
                )
            ],
            None,
        )
    return Outcome([Reply(_already(pairing, me, peer=is_peer(program)))], None, changed=False)


async def decline(turn: Turn, args: list[str]) -> Outcome:
    """The ``decline`` command (and button): say no; the mentee goes back to the pool."""
    found = await _answerable(turn, args, "decline")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, me, now = found, turn.person.id, turn.now
    program = turn.programs.of(pairing.program)
    people = await people_by_id(turn.session, [pairing.mentee_id, pairing.mentor_id])
    mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
    if me == pairing.mentor_id and await _move(
        turn.session,
        pairing,
        expected=PairingStatus.PROPOSED,
        status=PairingStatus.DECLINED.value,
        declined_by=Role.MENTOR.value,
        mentor_answered_at=now,
        closed_at=now,
    ):
        # The mentee never saw this proposal, so there is nobody to tell; status says it.
        await withdraw(turn.session, pairing_id=pairing.id, reason="proposal declined", now=now)
        why = (
            "a learning-partner proposal for you was declined; the next match round will look again"
            if is_peer(program)
            else "a mentor proposal for you was declined; the next match round will look again"
        )
        await remember_why(turn.session, program, reasons={pairing.mentee_id: why}, now=now)
        return Outcome(
            [
                Reply(
                    f"Thanks for letting me know. {mentee.name.split()[0]} goes back"
                    " to the pool and won't be proposed to you again."
                )
            ],
            None,
        )
    if me == pairing.mentee_id and await _move(
        turn.session,
        pairing,
        expected=PairingStatus.ACCEPTED,
        status=PairingStatus.DECLINED.value,
        declined_by=Role.MENTEE.value,
        closed_at=now,
    ):
        await withdraw(turn.session, pairing_id=pairing.id, reason="proposal declined", now=now)
        await _tell_mentor(
            turn,
            pairing,
            Reply(
                f"{mentee.name} decided to look for a different match, so this proposal "
                "is closed. You keep your place on the waitlist for a learning partner."
                if is_peer(program)
                else f"{mentee.name} decided to look for a different match, so this proposal "
                "is closed. Thank you for offering; your place is free again."
            ),
            step="declined",
        )
        why = (
            f"you declined {mentor.name} as a learning partner; the next match round will "
            "look again"
            if is_peer(program)
            else f"you declined {mentor.name}'s offer; the next match round will look again"
        )
        await remember_why(turn.session, program, reasons={pairing.mentee_id: why}, now=now)
        return Outcome(
            [
                Reply(
                    f"Understood; you won't be proposed to {mentor.name} again. You keep "
                    "your place on the waitlist for the next round."
                )
            ],
            None,
        )
    return Outcome([Reply(_already(pairing, me, peer=is_peer(program)))], None, changed=False)


# --- the waitlist in status -----------------------------------------------------------------


async def pairing_lines(turn: Turn, program: Program | None = None) -> list[str]:
    """Where the person stands in pairings, in sentences, for ``status``.

    ``program``: only that program's pairings and waitlist (``status`` under its heading).
    Without it, someone in several programs reads each line with its program first ("In
    Reverse Mentoring 2027: ..."); someone in one program reads them as they always were.
    """
    me = turn.person.id
    mine = await pairings_of(turn.session, program, person_id=me, statuses=OPEN_PAIRING)
    people = await people_by_id(
        turn.session, [p.mentee_id for p in mine] + [p.mentor_id for p in mine]
    )
    several = program is None and (me or 0) in await in_several(turn.session, [me or 0])
    lines: list[str] = []
    for pairing in mine:
        of = turn.programs.of(pairing.program)
        where = program_opening(of) if several else ""
        zone = zone_of(turn.person, of.default_timezone)
        lines.append(where + _pairing_line(pairing, people, me=me, peer=is_peer(of), zone=zone))
    for each in [program] if program is not None else list(turn.programs):
        waiting = await waitlist_positions(turn.session, each)
        if me not in waiting:
            continue
        assert me is not None
        partner = (
            "learning partner"
            if is_peer(each)
            else "circle"
            if each.type is ProgramType.CIRCLES
            else "mentor"
        )
        where = f" in {each.name}" if turn.programs.several and program is None else ""
        lines.append(
            f"You're number {waiting[me]} of {len(waiting)} on the waitlist for a {partner}{where}."
        )
        role = Role.PEER if is_peer(each) else Role.MENTEE
        enrollment = await enrollment_of(turn.session, each, person_id=me, role=role)
        if enrollment is not None:
            zone = zone_of(turn.person, turn.programs.default_timezone)
            lines.append(why_waiting_line(enrollment, zone))
    return lines


def _pairing_line(
    pairing: Pairing, people: dict[int, Person], *, me: int | None, peer: bool, zone: str
) -> str:
    """One open pairing as its reader (whose timezone is ``zone``) stands in it."""
    mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
    since = _day(pairing.activated_at or pairing.proposed_at, zone)
    by = deadline(pairing.expires_at, zone)
    answer = f"type accept {pairing.id} or decline {pairing.id} by {by}."
    if peer:
        other = mentor if pairing.mentee_id == me else mentee
        asked_first = pairing.mentor_id == me
        if pairing.status == PairingStatus.ACTIVE:
            return f"You're paired with {other.name}, your learning partner, since {since}."
        if pairing.status == PairingStatus.PROPOSED and asked_first:
            return f"{other.name} is proposed to you as a learning partner: {answer}"
        if pairing.status == PairingStatus.PROPOSED:
            return (
                "A learning-partner proposal for you is with the other peer; I'll message "
                "you as soon as they answer."
            )
        if asked_first:
            return f"You accepted {other.name}; waiting for them to confirm."
        return f"{other.name} would like to be your learning partner: {answer}"
    if pairing.mentee_id == me:
        if pairing.status == PairingStatus.ACTIVE:
            return f"You're paired with {mentor.name}, your mentor, since {since}."
        if pairing.status == PairingStatus.ACCEPTED:
            return f"{mentor.name} has offered to mentor you: {answer}"
        return (
            "A mentor proposal for you is with the mentor; I'll message you as soon as they answer."
        )
    if pairing.status == PairingStatus.ACTIVE:
        return f"You're mentoring {mentee.name} since {since}."
    if pairing.status == PairingStatus.PROPOSED:
        return f"{mentee.name} is proposed to you as a mentee: {answer}"
    return f"You accepted {mentee.name}; waiting for them to confirm."


def commands(*, summaries: bool = False) -> list[Command]:
    """The commands that answer a proposal: accept and decline.

    Args:
        summaries: Whether a model for note summaries is configured.
    """
    answer_pattern = r"(?i)^(accept|decline)\s+#?\d+$"

    async def _accept(turn: Turn, args: list[str]) -> Outcome:
        return await accept(turn, args, summaries=summaries)

    return [
        Command(
            "accept",
            "accept a mentoring proposal",
            _accept,
            usage="[NUMBER]",
            mid_flow=answer_pattern,
        ),
        Command(
            "decline",
            "decline a mentoring proposal",
            decline,
            usage="[NUMBER]",
            mid_flow=answer_pattern,
        ),
    ]
