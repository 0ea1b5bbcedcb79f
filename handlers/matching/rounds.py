"""A matching round: the best pairing of the whole pool, and why each mentee left over waits.

A round looks at everyone at once. It scores every pair of the pool
(handlers.matching.score) and hands the scores to :func:`solve`, which matches as many
mentees as possible and, among those pairings, finds the greatest total fit. Each proposal
carries its score and its top reasons in plain words; each mentee left over is told why.

Nor is a pair proposed whose fit is below ``matching.min_fit``; a mentee left over for
that reason is told so. A proposal whose mentor offers none of the competencies its
mentee wants is marked weak, for the lead to look at twice.

A proposal that lapsed (nobody answered in time) is not a decline: the pair may be
proposed again, but only after the mentee's other options. Its score is pushed below every
other allowed pair's (see :data:`LAPSED_AT_MOST`), and its explanation says it lapsed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from handlers.core.messages import every, plural
from handlers.core.program import Program
from handlers.matching.pool import Pool, Profile
from handlers.matching.score import RULES, Reason, Scores, competency_names, explain, score_pool
from handlers.matching.solver import solve

#: The most a long wait adds to a mentee's scores: enough to put the longest-waiting first
#: when fits tie closely, too little to trade a clearly better fit for it.
WAIT_PRIORITY = 0.02
#: When a pool holds pairs whose proposal lapsed, the solver sees those pairs' scores
#: squeezed into [0, LAPSED_AT_MOST] and every other allowed pair's into
#: [OTHERS_AT_LEAST, 1]. Among pairings that match as many mentees, moving a mentee from a
#: lapsed mentor to another mentor with a free place always gains, so a lapsed pair is
#: proposed only when no other mentor with a free place is left for the mentee.
LAPSED_AT_MOST = 0.25
OTHERS_AT_LEAST = 0.5


@dataclass(frozen=True)
class Proposal:
    """A mentee and the mentor the round found for them.

    Attributes:
        weak: Why the lead should look twice before approving it (the mentor offers none
            of the competencies the mentee wants), or None; worded without names.
    """

    mentee: Profile
    mentor: Profile
    score: float
    reasons: tuple[Reason, ...]
    weak: str | None = None


@dataclass(frozen=True)
class Waiting:
    """A mentee the round could not match, and why, in words.

    Attributes:
        below_min_fit: True when mentors had a place the rules allowed, but every one of
            them fits the mentee below ``matching.min_fit``.
    """

    mentee: Profile
    why: str
    below_min_fit: bool = False


@dataclass
class MatchPlan:
    """What a matching round proposes.

    Attributes:
        proposals: The pairings found, best fit first.
        waiting: The mentees left unmatched, with why.
        problem: Why nothing at all could be proposed, when that is the case.
        mentees: How many mentees were in the pool.
        mentors: How many mentors had free places.
    """

    proposals: list[Proposal]
    waiting: list[Waiting]
    problem: str | None = None
    mentees: int = 0
    mentors: int = 0


def _wait_bonus(mentees: Sequence[Profile], now: datetime) -> npt.NDArray[np.float64]:
    waited = np.array(
        [max(0.0, (now - (m.waiting_since or now)).total_seconds()) for m in mentees],
        dtype=np.float64,
    )
    longest = waited.max() if len(waited) else 0.0
    if longest <= 0:
        return np.zeros(len(mentees))
    return WAIT_PRIORITY * waited / longest


def plan_matches(program: Program, pool: Pool, *, now: datetime) -> MatchPlan:
    """The best pairing of the whole pool: as many mentees as possible, the best total fit.

    Args:
        program: The program (weights and rules).
        pool: Everyone the round considers (see :func:`handlers.matching.pool.load_pool`).
        now: The moment of the round (timezones and waiting times are taken then).

    Returns:
        The proposals and the mentees left waiting with why; or a plan with ``problem``
        set when there is nobody to match or no pair the rules allow.
    """
    mentees = pool.mentees
    mentors = [m for m in pool.mentors if m.free > 0]
    plan = MatchPlan([], [], mentees=len(mentees), mentors=len(mentors))
    if not mentees:
        plan.problem = "There are no mentees waiting for a match, so there is nothing to propose."
        return plan
    if not pool.mentors and pool.paused_mentors:
        plan.problem = (
            "Every enrolled mentor is paused right now, so the "
            f"{plural(len(mentees), 'waiting mentee')} can't be matched until one resumes."
        )
        plan.waiting = [Waiting(m, "every mentor is taking a break right now") for m in mentees]
        return plan
    if not pool.mentors:
        plan.problem = (
            f"No mentors have enrolled yet, so the {plural(len(mentees), 'waiting mentee')} "
            "can't be matched. Ask senior "
            "colleagues to type join and enroll as mentors."
        )
        plan.waiting = [Waiting(m, "no mentors have enrolled yet") for m in mentees]
        return plan
    if not mentors:
        plan.problem = (
            "Every mentor's places are taken, so nobody can be matched this round. "
            "Ask mentors to take one more mentee, or invite new mentors."
        )
        plan.waiting = [Waiting(m, "every mentor's places are taken right now") for m in mentees]
        return plan
    scores = score_pool(
        program, Pool(mentees, mentors, pool.together, pool.managers, lapsed=pool.lapsed), now=now
    )
    if not scores.allowed.any():
        plan.problem = (
            "No mentee–mentor pair is allowed by the matching rules: "
            + _blocked_summary(scores, program)
            + ". Nothing was proposed."
        )
        plan.waiting = [
            _waiting(program, scores, scores.allowed, mentee, mentors, row)
            for row, mentee in enumerate(mentees)
        ]
        return plan
    fits = _fits(program, scores)
    if not fits.any():
        plan.problem = _none_fit_enough(program, scores)
        plan.waiting = [
            _waiting(program, scores, fits, mentee, mentors, row)
            for row, mentee in enumerate(mentees)
        ]
        return plan
    weighted = scores.total + _wait_bonus(mentees, now)[:, None]
    weighted = np.clip(weighted, 0.0, 1.0 + WAIT_PRIORITY) / (1.0 + WAIT_PRIORITY)
    if scores.lapsed.any():
        weighted = np.where(
            scores.lapsed,
            LAPSED_AT_MOST * weighted,
            OTHERS_AT_LEAST + (1.0 - OTHERS_AT_LEAST) * weighted,
        )
    pairs = solve(weighted, [m.free for m in mentors], allowed=fits)
    matched: set[int] = set()
    for row, column in pairs:
        matched.add(row)
        mentee, mentor = mentees[row], mentors[column]
        reasons = explain(
            program, scores, mentee=mentee, mentor=mentor, row=row, column=column, now=now
        )
        if scores.lapsed[row, column]:
            reasons += (_lapsed_before(mentee),)
        plan.proposals.append(
            Proposal(
                mentee=mentee,
                mentor=mentor,
                score=float(scores.total[row, column]),
                reasons=reasons,
                weak=_weakness(program, scores, mentee, row=row, column=column),
            )
        )
    plan.proposals.sort(key=lambda p: (-p.score, p.mentee.name))
    for row, mentee in enumerate(mentees):
        if row not in matched:
            plan.waiting.append(_waiting(program, scores, fits, mentee, mentors, row))
    return plan


def _fits(program: Program, scores: Scores) -> npt.NDArray[np.bool_]:
    """The pairs a round may propose: allowed by the hard rules and fit at least min_fit."""
    return scores.allowed & (scores.total >= program.matching.min_fit)


def shown_fit(value: float) -> str:
    """A fit as a review shows it ("0.40"), with more places only when it has them."""
    return f"{value:.2f}" if round(value, 2) == value else f"{value:g}"


def _best_below(program: Program, fits: npt.NDArray[np.float64]) -> str:
    """The best of some fits below min_fit, as a review shows a fit, yet never reaching it."""
    best = float(fits.max())
    shown = round(best, 2)
    if shown >= program.matching.min_fit:  # 0.397 would show as 0.40 next to a minimum of 0.40
        shown = math.floor(best * 100) / 100
    return f"{shown:.2f}"


def _none_fit_enough(program: Program, scores: Scores) -> str:
    """The round's problem when the rules allow some pairs but none reaches min_fit."""
    minimum = shown_fit(program.matching.min_fit)
    return (
        f"No mentee–mentor pair reaches the program's minimum fit of {minimum} "
        f"(matching.min_fit); the best pair the rules allow fits "
        f"{_best_below(program, scores.total[scores.allowed])}. Nothing was proposed. Lower "
        "matching.min_fit in the program file, or invite mentors who offer what the "
        "waiting mentees want to develop."
    )


def _weakness(
    program: Program, scores: Scores, mentee: Profile, *, row: int, column: int
) -> str | None:
    """Why a proposed pair is weak, without names, or None when it is not.

    A pair is weak when the mentee named competencies they want to develop and the mentor
    offers none of them. A mentee who named none scores 0.5 on the part (unknown), never
    0, so they are never weak for this reason.
    """
    if scores.parts["competencies"][row, column] > 0:
        return None
    known = {c.id for c in program.competencies}
    wanted = competency_names(program, [k for k in mentee.competencies if k in known])
    if not wanted:
        return None
    if len(wanted) == 1:
        return f"the mentor doesn't offer {wanted[0]}, the competency the mentee wants"
    return f"the mentor offers none of {', '.join(wanted)}, the competencies the mentee wants"


def _waiting(
    program: Program,
    scores: Scores,
    fits: npt.NDArray[np.bool_],
    mentee: Profile,
    mentors: Sequence[Profile],
    row: int,
) -> Waiting:
    """A mentee the round leaves over, with why."""
    below = bool(scores.allowed[row].any() and not fits[row].any())
    return Waiting(
        mentee, _why_waiting(program, scores, fits, mentee, mentors, row), below_min_fit=below
    )


def _lapsed_before(mentee: Profile) -> Reason:
    """Why a pair whose proposal lapsed is proposed again, for each reader."""
    return Reason(
        part="lapsed",
        points=0.0,
        mentee=(
            "proposed to you before, when the proposal lapsed without an answer; no other "
            "mentor with a free place was left for you"
        ),
        mentor=(
            f"you were proposed to {mentee.first_name} before and that proposal lapsed without "
            f"an answer; no other mentor with a free place was left for {mentee.first_name}"
        ),
        lead=(
            "proposed before and lapsed unanswered; no other mentor with a free place was "
            "left for them"
        ),
    )


_RULE_WORDS = {
    "chain": "in your management chain",
    "before": "kept apart from you (paired before, or a proposal declined)",
    "timezone": "too many hours from your timezone",
    "self": "yourself",
    "levels": "too close to your level (or too far from it) for this program",
}


def _rule_counts(blocked: npt.NDArray[np.int8]) -> dict[str, int]:
    """How many pairs each hard rule forbids, by rule name."""
    codes, tallies = np.unique(blocked, return_counts=True)
    return {RULES[c]: int(t) for c, t in zip(codes.tolist(), tallies.tolist(), strict=True) if c}


def _blocked_summary(scores: Scores, program: Program) -> str:
    hours = program.matching.max_timezone_gap_hours

    def blocked(rule: str, count: int) -> str:
        pairs = plural(count, "pair")
        return {
            "chain": f"{pairs} within a management chain",
            "before": f"{pairs} that {'was' if count == 1 else 'were'} paired or declined before",
            "timezone": f"{pairs} more than {hours} h apart",
            "self": f"{plural(count, 'person', many='people')} enrolled on both sides",
            "levels": f"{pairs} whose levels this program's level gap rules out",
        }[rule]

    counts = _rule_counts(scores.blocked)
    return ", ".join(blocked(rule, count) for rule, count in sorted(counts.items()))


def _why_waiting(
    program: Program,
    scores: Scores,
    fits: npt.NDArray[np.bool_],
    mentee: Profile,
    mentors: Sequence[Profile],
    row: int,
) -> str:
    """Why one mentee was left unmatched, in words they can act on."""
    allowed = np.flatnonzero(scores.allowed[row])
    if not len(allowed):
        counts = _rule_counts(scores.blocked[row])
        hours = program.matching.max_timezone_gap_hours
        words = dict(_RULE_WORDS, timezone=f"more than {hours} h from your timezone")
        if len(mentors) == 1:
            (rule,) = counts
            if rule == "self":
                return "the only mentor with a free place is you"
            return (
                f"the only mentor with a free place can't mentor you because they're {words[rule]}"
            )
        listed = "; ".join(
            f"{count} {'is' if count == 1 else 'are'} {words[rule]}"
            for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        )
        return (
            f"none of the {plural(len(mentors), 'mentor')} with a free place can mentor you "
            f"({listed})"
        )
    if not fits[row].any():
        if len(allowed) == len(mentors):
            who = "the mentor" if len(mentors) == 1 else every(len(mentors), "mentor")
            who += " with a free place"
        else:
            who = "the only mentor" if len(allowed) == 1 else f"the {len(allowed)} mentors"
            who += " with a free place who could mentor you"
        # In words: the mentee reads this, and a fit's number is for leads (the round's
        # header and problem give them the minimum and the best fit).
        return (
            f"{who} {'fits' if len(allowed) == 1 else 'fit'} you less closely than this "
            "program asks of a proposal, so none was proposed; new mentors may fit you better, "
            "and you can type join to update the competencies and goals you gave"
        )
    allowed = np.flatnonzero(fits[row])
    coverage = scores.parts["competencies"][row]
    if mentee.competencies and not (coverage[allowed] > 0).any():
        missing = ", ".join(competency_names(program, mentee.competencies))
        return (
            f"no mentor with a free place offers {missing} yet, and the places left went "
            "to mentees they suit better"
        )
    if len(allowed) == 1:
        return (
            "the only mentor with a free place who could mentor you was matched with a mentee "
            "who fits them better or waited longer"
        )
    return (
        f"the {len(allowed)} mentors with a free place who could mentor you were matched with "
        "mentees who fit them better or waited longer"
    )
