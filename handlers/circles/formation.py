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
    """

    program: Program
    circles: tuple[PlannedCircle, ...]
    left_over: Mapping[int, str]
    optimality_gap: float
    too_small: str | None = None


async def plan_circles(
    session: AsyncSession, *, program: Program, now: datetime, time_limit: float | None = None
) -> CirclePlan:
    """The circles of the program's pool: its mentees waiting for a circle and its mentors
    with room to facilitate, nobody paused, no one with their manager or anyone in their
    chain, each circle between ``circles.size.min`` and ``max`` members.

    ``time_limit`` (default ``circles.solve_seconds``) bounds the optimiser.
    """
    raise NotImplementedError("forming circles is being built (issue 20)")
