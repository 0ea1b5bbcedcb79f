"""Pairing by hand: a program lead proposes one pair outside a round, or lifts a past no.

``pair MENTEE MENTOR`` checks every rule a round respects (not themselves, both enrolled
in the right roles, the mentee free of any open proposal or pairing, a free place with the
mentor, outside the management chain, within ``matching.max_timezone_gap_hours``, no
declined proposal and no pairing between them before) and, when one blocks the pair, says
which and how to fix it. Otherwise the proposal goes to the mentor first, exactly as an
approved round's does (:func:`handlers.matching.proposals.propose`). A lapsed proposal
does not block a pair proposed by hand. A circles program has no pairs: there ``pair``
refuses and says to run ``match`` (and ``unexclude`` for a past decline).

``unexclude MENTEE MENTOR`` lifts a declined or lapsed proposal between the two, so a
round or ``pair`` may propose them again; in a circles program, ``unexclude MEMBER
FACILITATOR`` lifts the member's declines of the facilitator's circles, so the next round
may put them in a circle together. Both are program leads' commands, in chat and on the
command line, and both are in the audit log.

People are named by email, full name or first name: ``pair lee@example.com
ana@example.com``, ``pair Lee Park Ana Lima`` or ``pair Lee Park with Ana Lima``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.circle_pool import DeclinedPlace, declined_places
from handlers.core.audit import record
from handlers.core.calendar import deadline
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Reply, plural
from handlers.core.program import Program, ProgramType
from handlers.core.refs import circle_label
from handlers.core.scope import led_program
from handlers.matching.lapses import LAPSES
from handlers.matching.pool import load_managers
from handlers.matching.proposals import MANUAL, propose
from handlers.matching.score import check_pair
from handlers.people.directory import people_called
from handlers.people.lookups import enrollment_of, people_by_id
from handlers.plans.chat import zone_of
from storage import OPEN_PAIRING, Enrollment, EnrollmentStatus, Pairing, PairingStatus, Person, Role
from storage.tables import CIRCLE_MEMBER

#: Words a lead may put between the two people: ``pair Lee Park with Ana Lima``.
SEPARATORS = ("with", "to", "->", "→")
#: The most words two names take (each way of splitting them is looked up).
MOST_WORDS = 8
LIFTABLE = (PairingStatus.DECLINED.value, PairingStatus.EXPIRED.value)


@dataclass(frozen=True)
class LeadResult:
    """What a lead's ``pair`` or ``unexclude`` did, in words.

    Attributes:
        done: Whether anything changed.
        headline: What happened, or what could not be done.
        details: Each rule that blocks a pair, with how to fix it.
    """

    done: bool
    headline: str
    details: tuple[str, ...] = ()

    def as_text(self) -> str:
        """For chat: the headline, then one bullet per detail."""
        return "\n".join([self.headline, *(f"• {d}" for d in self.details)])

    def as_line(self) -> str:
        """For the command line: one line."""
        return " ".join([self.headline, "; ".join(self.details)]).strip()


# --- naming people --------------------------------------------------------------------------


def _quoted(typed: str) -> str:
    """What someone typed, quoted back, cut short when long."""
    return repr(typed if len(typed) <= 60 else typed[:59] + "…")


async def one_person(
    session: AsyncSession, program: Program, *, typed: str, role: Role
) -> Person | str:
    """The person a lead means by ``typed`` in ``role``, or the sentence saying why not.

    Among several people of that name, the one enrolled in the role is meant. A peer
    program has no mentee or mentor to name: its pairs come from match rounds only.
    """
    if program.type is ProgramType.PEER:
        return (
            f"{program.name} pairs peers, so there is no mentee or mentor to pair by hand; "
            f"type match {program.id} to pair everyone waiting."
        )
    found = await people_called(session, typed)
    if len(found) > 1:
        enrolled = [
            p for p in found if await enrollment_of(session, program, person_id=p.id, role=role)
        ]
        found = enrolled if len(enrolled) == 1 else found
    if not found:
        return f"I can't find {_quoted(typed)} in the directory. Use their email address."
    if len(found) > 1:
        listed = ", ".join(f"{p.name} <{p.email}>" for p in found)
        return (
            f"Several people match {_quoted(typed)}: {listed}. Use the email of the one you mean."
        )
    return found[0]


async def two_people(
    session: AsyncSession, program: Program, *, words: Sequence[str], verb: str
) -> tuple[Person, Person] | str:
    """The mentee and the mentor a lead named after ``pair`` or ``unexclude`` (in a circles
    program, the member and the facilitator).

    Returns:
        The two people, or the sentence saying what to type instead.
    """
    circles = program.type is ProgramType.CIRCLES
    who = "the member and the facilitator" if circles else "the mentee and the mentor"
    usage = (
        f"Type {verb} followed by {who}, by email or name, e.g. "
        f"{verb} lee@example.com ana@example.com or {verb} Lee Park with Ana Lima."
    )
    if not 2 <= len(words) <= MOST_WORDS:
        return usage
    cuts = [i for i, w in enumerate(words) if w.lower() in SEPARATORS and 0 < i < len(words) - 1]
    if cuts:
        pairs = [(words[: cuts[0]], words[cuts[0] + 1 :])]
    else:
        pairs = [(words[:i], words[i:]) for i in range(1, len(words))]
    found: list[tuple[Person, Person]] = []
    problems: list[str] = []
    for left, right in pairs:
        mentee = await one_person(session, program, typed=" ".join(left), role=Role.MENTEE)
        mentor = await one_person(session, program, typed=" ".join(right), role=Role.MENTOR)
        if isinstance(mentee, Person) and isinstance(mentor, Person):
            found.append((mentee, mentor))
        else:
            problems += [p for p in (mentee, mentor) if isinstance(p, str)]
    if len(found) == 1:
        return found[0]
    if found:
        return f"I can read {_quoted(' '.join(words))} as more than one pair of people. " + usage
    if len(pairs) == 1:
        return " ".join(dict.fromkeys(problems))
    return f"I can't find two people in {_quoted(' '.join(words))}. " + usage


# --- the rules ------------------------------------------------------------------------------


def _enrollment_problem(person: Person, enrollment: Enrollment | None, role: Role) -> str | None:
    """Why someone cannot be proposed in ``role`` because of their enrollment, or None."""
    if enrollment is None or enrollment.status == EnrollmentStatus.LEFT:
        return f"{person.name} isn't enrolled as a {role.value}; they can type join {role.value}."
    if enrollment.status == EnrollmentStatus.PAUSED:
        if enrollment.paused_reason == LAPSES:
            return (
                f"{person.name} is paused as a mentor because proposals to them lapsed; they "
                "can type resume."
            )
        return f"{person.name} is paused; they can type resume when they're ready."
    if enrollment.status == EnrollmentStatus.COMPLETED:
        return (
            f"{person.name}'s last pairing has ended and they haven't asked for a new mentor "
            "yet; they can type join."
        )
    return None


async def _open_problem(
    session: AsyncSession, program: Program, mentee: Person, *, zone: str
) -> str | None:
    """Why the mentee cannot get another proposal now (one is open, or a pairing), or None.

    Args:
        zone: The reader's (the lead's) timezone, for the day an open proposal lapses.
    """
    found = (
        await session.exec(
            select(Pairing).where(
                Pairing.program == program.id,
                Pairing.mentee_id == mentee.id,
                Pairing.status.in_([s.value for s in OPEN_PAIRING]),  # type: ignore[attr-defined]
            )
        )
    ).first()
    if found is None:
        return None
    other = (await people_by_id(session, [found.mentor_id]))[found.mentor_id]
    if found.status == PairingStatus.ACTIVE:
        return f"{mentee.name} is already paired with {other.name} (pairing {found.id})."
    return (
        f"{mentee.name} already has a proposal open with {other.name} (pairing {found.id}); "
        f"wait for the answer, or for it to lapse on {deadline(found.expires_at, zone)}."
    )


async def _free_place_problem(
    session: AsyncSession, program: Program, mentor: Person, enrollment: Enrollment
) -> str | None:
    """Why the mentor has no place for one more mentee, or None."""
    taken = int(
        await session.scalar(
            sa.select(sa.func.count())
            .select_from(Pairing)
            .where(
                Pairing.program == program.id,  # type: ignore[arg-type]
                Pairing.mentor_id == mentor.id,  # type: ignore[arg-type]
                Pairing.status.in_([s.value for s in OPEN_PAIRING]),  # type: ignore[attr-defined]
            )
        )
        or 0
    )
    capacity = enrollment.capacity or 0
    if taken < capacity:
        return None
    return (
        f"{mentor.name} has no free place ({taken} of {plural(capacity, 'place')} taken); they "
        "can take one more by updating their answers (join), or choose another mentor."
    )


async def _between(
    session: AsyncSession, program: Program, mentee: Person, mentor: Person
) -> list[Pairing]:
    """Every pairing and proposal of these two, oldest first."""
    result = await session.exec(
        select(Pairing)
        .where(
            Pairing.program == program.id,
            Pairing.mentee_id == mentee.id,
            Pairing.mentor_id == mentor.id,
        )
        .order_by(Pairing.id)  # type: ignore[arg-type]
    )
    return list(result.all())


def _history_problem(mentee: Person, mentor: Person, before: Sequence[Pairing]) -> str | None:
    """Why these two are kept apart by what happened between them before, or None."""
    for pairing in before:
        if pairing.status == PairingStatus.ENDED:
            return (
                f"{mentee.name} and {mentor.name} were paired before (pairing {pairing.id}); "
                "the program never pairs two people twice."
            )
        if pairing.status == PairingStatus.DECLINED and pairing.unexcluded_at is None:
            return (
                f"{mentee.name} and {mentor.name} declined a proposal before (pairing "
                f"{pairing.id}, declined by the {pairing.declined_by}); if both agree now, "
                f"type unexclude {mentee.email} {mentor.email} first."
            )
    return None


# --- pair -----------------------------------------------------------------------------------


def circles_refusal(program: Program) -> str | None:
    """Why ``pair`` proposes nothing in a circles program, with what to do there; else None.

    A circles program forms circles (a facilitator and a group), never one-to-one pairs.
    """
    if program.type is not ProgramType.CIRCLES:
        return None
    return (
        f"{program.name} forms circles, not pairs, so there is no pair to propose by hand. "
        f"Type match {program.id} to form circles from everyone waiting; if a member "
        f"declined a facilitator's circle and both agree now, type unexclude {program.id} "
        "MEMBER FACILITATOR first."
    )


async def pair_by_hand(
    session: AsyncSession,
    program: Program,
    *,
    mentee: Person,
    mentor: Person,
    lead: Person,
    now: datetime,
) -> LeadResult:
    """Propose one mentee to one mentor outside a round, if every rule allows it.

    Args:
        session: The open transaction; the proposal, its message and the audit entry
            commit together.
        program: The program.
        mentee: Who would be mentored.
        mentor: Who would mentor them.
        lead: The program lead proposing it.
        now: The moment.

    Returns:
        What was done, or every rule that blocks the pair and how to fix it.
    """
    refused = circles_refusal(program)
    if refused is not None:
        return LeadResult(False, refused)
    pair = f"{mentee.name} → {mentor.name}"
    if mentee.id == mentor.id:
        return LeadResult(
            False, f"I can't propose {pair}:", (f"{mentee.name} can't mentor themselves.",)
        )
    mentee_enrollment = await enrollment_of(session, program, person_id=mentee.id, role=Role.MENTEE)
    mentor_enrollment = await enrollment_of(session, program, person_id=mentor.id, role=Role.MENTOR)
    problems = [
        _enrollment_problem(mentor, mentor_enrollment, Role.MENTOR),
        await _open_problem(session, program, mentee, zone=zone_of(lead, program.default_timezone)),
    ]
    if problems[-1] is None:
        problems.append(_enrollment_problem(mentee, mentee_enrollment, Role.MENTEE))
    if mentor_enrollment is not None and problems[0] is None:
        problems.append(await _free_place_problem(session, program, mentor, mentor_enrollment))
    check = check_pair(
        program,
        mentee=(mentee, mentee_enrollment),
        mentor=(mentor, mentor_enrollment),
        managers=await load_managers(session),
        now=now,
    )
    if check.rule == "chain":
        problems.append(
            f"{mentor.name} is in {mentee.name}'s management chain (their manager or above, "
            "or reporting to them); choose a mentor outside it."
        )
    limit = program.matching.max_timezone_gap_hours
    if check.gap > limit:
        problems.append(
            f"{mentee.name} and {mentor.name} are {check.gap:g} h apart, more than "
            f"matching.max_timezone_gap_hours ({limit}); choose a mentor nearer in time, or "
            "raise that setting."
        )
    problems.append(
        _history_problem(mentee, mentor, await _between(session, program, mentee, mentor))
    )
    blocking = tuple(p for p in problems if p)
    if blocking:
        return LeadResult(False, f"I can't propose {pair}:", blocking)
    pairing = await propose(
        session,
        program=program,
        mentee=mentee,
        mentor=mentor,
        score=check.score,
        reasons=[r.as_dict() for r in check.reasons],
        batch=MANUAL + secrets.token_hex(5),
        lead_id=lead.id,
        now=now,
    )
    if pairing is None:
        return LeadResult(
            False,
            f"I can't propose {pair}:",
            (f"{mentee.name} got another proposal a moment ago.",),
        )
    await record(
        session,
        actor=lead.email,
        action="pair",
        target=str(pairing.id),
        now=now,
        detail={"mentee": mentee.email, "mentor": mentor.email},
    )
    return LeadResult(
        True,
        f"Proposed {pair} (fit {check.score:.2f}, pairing {pairing.id}). {mentor.name} has it "
        f"now with Accept / Decline; {mentee.name} hears once they accept. It lapses after "
        f"{plural(program.matching.proposal_expiry_days, 'day')} without an answer.",
    )


# --- unexclude ------------------------------------------------------------------------------


async def lift_exclusion(
    session: AsyncSession,
    program: Program,
    *,
    mentee: Person,
    mentor: Person,
    lead: Person,
    now: datetime,
) -> LeadResult:
    """Lift every declined or lapsed proposal between two people, so they may be paired.

    A pairing they had is not lifted: the program never pairs two people twice. In a
    circles program, lift the member's declines of the facilitator's circles instead
    (:func:`_lift_circle_declines`).
    """
    if program.type is ProgramType.CIRCLES:
        return await _lift_circle_declines(
            session, program, member=mentee, facilitator=mentor, lead=lead, now=now
        )
    before = await _between(session, program, mentee, mentor)
    ended = next((p for p in before if p.status == PairingStatus.ENDED), None)
    if ended is not None:
        return LeadResult(
            False,
            f"{mentee.name} and {mentor.name} were paired before (pairing {ended.id}); "
            "unexclude lifts only a declined or lapsed proposal.",
        )
    lifted = [p for p in before if p.status in LIFTABLE and p.unexcluded_at is None]
    if not lifted:
        return LeadResult(
            False,
            f"Nothing keeps {mentee.name} and {mentor.name} apart: there's no declined or "
            "lapsed proposal between them.",
        )
    ids = [p.id for p in lifted]
    conn = await session.connection()
    table = Pairing.__table__  # type: ignore[attr-defined]
    await conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(unexcluded_at=now))
    await record(
        session,
        actor=lead.email,
        action="unexclude",
        target=", ".join(str(i) for i in ids),
        now=now,
        detail={"mentee": mentee.email, "mentor": mentor.email},
    )
    return LeadResult(
        True,
        f"Done: {mentee.name} and {mentor.name} may be proposed to each other again. The "
        f"next match round can pair them, or type pair {mentee.email} {mentor.email} to "
        "propose it now.",
    )


async def _lift_circle_declines(
    session: AsyncSession,
    program: Program,
    *,
    member: Person,
    facilitator: Person,
    lead: Person,
    now: datetime,
) -> LeadResult:
    """Lift a member's declines of a facilitator's circles, so a round may put them in a
    circle together again (handlers.circles.circle_pool keeps a declined pair apart).

    A circle proposal that lapsed keeps nobody apart, so there is nothing to lift for it.
    """
    assert member.id is not None
    assert facilitator.id is not None
    places = await declined_places(
        session, program, member_id=member.id, facilitator_id=facilitator.id
    )
    lifted = [p for p in places if p.unexcluded_at is None]
    if not lifted:
        why = (
            f"{_declines(member, facilitator, places)} {'was' if len(places) == 1 else 'were'} "
            "lifted already"
            if places
            else f"{member.name} hasn't declined a circle {facilitator.name} leads"
        )
        return LeadResult(
            False,
            f"No decline keeps {member.name} from {facilitator.name}'s circles: {why}, so "
            "there's nothing to lift.",
        )
    conn = await session.connection()
    await conn.execute(
        sa.update(CIRCLE_MEMBER)
        .where(CIRCLE_MEMBER.c.id.in_([p.place_id for p in lifted]))
        .values(unexcluded_at=now)
    )
    await record(
        session,
        actor=lead.email,
        action="unexclude",
        target=", ".join(circle_label(p.circle_id) for p in lifted),
        now=now,
        detail={"member": member.email, "facilitator": facilitator.email},
    )
    return LeadResult(
        True,
        f"Done: {_declines(member, facilitator, lifted)} no longer keeps them apart. The "
        "next round can put them in a circle together.",
    )


def _declines(member: Person, facilitator: Person, places: Sequence[DeclinedPlace]) -> str:
    """``Lee Park's decline of Ana Lima's circle C7`` (``circles C7 and C9`` for several)."""
    labels = [circle_label(p.circle_id) for p in places]
    if len(labels) == 1:
        return f"{member.name}'s decline of {facilitator.name}'s circle {labels[0]}"
    circles = f"{', '.join(labels[:-1])} and {labels[-1]}"
    return f"{member.name}'s declines of {facilitator.name}'s circles {circles}"


# --- the chat commands ----------------------------------------------------------------------


#: What a lead does by hand to two people: propose them, or lift their exclusion.
_LeadAction = Callable[..., Awaitable[LeadResult]]


def _by_hand(
    word: str, action: _LeadAction, *, refused: Callable[[Program], str | None] | None = None
) -> Callable[[Turn, list[str]], Awaitable[Outcome]]:
    """The chat command ``WORD MENTEE MENTOR`` that runs ``action`` for the two people.

    Args:
        refused: Why the program has no ``WORD`` at all, asked before anyone is looked up.
    """

    async def run(turn: Turn, args: list[str]) -> Outcome:
        scoped = led_program(turn, args, verb=word)
        if isinstance(scoped, Reply):
            return Outcome([scoped], None, changed=False)
        program, args = scoped
        refusal = refused(program) if refused is not None else None
        if refusal is not None:
            return Outcome([Reply(refusal)], None, changed=False)
        found = await two_people(turn.session, program, words=args, verb=word)
        if isinstance(found, str):
            return Outcome([Reply(found)], None, changed=False)
        mentee, mentor = found
        result = await action(
            turn.session, program, mentee=mentee, mentor=mentor, lead=turn.person, now=turn.now
        )
        return Outcome([Reply(result.as_text())], None, changed=result.done)

    return run


def commands() -> list[Command]:
    """The program leads' commands for pairing by hand: pair and unexclude."""
    return [
        Command(
            "pair",
            "propose one mentee to one mentor outside a round (program leads)",
            _by_hand("pair", pair_by_hand, refused=circles_refusal),
            usage="MENTEE MENTOR",
            lead_only=True,
            pairs_only=True,
        ),
        Command(
            "unexclude",
            "let a mentee and a mentor be proposed again after a decline or lapse (program leads)",
            _by_hand("unexclude", lift_exclusion),
            usage="MENTEE MENTOR",
            lead_only=True,
            # A circles program's wording (MEMBER FACILITATOR) is in help's circles block.
            pairs_only=True,
        ),
    ]
