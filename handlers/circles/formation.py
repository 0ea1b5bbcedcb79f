"""Forming a circles program's circles: the whole pool at once, as close to the best as the
optimiser can prove.

The contract between forming circles and proposing them. :func:`plan_circles` loads the
pool of a ``type: circles`` program (mentees are members, mentors facilitate) and forms
its circles; the lead's ``match`` and ``mentorbot match --dry-run --json`` show the plan,
and approving it proposes each circle (handlers.circles.proposals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.circle_pool import CirclePool, load_circle_pool, tables
from handlers.circles.circle_solver import SCALE, solve
from handlers.circles.circle_words import Words
from handlers.core.messages import every, plural
from handlers.core.program import Program
from handlers.matching.pool import Profile


@dataclass(frozen=True)
class PlannedCircle:
    """One circle of a plan, before anyone is asked.

    Attributes:
        facilitator: The mentor who would facilitate it.
        members: Its members (mentees), best fit first.
        score: The circle's fit in [0, 1].
        reasons: Why these people, in words a lead reads ("shares Coaching and Influence
            with 3 others; 5 h of working hours in common with everyone").
        member_reasons: Why each member is in it, by person id, in words they read.
    """

    facilitator: Profile
    members: tuple[Profile, ...]
    score: float
    reasons: tuple[str, ...]
    member_reasons: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CirclePlan:
    """The circles a round would propose, and what it leaves over.

    Attributes:
        circles: The circles, best first.
        left_over: Each mentee left without a circle, by person id: why, in their words.
        optimality_gap: How far the circles found are from the best bound the optimiser
            proved, relative to the bound (0: proven optimal).
        too_small: When the pool cannot make even one circle, a sentence that says so
            plainly (and ``circles`` is empty); None otherwise.
        mentees: How many mentees were waiting for a circle.
        facilitators: How many facilitators had room for a circle.
        objective: The circles' total value (each member's value summed, in [0, 1] each).
        bound: The best total value the optimiser could not rule out (>= ``objective``).
        waiting: The mentees left over, as profiles (the keys of ``left_over``, in order).
    """

    program: Program
    circles: tuple[PlannedCircle, ...]
    left_over: Mapping[int, str]
    optimality_gap: float
    too_small: str | None = None
    mentees: int = 0
    facilitators: int = 0
    objective: float = 0.0
    bound: float = 0.0
    waiting: tuple[Profile, ...] = ()

    @property
    def placed(self) -> int:
        """How many mentees the circles hold."""
        return sum(len(c.members) for c in self.circles)


async def plan_circles(
    session: AsyncSession, *, program: Program, now: datetime, time_limit: float | None = None
) -> CirclePlan:
    """The circles of the program's pool: its mentees waiting for a circle and its mentors
    with room to facilitate, nobody paused, no one with their manager or anyone in their
    chain, each circle between ``circles.size.min`` and ``max`` members.

    ``time_limit`` (default ``circles.solve_seconds``) bounds the optimiser.
    """
    if program.circles is None:
        raise ValueError(f"{program.id} is not a circles program")
    found = await load_circle_pool(session, program)
    return form_circles(program, found, now=now, time_limit=time_limit)


def form_circles(
    program: Program, found: CirclePool, *, now: datetime, time_limit: float | None = None
) -> CirclePlan:
    """Form the circles of a loaded pool (the part of :func:`plan_circles` after reading)."""
    assert program.circles is not None
    size = program.circles.size
    mentees, facilitators = found.mentees, found.facilitators
    counts = {"mentees": len(mentees), "facilitators": len(facilitators)}
    problem = _too_small(program, found)
    if problem is not None:
        why = _nobody_has_room(found) if not facilitators else _too_few(size.min, len(mentees))
        return CirclePlan(
            program=program,
            circles=(),
            left_over={m.person_id: why for m in mentees},
            optimality_gap=0.0,
            too_small=problem,
            waiting=tuple(mentees),
            **counts,
        )
    table = tables(program, found, now=now)
    limit = program.circles.solve_seconds if time_limit is None else time_limit
    solution = solve(table.problem, time_limit=limit)
    words = Words(program, table, found, now=now)
    circles = sorted(
        (PlannedCircle(*words.circle(f, members)) for f, members in solution.circles),
        key=lambda c: (-c.score, c.facilitator.person_id),
    )
    placed = {m.person_id for c in circles for m in c.members}
    left = [(i, m) for i, m in enumerate(mentees) if m.person_id not in placed]
    left_over = {m.person_id: words.left_over(i, solution.circles) for i, m in left}
    too_small = None
    if not circles:
        too_small = (
            f"No circle of {size.min} can be formed: the rules (management chains, timezones, "
            "earlier pairings) leave no facilitator with enough members they can take."
        )
    return CirclePlan(
        program=program,
        circles=tuple(circles),
        left_over=left_over,
        optimality_gap=round(solution.gap, 6),
        too_small=too_small,
        objective=solution.value / SCALE,
        bound=solution.bound / SCALE,
        waiting=tuple(m for _, m in left),
        **counts,
    )


def _too_small(program: Program, found: CirclePool) -> str | None:
    """Why the pool cannot make even one circle, by counting alone; None when it might."""
    assert program.circles is not None
    least = program.circles.size.min
    waiting = len(found.mentees)
    if waiting < least:
        are = "is" if waiting == 1 else "are"
        needed = plural(least, "member")
        return f"{needed} are needed for a circle and only {waiting} {are} waiting."
    if not found.facilitators:
        if not found.enrolled:
            if found.paused:
                return "No facilitator can take a circle: every facilitator is paused."
            return "No facilitator is enrolled yet: a circle needs one."
        enrolled = every(found.enrolled, "facilitator")
        facilitate = "facilitates" if found.enrolled == 1 else "facilitate"
        return (
            f"No facilitator has room for another circle: {enrolled} already {facilitate} "
            "as many circles as they can."
        )
    return None


def _too_few(least: int, waiting: int) -> str:
    return f"not enough people are waiting to make a circle of {least} ({waiting} in all)"


def _nobody_has_room(found: CirclePool) -> str:
    return "no facilitator has room for another circle yet"
