"""The circles optimiser: which members each facilitator's circles hold, as close to the best
as can be proven.

Pure arithmetic on integer tables, no storage: :func:`solve` takes a :class:`Problem` and
returns the circles, their total value and an upper bound on the best possible value.

The objective, lexicographic like the pairs' one:

    1. as many members placed as possible, then
    2. the greatest total value, the sum over circles of :func:`circle_value`.

A circle of facilitator ``f`` and members ``S`` (``k = |S|``) is worth

    Σ_{i∈S} fit[i, f]  +  ⌊ Σ_{i≠j∈S} share[i, j] / (k − 1) ⌋  +  k · min hours

where ``share[i, j]`` is how much of what ``i`` wants ``j`` wants too (so the middle term
is each member's mean share with the others, summed) and ``min hours`` is the least of the
pairwise working hours of everyone in it, facilitator included: for working days on one
line, exactly the hours all of them share. All tables are integers in units of
1/:data:`SCALE` of a member's full value, so the value is exact and the exhaustive search
of the tests computes the very same number.

Small pools are one CP-SAT model (:func:`_direct`). Large ones are decomposed (see
handlers.circles.circle_search): a transportation bound and a local search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

#: A member's full value (perfect fit, share and hours) in the integer tables.
SCALE = 10_000
#: The solver's seed and workers: the same pool gives the same circles.
SEED = 20
WORKERS = 2
#: Pools with at most this many (member, circle) variables are solved as one model.
DIRECT_LIMIT = 400

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Problem:
    """One pool as integer tables (members are rows, facilitators columns).

    Attributes:
        fit: Each member's fit with each facilitator, in 1/SCALE units.
        allowed: False where a hard rule keeps a member from a facilitator.
        share: ``share[i, j]``: what ``i`` shares with ``j`` (ordered; diagonal 0).
        hours: The working hours two members share, in value units (symmetric).
        hours_with: The working hours a member shares with a facilitator, in value units.
        apart: True where two members may not be in one circle (management chain).
        capacity: How many circles each facilitator can take on.
        size_min: The fewest members in a circle.
        size_max: The most members in a circle.
    """

    fit: Ints
    allowed: Bools
    share: Ints
    hours: Ints
    hours_with: Ints
    apart: Bools
    capacity: Ints
    size_min: int
    size_max: int

    @property
    def members(self) -> int:
        return int(self.fit.shape[0])

    @property
    def facilitators(self) -> int:
        return int(self.fit.shape[1])


@dataclass(frozen=True)
class Solution:
    """The circles found: (facilitator, members) pairs, with their worth and a bound.

    Attributes:
        circles: Facilitator index and member indexes of each circle.
        placed: How many members are in a circle.
        value: The total value (:func:`circle_value` summed).
        bound: An upper bound on the total value of any solution placing ``placed`` or more
            members; ``value`` when the optimum is proven.
        optimal: True when the solver proved the optimum.
    """

    circles: tuple[tuple[int, tuple[int, ...]], ...]
    placed: int
    value: int
    bound: int
    optimal: bool
    notes: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """(bound − value) / bound: 0 when proven optimal."""
        if self.optimal or self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.value) / self.bound)


def common_hours(problem: Problem, facilitator: int, members: Sequence[int]) -> int:
    """The least pairwise working hours in the circle: the hours everyone shares."""
    rows = np.asarray(members, dtype=np.intp)
    if not len(rows):
        return 0
    least = int(problem.hours_with[rows, facilitator].min())
    if len(rows) > 1:
        block = problem.hours[np.ix_(rows, rows)]
        least = min(least, int(block[~np.eye(len(rows), dtype=bool)].min()))
    return least


def share_sum(problem: Problem, members: Sequence[int]) -> int:
    """Σ share[i, j] over ordered pairs of distinct members."""
    rows = np.asarray(members, dtype=np.intp)
    return int(problem.share[np.ix_(rows, rows)].sum()) if len(rows) > 1 else 0


def circle_value(problem: Problem, facilitator: int, members: Sequence[int]) -> int:
    """A circle's value in 1/SCALE units (see the module docstring)."""
    k = len(members)
    if k == 0:
        return 0
    rows = np.asarray(members, dtype=np.intp)
    value = int(problem.fit[rows, facilitator].sum())
    if k > 1:
        value += share_sum(problem, members) // (k - 1)
    return value + k * common_hours(problem, facilitator, members)


def is_feasible(problem: Problem, circles: Sequence[tuple[int, Sequence[int]]]) -> bool:
    """True when circles keep every size, capacity and rule (tests and assertions)."""
    used = np.zeros(problem.facilitators, dtype=np.int64)
    seen: set[int] = set()
    for facilitator, members in circles:
        used[facilitator] += 1
        if not problem.size_min <= len(members) <= problem.size_max:
            return False
        for i in members:
            if i in seen or not problem.allowed[i, facilitator]:
                return False
            seen.add(i)
        rows = np.asarray(members, dtype=np.intp)
        if problem.apart[np.ix_(rows, rows)].any():
            return False
    return bool((used <= problem.capacity).all())


def solve(problem: Problem, *, time_limit: float, seed: int = SEED) -> Solution:
    """The circles of the pool: most members placed, then the greatest value."""
    slots = _slots(problem)
    if not slots or problem.members < problem.size_min:
        return Solution((), 0, 0, 0, True)
    variables = sum(int(problem.allowed[:, f].sum()) for f in slots)
    if variables <= DIRECT_LIMIT:
        return _direct(problem, slots, time_limit=time_limit, seed=seed)
    from handlers.circles.circle_search import decomposed

    found: Solution = decomposed(problem, time_limit=time_limit, seed=seed)
    return found


def _slots(problem: Problem) -> list[int]:
    """One entry per circle a facilitator could take on, as the facilitator's index."""
    most = problem.members // problem.size_min
    return [
        f for f in range(problem.facilitators) for _ in range(min(int(problem.capacity[f]), most))
    ]


def _direct(problem: Problem, slots: list[int], *, time_limit: float, seed: int) -> Solution:
    """The whole pool as one CP-SAT model: exact, for small pools."""
    n = problem.members
    lo, hi = problem.size_min, problem.size_max
    top_hours = int(max(problem.hours.max(initial=0), problem.hours_with.max(initial=0)))
    share_cap = int(problem.share.sum())
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for c, f in enumerate(slots):
        for row in np.flatnonzero(problem.allowed[:, f]):
            x[int(row), c] = model.new_bool_var(f"x{row}_{c}")
    for i in range(n):
        mine = [x[i, c] for c in range(len(slots)) if (i, c) in x]
        if mine:
            model.add_at_most_one(mine)
    terms: list[cp_model.LinearExprT] = []
    placed: list[cp_model.IntVar] = []
    sizes = []
    for c, f in enumerate(slots):
        inside = [(i, x[i, c]) for i in range(n) if (i, c) in x]
        used = model.new_bool_var(f"y{c}")
        size = model.new_int_var(0, hi, f"k{c}")
        sizes.append(size)
        model.add(size == sum(v for _, v in inside))
        model.add(size >= lo).only_enforce_if(used)
        model.add(size == 0).only_enforce_if(~used)
        placed += [v for _, v in inside]
        terms += [int(problem.fit[i, f]) * v for i, v in inside]
        pair_sum = []
        hours = model.new_int_var(0, top_hours, f"h{c}")
        for i, v in inside:
            model.add(hours <= int(problem.hours_with[i, f])).only_enforce_if(v)
        for a, (i, u) in enumerate(inside):
            for j, v in inside[a + 1 :]:
                if problem.apart[i, j]:
                    model.add_bool_or([~u, ~v])
                    continue
                if problem.hours[i, j] < top_hours:
                    model.add(hours <= int(problem.hours[i, j])).only_enforce_if([u, v])
                weight = int(problem.share[i, j] + problem.share[j, i])
                if weight > 0:
                    both = model.new_bool_var(f"z{i}_{j}_{c}")
                    model.add_implication(both, u)
                    model.add_implication(both, v)
                    pair_sum.append(weight * both)
        if pair_sum:
            total = model.new_int_var(0, share_cap, f"p{c}")
            model.add(total == sum(pair_sum))
            divisor = model.new_int_var(1, max(1, hi - 1), f"d{c}")
            model.add(divisor == size - 1).only_enforce_if(used)
            model.add(divisor == 1).only_enforce_if(~used)
            mean = model.new_int_var(0, share_cap, f"q{c}")
            model.add_division_equality(mean, total, divisor)
            terms.append(mean)
        together = model.new_int_var(0, hi * top_hours, f"w{c}")
        model.add_multiplication_equality(together, [size, hours])
        terms.append(together)
    for c in range(1, len(slots)):
        if slots[c] == slots[c - 1]:
            model.add(sizes[c - 1] >= sizes[c])  # a facilitator's circles are alike
    weight = SCALE * (n + 1) + 1  # one more member placed beats any value
    model.maximize(weight * cp_model.LinearExpr.sum(placed) + cp_model.LinearExpr.sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.num_workers = WORKERS
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solution((), 0, 0, 0, status == cp_model.INFEASIBLE)
    circles = []
    for c, f in enumerate(slots):
        members = tuple(i for i in range(n) if (i, c) in x and solver.boolean_value(x[i, c]))
        if members:
            circles.append((f, members))
    found = tuple(circles)
    count = sum(len(m) for _, m in found)
    value = sum(circle_value(problem, f, m) for f, m in found)
    optimal = status == cp_model.OPTIMAL
    bound = value if optimal else max(value, int(solver.best_objective_bound) - weight * count)
    return Solution(found, count, value, bound, optimal)
