"""The peer optimiser against exhaustive search: the most pairs, then the best total fit."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.matching import peer_solver
from handlers.matching.peer_solver import (
    SCORE_SCALE,
    Edges,
    candidate_edges,
    pair_peers,
    upper_bound,
)

Pair = tuple[int, int]


def every_matching(edges: list[Pair]) -> list[list[Pair]]:
    """Every matching of the graph (every set of edges with no peer twice), by recursion."""
    if not edges:
        return [[]]
    first, rest = edges[0], edges[1:]
    without = every_matching(rest)
    free = [e for e in rest if not set(e) & set(first)]
    return without + [[first, *m] for m in every_matching(free)]


def value(pairs: list[Pair], weight: dict[Pair, int]) -> tuple[int, int]:
    return len(pairs), sum(weight[p] for p in pairs)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[Pair], list[float]]:
    n = draw(st.integers(min_value=0, max_value=8))
    possible = list(combinations(range(n), 2))
    chosen = draw(st.lists(st.sampled_from(possible), unique=True)) if possible else []
    fits = draw(
        st.lists(
            st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0])
            | st.floats(min_value=0, max_value=1),
            min_size=len(chosen),
            max_size=len(chosen),
        )
    )
    return n, chosen, fits


@settings(derandomize=True, max_examples=300, deadline=None)
@given(graphs())
def test_the_pairing_is_the_exhaustive_optimum_on_small_pools(
    graph: tuple[int, list[Pair], list[float]],
) -> None:
    n, chosen, fits = graph
    edges = Edges.of([a for a, _ in chosen], [b for _, b in chosen], fits)
    weight = {
        (int(a), int(b)): int(np.rint(w * SCORE_SCALE))
        for a, b, w in zip(edges.first, edges.second, edges.fit, strict=True)
    }
    found = pair_peers(n, edges)
    assert all(pair in weight for pair in found)  # only allowed pairs
    people = [p for pair in found for p in pair]
    assert len(people) == len(set(people))  # nobody twice, nobody with themselves
    best = max(value(m, weight) for m in every_matching(sorted(weight)))
    assert value(found, weight) == best


def test_an_odd_pool_leaves_exactly_one_peer_over() -> None:
    fit = np.full((5, 5), 0.5)
    found = pair_peers(5, candidate_edges(fit, np.ones((5, 5), dtype=bool)))
    assert len(found) == 2


def test_pairs_more_peers_before_a_better_total_fit() -> None:
    # 0-1 fit perfectly, but taking them leaves 2 and 3 alone; 0-2 and 1-3 pair all four.
    edges = Edges.of([0, 0, 1], [1, 2, 3], [1.0, 0.1, 0.1])
    assert pair_peers(4, edges) == [(0, 2), (1, 3)]


def test_large_pools_keep_only_allowed_candidates_and_the_near_exact_path_pairs_well(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(peer_solver, "FULL_GRAPH_PEERS", 10)
    monkeypatch.setattr(peer_solver, "BLOCK_PEERS", 12)
    rng = np.random.default_rng(7)
    n = 40
    fit = rng.random((n, n))
    fit = (fit + fit.T) / 2
    levels = rng.integers(1, 5, n)
    allowed = np.abs(levels[:, None] - levels[None, :]) <= 1
    edges = candidate_edges(fit, allowed, per_peer=3)
    assert allowed[edges.first, edges.second].all()
    assert edges.first.size < int(np.triu(allowed, 1).sum())  # sparsified
    found = pair_peers(n, edges)
    people = [p for pair in found for p in pair]
    assert len(people) == len(set(people))
    assert all(allowed[a, b] for a, b in found)
    pairs = zip(edges.first.tolist(), edges.second.tolist(), strict=True)
    weight = dict(zip(pairs, edges.fit.tolist(), strict=True))
    assert sum(weight[p] for p in found) <= upper_bound(n, edges) + 1e-6
    # Near-exact: as many pairs as the exact optimum of the same graph here.
    monkeypatch.setattr(peer_solver, "BLOCK_PEERS", 1000)
    assert len(found) == len(pair_peers(n, edges))


def test_bad_input_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="themselves"):
        Edges.of([1], [1], [0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Edges.of([0], [1], [1.5])
    with pytest.raises(ValueError, match="there are 2"):
        pair_peers(2, Edges.of([0], [2], [0.5]))
