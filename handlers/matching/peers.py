"""A peer program's matching round: every free peer paired with another, the best total fit.

Peers are scored with the parts of handlers.matching.score, read both ways: what one peer
wants to develop (``meaning: competencies``) against what the other can help with
(``meaning: strengths``), and each one's goals against the other's goals and strengths;
formats, shared working hours and a new function count as for mentors and mentees, and
there is no seniority part. A pair's fit is the mean of its two directions. The hard rules
are a pair's (nobody with themselves, nor anyone in their management chain, nor someone
they were paired with or declined, nor further apart than ``max_timezone_gap_hours``) plus
``matching.max_level_gap``; paused peers are not in the pool.

The pairing is handlers.matching.peer_solver's: the most pairs, then the best total fit,
exact (see there for the size beyond which it is exact on each peer's best candidates
only). A pair is stored as a Pairing with the lower person id on the ``mentee_id`` side;
each proposal says why in words both ways ("Ana can help Ben with Coaching; Ben can help
Ana with Influence"). The odd one out, and anyone nobody may pair with, stays waiting with
why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from handlers.core.messages import plural
from handlers.core.program import Program
from handlers.matching.peer_solver import candidate_edges, pair_peers
from handlers.matching.pool import Pool, Profile
from handlers.matching.rounds import (
    LAPSED_AT_MOST,
    OTHERS_AT_LEAST,
    MatchPlan,
    Proposal,
    Waiting,
    shown_fit,
)
from handlers.matching.score import (
    PARTS,
    RULES,
    Reason,
    Scores,
    competency_names,
    part_weights,
    practical_reasons,
    score_pool,
)

_RULE_WORDS = {
    "chain": "in your management chain",
    "before": "kept apart from you (paired before, or a proposal declined)",
    "timezone": "too many hours from your timezone",
    "levels": "too many levels apart from you",
}


def score_peers(program: Program, pool: Pool, *, now: datetime) -> Scores:
    """Every peer against every peer, one direction per cell: row wants, column offers.

    The rows are the peers with what they want to develop, the columns the same peers
    with what they can help with, so ``total[i, j]`` is how well ``j`` suits ``i``.
    """
    offering = [replace(p, competencies=p.strengths) for p in pool.peers]
    return score_pool(
        program,
        Pool(pool.peers, offering, pool.together, pool.managers, lapsed=pool.lapsed),
        now=now,
    )


def _both_ways(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return (values + values.T) / 2


def plan_peer_matches(program: Program, pool: Pool, *, now: datetime) -> MatchPlan:
    """A peer program's round: the most pairs, then the best total fit, and who waits why."""
    peers = pool.peers
    plan = MatchPlan([], [], mentees=len(peers), mentors=0)
    if not peers:
        plan.problem = (
            "There are no peers waiting for a learning partner, so there is nothing to propose."
        )
        if pool.paused_peers:
            paused = pool.paused_peers
            are = "is" if paused == 1 else "are"
            plan.problem += f" ({plural(paused, 'enrolled peer')} {are} paused.)"
        return plan
    if len(peers) == 1:
        # A blind review shows the lead no name before approval.
        who = "One peer is" if program.matching.blind_review else f"{peers[0].name} is"
        plan.problem = (
            f"{who} the only peer waiting for a learning partner, so nobody can be paired yet."
        )
        plan.waiting = [Waiting(peers[0], "you're the only peer waiting for a partner so far")]
        return plan
    scores = score_peers(program, pool, now=now)
    total = _both_ways(scores.total)
    allowed = scores.allowed & scores.allowed.T
    fits = allowed & (total >= program.matching.min_fit)
    if not fits.any():
        plan.problem = (
            "No two waiting peers may be paired under the matching rules"
            + (
                ""
                if allowed.any()
                else f" (levels at most {program.matching.max_level_gap} apart, no management "
                "chain, nobody paired or declined before, timezones close enough)"
            )
            + (
                f", nor do any fit at least the minimum of {shown_fit(program.matching.min_fit)}"
                if allowed.any()
                else ""
            )
            + ". Nothing was proposed."
        )
        plan.waiting = [_waiting(scores, fits, peer, row) for row, peer in enumerate(peers)]
        return plan
    lapsed = scores.lapsed | scores.lapsed.T
    weighted = total
    if lapsed.any():
        weighted = np.where(
            lapsed, LAPSED_AT_MOST * total, OTHERS_AT_LEAST + (1 - OTHERS_AT_LEAST) * total
        )
    levels = [p.level if p.level is not None else -1 for p in peers]
    order = np.lexsort((np.arange(len(peers)), np.array(levels)))
    pairs = pair_peers(len(peers), candidate_edges(weighted, fits), order=order)
    matched: set[int] = set()
    for a, b in pairs:
        # The lower person id is stored as the "mentee" side (see the module docstring).
        if peers[a].person_id > peers[b].person_id:
            a, b = b, a
        matched |= {a, b}
        reasons = explain_peers(
            program, scores, first=peers[a], second=peers[b], rows=(a, b), now=now
        )
        plan.proposals.append(
            Proposal(mentee=peers[a], mentor=peers[b], score=float(total[a, b]), reasons=reasons)
        )
    plan.proposals.sort(key=lambda p: (-p.score, p.mentee.name))
    for row, peer in enumerate(peers):
        if row not in matched:
            plan.waiting.append(_waiting(scores, fits, peer, row))
    return plan


def _names(program: Program, ids: list[str]) -> str:
    return ", ".join(competency_names(program, ids))


def explain_peers(
    program: Program,
    scores: Scores,
    *,
    first: Profile,
    second: Profile,
    rows: tuple[int, int],
    now: datetime,
    top: int = 3,
) -> tuple[Reason, ...]:
    """Why two peers fit, both ways, worded for each of them (``mentee``: the first) and a lead."""
    a, b = rows
    weights = part_weights(program)
    total_weight = sum(weights.values()) or 1.0
    reasons: list[Reason] = []

    def add(part: str, one: str, other: str, lead: str) -> None:
        value = (float(scores.parts[part][a, b]) + float(scores.parts[part][b, a])) / 2
        points = weights[part] * value / total_weight
        if points > 0:
            reasons.append(Reason(part, points, one, other, lead))

    helps_first = [c for c in first.competencies if c in set(second.strengths)]
    helps_second = [c for c in second.competencies if c in set(first.strengths)]
    x, y = first.first_name, second.first_name
    if helps_first or helps_second:
        lead_bits, one_bits, other_bits = [], [], []
        if helps_first:
            names = _names(program, helps_first)
            lead_bits.append(f"{y} can help {x} with {names}")
            one_bits.append(f"{y} can help you with {names}")
            other_bits.append(f"you can help {x} with {names}")
        if helps_second:
            names = _names(program, helps_second)
            lead_bits.append(f"{x} can help {y} with {names}")
            one_bits.append(f"you can help {y} with {names}")
            other_bits.append(f"{x} can help you with {names}")
        add("competencies", "; ".join(one_bits), "; ".join(other_bits), "; ".join(lead_bits))
    terms = scores.goal_terms(a, b) or scores.goal_terms(b, a)
    if terms:
        words = ", ".join(terms)
        add(
            "goals",
            f"your goals and {y}'s speak to each other ({words})",
            f"your goals and {x}'s speak to each other ({words})",
            f"goals overlap ({words})",
        )
    for part, *worded in practical_reasons(program, first=first, second=second, now=now):
        add(part, *worded)
    if first.department and second.department and first.department != second.department:
        text = f"{first.department} and {second.department}: a view from another function"
        add("cross_function", text, text, text)
    reasons.sort(key=lambda r: (-r.points, PARTS.index(r.part)))
    return tuple(reasons[:top])


def _waiting(scores: Scores, fits: npt.NDArray[np.bool_], peer: Profile, row: int) -> Waiting:
    """A peer the round leaves over, with why."""
    others = len(fits) - 1
    if fits[row].any():
        return Waiting(
            peer,
            "the peers who could pair with you were paired with others who fit them better "
            "(with an odd number of peers, one waits for the next round)",
        )
    if scores.allowed[row].any() and scores.allowed[:, row].any():
        return Waiting(
            peer,
            "the peers you could pair with fit you less closely than this program asks of a "
            "proposal",
            below_min_fit=True,
        )
    blocked = np.maximum(scores.blocked[row], scores.blocked[:, row])
    codes, tallies = np.unique(np.delete(blocked, row), return_counts=True)
    listed = "; ".join(
        f"{count} {'is' if count == 1 else 'are'} {_RULE_WORDS[RULES[code]]}"
        for code, count in sorted(
            zip(codes.tolist(), tallies.tolist(), strict=True), key=lambda t: -t[1]
        )
        if code
    )
    if others == 1 and len(kept := [c for c in codes.tolist() if c]) == 1:
        because = _RULE_WORDS[RULES[kept[0]]]
        return Waiting(
            peer, f"the only other peer waiting can't pair with you because they're {because}"
        )
    return Waiting(
        peer,
        f"none of the {plural(others, 'other peer')} waiting can pair with you"
        + (f" ({listed})" if listed else ""),
    )
