"""Why a circle holds its people, and why a mentee was left over, in words.

The lead reads a circle's reasons ("4 members want Coaching, 3 want Influence"; "5 h of
working hours in common with everyone"); each member reads their own ("you share Coaching
and Influence with 3 others"); a mentee left over reads why, addressed to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from handlers.circles.circle_pool import CirclePool, Tables
from handlers.circles.circle_solver import SCALE, circle_value, common_hours, shared
from handlers.core.messages import every, plural
from handlers.core.program import Program
from handlers.matching.pool import Profile
from handlers.matching.score import RULES, competency_names, explain


def _listed(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _hours(value: float) -> str:
    rounded = round(value * 2) / 2
    return f"{rounded:g} h"


class Words:
    """The words of one plan: built once per plan, asked once per circle and left-over."""

    def __init__(self, program: Program, table: Tables, found: CirclePool, *, now: datetime):
        self.program = program
        self.table = table
        self.found = found
        self.now = now

    def _common_hours(self, facilitator: int, members: Sequence[int]) -> float:
        rows = np.asarray(members, dtype=np.intp)
        least = float(self.table.hours_with[rows, facilitator].min())
        if len(rows) > 1:
            block = self.table.hours[np.ix_(rows, rows)]
            least = min(least, float(block[~np.eye(len(rows), dtype=bool)].min()))
        return least

    def member_value(self, i: int, facilitator: int, members: Sequence[int]) -> float:
        """One member's value in the circle, in [0, 1] (fit, shared wants, common hours)."""
        problem = self.table.problem
        share = int(problem.unit[i]) * int(shared(problem, members)[list(members).index(i)])
        hours = common_hours(problem, facilitator, members)
        return (int(problem.fit[i, facilitator]) + share + hours) / SCALE

    def circle(
        self, facilitator: int, members: Sequence[int]
    ) -> tuple[Profile, tuple[Profile, ...], float, tuple[str, ...], dict[int, tuple[str, ...]]]:
        """A circle's facilitator, members (best fit first), score and reasons."""
        mentees = self.found.mentees
        ordered = sorted(
            members,
            key=lambda i: (-self.member_value(i, facilitator, members), mentees[i].person_id),
        )
        value = circle_value(self.table.problem, facilitator, members)
        score = value / (len(members) * SCALE)
        lead = self._circle_reasons(facilitator, ordered)
        by_member = {
            mentees[i].person_id: self._member_reasons(i, facilitator, ordered) for i in ordered
        }
        people = tuple(mentees[i] for i in ordered)
        return self.found.facilitators[facilitator], people, score, lead, by_member

    def _wanted(self, i: int) -> list[str]:
        known = {c.id for c in self.program.competencies}
        return [k for k in self.found.mentees[i].competencies if k in known]

    def _hours_line(self, facilitator: int, members: Sequence[int]) -> str:
        common = self._common_hours(facilitator, members)
        if common <= 0:
            return "no working hours that everyone shares"
        return f"{_hours(common)} of working hours in common with everyone"

    def _circle_reasons(self, facilitator: int, members: Sequence[int]) -> tuple[str, ...]:
        counts: dict[str, int] = {}
        for i in members:
            for key in self._wanted(i):
                counts[key] = counts.get(key, 0) + 1
        shared = sorted((k for k, c in counts.items() if c >= 2), key=lambda k: -counts[k])
        reasons = []
        if shared:
            parts = []
            for n, key in enumerate(shared[:3]):
                (name,) = competency_names(self.program, [key])
                many = counts[key]
                if n == 0:
                    everyone = many == len(members)
                    wanting = every(many, "member") if everyone else plural(many, "member")
                    parts.append(f"{wanting} want {name}")
                else:
                    parts.append(f"{many} want {name}")
            reasons.append(", ".join(parts))
        else:
            reasons.append("no competency wanted by two members")
        reasons.append(self._hours_line(facilitator, members))
        leader = self.found.facilitators[facilitator]
        offered = [k for k in shared or list(counts) if k in set(leader.competencies)]
        if offered:
            names = _listed(competency_names(self.program, offered[:3]))
            reasons.append(f"{leader.first_name} can help with {names}")
        else:
            fit = float(np.mean([self.table.scores.total[i, facilitator] for i in members]))
            reasons.append(f"fit with {leader.first_name} {fit:.2f} on average")
        return tuple(reasons)

    def _member_reasons(self, i: int, facilitator: int, members: Sequence[int]) -> tuple[str, ...]:
        mine = self._wanted(i)
        others = [j for j in members if j != i]
        shared = [k for k in mine if any(k in self._wanted(j) for j in others)]
        reasons = []
        if shared:
            names = _listed(competency_names(self.program, shared))
            sharing = sum(1 for j in others if set(shared) & set(self._wanted(j)))
            reasons.append(f"you share {names} with {plural(sharing, 'other')}")
        reasons.append(self._hours_line(facilitator, members))
        leader = self.found.facilitators[facilitator]
        why = explain(
            self.program,
            self.table.scores,
            mentee=self.found.mentees[i],
            mentor=leader,
            row=i,
            column=facilitator,
            now=self.now,
            top=1,
        )
        if why:
            text = why[0].mentee
            first = text.split(" ", 1)[0]
            if first in {"covers", "both"} or text.startswith(tuple("0123456789")):
                reasons.append(f"{leader.first_name}: {text}")
            else:
                reasons.append(f"with {leader.first_name}, {text}")
        return tuple(reasons)

    def left_over(self, i: int, circles: Sequence[tuple[int, Sequence[int]]]) -> str:
        """Why mentee ``i`` is in no circle, addressed to them."""
        problem = self.table.problem
        least, most = problem.size_min, problem.size_max
        allowed = problem.allowed[i]
        if not allowed.any():
            return self._no_facilitator(i)
        may_join: npt.NDArray[np.bool_] = np.asarray(problem.allowed[:, allowed].any(axis=1))
        may_join[i] = False
        others = int((may_join & ~problem.apart[i]).sum())
        if others + 1 < least:
            if int(may_join.sum()) + 1 >= least:
                return (
                    f"not enough people outside your management chain can join a facilitator "
                    f"who can take you to make a circle of {least}"
                )
            return (
                f"not enough people can join a facilitator who can take you to make a circle "
                f"of {least} ({others + 1} in all, you included)"
            )
        used = np.zeros(problem.facilitators, dtype=np.int64)
        with_room = []
        for f, members in circles:
            used[f] += 1
            if allowed[f] and len(members) < most:
                with_room.append(members)
        spare = bool((allowed & (used < problem.capacity)).any())
        if not with_room and not spare:
            return (
                "every circle a facilitator who can take you runs is full "
                f"({plural(most, 'member')}): you are first in line for the next round"
            )
        if with_room and not spare and all(problem.apart[i, list(m)].any() for m in with_room):
            return "the circles with room include someone in your management chain"
        return (
            "there were more people waiting than places that kept every circle's size and "
            "rules: you stay on the waitlist for the next round"
        )

    def _no_facilitator(self, i: int) -> str:
        scores = self.table.scores
        rules = {RULES[int(r)] for r in scores.blocked[i]} - {""}
        if not rules:
            return "no facilitator with room fits you well enough for this program's least fit"
        if rules == {"chain"}:
            return "every facilitator with room is in your management chain"
        if rules == {"timezone"}:
            gap = self.program.matching.max_timezone_gap_hours
            return f"no facilitator with room works within {plural(gap, 'hour')} of your timezone"
        if rules == {"before"}:
            return (
                "you declined a circle of (or were paired before with) every facilitator who "
                "has room"
            )
        return (
            "no facilitator with room can take you (a management chain, a timezone gap, or a "
            "circle you declined)"
        )
