"""The pairing optimiser: exact against brute force and against a second exact method."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from handlers.matching import solver as matching_solver
from handlers.matching.solver import solve

Pairs = list[tuple[int, int]]
Instance = tuple[np.ndarray, np.ndarray, np.ndarray]


# -- helpers --------------------------------------------------------------------------------


def assert_feasible(pairs: Pairs, instance: Instance) -> None:
    """Each mentee once, each mentor within capacity, only allowed pairs, sorted by mentee."""
    scores, capacity, allowed = instance
    mentees = [i for i, _ in pairs]
    assert mentees == sorted(set(mentees)), "each mentee at most once, sorted by mentee"
    load = np.bincount([j for _, j in pairs], minlength=scores.shape[1])
    assert (load <= capacity).all(), "a mentor is over capacity"
    assert all(allowed[i, j] for i, j in pairs), "a forbidden pair was used"


def value(pairs: Pairs, scores: np.ndarray) -> tuple[int, float]:
    """(mentees matched, total score): the objective, compared lexicographically."""
    return len(pairs), float(sum(scores[i, j] for i, j in pairs))


def solve_instance(instance: Instance) -> Pairs:
    scores, capacity, allowed = instance
    return solve(scores, capacity, allowed=allowed)


def brute_force(instance: Instance) -> tuple[int, float]:
    """The optimum over every assignment of each mentee to a mentor or to nobody."""
    scores, capacity, allowed = instance
    n, m = scores.shape
    combos = list(itertools.product(range(-1, m), repeat=n))
    # Column m stands for "nobody": always allowed, worth nothing.
    choice = np.array(combos, dtype=np.int64).reshape(len(combos), n) % (m + 1)
    padded_scores = np.hstack([scores, np.zeros((n, 1))])
    padded_allowed = np.hstack([allowed, np.ones((n, 1), dtype=bool)])
    rows = np.arange(n)
    feasible = padded_allowed[rows, choice].all(axis=1)
    for j in range(m):
        feasible &= (choice == j).sum(axis=1) <= capacity[j]
    counts = (choice < m).sum(axis=1)[feasible]
    totals = padded_scores[rows, choice].sum(axis=1)[feasible]
    best = counts.max()
    return int(best), float(totals[counts == best].max())


def by_assignment(instance: Instance) -> tuple[int, float]:
    """The optimum by scipy's linear_sum_assignment on one column per place (big-M weights)."""
    scores, capacity, allowed = instance
    n = scores.shape[0]
    places = np.repeat(np.arange(scores.shape[1]), capacity)
    if n == 0 or places.size == 0:
        return 0, 0.0
    # M + score for an allowed pair, 0 (the same as no pair) for a forbidden one; M above any
    # total score makes one more pair worth more than every score together.
    big_m = n + 1.0
    weights = np.where(allowed[:, places], big_m + scores[:, places], 0.0)
    rows, columns = linear_sum_assignment(weights, maximize=True)
    used = allowed[rows, places[columns]]
    return int(used.sum()), float(scores[rows[used], places[columns[used]]].sum())


def small_instance(seed: int) -> Instance:
    """Up to 5 mentees × 4 mentors, capacities 0-2, forbidden pairs, often ties."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(0, 6)), int(rng.integers(0, 5))
    # Odd seeds: scores from a tiny set, so many pairings tie.
    scores = rng.choice([0.0, 0.5, 1.0], size=(n, m)) if seed % 2 else rng.random((n, m))
    capacity = rng.integers(0, 3, size=m)
    allowed = rng.random((n, m)) >= 0.3
    return scores, capacity, allowed


def medium_instance(seed: int) -> Instance:
    """60-200 mentees × 20-80 mentors; some scarce in places, some full of ties."""
    rng = np.random.default_rng(10_000 + seed)
    n, m = int(rng.integers(60, 201)), int(rng.integers(20, 81))
    if seed % 3 == 0:
        scores = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=(n, m))
    elif seed % 3 == 1:
        # Everyone ranks the mentors alike: the hard case for a top-k candidate graph.
        scores = 0.5 * rng.random((n, m)) + 0.5 * rng.random(m)
    else:
        scores = rng.random((n, m))
    capacity = rng.integers(0, 5 if seed % 2 else 3, size=m)
    allowed = rng.random((n, m)) >= rng.choice([0.0, 0.1, 0.5])
    return scores, capacity, allowed


@pytest.fixture(params=["usual candidates", "thin candidates"])
def candidates(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver as shipped, and with one candidate per mentee and per mentor (the
    certificate loop then builds nearly the whole graph itself)."""
    if request.param == "thin candidates":
        monkeypatch.setattr(matching_solver, "CANDIDATES_PER_MENTEE", 1)
        monkeypatch.setattr(matching_solver, "CANDIDATES_PER_MENTOR", 1)


def count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Counts the calls of a module function from now on; the list holds one entry per call."""
    calls: list[int] = []
    original: Callable[..., Any] = getattr(matching_solver, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(matching_solver, name, counted)
    return calls


# -- exactness ------------------------------------------------------------------------------


@pytest.mark.usefixtures("candidates")
@pytest.mark.parametrize("seed", range(300))
def test_small_instances_match_the_brute_force_optimum(seed: int) -> None:
    instance = small_instance(seed)
    pairs = solve_instance(instance)
    assert_feasible(pairs, instance)
    count, total = value(pairs, instance[0])
    best_count, best_total = brute_force(instance)
    assert count == best_count
    assert total == pytest.approx(best_total, abs=1e-9)


@pytest.mark.usefixtures("candidates")
@pytest.mark.parametrize("seed", range(30))
def test_medium_instances_match_linear_sum_assignment(seed: int) -> None:
    instance = medium_instance(seed)
    pairs = solve_instance(instance)
    assert_feasible(pairs, instance)
    count, total = value(pairs, instance[0])
    best_count, best_total = by_assignment(instance)
    assert count == best_count
    assert total == pytest.approx(best_total, abs=1e-6)


def test_everyone_wanting_the_same_few_mentors_makes_the_certificate_add_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(7)
    n, m, popular = 60, 40, 15
    # Beyond the popular few, mentees rank the mentors alike and mentors the mentees alike,
    # so each side's best pairs crowd onto the same people there too.
    scores = 0.3 * np.outer(rng.random(n), rng.random(m))
    scores[:, :popular] = 0.9 + 0.1 * rng.random((n, popular))
    capacity = np.full(m, 2)
    capacity[:popular] = 1
    allowed = np.ones((n, m), dtype=bool)
    instance = (scores, capacity, allowed)
    # Every mentee's top CANDIDATES_PER_MENTEE mentors are popular ones, with 15 places for
    # 60 mentees: that graph alone matches 15, where the full problem matches all 60.
    top = np.argsort(-scores, axis=1)[:, : matching_solver.CANDIDATES_PER_MENTEE]
    top_only = np.zeros_like(allowed)
    np.put_along_axis(top_only, top, True, axis=1)
    assert by_assignment((scores, capacity, top_only))[0] == popular
    solves = count_calls(monkeypatch, "_restricted_optimum")

    pairs = solve(scores, capacity, allowed=allowed)

    assert len(solves) > 1, "the first candidate graph was already certified"
    assert_feasible(pairs, instance)
    count, total = value(pairs, scores)
    best_count, best_total = by_assignment(instance)
    assert (count, best_count) == (n, n)
    assert total == pytest.approx(best_total, abs=1e-6)


def test_the_certificate_restores_cardinality_without_the_greedy_seed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = np.zeros(0, dtype=np.int64)
    monkeypatch.setattr(matching_solver, "_greedy_pairs", lambda problem: (empty, empty))
    monkeypatch.setattr(matching_solver, "CANDIDATES_PER_MENTEE", 1)
    monkeypatch.setattr(matching_solver, "CANDIDATES_PER_MENTOR", 1)
    scores = np.tile(np.linspace(1.0, 0.0, 12), (30, 1))  # all rank mentor 0 first
    capacity = np.full(12, 3)
    allowed = np.ones(scores.shape, dtype=bool)
    solves = count_calls(monkeypatch, "_restricted_optimum")

    pairs = solve(scores, capacity, allowed=allowed)

    assert len(solves) > 1
    assert_feasible(pairs, (scores, capacity, allowed))
    count, total = value(pairs, scores)
    assert (count, total) == (30, pytest.approx(by_assignment((scores, capacity, allowed))[1]))


def test_one_more_mentee_matched_beats_any_gain_in_score() -> None:
    # Mentee 0 fits mentor 0 perfectly, but mentor 0 is mentee 1's only allowed mentor.
    scores = np.array([[1.0, 0.0], [0.1, 0.0]])
    allowed = np.array([[True, True], [True, False]])

    assert solve(scores, [1, 1], allowed=allowed) == [(0, 1), (1, 0)]


def test_a_greater_total_beats_each_mentee_taking_its_favourite() -> None:
    # Both prefer mentor 0; the best total gives it to mentee 1, who loses most without it.
    scores = np.array([[0.9, 0.8], [0.9, 0.1]])

    assert solve(scores, [1, 1]) == [(0, 1), (1, 0)]


# -- the contract ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "capacity", "allowed", "message"),
    [
        ([0.5, 0.2], [1, 1], None, "2-D"),
        ([[[0.5]]], [1], None, "2-D"),
        ([[0.1, 0.2], [0.3]], [1, 1], None, "rectangular"),
        ([["high"]], [1], None, "rectangular"),
        ([[0.1, 0.2]], [1], None, "capacity has 1 entries but scores has 2 mentor columns"),
        ([[0.1, 0.2]], [[1, 1]], None, "flat list"),
        ([[0.1, 0.2]], [1, -1], None, "must not be negative; mentor 1 has -1"),
        ([[0.1, 0.2]], [1.5, 1], None, "integers"),
        ([[0.1, float("nan")]], [1, 1], None, "NaN"),
        ([[0.1, 1.5]], [1, 1], None, r"\[0, 1\]"),
        ([[-0.1, 0.5]], [1, 1], None, r"\[0, 1\]"),
        ([[0.1, float("inf")]], [1, 1], None, r"\[0, 1\]"),
        ([[0.1, 0.2]], [1, 1], [[True]], "same shape as scores"),
        ([[0.1, 0.2]], [1, 1], [[1, 0]], "boolean mask"),
    ],
)
def test_invalid_input_is_refused_with_a_sentence(
    scores: Any, capacity: Any, allowed: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        solve(scores, capacity, allowed=allowed)


@pytest.mark.parametrize(
    ("scores", "capacity", "allowed"),
    [
        ([], [], None),
        (np.zeros((0, 3)), [1, 1, 1], None),
        (np.zeros((3, 0)), [], None),
        (np.ones((3, 2)), [0, 0], None),
        (np.ones((3, 2)), [1, 1], np.zeros((3, 2), dtype=bool)),
        # The only allowed pairs are with a mentor who has no place.
        (np.ones((3, 2)), [0, 4], np.array([[True, False]] * 3)),
    ],
)
def test_nothing_to_pair_gives_an_empty_list(scores: Any, capacity: Any, allowed: Any) -> None:
    assert solve(scores, capacity, allowed=allowed) == []


def test_the_same_input_gives_the_same_pairing() -> None:
    rng = np.random.default_rng(3)
    scores = rng.choice([0.0, 0.5, 1.0], size=(300, 90))  # many ties to break
    capacity = rng.integers(0, 4, size=90)
    allowed = rng.random((300, 90)) >= 0.2

    first = solve(scores, capacity, allowed=allowed)

    assert solve(scores.copy(), capacity.tolist(), allowed=allowed.copy()) == first
    assert solve(np.asfortranarray(scores), capacity, allowed=allowed) == first


def test_pairs_are_plain_ints_sorted_by_mentee() -> None:
    rng = np.random.default_rng(5)
    scores = rng.random((40, 12))

    pairs = solve(scores, np.full(12, 3, dtype=np.uint8))

    assert pairs == sorted(pairs)
    assert all(type(i) is int and type(j) is int for i, j in pairs)
    assert len(pairs) == 36


def test_nested_lists_are_accepted() -> None:
    assert solve([[0.2, 0.9], [0.8, 0.1]], [1, 1], allowed=[[True, True], [True, True]]) == [
        (0, 1),
        (1, 0),
    ]


def test_a_capacity_beyond_the_number_of_mentees_is_fine() -> None:
    scores = np.array([[0.2, 0.9], [0.3, 0.8]])

    assert solve(scores, [10**12, 10**12]) == [(0, 1), (1, 1)]
