"""The pairing lifecycle: a lead's review, proposals, accept and decline, expiry, waitlist.

A round goes like this. A program lead types ``match``: the round's proposals are listed
(behind profiles when ``matching.blind_review`` is on) and the lead approves all, some or
none. Each approved proposal goes to the mentor first, with Accept / Decline; once the
mentor accepts, it goes to the mentee; when both have accepted, the pairing is active. A
decline returns the mentee to the pool with that mentor excluded for good; no answer within
``matching.proposal_expiry_days`` lapses the proposal (handlers.matching.lapses), which is not a
decline. Every mentee left over is told why and where they stand on the waitlist, and the
reason is kept for ``status`` (handlers.matching.waitlist).

Every status change is a conditional ``UPDATE ... WHERE status = <expected>``, so a double
click, a stale button or an answer racing the expiry changes a pairing once at most.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.audit import record
from handlers.core.engine import Command, Flow, FlowState, Outcome, Turn
from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Option, Prompt, PromptKind, Reply, plural
from handlers.core.outbox import enqueue, withdraw
from handlers.core.program import Program
from handlers.core.questions import pick_option
from handlers.core.refs import NotASelection, fetch, parse_ref, parse_selection
from handlers.core.words import city_of, fit_in_words, utc_offset, zone_in_words
from handlers.matching.lapses import expire_proposals
from handlers.matching.score import (
    MatchPlan,
    Profile,
    Proposal,
    load_pool,
    plan_matches,
    reasons_from,
    shown_fit,
)
from handlers.matching.waitlist import (
    remember_why,
    round_reason,
    waitlist_positions,
    why_waiting_line,
)
from handlers.people.lookups import enrollment_of, pairings_of, people_by_id, person_profile
from handlers.people.lookups import move_pairing as _move
from handlers.plans.chat import begin_pairing, zone_of
from storage import (
    OPEN_PAIRING,
    EnrollmentStatus,
    Pairing,
    PairingStatus,
    Person,
    Role,
)

#: How many proposals a chat review lists one by one; the CLI's --json has them all.
LISTED = 25
#: How the batch of a pair a program lead proposed by hand begins (``pair``).
MANUAL = "manual-"
APPROVE_ALL, CHOOSE, DISCARD = "all", "choose", "none"


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a %-d %b %Y")


# --- profiles and messages -----------------------------------------------------------------


@dataclass(frozen=True)
class _ReaderClock:
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


def _blind(profile: Profile, program: Program, tag: str, clock: _ReaderClock) -> str:
    """A profile with the name left out, for a lead's blind review."""
    bits = [profile.department or "department not given"]
    if profile.level is not None:
        bits.append(f"level {profile.level}")
    bits.append(clock.zone(profile.timezone))
    if profile.role is Role.MENTEE and profile.competencies:
        names = [c.name for k in profile.competencies if (c := program.competency(k))]
        bits.append("wants " + ", ".join(names))
    return f"{tag} ({'; '.join(bits)})"


def _review_line(number: int, proposal: Proposal, program: Program, clock: _ReaderClock) -> str:
    if program.matching.blind_review:
        who = (
            f"{_blind(proposal.mentee, program, f'Mentee {number}', clock)} → "
            f"{_blind(proposal.mentor, program, f'Mentor {number}', clock)}"
        )
    else:
        who = f"{proposal.mentee.name} → {proposal.mentor.name}"
    why = " · ".join(r.lead for r in proposal.reasons) or "no particular strengths"
    weak = f"weak: {proposal.weak} · " if proposal.weak else ""
    return f"{number}. {who} · fit {proposal.score:.2f} · {weak}{why}"


def _choice_label(number: int, entry: dict[str, Any]) -> str:
    weak = ", weak" if entry.get("weak") else ""
    return f"{number}. {entry['label']} (fit {entry['score']:.2f}{weak})"


def _accept_decline(pairing_id: int) -> tuple[Option, ...]:
    return (Option(f"accept {pairing_id}", "Accept"), Option(f"decline {pairing_id}", "Decline"))


# --- the lead's review ---------------------------------------------------------------------


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
    clock = _ReaderClock(reader_zone, now)
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
                    else f"{proposal.mentee.name} → {proposal.mentor.name}"
                ),
            }
        )
    return {
        "batch": secrets.token_hex(6),
        "proposals": entries,
        "waiting": [
            {"mentee": w.mentee.person_id, "why": w.why, "below_min_fit": w.below_min_fit}
            for w in plan.waiting
        ],
        "mentees": plan.mentees,
        "min_fit": program.matching.min_fit,
    }


async def plan_round(session: AsyncSession, program: Program, now: datetime) -> MatchPlan:
    """Lapse overdue proposals, then plan a matching round over the whole pool."""
    await expire_proposals(session, program, now)
    return plan_matches(program, await load_pool(session, program), now)


async def remember_round(
    session: AsyncSession, program: Program, plan: MatchPlan, now: datetime
) -> None:
    """Keep why a round with nothing to approve left each mentee waiting, for ``status``."""
    reasons = {w.mentee.person_id: round_reason(w.why) for w in plan.waiting}
    await remember_why(session, program, reasons, now)


class MatchReviewFlow(Flow):
    """A program lead reviews a matching round and approves all, some or none of it."""

    name = "match-review"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``match`` command: expire lapsed proposals, plan a round, list it for review."""
        plan = await plan_round(turn.session, turn.program, turn.now)
        if plan.problem is not None or not plan.proposals:
            await remember_round(turn.session, turn.program, plan, turn.now)
        if plan.problem is not None:
            return Outcome([Reply(plan.problem)], None, changed=False)
        if not plan.proposals:
            lines = [
                f"No proposals this round: none of the {plural(plan.mentees, 'waiting mentee')} "
                "can be matched."
            ]
            lines += [f"• {w.mentee.name}: {w.why}" for w in plan.waiting[:LISTED]]
            return Outcome([Reply("\n".join(lines))], None, changed=False)
        reader_zone = zone_of(turn.person, turn.program.default_timezone)
        data = round_data(turn.program, plan, reader_zone=reader_zone, now=turn.now)
        state = FlowState(self.name, "review", data)
        return Outcome(self.ask_review(state), state)

    def ask_review(self, state: FlowState) -> list[Reply]:
        """The round's proposals, and the question: approve all, some or none?"""
        entries: list[dict[str, Any]] = state.data["proposals"]
        waiting: list[dict[str, Any]] = state.data["waiting"]
        lines = [
            f"Matching round: {plural(len(entries), 'proposal')} for "
            f"{state.data['mentees']} waiting mentee{'s' if state.data['mentees'] != 1 else ''}"
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
                "Approve them? Mentors get their proposals first; mentees once their "
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
                action.values if action else None,
                [(APPROVE_ALL, "approve all"), (CHOOSE, "choose"), (DISCARD, "discard")],
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
        result = await approve(
            turn.session,
            program=turn.program,
            lead_id=turn.person.id,
            actor=turn.person.email,
            batch=state.data["batch"],
            approved=approved,
            waiting=state.data["waiting"],
            held=held,
            now=turn.now,
        )
        lines = [
            f"Sent {plural(len(result.sent), 'proposal')} to the mentors; each mentee hears "
            f"once their mentor accepts. Proposals lapse after "
            f"{plural(turn.program.matching.proposal_expiry_days, 'day')} without an answer."
        ]
        if result.skipped:
            lines.append("Not sent, because things changed since the round was planned:")
            lines += [f"• {reason}" for reason in result.skipped]
        if result.told_waiting:
            lines.append(
                f"{plural(result.told_waiting, 'mentee')} on the waitlist "
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
    await remember_why(session, program, {m: round_reason(why) for m, why in left_over}, now)
    positions = await waitlist_positions(session, program)
    for mentee_id, why in left_over:
        position = positions.get(mentee_id)
        if position is None:
            continue
        queued = await enqueue(
            session,
            person_id=mentee_id,
            replies=[_waitlist_note(why, position, len(positions))],
            dedupe_key=f"waitlist:{batch}:{mentee_id}",
            now=now,
            program=program,
        )
        result.told_waiting += int(queued)
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
    enrollment = await enrollment_of(session, program, mentee.id, Role.MENTEE)
    await enqueue(
        session,
        person_id=mentor.id,
        replies=[
            _proposal(
                program,
                pairing,
                reader=mentor,
                other=mentee,
                answers=enrollment.answers if enrollment else {},
                now=now,
            )
        ],
        dedupe_key=f"pairing:{pairing.id}:proposed",
        now=now,
        program=program,
        pairing_id=pairing.id,
    )
    return pairing


async def _still_possible(
    session: AsyncSession, program: Program, mentee: Person, mentor: Person
) -> str | None:
    """Why a planned proposal can no longer be sent, or None when it still can."""
    mentee_enrollment = await enrollment_of(session, program, mentee.id, Role.MENTEE)
    if mentee_enrollment is None or mentee_enrollment.status != EnrollmentStatus.WAITING:
        return f"{mentee.name} is no longer waiting for a match"
    mentor_enrollment = await enrollment_of(session, program, mentor.id, Role.MENTOR, lock=True)
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
) -> Reply:
    """A proposal as its reader sees it: the other side's profile, why, Accept / Decline.

    The fit is said in words (handlers.core.words.fit_in_words): the number is for leads.
    """
    assert pairing.id is not None
    stored = reasons_from(pairing.reasons)
    fit = fit_in_words(pairing.score)
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
    return Reply(
        f"{opening}\n{_why_lines(reasons)}\nPlease answer by {_day(pairing.expires_at)}; "
        f"after that the proposal lapses{lapse}.",
        title=title,
        profiles=(person_profile(program, other, role, answers, time_zone=time_zone),),
        actions=_accept_decline(pairing.id),
        hint=f"Or type accept {pairing.id} or decline {pairing.id}.",
    )


def _waitlist_note(why: str, position: int, total: int) -> Reply:
    return Reply(
        f"No mentor for you in this round: {why}. You're number {position} of {total} on "
        "the waitlist; the longer you wait, the earlier you come when fits are close. "
        "I'll message you as soon as there's a proposal. Type status any time.",
        title="You're on the waitlist",
    )


# --- accept and decline --------------------------------------------------------------------


async def _answerable(turn: Turn, args: list[str], verb: str) -> Pairing | Reply:
    """The pairing an ``accept`` / ``decline`` refers to, or the reply that says why not."""
    me = turn.person.id
    program_id = turn.program.id
    if args:
        ref = parse_ref(args[0])
        if ref is None:
            return Reply(f"Type {verb} followed by the proposal's number, e.g. {verb} 12.")
        pairing = await fetch(turn.session, Pairing, ref)
        if (
            pairing is None
            or pairing.program != program_id
            or me
            not in (
                pairing.mentee_id,
                pairing.mentor_id,
            )
        ):
            return Reply(f"There's no proposal {ref.shown} for you. Type status to see yours.")
        return pairing
    awaiting = await turn.session.exec(
        select(Pairing).where(
            Pairing.program == program_id,
            sa.or_(
                sa.and_(
                    Pairing.mentor_id == me,  # type: ignore[arg-type]
                    Pairing.status == PairingStatus.PROPOSED.value,  # type: ignore[arg-type]
                ),
                sa.and_(
                    Pairing.mentee_id == me,  # type: ignore[arg-type]
                    Pairing.status == PairingStatus.ACCEPTED.value,  # type: ignore[arg-type]
                ),
            ),
        )
    )
    found = list(awaiting.all())
    if not found:
        return Reply(
            "You have no proposal waiting for your answer. Type status to see where you stand."
        )
    if len(found) > 1:
        numbers = ", ".join(str(p.id) for p in found)
        return Reply(f"You have several proposals ({numbers}); type {verb} and its number.")
    return found[0]


def _already(pairing: Pairing, me: int | None) -> str:
    """Why an answer to this pairing changes nothing now."""
    status = pairing.status
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
    if pairing.expires_at <= now and pairing.status in (
        PairingStatus.PROPOSED,
        PairingStatus.ACCEPTED,
    ):
        await expire_proposals(turn.session, turn.program, now)
        await turn.session.refresh(pairing)
    people = await people_by_id(turn.session, [pairing.mentee_id, pairing.mentor_id])
    mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
    if me == pairing.mentor_id and await _move(
        turn.session,
        pairing,
        PairingStatus.PROPOSED,
        status=PairingStatus.ACCEPTED.value,
        mentor_answered_at=now,
        expires_at=now + timedelta(days=turn.program.matching.proposal_expiry_days),
    ):
        await _answered(turn, pairing)
        enrollment = await enrollment_of(turn.session, turn.program, mentor.id, Role.MENTOR)
        await enqueue(
            turn.session,
            person_id=pairing.mentee_id,
            replies=[
                _proposal(
                    turn.program,
                    pairing,
                    reader=mentee,
                    other=mentor,
                    answers=enrollment.answers if enrollment else {},
                    now=now,
                )
            ],
            dedupe_key=f"pairing:{pairing.id}:offered",
            now=now,
            program=turn.program,
            pairing_id=pairing.id,
        )
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
        PairingStatus.ACCEPTED,
        status=PairingStatus.ACTIVE.value,
        activated_at=now,
        cycle_started_at=now,
        last_activity_at=now,
    ):
        await _answered(turn, pairing)
        enrollment = await enrollment_of(turn.session, turn.program, mentee.id, Role.MENTEE)
        if enrollment is not None:
            enrollment.status = EnrollmentStatus.MATCHED.value
            enrollment.updated_at = now
            turn.session.add(enrollment)
        await enqueue(
            turn.session,
            person_id=pairing.mentor_id,
            replies=[
                Reply(
                    f"{mentee.name} accepted: you're now paired as their mentor. "
                    "I'll introduce you both and help you plan the first 90 days.",
                    title=f"You're paired with {mentee.name}",
                )
            ],
            dedupe_key=f"pairing:{pairing.id}:active",
            now=now,
            program=turn.program,
            pairing_id=pairing.id,
        )
        await begin_pairing(turn.session, turn.program, pairing, now, summaries=summaries)
        return Outcome(
            [
                Reply(
                    f"Wonderful, you're paired with {mentor.name}! I've let them know; "
                    "I'll introduce you both and help you plan the first 90 days.",
                    title=f"You're paired with {mentor.name}",
                )
            ],
            None,
        )
    return Outcome([Reply(_already(pairing, me))], None, changed=False)


async def decline(turn: Turn, args: list[str]) -> Outcome:
    """The ``decline`` command (and button): say no; the mentee goes back to the pool."""
    found = await _answerable(turn, args, "decline")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, me, now = found, turn.person.id, turn.now
    people = await people_by_id(turn.session, [pairing.mentee_id, pairing.mentor_id])
    mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
    if me == pairing.mentor_id and await _move(
        turn.session,
        pairing,
        PairingStatus.PROPOSED,
        status=PairingStatus.DECLINED.value,
        declined_by=Role.MENTOR.value,
        mentor_answered_at=now,
        closed_at=now,
    ):
        # The mentee never saw this proposal, so there is nobody to tell; status says it.
        await withdraw(turn.session, pairing_id=pairing.id, reason="proposal declined", now=now)
        why = "a mentor proposal for you was declined; the next match round will look again"
        await remember_why(turn.session, turn.program, {pairing.mentee_id: why}, now)
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
        PairingStatus.ACCEPTED,
        status=PairingStatus.DECLINED.value,
        declined_by=Role.MENTEE.value,
        closed_at=now,
    ):
        await withdraw(turn.session, pairing_id=pairing.id, reason="proposal declined", now=now)
        await enqueue(
            turn.session,
            person_id=pairing.mentor_id,
            replies=[
                Reply(
                    f"{mentee.name} decided to look for a different match, so this proposal "
                    "is closed. Thank you for offering; your place is free again."
                )
            ],
            dedupe_key=f"pairing:{pairing.id}:declined",
            now=now,
            program=turn.program,
            pairing_id=pairing.id,
        )
        why = f"you declined {mentor.name}'s offer; the next match round will look again"
        await remember_why(turn.session, turn.program, {pairing.mentee_id: why}, now)
        return Outcome(
            [
                Reply(
                    f"Understood; you won't be proposed to {mentor.name} again. You keep "
                    "your place on the waitlist for the next round."
                )
            ],
            None,
        )
    return Outcome([Reply(_already(pairing, me))], None, changed=False)


# --- the waitlist in status -----------------------------------------------------------------


async def pairing_lines(turn: Turn) -> list[str]:
    """Where the person stands in pairings, in sentences, for ``status``."""
    me = turn.person.id
    mine = await pairings_of(turn.session, turn.program, me, OPEN_PAIRING)
    people = await people_by_id(
        turn.session, [p.mentee_id for p in mine] + [p.mentor_id for p in mine]
    )
    lines: list[str] = []
    for pairing in mine:
        mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
        since = _day(pairing.activated_at or pairing.proposed_at)
        if pairing.mentee_id == me:
            if pairing.status == PairingStatus.ACTIVE:
                lines.append(f"You're paired with {mentor.name}, your mentor, since {since}.")
            elif pairing.status == PairingStatus.ACCEPTED:
                lines.append(
                    f"{mentor.name} has offered to mentor you: type accept {pairing.id} or "
                    f"decline {pairing.id} by {_day(pairing.expires_at)}."
                )
            else:
                lines.append(
                    "A mentor proposal for you is with the mentor; I'll message you "
                    "as soon as they answer."
                )
        elif pairing.status == PairingStatus.ACTIVE:
            lines.append(f"You're mentoring {mentee.name} since {since}.")
        elif pairing.status == PairingStatus.PROPOSED:
            lines.append(
                f"{mentee.name} is proposed to you as a mentee: type accept {pairing.id} or "
                f"decline {pairing.id} by {_day(pairing.expires_at)}."
            )
        else:
            lines.append(f"You accepted {mentee.name}; waiting for them to confirm.")
    waiting = await waitlist_positions(turn.session, turn.program)
    if me in waiting:
        assert me is not None
        lines.append(f"You're number {waiting[me]} of {len(waiting)} on the waitlist for a mentor.")
        enrollment = await enrollment_of(turn.session, turn.program, me, Role.MENTEE)
        if enrollment is not None:
            zone = zone_of(turn.person, turn.program.default_timezone)
            lines.append(why_waiting_line(enrollment, zone))
    return lines


def commands(review: MatchReviewFlow, *, summaries: bool = False) -> list[Command]:
    """The pairing commands: accept, decline, and the program lead's match.

    Args:
        review: The lead's match review flow.
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
        Command(
            "match",
            "propose mentor pairings for everyone waiting (program leads)",
            review.start,
            lead_only=True,
        ),
    ]
