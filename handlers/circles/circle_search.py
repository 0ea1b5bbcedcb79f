"""Circles for large pools: a transportation bound, a first assignment, then local search.

A direct CP-SAT model of 2,000 members and 300 facilitators needs a variable per member per
circle and per shared want: far too many to prove anything in a minute. So the problem is
decomposed:

1. Bound. No circle gives member ``i`` more with facilitator ``f`` than ``u[i, f]``: their
   fit with ``f``, plus a share for each of their wants that anyone they may sit with wants
   too, plus the hours they share with ``f`` capped by their ``(min − 1)``-th best hours
   with another member (everyone in a circle shares at most that). With sizes relaxed to
   ``size_max`` places per circle, the best assignment of members to facilitators under
   ``u`` is a transportation problem, solved exactly as a minimum-cost flow. Its value is an
   upper bound on the value of every set of circles, so the gap reported is a true gap.
2. First circles: the flow's own assignment (members go to facilitators they fit, in
   their working hours), split into each facilitator's circles, rules repaired (anyone in
   a chain conflict, or in a circle too small to fill, goes back to the pool), then
   everyone still waiting inserted where they add most.
3. Local search (:class:`_Search`): each member in turn moves to the circle with room
   where they add most, or swaps with a member of one of the circles they would add most
   to, when that adds value without placing fewer. What a member would add to every circle
   is computed at once from per-circle arrays (wants counted, hours shared); swaps are
   checked exactly with :func:`circle_value`. Passes repeat until none helps or time is up.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow

from handlers.circles.circle_solver import Ints, Problem, Solution, circle_value, common_hours


def optimistic(problem: Problem) -> Ints:
    """``u[i, f]``: no circle can give member ``i`` more than this with facilitator ``f``."""
    n = problem.members
    others = max(1, problem.size_min - 1)
    together = ~problem.apart & ~np.eye(n, dtype=bool)
    hours = np.where(together, problem.hours, 0)
    # A want can be shared only if someone the member may sit with wants it too.
    sharable = problem.wants & ((together.astype(np.int64) @ problem.wants) > 0)
    best_share = problem.unit * sharable.sum(axis=1)
    if n > others:
        best_hours = -np.sort(-hours, axis=1)[:, others - 1]
    else:
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
            if self.where[i] == c:  # not already moved to another circle
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
    """Moves and swaps that add value without placing fewer, until none does or time is up."""
    search = _Search(state, hi)
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for i in (int(v) for v in rng.permutation(state.problem.members)):
            if time.monotonic() >= deadline:
                return
            if search.better_place(i, lo, hi):
                improved = True


class _Search:
    """Every circle's wants, hours and members as arrays, so that what a member would add
    to each circle is computed for all circles at once."""

    def __init__(self, state: _State, hi: int) -> None:
        self.state = state
        problem = state.problem
        circles = len(state.members)
        self.facilitator = np.array(state.facilitator, dtype=np.intp)
        self.counts = np.zeros((circles, problem.wants.shape[1]), dtype=np.int64)
        self.units = np.zeros_like(self.counts)
        self.least = np.zeros(circles, dtype=np.int64)
        self.padded = np.zeros((circles, hi), dtype=np.intp)
        self.filled = np.zeros((circles, hi), dtype=bool)
        self.size = np.zeros(circles, dtype=np.int64)
        for c in range(circles):
            self.refresh(c)

    def refresh(self, c: int) -> None:
        problem, members = self.state.problem, self.state.members[c]
        rows = np.asarray(members, dtype=np.intp)
        wants = problem.wants[rows]
        self.counts[c] = wants.sum(axis=0)
        self.units[c] = (wants * problem.unit[rows, None]).sum(axis=0)
        self.least[c] = common_hours(problem, self.state.facilitator[c], members)
        self.size[c] = len(members)
        self.padded[c] = 0
        self.padded[c, : len(members)] = rows
        self.filled[c] = False
        self.filled[c, : len(members)] = True

    def gains(self, i: int) -> Ints:
        """What member ``i`` would add to each circle (any size), or -1 where it may not."""
        problem = self.state.problem
        wants = problem.wants[i]
        mine = problem.unit[i] * ((self.counts > 0) & wants).sum(axis=1)
        theirs = np.where((self.counts == 1) & wants, self.units, 0).sum(axis=1)
        hours = np.where(self.filled, problem.hours[i][self.padded], np.iinfo(np.int64).max)
        with_facilitator = problem.hours_with[i, self.facilitator]
        least = np.minimum(np.minimum(self.least, with_facilitator), hours.min(axis=1))
        change = (self.size + 1) * least - self.size * self.least
        gain = problem.fit[i, self.facilitator] + mine + theirs + change
        blocked = (problem.apart[i][self.padded] & self.filled).any(axis=1)
        blocked |= ~problem.allowed[i, self.facilitator] | (self.size == 0)
        return np.where(blocked, -1, gain).astype(np.int64)

    def put(self, c: int, members: list[int], value: int) -> None:
        self.state.set(c, members, value)
        self.refresh(c)

    def better_place(self, i: int, lo: int, hi: int, *, candidates: int = 4) -> bool:
        """Move or swap member ``i`` where the circles gain most; True if it did."""
        state, problem = self.state, self.state.problem
        a = int(state.where[i])
        gains = self.gains(i)
        if a >= 0:
            gains[a] = -1
            without = [j for j in state.members[a] if j != i]
            kept = state.value_with(a, without)
            loss = state.values[a] - kept
        else:
            without, kept, loss = [], 0, 0
        room = (self.size < hi) & (gains >= 0)
        if (a < 0 or len(without) >= lo) and room.any():
            b = int(np.argmax(np.where(room, gains, -1)))
            if a < 0 or gains[b] > loss:
                if a >= 0:
                    self.put(a, without, kept)
                joined = [*state.members[b], i]
                self.put(b, joined, state.value_with(b, joined))
                return True
        order = np.argsort(-gains, kind="stable")[:candidates]
        best, chosen = 0, None
        for b in (int(v) for v in order if gains[v] >= 0):
            for j in state.members[b]:
                there = [k for k in state.members[b] if k != j]
                if problem.apart[i, there].any():
                    continue
                if a >= 0:
                    if not problem.allowed[j, state.facilitator[a]]:
                        continue
                    if problem.apart[j, without].any():
                        continue
                    here = [*without, j]
                    new_a = state.value_with(a, here)
                    before = state.values[a] + state.values[b]
                else:
                    here, new_a, before = [], 0, state.values[b]
                new_b = state.value_with(b, [*there, i])
                if new_a + new_b - before > best:
                    best, chosen = new_a + new_b - before, (b, here, new_a, [*there, i], new_b)
        if chosen is None:
            return False
        b, here, new_a, there, new_b = chosen
        if a >= 0:
            self.put(a, here, new_a)
        self.put(b, there, new_b)
        return True
