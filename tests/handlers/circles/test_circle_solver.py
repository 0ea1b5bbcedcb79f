"""The circles optimiser against exhaustive search: on small pools it finds the optimum.

Pools are random with a fixed seed: fits, shares and hours drawn at random, some members
kept from some facilitators (a pair rule) and some pairs of members kept apart (a chain).
"""

from __future__ import annotations

import numpy as np
import pytest

from handlers.circles.circle_solver import (
    SCALE,
    Problem,
    circle_value,
    is_feasible,
    solve,
)


def random_problem(
    rng: np.random.Generator, *, members: int, facilitators: int, size: tuple[int, int]
) -> Problem:
    n, m = members, facilitators
    share = rng.integers(0, SCALE // 4, size=(n, n))
    np.fill_diagonal(share, 0)
    hours = rng.integers(0, SCALE // 8, size=(n, n))
    hours = np.minimum(hours, hours.T)
    apart = rng.random((n, n)) < 0.1
    apart = apart | apart.T
    np.fill_diagonal(apart, False)
    return Problem(
        fit=rng.integers(0, SCALE // 2, size=(n, m)),
        allowed=rng.random((n, m)) > 0.15,
        share=share,
        hours=hours,
        hours_with=rng.integers(0, SCALE // 8, size=(n, m)),
        apart=apart,
        capacity=rng.integers(0, 3, size=m),
        size_min=size[0],
        size_max=size[1],
    )


def exhaustive(problem: Problem) -> tuple[int, int]:
    """The best (members placed, value) over every assignment of members to circles."""
    slots = [f for f in range(problem.facilitators) for _ in range(int(problem.capacity[f]))]
    best = (0, 0)
    groups: list[list[int]] = [[] for _ in slots]

    def walk(i: int) -> None:
        nonlocal best
        if i == problem.members:
            if all(not g or problem.size_min <= len(g) for g in groups):
                placed = sum(len(g) for g in groups)
                value = sum(circle_value(problem, slots[c], g) for c, g in enumerate(groups) if g)
                best = max(best, (placed, value))
            return
        walk(i + 1)
        for c, group in enumerate(groups):
            if (
                len(group) < problem.size_max
                and problem.allowed[i, slots[c]]
                and not any(problem.apart[i, j] for j in group)
            ):
                group.append(i)
                walk(i + 1)
                group.pop()

    walk(0)
    return best


def test_the_optimiser_finds_the_optimum_of_small_pools() -> None:
    rng = np.random.default_rng(2020)
    checked = 0
    for _ in range(100):
        n = int(rng.integers(2, 9))
        m = int(rng.integers(1, 4))
        low = int(rng.integers(2, 4))
        high = int(rng.integers(low, 5))
        problem = random_problem(rng, members=n, facilitators=m, size=(low, high))
        if sum(int(c) for c in problem.capacity) > 3 or n > 8:
            continue
        found = solve(problem, time_limit=10)
        assert is_feasible(problem, found.circles)
        assert found.optimal
        assert found.gap == 0.0
        assert (found.placed, found.value) == exhaustive(problem)
        checked += 1
    assert checked >= 60


@pytest.mark.parametrize("size", [(2, 3), (3, 5)])
def test_sizes_capacity_and_rules_hold(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    for _ in range(10):
        problem = random_problem(rng, members=9, facilitators=3, size=size)
        found = solve(problem, time_limit=10)
        assert is_feasible(problem, found.circles)
        for facilitator, members in found.circles:
            assert size[0] <= len(members) <= size[1]
            assert all(problem.allowed[i, facilitator] for i in members)
            assert not any(problem.apart[i, j] for i in members for j in members)
        used = np.bincount([f for f, _ in found.circles], minlength=problem.facilitators)
        assert (used <= problem.capacity).all()


def test_too_few_members_for_a_circle_forms_none() -> None:
    rng = np.random.default_rng(3)
    problem = random_problem(rng, members=2, facilitators=2, size=(3, 4))
    found = solve(problem, time_limit=5)
    assert found.circles == () and found.gap == 0.0
