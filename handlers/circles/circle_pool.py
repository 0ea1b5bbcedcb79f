"""A circles program's pool: mentees waiting for a circle, facilitators with room, as tables.

:func:`load_circle_pool` reads the pool (the pairs' :func:`load_pool`, then what open
circles hold); :func:`tables` turns it into the optimiser's integer :class:`Problem`, with
the pairs' scoring (handlers.matching.score) for each member's fit with each facilitator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.circle_solver import SCALE, Problem
from handlers.core.calendar import clock_time
from handlers.core.program import Circles, Meaning, Program
from handlers.matching.pool import Pool, Profile, load_pool
from handlers.matching.score import Scores, score_pool, shared_hours
from storage import OPEN_CIRCLE, CircleMemberStatus, CircleRole, Role
from storage.tables import CIRCLE, CIRCLE_MEMBER

#: How a member's value in a circle is made up: their fit with the facilitator (the pairs'
#: score), how many of their wants another member shares, and the hours everyone shares.
FIT_WEIGHT = 0.6
SHARE_WEIGHT = 0.25
HOURS_WEIGHT = 0.15


@dataclass
class CirclePool:
    """Everyone a circles round considers.

    Attributes:
        mentees: Members waiting for a circle (active enrollment, in no open circle, not
            paused), longest-waiting first.
        facilitators: Facilitators with room for another circle; ``free`` is how many.
        enrolled: How many facilitators are enrolled and not paused.
        paused: How many facilitators are paused.
        pool: The pairs' pool the above came from (managers, earlier pairings).
    """

    mentees: list[Profile]
    facilitators: list[Profile]
    enrolled: int
    paused: int
    pool: Pool


async def load_circle_pool(session: AsyncSession, program: Program) -> CirclePool:
    """The pool of a circles program's next round, in a handful of queries."""
    assert program.circles is not None, "a circles program has a circles: section"
    pool = await load_pool(session, program)
    conn = await session.connection()
    found = await conn.execute(
        sa.select(CIRCLE_MEMBER.c.person_id, CIRCLE_MEMBER.c.role)
        .join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id)
        .where(
            CIRCLE.c.program == program.id,
            CIRCLE.c.status.in_([s.value for s in OPEN_CIRCLE]),
            CIRCLE_MEMBER.c.status.in_(
                [CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value]
            ),
        )
    )
    in_circle: set[int] = set()
    facilitating: dict[int, int] = {}
    for person_id, role in found.all():
        if role == CircleRole.FACILITATOR.value:
            facilitating[person_id] = facilitating.get(person_id, 0) + 1
        else:
            in_circle.add(person_id)
    facilitators = []
    for mentor in pool.mentors:
        capacity = facilitator_capacity(program, answered=mentor.capacity)
        free = max(0, capacity - facilitating.get(mentor.person_id, 0))
        facilitators.append(replace(mentor, capacity=capacity, free=free))
    # A member who declined a circle is not proposed that facilitator's circle again, as a
    # declined pair is kept apart (a lapse is not a decline).
    declined = await declined_facilitators(session, program)
    kept_apart = replace(pool, together=pool.together | declined)
    return CirclePool(
        mentees=[m for m in pool.mentees if m.person_id not in in_circle],
        facilitators=[f for f in facilitators if f.free > 0],
        enrolled=len(pool.mentors),
        paused=pool.paused_mentors,
        pool=kept_apart,
    )


def facilitator_capacity(program: Program, *, answered: int | None) -> int:
    """How many circles a facilitator takes at once: their intake's capacity answer when
    the intake asks for one, else the program's ``circles.capacity``.

    The one rule for the round's pool and for the lead's approval (handlers.circles.review).

    Args:
        answered: The facilitator's enrollment's capacity (their intake answer), if any.
    """
    default = (program.circles or Circles()).capacity
    asks = any(q.meaning is Meaning.CAPACITY for q in program.intake.for_role(Role.MENTOR))
    return answered if asks and answered is not None and answered > 0 else default


def _declined_places(
    program: Program, *, between: tuple[int, int] | None = None
) -> sa.Select[int, int, int, int, datetime | None]:
    """Every place a member declined in a circle of the program, with the circle's
    facilitator: (place id, circle id, member, facilitator, when a lead lifted it).

    A place left unanswered until the proposal lapsed is no decline (``answered_at`` is
    unset), so it keeps nobody apart.

    Args:
        between: Only this (member, facilitator)'s, by person id.
    """
    member = CIRCLE_MEMBER.alias("member")
    facilitator = CIRCLE_MEMBER.alias("facilitator")
    query = (
        sa.select(
            member.c.id,
            member.c.circle_id,
            member.c.person_id,
            facilitator.c.person_id,
            member.c.unexcluded_at,
        )
        .join(CIRCLE, CIRCLE.c.id == member.c.circle_id)
        .join(facilitator, facilitator.c.circle_id == member.c.circle_id)
        .where(
            CIRCLE.c.program == program.id,
            member.c.role == CircleRole.MEMBER.value,
            member.c.status == CircleMemberStatus.DECLINED.value,
            member.c.answered_at.is_not(None),
            facilitator.c.role == CircleRole.FACILITATOR.value,
        )
        .order_by(member.c.circle_id)
    )
    if between is not None:
        query = query.where(member.c.person_id == between[0], facilitator.c.person_id == between[1])
    return query


async def declined_facilitators(session: AsyncSession, program: Program) -> set[tuple[int, int]]:
    """(member, facilitator) person ids of every circle of the program a member declined,
    unless a program lead lifted that decline (``unexclude``)."""
    conn = await session.connection()
    found = await conn.execute(_declined_places(program))
    return {(int(m), int(f)) for _, _, m, f, lifted in found.all() if lifted is None}


@dataclass(frozen=True)
class DeclinedPlace:
    """A member's declined place in a circle a facilitator leads.

    Attributes:
        place_id: The member's ``circle_member`` row.
        circle_id: The circle.
        unexcluded_at: When a program lead lifted the decline, if they did.
    """

    place_id: int
    circle_id: int
    unexcluded_at: datetime | None


async def declined_places(
    session: AsyncSession, program: Program, *, member_id: int, facilitator_id: int
) -> list[DeclinedPlace]:
    """The places a member declined in circles of the program a facilitator leads, oldest
    circle first, lifted or not."""
    conn = await session.connection()
    found = await conn.execute(_declined_places(program, between=(member_id, facilitator_id)))
    return [DeclinedPlace(int(place), int(circle), lifted) for place, circle, *_, lifted in found]


def ancestors(person_id: int, managers: dict[int, int | None]) -> set[int]:
    """Everyone above a person in their management chain."""
    seen: set[int] = set()
    current = managers.get(person_id)
    while current is not None and current not in seen and current != person_id:
        seen.add(current)
        current = managers.get(current)
    return seen


def day_hours(program: Program) -> float:
    """The length of the program's working day, in hours."""
    hours = program.cadence.working_hours
    start = datetime.combine(date.min, clock_time(hours.start))
    end = datetime.combine(date.min, clock_time(hours.end))
    return max(0.25, (end - start).total_seconds() / 3600)


@dataclass
class Tables:
    """The pool as the optimiser sees it, and what explanations need.

    Attributes:
        problem: The integer tables.
        scores: The pairs' scores of every member with every facilitator.
        hours: Hours two members share; ``hours_with``: a member and a facilitator.
    """

    problem: Problem
    scores: Scores
    hours: npt.NDArray[np.float64]
    hours_with: npt.NDArray[np.float64]


def tables(program: Program, found: CirclePool, *, now: datetime) -> Tables:
    """Score the pool and turn it into the optimiser's tables."""
    assert program.circles is not None
    mentees, facilitators = found.mentees, found.facilitators
    n = len(mentees)
    pairs = Pool(
        mentees, facilitators, found.pool.together, found.pool.managers, lapsed=found.pool.lapsed
    )
    scores = score_pool(program, pairs, now=now)
    known = {c.id for c in program.competencies}
    catalogue = sorted(known)
    index = {key: k for k, key in enumerate(catalogue)}
    wants = np.zeros((n, len(catalogue)))
    for row, person in enumerate(mentees):
        for key in person.competencies:
            if key in index:
                wants[row, index[key]] = 1.0
    counts = wants.sum(axis=1)

    zones = sorted({p.timezone for p in [*mentees, *facilitators]})
    zone_of = {zone: k for k, zone in enumerate(zones)}
    between = np.array(
        [[shared_hours(program, first=a, second=b, at=now) for b in zones] for a in zones]
    ).reshape(len(zones), len(zones))
    rows = np.array([zone_of[p.timezone] for p in mentees], dtype=np.intp)
    columns = np.array([zone_of[p.timezone] for p in facilitators], dtype=np.intp)
    hours = between[np.ix_(rows, rows)]
    hours_with = between[np.ix_(rows, columns)]
    day = day_hours(program)

    def units(values: npt.NDArray[np.float64], weight: float) -> npt.NDArray[np.int64]:
        total = FIT_WEIGHT + SHARE_WEIGHT + HOURS_WEIGHT
        return np.rint(SCALE * weight / total * values).astype(np.int64)

    at = {p.person_id: i for i, p in enumerate(mentees)}
    apart = np.zeros((n, n), dtype=np.bool_)
    for i, person in enumerate(mentees):
        for boss in ancestors(person.person_id, found.pool.managers):
            if boss in at:
                apart[i, at[boss]] = apart[at[boss], i] = True
    allowed = scores.allowed & (scores.total >= program.matching.min_fit)
    problem = Problem(
        fit=units(scores.total, FIT_WEIGHT),
        allowed=allowed,
        wants=wants > 0,
        unit=units(np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0), SHARE_WEIGHT),
        hours=units(np.minimum(1.0, hours / day), HOURS_WEIGHT),
        hours_with=units(np.minimum(1.0, hours_with / day), HOURS_WEIGHT),
        apart=apart,
        capacity=np.array([f.free for f in facilitators], dtype=np.int64),
        size_min=program.circles.size.min,
        size_max=program.circles.size.max,
    )
    return Tables(problem, scores, hours, hours_with)
