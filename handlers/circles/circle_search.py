"""Circles for large pools: a transportation bound, a first assignment, then local search.

A direct CP-SAT model of 2,000 members and 300 facilitators has a pair variable per two
members per circle: far too many. So the problem is decomposed:

1. Bound. Each member's value in any circle is at most an optimistic value ``u[i, f]``:
   their fit with ``f``, plus the mean of their ``min − 1`` best shares with anyone they may
   sit with (the mean share over ``k − 1 >= min − 1`` others is no more), plus the hours
   they share with ``f`` capped by their ``(min − 1)``-th best hours with another member
   (everyone in a circle shares at most that). Sizes relaxed to ``size_max`` places per
   circle, the best assignment of members to facilitators under ``u`` is a transportation
   problem, solved exactly as a minimum-cost flow: its value bounds every solution, so the
   gap reported against it is a true gap.
2. First circles: the flow's assignment itself (members go to the facilitators they fit),
   split into each facilitator's circles, rules repaired (anyone in a chain conflict or in
   a circle too small goes back to the pool), then the pool inserted where it adds most.
3. Local search: moves of a member to another circle with room and swaps of two members,
   evaluated exactly (:func:`circle_value`), accepted when they add value without placing
   fewer members, until no move helps or time is up.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow

from handlers.circles.circle_solver import Ints, Problem, Solution, circle_value


def optimistic(problem: Problem) -> Ints:
    """``u[i, f]``: no circle can give member ``i`` more than this with facilitator ``f``."""
    n = problem.members
    others = max(1, problem.size_min - 1)
    together = ~problem.apart & ~np.eye(n, dtype=bool)
    share = np.where(together, problem.share, 0)
    hours = np.where(together, problem.hours, 0)
    if n > others:
        top_share = -np.sort(-share, axis=1)[:, :others]
        best_share = -(-top_share.sum(axis=1) // others)  # the mean, rounded up
        best_hours = -np.sort(-hours, axis=1)[:, others - 1]
    else:
        best_share = np.zeros(n, dtype=np.int64)
        best_hours = np.zeros(n, dtype=np.int64)
    capped = np.minimum(problem.hours_with, best_hours[:, None])
    return np.asarray(problem.fit + best_share[:, None] + capped, dtype=np.int64)


def transportation(problem: Problem, weights: Ints) -> tuple[int, list[list[int]]]:
    """The best assignment of members to facilitators (``size_max`` places per circle)
    under ``weights``: its total weight, and each facilitator's members."""
    n, m = problem.members, problem.facilitators
    flow = SimpleMinCostFlow()
    source, sink = n + m, n + m + 1
    rows, columns = np.nonzero(problem.allowed & (problem.capacity[None, :] > 0))
    starts = np.concatenate([np.full(n, source), rows, n + np.arange(m), [source]])
    ends = np.concatenate([np.arange(n), n + columns, np.full(m, sink), [sink]])
    caps = np.concatenate(
        [np.ones(n), np.ones(len(rows)), problem.capacity * problem.size_max, [n]]
    ).astype(np.int64)
    costs = np.concatenate([np.zeros(n), -weights[rows, columns], np.zeros(m), [0]]).astype(
        np.int64
    )
    flow.add_arcs_with_capacity_and_unit_cost(starts, ends, caps, costs)
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve()
    assert status == flow.OPTIMAL, "a transportation problem with a bypass is always feasible"
    chosen: list[list[int]] = [[] for _ in range(m)]
    first = n
    for k in range(len(rows)):
        if flow.flow(first + k) > 0:
            chosen[int(columns[k])].append(int(rows[k]))
    return -int(flow.optimal_cost()), chosen


class _State:
    """Circles being improved: each circle's facilitator and members, who is where."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.facilitator: list[int] = []
        self.members: list[list[int]] = []
        self.values: list[int] = []
        self.where = np.full(problem.members, -1, dtype=np.int64)

    def add_circle(self, facilitator: int, members: list[int]) -> None:
        index = len(self.members)
        self.facilitator.append(facilitator)
        self.members.append(list(members))
        self.values.append(circle_value(self.problem, facilitator, members))
        for i in members:
            self.where[i] = index

    def value_with(self, c: int, members: list[int]) -> int:
        return circle_value(self.problem, self.facilitator[c], members)

    def set(self, c: int, members: list[int], value: int) -> None:
        for i in self.members[c]:
            self.where[i] = -1
        self.members[c] = members
        self.values[c] = value
        for i in members:
            self.where[i] = c

    def fits(self, i: int, c: int, members: list[int]) -> bool:
        return bool(
            self.problem.allowed[i, self.facilitator[c]]
            and not self.problem.apart[i, members].any()
        )


def decomposed(problem: Problem, *, time_limit: float, seed: int) -> Solution:
    """Circles for a large pool, with the transportation bound (see the module docstring)."""
    started = time.monotonic()
    deadline = started + time_limit
    rng = np.random.default_rng(seed)
    bound, chosen = transportation(problem, optimistic(problem))
    state = _State(problem)
    lo, hi = problem.size_min, problem.size_max
    for f, members in enumerate(chosen):
        if not members:
            continue
        order = sorted(members, key=lambda i: -int(problem.fit[i, f]))
        circles = min(int(problem.capacity[f]), -(-len(order) // hi))
        groups: list[list[int]] = [[] for _ in range(circles)]
        for k, i in enumerate(order):
            groups[k % circles].append(i)
        for group in groups:
            kept: list[int] = []
            for i in group:
                if not problem.apart[i, kept].any():
                    kept.append(i)
            state.add_circle(f, kept)
    for f in range(problem.facilitators):
        spare = int(problem.capacity[f]) - state.facilitator.count(f)
        for _ in range(max(0, spare)):
            state.add_circle(f, [])
    _fill(state, lo, hi)
    _improve(state, lo, hi, rng=rng, deadline=deadline)
    formed = tuple(
        (state.facilitator[c], tuple(sorted(m)))
        for c, m in enumerate(state.members)
        if len(m) >= lo
    )
    placed = sum(len(m) for _, m in formed)
    value = sum(circle_value(problem, f, m) for f, m in formed)
    return Solution(
        formed,
        placed,
        value,
        max(bound, value),
        False,
        {"seconds": time.monotonic() - started},
    )


def _fill(state: _State, lo: int, hi: int) -> None:
    """Bring circles to size: members go where they add most, small circles fill or fold."""
    while True:
        small = [c for c, m in enumerate(state.members) if 0 < len(m) < lo]
        free = [int(i) for i in np.flatnonzero(state.where < 0)]
        moved = False
        for i in free:  # top up circles under the smallest size first
            best, gain = -1, None
            for c in small:
                members = state.members[c]
                if len(members) < hi and state.fits(i, c, members):
                    value = state.value_with(c, [*members, i])
                    if gain is None or value - state.values[c] > gain:
                        best, gain = c, value - state.values[c]
            if best >= 0:
                members = [*state.members[best], i]
                state.set(best, members, state.value_with(best, members))
                moved = True
                small = [c for c, m in enumerate(state.members) if 0 < len(m) < lo]
        if not moved:
            break
    for c, members in enumerate(state.members):
        if 0 < len(members) < lo:
            state.set(c, [], 0)  # cannot be filled: its members go back to the pool
    free = [int(i) for i in np.flatnonzero(state.where < 0)]
    for i in free:
        best, gain = -1, -1
        for c, members in enumerate(state.members):
            if lo <= len(members) < hi and state.fits(i, c, members):
                value = state.value_with(c, [*members, i]) - state.values[c]
                if value > gain:
                    best, gain = c, value
        if best >= 0:
            members = [*state.members[best], i]
            state.set(best, members, state.value_with(best, members))
    _new_circles(state, lo, hi)


def _new_circles(state: _State, lo: int, hi: int) -> None:
    """Empty circles (a facilitator with room) take members still waiting, if enough can."""
    problem = state.problem
    for c, members in enumerate(state.members):
        if members:
            continue
        f = state.facilitator[c]
        free = [int(i) for i in np.flatnonzero((state.where < 0) & problem.allowed[:, f])]
        free.sort(key=lambda i: -int(problem.fit[i, f]))
        group: list[int] = []
        for i in free:
            if len(group) < hi and not problem.apart[i, group].any():
                group.append(i)
        if len(group) >= lo:
            state.set(c, group, state.value_with(c, group))


def _improve(state: _State, lo: int, hi: int, *, rng: np.random.Generator, deadline: float) -> None:
    """Moves and swaps that add value, until none does or time is up."""
    problem = state.problem
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        order = rng.permutation(problem.members)
        for i in (int(v) for v in order):
            if time.monotonic() >= deadline:
                return
            a = int(state.where[i])
            if a < 0:
                continue
            without = [j for j in state.members[a] if j != i]
            lost = state.values[a] - (state.value_with(a, without) if len(without) >= lo else 0)
            for b, members in enumerate(state.members):
                if b == a or not members or not problem.allowed[i, state.facilitator[b]]:
                    continue
                if len(members) < hi and len(without) >= lo and state.fits(i, b, members):
                    joined = [*members, i]
                    value = state.value_with(b, joined)
                    if value - state.values[b] > lost:
                        state.set(a, without, state.value_with(a, without))
                        state.set(b, joined, value)
                        improved = True
                        break
                for j in members:
                    if not problem.allowed[j, state.facilitator[a]]:
                        continue
                    there = [k for k in members if k != j]
                    here = [*without, j]
                    if problem.apart[i, there].any() or problem.apart[j, without].any():
                        continue
                    new_a, new_b = state.value_with(a, here), state.value_with(b, [*there, i])
                    if new_a + new_b > state.values[a] + state.values[b]:
                        state.set(a, here, new_a)
                        state.set(b, [*there, i], new_b)
                        improved = True
                        break
                if state.where[i] != a:
                    break
