"""A program lead's round of circles: plan it, review it in chat, approve all, some or none.

``match`` for a ``type: circles`` program (handlers.matching.review hands it over) lists
the circles :func:`handlers.circles.formation.plan_circles` formed: each with its
facilitator, members, fit and reasons, how close to the best possible the round is, and
who is left over and why. The lead approves all of them (``approve all``), some
(``approve 1 3``, or Choose) or none, as for pairs. Each approved circle is checked again
and proposed to its people (handlers.circles.proposals); every member left over is told
why and where they stand on the waitlist. ``mentorbot match`` runs the same round.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.answers import expire_circles
from handlers.circles.circle_pool import facilitator_capacity
from handlers.circles.formation import CirclePlan, PlannedCircle, plan_circles
from handlers.circles.proposals import (
    facilitating,
    least_members,
    propose_circle,
)
from handlers.core.audit import record
from handlers.core.engine import Flow, FlowState, Outcome, Turn
from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Option, Prompt, PromptKind, Reply, plural
from handlers.core.program import Program
from handlers.core.questions import pick_option
from handlers.core.refs import NotASelection, parse_selection
from handlers.matching.pool import Profile
from handlers.matching.review import (
    APPROVE_ALL,
    CHOOSE,
    DISCARD,
    LISTED,
    ReaderClock,
    blind_profile,
    too_early,
)
from handlers.matching.waitlist import in_open_circle, remember_why, tell_left_over
from handlers.people.lookups import enrollment_of, people_by_id
from handlers.plans.chat import zone_of
from storage import Circle, EnrollmentStatus, Person, Role
from storage.queries import locked
from storage.tables import ENROLLMENT


def round_reason(why: str) -> str:
    """A round's reason for a member left over, as ``status`` says it."""
    return f"the match round found no circle for you: {why}"


def how_close(gap: float) -> str:
    """How close a round's circles are to the best the optimiser could prove: "the best
    possible", or "within 1.3% of the best possible".

    The gap is rounded up to a tenth of a percent, so the words never overstate it.
    """
    if gap <= 0:
        return "the best possible"
    percent = math.ceil(gap * 1000) / 10
    return f"within {percent:g}% of the best possible"


def optimality_line(gap: float) -> str:
    """The review's line on how close to optimal the round is."""
    return f"These circles are {how_close(gap)}."


def _names(people: Sequence[Any]) -> str:
    return ", ".join(p.name for p in people)


def _review_line(number: int, planned: PlannedCircle, program: Program, clock: ReaderClock) -> str:
    """One circle of the review: who facilitates whom (behind profiles in a blind review),
    the fit and why."""
    reasons = planned.reasons
    if program.matching.blind_review:
        facilitator = blind_profile(planned.facilitator, program, f"Facilitator {number}", clock)
        members = ", ".join(
            blind_profile(member, program, f"Member {number}.{n}", clock)
            for n, member in enumerate(planned.members, start=1)
        )
        # The reasons name the facilitator by first name ("Ana can help with ...").
        named = re.compile(rf"\b{re.escape(planned.facilitator.first_name)}\b")
        reasons = tuple(named.sub("the facilitator", reason) for reason in reasons)
    else:
        facilitator, members = planned.facilitator.name, _names(planned.members)
    why = " · ".join(reasons) or "no particular strengths"
    return f"{number}. {facilitator} facilitates {members} · fit {planned.score:.2f} · {why}"


def circle_round_data(
    program: Program, plan: CirclePlan, *, reader_zone: str | None = None, now: datetime
) -> dict[str, Any]:
    """A planned round of circles as JSON-ready data: what the review shows and approval needs.

    Args:
        reader_zone: The time zone of the lead who reviews it, for the time zones a blind
            review shows ("London, 1 h behind you"); None on the command line.
        now: When the round is planned.
    """
    blind = program.matching.blind_review
    clock = ReaderClock(reader_zone, now)
    circles = [
        {
            "facilitator": planned.facilitator.person_id,
            "members": [m.person_id for m in planned.members],
            "score": round(planned.score, 4),
            "reasons": list(planned.reasons),
            "member_reasons": {
                str(person_id): list(why) for person_id, why in planned.member_reasons.items()
            },
            "line": _review_line(number, planned, program, clock),
            "label": (f"Facilitator {number}" if blind else planned.facilitator.name)
            + f" + {len(planned.members)}",
        }
        for number, planned in enumerate(plan.circles, start=1)
    ]
    names = {m.person_id: m.name for c in plan.circles for m in c.members}
    waiting = {p.person_id: p for p in plan.waiting}
    return {
        "batch": secrets.token_hex(6),
        "circles": circles,
        "left_over": [
            {"mentee": pid, "shown": _left_over_name(waiting.get(pid), program, clock), "why": why}
            for pid, why in plan.left_over.items()
        ],
        "left_over_lines": [
            f"• {_left_over_name(waiting.get(pid), program, clock)}: {why}"
            for pid, why in plan.left_over.items()
        ],
        "placed": len(names),
        "gap": plan.optimality_gap,
        "too_small": plan.too_small,
    }


def _left_over_name(member: Profile | None, program: Program, clock: ReaderClock) -> str:
    """A member left over as the review names them: by name, or behind a profile."""
    if member is None:
        return "A member"
    if program.matching.blind_review:
        return blind_profile(member, program, "A member", clock)
    return member.name


async def plan_circle_round(
    session: AsyncSession, program: Program, *, now: datetime
) -> CirclePlan:
    """Lapse overdue circle proposals, then form the circles of the program's whole pool.

    A cohort program before its enrolment closes forms nothing and says when it can.
    """
    early = too_early(program, now=now)
    if early is not None:
        return CirclePlan(program, (), {}, 0.0, too_small=early)
    await expire_circles(session, program, now=now)
    return await plan_circles(session, program=program, now=now)


class CircleReviewFlow(Flow):
    """A program lead reviews a round of circles and approves all, some or none of it."""

    name = "circle-review"

    async def start_for(self, turn: Turn, program: Program) -> Outcome:
        """``match`` for a circles program: plan the round and list it for review."""
        plan = await plan_circle_round(turn.session, program, now=turn.now)
        reader_zone = zone_of(turn.person, turn.programs.default_timezone)
        data = circle_round_data(program, plan, reader_zone=reader_zone, now=turn.now)
        if not plan.circles:
            await remember_why(
                turn.session,
                program,
                reasons={pid: round_reason(why) for pid, why in plan.left_over.items()},
                now=turn.now,
            )
            text = plan.too_small or "No circles this round: the waiting members can't form one."
            lines = [text, *data["left_over_lines"][:LISTED]]
            return Outcome([Reply("\n".join(lines))], None, changed=False)
        state = FlowState(self.name, "review", {**data, "program": program.id})
        return Outcome(self.ask_review(turn, state), state)

    def ask_review(self, turn: Turn, state: FlowState) -> list[Reply]:
        """The round's circles, and the question: approve all, some or none?"""
        circles: list[dict[str, Any]] = state.data["circles"]
        program = turn.programs.of(state.data["program"])
        left: list[str] = state.data["left_over_lines"]
        waiting = state.data["placed"] + len(state.data["left_over"])
        lines = [
            f"Circles for {program.name}: {plural(len(circles), 'circle')} for "
            f"{plural(waiting, 'waiting member')}; {len(state.data['left_over'])} would stay "
            "on the waitlist.",
            optimality_line(float(state.data["gap"])),
        ]
        lines += [c["line"] for c in circles[:LISTED]]
        if len(circles) > LISTED:
            lines.append(
                f"… and {len(circles) - LISTED} more (`mentorbot match --dry-run --json` "
                "lists them all)."
            )
        if left:
            lines.append("Left over:")
            lines += left[:LISTED]
        prompt = Prompt(
            PromptKind.SINGLE,
            (
                Option(APPROVE_ALL, f"Approve all {len(circles)}"),
                Option(CHOOSE, "Choose which to approve"),
                Option(DISCARD, "Discard this round"),
            ),
        )
        return [
            Reply("\n".join(lines), title="Circles to review"),
            Reply(
                "Approve them? Each facilitator and member is asked at once; a circle starts "
                "once its facilitator and at least "
                f"{plural(least_members(program), 'member')} accept.",
                prompt=prompt,
                hint="Or type approve 1 3 to approve some, or cancel to decide later; nothing "
                "is sent until you approve.",
            ),
        ]

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        if state.step == "choose":
            circles = state.data["circles"]
            options = tuple(
                Option(str(n), f"{n}. {c['label']} (fit {c['score']:.2f})")
                for n, c in enumerate(circles, start=1)
            )
            return [
                Reply(
                    "Which circles should go out? Pick one or more (e.g. 1, 3).",
                    prompt=Prompt(PromptKind.MULTI, options, min=1, max=len(options)),
                    hint="back returns to the whole list; cancel sends nothing.",
                )
            ]
        return self.ask_review(turn, state)

    def describe(self, state: FlowState) -> str:
        return "the review of a round of circles"

    def cancelled(self, state: FlowState) -> str:
        return "Nothing was sent. Type match to form circles afresh when you're ready."

    async def back(self, turn: Turn, state: FlowState) -> Outcome:
        if state.step == "choose":
            previous = FlowState(self.name, "review", state.data)
            return Outcome(self.ask(turn, previous), previous)
        return await super().back(turn, state)

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        count = len(state.data["circles"])
        action = turn.inbound.action
        values = action.values if action else None
        try:
            if state.step == "choose":
                return await self._approve(turn, state, _pick_numbers(turn.text, values, count))
            words = turn.text.lower().replace(",", " ").split() if values is None else []
            if words in (["approve", "none"], ["none"]):
                return Outcome([Reply(self.cancelled(state))], None)
            if words in (["approve"], ["approve", "all"]):
                return await self._approve(turn, state, list(range(count)))
            if words[:1] == ["approve"]:
                chosen = _pick_numbers(" ".join(words[1:]), None, count)
                return await self._approve(turn, state, chosen)
            choice = pick_option(
                turn.text,
                values=values,
                options=[(APPROVE_ALL, "approve all"), (CHOOSE, "choose"), (DISCARD, "discard")],
            )
        except InvalidAnswer as problem:
            return Outcome([Reply(str(problem)), *self.ask(turn, state)], state, False)
        if choice == DISCARD:
            return Outcome([Reply(self.cancelled(state))], None)
        if choice == CHOOSE:
            step = FlowState(self.name, "choose", state.data)
            return Outcome(self.ask(turn, step), step)
        return await self._approve(turn, state, list(range(count)))

    async def _approve(self, turn: Turn, state: FlowState, chosen: list[int]) -> Outcome:
        circles: list[dict[str, Any]] = state.data["circles"]
        program = turn.programs.of(state.data["program"])
        assert turn.person.id is not None
        result = await approve_circles(
            turn.session,
            program=program,
            lead_id=turn.person.id,
            actor=turn.person.email,
            batch=state.data["batch"],
            approved=[circles[i] for i in chosen],
            left_over=state.data["left_over"],
            held=[c for i, c in enumerate(circles) if i not in set(chosen)],
            now=turn.now,
        )
        return Outcome([Reply(approval_text(program, result))], None)


def approval_text(program: Program, result: CircleApproval) -> str:
    """What the lead reads after approving: what went out, what did not and why."""
    lines = [
        f"Sent {plural(len(result.sent), 'circle proposal')}: each facilitator and member is "
        "asked to accept or decline. Proposals lapse after "
        f"{plural(program.matching.proposal_expiry_days, 'day')} without an answer."
    ]
    if result.skipped:
        lines.append("Not sent, because things changed since the round was planned:")
        lines += [f"• {reason}" for reason in result.skipped]
    if result.told_waiting:
        lines.append(
            f"{plural(result.told_waiting, 'member')} on the waitlist "
            f"{'was' if result.told_waiting == 1 else 'were'} told why and where they stand."
        )
    return "\n".join(lines)


def _pick_numbers(text: str, values: tuple[str, ...] | None, count: int) -> list[int]:
    """Circle numbers chosen by click, or typed as ``1, 3`` or ``2-4``."""
    raw = list(values) if values is not None else text.replace(",", " ").split()
    try:
        chosen = parse_selection(raw, count)
    except NotASelection as exc:
        if exc.number is None:
            raise InvalidAnswer(
                f"Please type circle numbers between 1 and {count}, e.g. approve 1 3."
            ) from None
        raise InvalidAnswer(
            f"There is no circle {exc.number}; they go from 1 to {count}."
        ) from None
    if not chosen:
        raise InvalidAnswer("Pick at least one circle, or type cancel to send none.")
    return sorted(chosen)


@dataclass
class CircleApproval:
    """What approving a round of circles did.

    Attributes:
        sent: The circles proposed.
        skipped: Why some approved circles were not sent (or went without someone).
        told_waiting: How many members left over were told their place on the waitlist.
    """

    sent: list[Circle]
    skipped: list[str]
    told_waiting: int


async def approve_circles(
    session: AsyncSession,
    *,
    program: Program,
    lead_id: int | None,
    actor: str,
    batch: str,
    approved: Sequence[dict[str, Any]],
    left_over: Sequence[dict[str, Any]],
    held: Sequence[dict[str, Any]] = (),
    now: datetime,
) -> CircleApproval:
    """Propose a round's approved circles and tell the members left over why.

    Each circle is checked again first: its facilitator must still be available with room,
    and a member who stopped waiting (left, paused, joined another circle) is left out; a
    circle that falls under ``circles.size.min`` that way is not sent.

    Args:
        approved: Circles as :func:`circle_round_data` lists them.
        left_over: Members the round left over, as ``{"mentee", "why"}``.
        held: Circles the lead did not approve; their members are told so.
    """
    least = least_members(program)
    result = CircleApproval([], [], 0)
    ids = [c["facilitator"] for c in approved] + [m for c in approved for m in c["members"]]
    people = await people_by_id(session, ids)
    for entry in approved:
        facilitator = people[entry["facilitator"]]
        problem = await _facilitator_problem(session, program, facilitator)
        if problem is not None:
            result.skipped.append(f"{facilitator.name}'s circle: {problem}")
            continue
        members: list[Person] = []
        gone: list[Person] = []
        for member_id in entry["members"]:
            member = people[member_id]
            free = await _still_waiting(session, program, member)
            (members if free else gone).append(member)
        if len(members) < least:
            result.skipped.append(
                f"{facilitator.name}'s circle: only {len(members)} of its members "
                f"{'is' if len(members) == 1 else 'are'} still waiting ({_names(gone)} no "
                f"longer), and a circle needs {least}"
            )
            continue
        if gone:
            result.skipped.append(
                f"{facilitator.name}'s circle went without {_names(gone)}, who no longer wait"
            )
        circle = await propose_circle(
            session,
            program=program,
            facilitator=facilitator,
            members=members,
            score=float(entry["score"]),
            reasons=list(entry["reasons"]),
            member_reasons={int(k): v for k, v in entry["member_reasons"].items()},
            batch=batch,
            lead_id=lead_id,
            now=now,
        )
        result.sent.append(circle)
    told = [(w["mentee"], str(w["why"])) for w in left_over]
    told += [
        (member_id, "the program lead held back this round's circle for you")
        for entry in held
        for member_id in entry["members"]
    ]
    result.told_waiting += await tell_left_over(
        session,
        program,
        left_over=told,
        batch=batch,
        note=_waitlist_note,
        reason=round_reason,
        now=now,
    )
    await record(
        session,
        actor=actor,
        action="match-approve",
        target=batch,
        now=now,
        detail={
            "circles": len(approved),
            "sent": len(result.sent),
            "skipped": len(result.skipped),
            "held": len(held),
        },
    )
    return result


async def _facilitator_problem(
    session: AsyncSession, program: Program, facilitator: Person
) -> str | None:
    """Why the facilitator can no longer take this circle, or None."""
    assert facilitator.id is not None
    enrollment = await enrollment_of(
        session, program, person_id=facilitator.id, role=Role.MENTOR, lock=True
    )
    if enrollment is None or enrollment.status != EnrollmentStatus.AVAILABLE:
        return f"{facilitator.name} is not available to facilitate right now"
    taken = await facilitating(session, program, person_id=facilitator.id)
    if taken >= facilitator_capacity(program, answered=enrollment.capacity):
        return f"{facilitator.name} has no room for another circle"
    return None


async def _still_waiting(session: AsyncSession, program: Program, member: Person) -> bool:
    """Whether a member is still waiting for a circle (and in no open one)."""
    conn = await session.connection()
    found = await conn.scalar(
        locked(sa.select(ENROLLMENT.c.id), of=ENROLLMENT).where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.person_id == member.id,
            ENROLLMENT.c.role == Role.MENTEE.value,
            ENROLLMENT.c.status == EnrollmentStatus.WAITING.value,
            ~in_open_circle(ENROLLMENT.c.program, ENROLLMENT.c.person_id),
        )
    )
    return found is not None


def _waitlist_note(why: str, position: int, total: int) -> Reply:
    return Reply(
        f"No circle for you in this round: {why}. You're number {position} of {total} on the "
        "waitlist; the longer you wait, the earlier you come. I'll message you as soon as "
        "there's a circle for you. Type status any time.",
        title="You're on the waitlist",
    )
