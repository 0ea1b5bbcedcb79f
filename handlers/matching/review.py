"""A program lead's matching round: plan it, review it in chat, approve all, some or none.

A program lead types ``match``: the round's proposals are listed (behind profiles when
``matching.blind_review`` is on) and the lead approves all, some or none. Each approved
proposal is checked again and sent (handlers.matching.proposals.propose); every mentee left
over is told why and where they stand on the waitlist, and the reason is kept for ``status``
(handlers.matching.waitlist). The command line runs the same round (``mentorbot match``).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.audit import record
from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Command, Flow, FlowState, Outcome, Turn
from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Option, Prompt, PromptKind, Reply, plural
from handlers.core.program import Program, ProgramType
from handlers.core.questions import pick_option
from handlers.core.refs import NotASelection, parse_selection
from handlers.core.scope import led_program
from handlers.core.words import city_of, utc_offset, zone_in_words
from handlers.matching.lapses import expire_proposals
from handlers.matching.peers import plan_peer_matches
from handlers.matching.pool import PEER_FREE, Profile, load_pool
from handlers.matching.proposals import propose
from handlers.matching.rounds import MatchPlan, Proposal, plan_matches, shown_fit
from handlers.matching.waitlist import remember_why, round_reason, tell_left_over
from handlers.people.lookups import enrollment_of, people_by_id
from handlers.plans.chat import zone_of
from storage import OPEN_PAIRING, EnrollmentStatus, Pairing, PairingStatus, Person, Role

#: How many proposals a chat review lists one by one; the CLI's --json has them all.
LISTED = 25
APPROVE_ALL, CHOOSE, DISCARD = "all", "choose", "none"


@dataclass(frozen=True)
class ReaderClock:
    """Whom a review is for, to say a time zone as they read it.

    Attributes:
        reader_zone: The reader's time zone; None when no one in particular reads it (the command
            line), and a zone is then its city and offset from UTC.
        at: When the review is made.
    """

    reader_zone: str | None
    at: datetime

    def zone(self, zone: str) -> str:
        """A time zone in words: ``London, 1 h behind you`` (or ``London, UTC+0``)."""
        if self.reader_zone is None:
            return f"{city_of(zone, self.at)}, {utc_offset(zone, self.at)}"
        return zone_in_words(zone, reader_zone=self.reader_zone, at=self.at)


def blind_profile(profile: Profile, program: Program, tag: str, clock: ReaderClock) -> str:
    """A profile with the name left out, for a lead's blind review."""
    bits = [profile.department or "department not given"]
    if profile.level is not None:
        bits.append(f"level {profile.level}")
    bits.append(clock.zone(profile.timezone))
    if profile.role is Role.MENTEE and profile.competencies:
        names = [c.name for k in profile.competencies if (c := program.competency(k))]
        bits.append("wants " + ", ".join(names))
    return f"{tag} ({'; '.join(bits)})"


def _review_line(number: int, proposal: Proposal, program: Program, clock: ReaderClock) -> str:
    if program.matching.blind_review:
        who = (
            f"{blind_profile(proposal.mentee, program, f'Mentee {number}', clock)} → "
            f"{blind_profile(proposal.mentor, program, f'Mentor {number}', clock)}"
        )
    else:
        who = f"{proposal.mentee.name}{_link(program)}{proposal.mentor.name}"
    why = " · ".join(r.lead for r in proposal.reasons) or "no particular strengths"
    weak = f"weak: {proposal.weak} · " if proposal.weak else ""
    return f"{number}. {who} · fit {proposal.score:.2f} · {weak}{why}"


def _waiting_name(mentee: Profile, program: Program, clock: ReaderClock) -> str:
    """A mentee left waiting as the review names them: by name, or behind a profile (a
    blind review shows no name before approval, even when there is nothing to approve)."""
    if not program.matching.blind_review:
        return mentee.name
    tag = "A peer" if program.type is ProgramType.PEER else "A mentee"
    return blind_profile(mentee, program, tag, clock)


def _link(program: Program) -> str:
    """Between a pair's two names: a mentee → their mentor, or two peers ↔ each other."""
    return " ↔ " if program.type is ProgramType.PEER else " → "


def _choice_label(number: int, entry: dict[str, Any]) -> str:
    weak = ", weak" if entry.get("weak") else ""
    return f"{number}. {entry['label']} (fit {entry['score']:.2f}{weak})"


def round_data(
    program: Program, plan: MatchPlan, *, reader_zone: str | None, now: datetime
) -> dict[str, Any]:
    """A planned round as JSON-ready data: what the review shows and approval needs.

    Args:
        reader_zone: The time zone of the lead who reviews it, for the time zones a blind
            review shows ("London, 1 h behind you"); None on the command line.
        now: When the round is planned.
    """
    blind = program.matching.blind_review
    clock = ReaderClock(reader_zone, now)
    entries = []
    for number, proposal in enumerate(plan.proposals, start=1):
        entries.append(
            {
                "mentee": proposal.mentee.person_id,
                "mentor": proposal.mentor.person_id,
                "score": round(proposal.score, 4),
                "reasons": [r.as_dict() for r in proposal.reasons],
                "weak": proposal.weak,
                "line": _review_line(number, proposal, program, clock),
                "label": (
                    f"Mentee {number} → Mentor {number}"
                    if blind
                    else f"{proposal.mentee.name}{_link(program)}{proposal.mentor.name}"
                ),
            }
        )
    return {
        "batch": secrets.token_hex(6),
        "proposals": entries,
        "waiting": [
            {
                "mentee": w.mentee.person_id,
                "shown": _waiting_name(w.mentee, program, clock),
                "why": w.why,
                "below_min_fit": w.below_min_fit,
            }
            for w in plan.waiting
        ],
        "mentees": plan.mentees,
        "min_fit": program.matching.min_fit,
    }


def too_early(program: Program, *, now: datetime) -> str | None:
    """Why a cohort program cannot be matched yet (before ``enrol_until``), or None.

    A cohort enrols in a window and starts together, so its round waits for the last day
    of enrolment (in the program's timezone), when everyone who will join has.
    """
    cohort = program.cohort
    if cohort is None or local_date(now, program.default_timezone) >= cohort.enrol_until:
        return None
    return (
        f"Matching for {program.name} runs from {day_label(cohort.enrol_until)}, when "
        "enrolment closes."
    )


async def plan_round(session: AsyncSession, program: Program, *, now: datetime) -> MatchPlan:
    """Lapse overdue proposals, then plan a matching round over the program's whole pool.

    A peer program pairs its peers with each other (handlers.matching.peers); a cohort
    program before its enrolment closes plans nothing and says when it can; a circles
    program plans no pairs at all.
    """
    if program.type is ProgramType.CIRCLES:
        # A circles program forms circles (handlers.circles.formation), never pairs.
        return MatchPlan(
            [],
            [],
            problem=(
                f"{program.name} forms circles, not pairs: mentorbot match --program "
                f"{program.id} --dry-run lists the circles a round would form."
            ),
        )
    early = too_early(program, now=now)
    if early is not None:
        return MatchPlan([], [], problem=early)
    await expire_proposals(session, program, now=now)
    pool = await load_pool(session, program)
    if program.type is ProgramType.PEER:
        return plan_peer_matches(program, pool, now=now)
    return plan_matches(program, pool, now=now)


async def remember_round(
    session: AsyncSession, program: Program, *, plan: MatchPlan, now: datetime
) -> None:
    """Keep why a round with nothing to approve left each mentee waiting, for ``status``."""
    reasons = {w.mentee.person_id: round_reason(w.why) for w in plan.waiting}
    await remember_why(session, program, reasons=reasons, now=now)


#: ``match`` for a circles program: plan its round of circles and list it for review.
CircleRound = Callable[[Turn, Program], Awaitable[Outcome]]


class MatchReviewFlow(Flow):
    """A program lead reviews a matching round and approves all, some or none of it."""

    name = "match-review"

    def __init__(self, *, circles: CircleRound | None = None) -> None:
        """
        Args:
            circles: What ``match`` does for a ``type: circles`` program (the review of
                its circles, handlers.circles.review); None: circles programs are refused.
        """
        self.circles = circles

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``match [PROGRAM]`` command: expire lapsed proposals, plan a round, list it."""
        scoped = led_program(turn, args, verb="match")
        if isinstance(scoped, Reply):
            return Outcome([scoped], None, changed=False)
        program = scoped[0]
        if program.type is ProgramType.CIRCLES:
            if self.circles is None:
                return Outcome([Reply(f"{program.name} forms circles, not pairs.")], None, False)
            return await self.circles(turn, program)
        plan = await plan_round(turn.session, program, now=turn.now)
        if plan.problem is not None or not plan.proposals:
            await remember_round(turn.session, program, plan=plan, now=turn.now)
        if plan.problem is not None:
            return Outcome([Reply(plan.problem)], None, changed=False)
        if not plan.proposals:
            lines = [
                "No proposals this round: "
                + (
                    "the only waiting mentee can't be matched."
                    if plan.mentees == 1
                    else f"none of the {plural(plan.mentees, 'waiting mentee')} can be matched."
                )
            ]
            clock = ReaderClock(zone_of(turn.person, turn.programs.default_timezone), turn.now)
            lines += [
                f"• {_waiting_name(w.mentee, program, clock)}: {w.why}"
                for w in plan.waiting[:LISTED]
            ]
            return Outcome([Reply("\n".join(lines))], None, changed=False)
        reader_zone = zone_of(turn.person, turn.programs.default_timezone)
        data = round_data(program, plan, reader_zone=reader_zone, now=turn.now)
        peer = program.type is ProgramType.PEER
        state = FlowState(self.name, "review", {**data, "program": program.id, "peer": peer})
        return Outcome(self.ask_review(state), state)

    def ask_review(self, state: FlowState) -> list[Reply]:
        """The round's proposals, and the question: approve all, some or none?"""
        entries: list[dict[str, Any]] = state.data["proposals"]
        waiting: list[dict[str, Any]] = state.data["waiting"]
        who = "peer" if state.data.get("peer") else "mentee"
        lines = [
            f"Matching round: {plural(len(entries), 'proposal')} for "
            f"{plural(state.data['mentees'], f'waiting {who}')}"
            f"; {len(waiting)} would stay on the waitlist{_below_min_fit(state.data)}."
        ]
        lines += _weak_note(entries)
        lines += [e["line"] for e in entries[:LISTED]]
        if len(entries) > LISTED:
            lines.append(
                f"… and {len(entries) - LISTED} more (`mentorbot match --dry-run --json` "
                "lists them all)."
            )
        prompt = Prompt(
            PromptKind.SINGLE,
            (
                Option(APPROVE_ALL, f"Approve all {len(entries)}"),
                Option(CHOOSE, "Choose which to approve"),
                Option(DISCARD, "Discard this round"),
            ),
        )
        return [
            Reply("\n".join(lines), title="Proposals to review"),
            Reply(
                "Approve them? In each pair one peer is asked first, the other once the "
                "first accepts."
                if state.data.get("peer")
                else "Approve them? Mentors get their proposals first; mentees once their "
                "mentor accepts.",
                prompt=prompt,
                hint="Type cancel to decide later; nothing is sent until you approve.",
            ),
        ]

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        if state.step == "choose":
            entries = state.data["proposals"]
            options = tuple(
                Option(str(number), _choice_label(number, entry))
                for number, entry in enumerate(entries, start=1)
            )
            return [
                Reply(
                    "Which proposals should go out? Pick one or more (e.g. 1, 3, 4).",
                    prompt=Prompt(PromptKind.MULTI, options, min=1, max=len(options)),
                    hint="back returns to the whole list; cancel sends nothing.",
                )
            ]
        return self.ask_review(state)

    def describe(self, state: FlowState) -> str:
        return "the review of a matching round"

    def cancelled(self, state: FlowState) -> str:
        return "Nothing was sent. Type match to run a fresh round when you're ready."

    async def back(self, turn: Turn, state: FlowState) -> Outcome:
        if state.step == "choose":
            previous = FlowState(self.name, "review", state.data)
            return Outcome(self.ask(turn, previous), previous)
        return await super().back(turn, state)

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        entries: list[dict[str, Any]] = state.data["proposals"]
        action = turn.inbound.action
        if state.step == "choose":
            try:
                chosen = _pick_numbers(turn.text, action.values if action else None, len(entries))
            except InvalidAnswer as problem:
                return Outcome([Reply(str(problem)), *self.ask(turn, state)], state, False)
            return await self._approve(turn, state, chosen)
        try:
            choice = pick_option(
                turn.text,
                values=action.values if action else None,
                options=[(APPROVE_ALL, "approve all"), (CHOOSE, "choose"), (DISCARD, "discard")],
            )
        except InvalidAnswer as problem:
            return Outcome([Reply(str(problem)), *self.ask(turn, state)], state, False)
        if choice == DISCARD:
            return Outcome([Reply(self.cancelled(state))], None)
        if choice == CHOOSE:
            step = FlowState(self.name, "choose", state.data)
            return Outcome(self.ask(turn, step), step)
        return await self._approve(turn, state, list(range(len(entries))))

    async def _approve(self, turn: Turn, state: FlowState, chosen: list[int]) -> Outcome:
        entries: list[dict[str, Any]] = state.data["proposals"]
        approved = [entries[i] for i in chosen]
        held = [e["mentee"] for i, e in enumerate(entries) if i not in set(chosen)]
        assert turn.person.id is not None
        named = state.data.get("program")
        program = turn.programs.of(named) if named else turn.programs.first
        result = await approve(
            turn.session,
            program=program,
            lead_id=turn.person.id,
            actor=turn.person.email,
            batch=state.data["batch"],
            approved=approved,
            waiting=state.data["waiting"],
            held=held,
            now=turn.now,
        )
        sent = (
            f"Sent {plural(len(result.sent), 'proposal')}: in each pair one peer is asked "
            "first, the other once the first accepts."
            if program.type is ProgramType.PEER
            else f"Sent {plural(len(result.sent), 'proposal')} to the mentors; each mentee "
            "hears once their mentor accepts."
        )
        lines = [
            f"{sent} Proposals lapse after "
            f"{plural(program.matching.proposal_expiry_days, 'day')} without an answer."
        ]
        if result.skipped:
            lines.append("Not sent, because things changed since the round was planned:")
            lines += [f"• {reason}" for reason in result.skipped]
        if result.told_waiting:
            lines.append(
                f"{plural(result.told_waiting, 'peer' if state.data.get('peer') else 'mentee')} "
                "on the waitlist "
                f"{'was' if result.told_waiting == 1 else 'were'} told why and where they stand."
            )
        return Outcome([Reply("\n".join(lines))], None)


def _below_min_fit(data: dict[str, Any]) -> str:
    """How many of the mentees left over fit every mentor below matching.min_fit."""
    below = sum(1 for w in data["waiting"] if w.get("below_min_fit"))
    if not below:
        return ""
    return (
        f" ({below} of them because every mentor who could mentor them fits them below "
        f"the minimum fit of {shown_fit(data['min_fit'])}, matching.min_fit)"
    )


def _weak_note(entries: Sequence[dict[str, Any]]) -> list[str]:
    """A line saying how many proposals are weak and what the lead can do, if any are."""
    weak = sum(1 for e in entries if e.get("weak"))
    if not weak:
        return []
    which = "1 proposal is" if weak == 1 else f"{weak} proposals are"
    return [
        f"{which} marked weak: the mentor offers none of the competencies the mentee "
        "wants. To hold a weak one back, choose which to approve."
    ]


def _pick_numbers(text: str, values: tuple[str, ...] | None, count: int) -> list[int]:
    """Proposal numbers chosen by click, or typed as ``1, 3, 4`` or ``2-5``."""
    raw = (
        list(values) if values is not None else text.replace(";", ",").replace(" ", ",").split(",")
    )
    try:
        chosen = parse_selection(raw, count)
    except NotASelection as exc:
        if exc.number is None:
            raise InvalidAnswer(
                f"Please type proposal numbers between 1 and {count}, e.g. 1, 3 or 2-4."
            ) from None
        raise InvalidAnswer(
            f"There is no proposal {exc.number}; they go from 1 to {count}."
        ) from None
    if not chosen:
        raise InvalidAnswer("Pick at least one proposal, or type cancel to send none.")
    return sorted(chosen)


@dataclass
class Approval:
    """What approving a round did.

    Attributes:
        sent: The pairings proposed to mentors.
        skipped: Why some approved proposals were not sent, in sentences.
        told_waiting: How many waiting mentees were told their place on the waitlist.
    """

    sent: list[Pairing]
    skipped: list[str]
    told_waiting: int


async def approve(
    session: AsyncSession,
    *,
    program: Program,
    lead_id: int | None,
    actor: str,
    batch: str,
    approved: Sequence[dict[str, Any]],
    waiting: Sequence[dict[str, Any]],
    held: Sequence[int] = (),
    now: datetime,
) -> Approval:
    """Send a round's approved proposals to their mentors and tell waiting mentees why.

    Each proposal is checked again first: the pool may have changed since the round was
    planned (a mentor paused or lowered their capacity, a mentee left or was matched).

    Args:
        session: The open transaction; everything commits together.
        program: The program.
        lead_id: Who approved (None: the command line).
        actor: Who approved, for the audit log (the lead's email, or ``cli``).
        batch: The round's id.
        approved: Proposals as ``{"mentee", "mentor", "score", "reasons"}``.
        waiting: Mentees the round left over, as ``{"mentee", "why"}``.
        held: Mentees whose proposal the lead did not approve.
        now: The moment of approval.
    """
    result = Approval([], [], 0)
    people = await people_by_id(
        session, [e["mentee"] for e in approved] + [e["mentor"] for e in approved]
    )
    for entry in approved:
        mentee, mentor = people[entry["mentee"]], people[entry["mentor"]]
        problem = await _still_possible(session, program, mentee, mentor)
        if problem is not None:
            result.skipped.append(f"{mentee.name} → {mentor.name}: {problem}")
            continue
        pairing = await propose(
            session,
            program=program,
            mentee=mentee,
            mentor=mentor,
            score=float(entry["score"]),
            reasons=list(entry["reasons"]),
            batch=batch,
            lead_id=lead_id,
            now=now,
        )
        if pairing is None:
            result.skipped.append(f"{mentee.name} → {mentor.name}: already has a proposal")
            continue
        result.sent.append(pairing)
    left_over = [(w["mentee"], str(w["why"])) for w in waiting]
    left_over += [
        (mentee_id, "the program lead held back this round's proposal for you")
        for mentee_id in held
    ]
    result.told_waiting += await tell_left_over(
        session,
        program,
        left_over=left_over,
        batch=batch,
        note=lambda why, position, total: _waitlist_note(why, position, total, program=program),
        now=now,
    )
    await record(
        session,
        actor=actor,
        action="match-approve",
        target=batch,
        now=now,
        detail={
            "approved": len(approved),
            "sent": len(result.sent),
            "skipped": len(result.skipped),
            "held": len(held),
        },
    )
    return result


async def _still_possible(
    session: AsyncSession, program: Program, mentee: Person, mentor: Person
) -> str | None:
    """Why a planned proposal can no longer be sent, or None when it still can."""
    if program.type is ProgramType.PEER:
        return await _peers_still_free(session, program, mentee, mentor)
    mentee_enrollment = await enrollment_of(session, program, person_id=mentee.id, role=Role.MENTEE)
    if mentee_enrollment is None or mentee_enrollment.status != EnrollmentStatus.WAITING:
        return f"{mentee.name} is no longer waiting for a match"
    mentor_enrollment = await enrollment_of(
        session, program, person_id=mentor.id, role=Role.MENTOR, lock=True
    )
    if mentor_enrollment is None or mentor_enrollment.status != EnrollmentStatus.AVAILABLE:
        return f"{mentor.name} is not available to mentor right now"
    open_statuses = [s.value for s in OPEN_PAIRING]
    taken = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Pairing)
        .where(
            Pairing.program == program.id,  # type: ignore[arg-type]
            Pairing.mentor_id == mentor.id,  # type: ignore[arg-type]
            Pairing.status.in_(open_statuses),  # type: ignore[attr-defined]
        )
    )
    if int(taken or 0) >= (mentor_enrollment.capacity or 0):
        return f"{mentor.name} has no free place any more"
    before = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Pairing)
        .where(
            Pairing.program == program.id,  # type: ignore[arg-type]
            Pairing.mentee_id == mentee.id,  # type: ignore[arg-type]
            sa.or_(
                # A lapsed proposal does not keep the two apart (see handlers.matching.lapses), nor
                # one a program lead lifted (handlers.matching.by_hand).
                sa.and_(
                    Pairing.mentor_id == mentor.id,  # type: ignore[arg-type]
                    Pairing.status != PairingStatus.EXPIRED.value,  # type: ignore[arg-type]
                    Pairing.unexcluded_at.is_(None),  # type: ignore[union-attr]
                ),
                Pairing.status.in_(open_statuses),  # type: ignore[attr-defined]
            ),
        )
    )
    if before:
        return (
            f"{mentee.name} already has a proposal, was paired with {mentor.name} before, "
            "or a proposal between them was declined"
        )
    return None


async def _peers_still_free(
    session: AsyncSession, program: Program, first: Person, second: Person
) -> str | None:
    """Why two planned peers can no longer be proposed to each other, or None."""
    for person in (first, second):
        enrollment = await enrollment_of(
            session, program, person_id=person.id, role=Role.PEER, lock=True
        )
        if enrollment is None or enrollment.status not in PEER_FREE:
            return f"{person.name} is no longer waiting for a learning partner"
    pairing = Pairing.__table__  # type: ignore[attr-defined]
    ids = [first.id, second.id]
    either = sa.or_(pairing.c.mentee_id.in_(ids), pairing.c.mentor_id.in_(ids))
    busy = await session.scalar(
        sa.select(sa.func.count())
        .select_from(pairing)
        .where(
            pairing.c.program == program.id,
            either,
            pairing.c.status.in_([s.value for s in OPEN_PAIRING]),
        )
    )
    if busy:
        return f"{first.name} or {second.name} already has a proposal"
    apart = await session.scalar(
        sa.select(sa.func.count())
        .select_from(pairing)
        .where(
            pairing.c.program == program.id,
            pairing.c.mentee_id.in_(ids),
            pairing.c.mentor_id.in_(ids),
            pairing.c.status != PairingStatus.EXPIRED.value,
            pairing.c.unexcluded_at.is_(None),
        )
    )
    if apart:
        return f"{first.name} and {second.name} were paired before, or one declined the other"
    return None


def _waitlist_note(why: str, position: int, total: int, *, program: Program) -> Reply:
    partner = "learning partner" if program.type is ProgramType.PEER else "mentor"
    return Reply(
        f"No {partner} for you in this round: {why}. You're number {position} of {total} on "
        "the waitlist; the longer you wait, the earlier you come when fits are close. "
        "I'll message you as soon as there's a proposal. Type status any time.",
        title="You're on the waitlist",
    )


def commands(review: MatchReviewFlow) -> list[Command]:
    """The program lead's ``match`` command, which opens ``review``."""
    return [
        Command(
            "match",
            "propose mentor pairings for everyone waiting (program leads)",
            review.start,
            lead_only=True,
            # A circles program's match has its own line in help's circles block.
            pairs_only=True,
        ),
    ]
