"""The pairing optimiser: match as many mentees as possible, then the greatest total score.

:func:`solve` takes a mentees × mentors score matrix, each mentor's capacity and a mask of
the pairs the rules allow, and returns the exact optimum of

    1. the number of mentees matched (a maximum-cardinality b-matching), then
    2. among those pairings, the total score.

Lexicographic as one weight. With every score in [0, 1], a pairing that matches one more
mentee beats any pairing that matches fewer once each pair is worth ``M + score`` with
``M`` larger than the sum of any pairing's scores. So the problem is a single maximum-weight
b-matching, whose linear programme (LP) is

    primal  max  Σ w_ij x_ij   s.t.  Σ_j x_ij ≤ 1,  Σ_i x_ij ≤ c_j,  x ≥ 0
    dual    min  Σ u_i + Σ c_j v_j   s.t.  u_i + v_j ≥ w_ij on every allowed pair,  u, v ≥ 0.

The constraint matrix is a bipartite incidence matrix (totally unimodular), so integer
pairings attain the LP optimum and LP duality certifies them.

Why not hand the whole matrix to a solver: 10,000 × 4,000 is 40 million arcs, far too many
for a flow solver in seconds and gigabytes. Yet in most pools a mentee ends up with one of
the few mentors they score highest, or with a mentor who has few better offers. So:

    1. Candidates: each mentee's ``CANDIDATES_PER_MENTEE`` best usable mentors, each mentor's
       ``CANDIDATES_PER_MENTOR`` best mentees (argpartition over row chunks of the matrix,
       so no second copy of it is made), and the pairs of a greedy pairing. The greedy
       pairs are there for cardinality: without them, mentees who all want the same few
       mentors would leave the candidate graph short of places in the first round.
    2. Restricted optimum: OR-Tools' min-cost flow (``SimpleMinCostFlow``) finds the maximum
       flow of least cost on the candidate arcs, which is the lexicographic optimum on them.
    3. Certificate: from that optimum, dual prices (u, v) for the candidate problem are
       computed, meeting complementary slackness (an unmatched mentee has u = 0, a mentor
       with a free place has v = 0, a chosen pair is tight). Then every allowed pair of the
       FULL matrix is checked (vectorised, in row chunks) for u_i + v_j ≥ w_ij. If all hold,
       (u, v) is feasible for the full dual and its value equals the pairing's weight, so by
       weak duality no pairing of the full problem is better: the answer is the true
       optimum. Otherwise the most violated pairs of each offending mentee and of each
       offending mentor join the candidates and steps 2-3 repeat. A violated pair is never
       already a candidate (the prices hold on every candidate), so each round adds at
       least one arc and the loop ends. On random scores the first round is certified;
       scores where everyone ranks the mentors alike take a few rounds of price discovery.

Mentors with no capacity take no part: their dual price can be set arbitrarily high at no
cost (its coefficient c_j is 0), so their pairs are never candidates and never checked.

Cardinality needs no separate feasibility step: a candidate graph that matches too few
mentees leaves an unmatched mentee (u = 0) with an allowed pair to a mentor with a free
place (v = 0), which violates 0 + 0 ≥ M + s and brings that pair in.

The duals come from the optimal flow itself. Writing u_i = w_i,m(i) - v_m(i) for a mentee
matched to m(i), the dual constraints on the candidate arcs become difference constraints
between mentor prices (v_j ≥ v_m(i) + w_ij - w_i,m(i), and v_j ≥ w_ij next to an unmatched
mentee), whose least solution is a longest-path problem over mentors (Bellman-Ford; no
positive cycle exists because the flow is optimal). The least prices are the ones that keep
mentors with a free place at zero, as complementary slackness requires.

Exactness. OR-Tools works in integers, so scores are rounded to multiples of 1/SCORE_SCALE
(1e-9) and everything above, the certificate included, is exact integer arithmetic on the
rounded scores. The pairing is therefore optimal for the rounded scores, and within
1e-9 per matched pair of the optimum for the scores as given; scores closer than that count
as equal. Ties are broken by the solver, deterministically for the same input.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow

__all__ = ["CANDIDATES_PER_MENTEE", "CANDIDATES_PER_MENTOR", "SCORE_SCALE", "solve"]

#: Scores become integers in units of 1/SCORE_SCALE: the resolution of the optimum.
SCORE_SCALE = 10**9
#: How many of their best mentors each mentee starts with in the candidate graph, and how
#: many most violated pairs each offending mentee adds in the first round of repairs.
CANDIDATES_PER_MENTEE = 10
#: Likewise per mentor: its best mentees, then its most violated pairs in every round.
CANDIDATES_PER_MENTOR = 10
#: The per-mentee additions double each round up to this, which bounds a round's growth.
#: (Measured on 10,000 × 4,000: larger caps grow the graph faster than they save rounds.)
MAX_ADDED_PER_MENTEE = 40
#: Matrix cells handled at once when scanning the full matrix (32 MB as int64).
CHUNK_CELLS = 1 << 22

Int64Array = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def solve(
    scores: ArrayLike,
    capacity: Sequence[int] | ArrayLike,
    *,
    allowed: ArrayLike | None = None,
) -> list[tuple[int, int]]:
    """The pairing that matches the most mentees and, among those, has the greatest score.

    Args:
        scores: Mentees × mentors fit, each in [0, 1] (a numpy array or nested lists).
        capacity: How many mentees each mentor can take, one non-negative int per mentor.
        allowed: Optional boolean mask shaped like ``scores``; False forbids the pair.

    Returns:
        ``(mentee_index, mentor_index)`` pairs sorted by mentee index: each mentee at most
        once, each mentor at most its capacity, only allowed pairs.

    Raises:
        ValueError: When an argument has the wrong shape or type, a capacity is negative,
            or a score is NaN or outside [0, 1].
    """
    problem = _Problem.of(scores=scores, capacity=capacity, allowed=allowed)
    n_mentees, n_mentors = problem.scores.shape
    if n_mentees == 0 or n_mentors == 0 or not problem.capacity.any():
        return []
    if problem.allowed is not None and not problem.allowed.any():
        return []

    seed = _violated_pairs(
        problem,
        mentee_prices=np.zeros(n_mentees, dtype=np.int64),
        mentor_prices=np.zeros(n_mentors, dtype=np.int64),
        per_mentee=CANDIDATES_PER_MENTEE,
        per_mentor=CANDIDATES_PER_MENTOR,
    )
    if seed is None:
        # At zero prices every usable pair is violated, so there is none: the only allowed
        # pairs are with mentors who have no place.
        return []
    greedy = _greedy_pairs(problem)
    arcs = _Arcs.of(
        problem,
        mentees=np.concatenate([seed[0], greedy[0]]),
        mentors=np.concatenate([seed[1], greedy[1]]),
    )
    per_mentee = CANDIDATES_PER_MENTEE
    while True:
        mentor_of = _restricted_optimum(problem, arcs)
        mentee_prices, mentor_prices = _dual_prices(problem, arcs=arcs, mentor_of=mentor_of)
        missing = _violated_pairs(
            problem,
            mentee_prices=mentee_prices,
            mentor_prices=mentor_prices,
            per_mentee=per_mentee,
            per_mentor=CANDIDATES_PER_MENTOR,
        )
        if missing is None:
            break
        grown = arcs.plus(problem, missing)
        if grown.mentees.size == arcs.mentees.size:
            # Prices that hold on every candidate arc cannot be violated by one of them.
            raise RuntimeError("the certificate flagged a pair that is already a candidate")
        arcs = grown
        # A mentee still offending after a round needs more of its pairs; growing the share
        # cuts the rounds when its best pairs are all contested, the cap bounds the graph.
        per_mentee = min(2 * per_mentee, MAX_ADDED_PER_MENTEE)

    mentees = np.flatnonzero(mentor_of >= 0)
    return list(zip(mentees.tolist(), mentor_of[mentees].tolist(), strict=True))


@dataclass(frozen=True)
class _Problem:
    """The validated input: scores as float64, capacities as int64, the mask if any."""

    scores: NDArray[np.float64]
    #: Capacities clipped to the number of mentees, which changes nothing and bounds the flow.
    capacity: Int64Array
    allowed: BoolArray | None
    #: M in the weight M + score (in score units): above any pairing's total score.
    big_m: int

    @classmethod
    def of(
        cls, *, scores: ArrayLike, capacity: Sequence[int] | ArrayLike, allowed: ArrayLike | None
    ) -> _Problem:
        """Check the arguments of :func:`solve` and convert them without copying arrays."""
        try:
            matrix = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"scores must be a rectangular mentees × mentors array of numbers ({error})."
            ) from None
        caps = np.asarray(capacity)
        if caps.ndim != 1:
            raise ValueError(
                f"capacity must be a flat list with one entry per mentor, not shape {caps.shape}."
            )
        if matrix.ndim == 1 and matrix.size == 0:
            # [] means no mentees; the mentor count comes from the capacities.
            matrix = matrix.reshape(0, caps.shape[0])
        if matrix.ndim != 2:
            raise ValueError(
                f"scores must be a 2-D mentees × mentors array, not shape {matrix.shape}."
            )
        n_mentees, n_mentors = matrix.shape
        if caps.shape[0] != n_mentors:
            raise ValueError(
                f"capacity has {caps.shape[0]} entries but scores has {n_mentors} mentor "
                "columns; give one capacity per mentor."
            )
        if caps.size == 0:
            caps = caps.astype(np.int64)
        if caps.dtype.kind not in "iu":
            raise ValueError(f"capacity must hold integers, not {caps.dtype} values.")
        if caps.size and caps.min() < 0:
            raise ValueError(
                f"capacity must not be negative; mentor {int(np.argmin(caps))} has "
                f"{int(caps.min())}."
            )
        if matrix.size:
            # min and max propagate NaN, so two passes check everything with no temporary.
            low, high = float(matrix.min()), float(matrix.max())
            if np.isnan(low) or np.isnan(high):
                raise ValueError("scores must not contain NaN.")
            if low < 0.0 or high > 1.0:
                raise ValueError(
                    f"scores must lie in [0, 1]; found values from {low!r} to {high!r}."
                )
        mask: BoolArray | None = None
        if allowed is not None:
            mask = np.asarray(allowed)
            if mask.shape != matrix.shape:
                raise ValueError(
                    f"allowed must have the same shape as scores {matrix.shape}, not {mask.shape}."
                )
            if mask.dtype != np.bool_:
                raise ValueError(f"allowed must be a boolean mask, not {mask.dtype} values.")
        return cls(
            scores=matrix,
            capacity=np.minimum(caps, n_mentees).astype(np.int64),
            allowed=mask,
            big_m=n_mentees * SCORE_SCALE + 1,
        )

    def row_chunks(self) -> Iterator[slice]:
        """Consecutive row ranges of about CHUNK_CELLS cells each."""
        n_mentees, n_mentors = self.scores.shape
        step = max(1, CHUNK_CELLS // max(1, n_mentors))
        for start in range(0, n_mentees, step):
            yield slice(start, min(start + step, n_mentees))

    def usable(self, rows: slice) -> BoolArray | None:
        """Which pairs of these rows may be used (allowed, mentor has a place); None: all."""
        open_mentor = self.capacity > 0
        if self.allowed is None:
            return (
                None
                if open_mentor.all()
                else np.broadcast_to(open_mentor, (rows.stop - rows.start, open_mentor.size))
            )
        return self.allowed[rows] & open_mentor


def _quantize(scores: NDArray[np.float64]) -> Int64Array:
    """Scores in integer units of 1/SCORE_SCALE."""
    return np.rint(scores * SCORE_SCALE).astype(np.int64)


@dataclass(frozen=True)
class _Arcs:
    """The candidate pairs, sorted by (mentee, mentor), with their quantized scores."""

    mentees: Int64Array
    mentors: Int64Array
    quanta: Int64Array

    @classmethod
    def of(cls, problem: _Problem, *, mentees: Int64Array, mentors: Int64Array) -> _Arcs:
        """Candidate arcs from index arrays, each pair once, in a canonical order."""
        n_mentors = problem.scores.shape[1]
        # One sorted key per pair: drops repeats and fixes the order the solver sees. (Not
        # np.unique: its hash-based path is several times slower on millions of keys.)
        key = np.sort(mentees * n_mentors + mentors)
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
        mentees, mentors = key // n_mentors, key % n_mentors
        return cls(mentees, mentors, _quantize(problem.scores[mentees, mentors]))

    def plus(self, problem: _Problem, pairs: tuple[Int64Array, Int64Array]) -> _Arcs:
        """These arcs and the given new ones."""
        return _Arcs.of(
            problem,
            mentees=np.concatenate([self.mentees, pairs[0]]),
            mentors=np.concatenate([self.mentors, pairs[1]]),
        )


def _restricted_optimum(problem: _Problem, arcs: _Arcs) -> Int64Array:
    """The most mentees, then the greatest score, using only ``arcs``: each mentee's mentor.

    Returns:
        For each mentee the index of its mentor, or -1 when it stays unmatched.

    Raises:
        RuntimeError: When OR-Tools does not report an optimal flow.
    """
    n_mentees, n_mentors = problem.scores.shape
    source, sink = n_mentees + n_mentors, n_mentees + n_mentors + 1
    mentor_nodes = n_mentees + np.arange(n_mentors, dtype=np.int64)
    tails = np.concatenate([np.full(n_mentees, source, dtype=np.int64), arcs.mentees, mentor_nodes])
    heads = np.concatenate(
        [np.arange(n_mentees, dtype=np.int64), n_mentees + arcs.mentors, np.full(n_mentors, sink)]
    )
    capacities = np.concatenate(
        [np.ones(n_mentees + arcs.mentees.size, dtype=np.int64), problem.capacity]
    )
    costs = np.concatenate(
        [np.zeros(n_mentees, dtype=np.int64), -arcs.quanta, np.zeros(n_mentors, dtype=np.int64)]
    )
    flow = SimpleMinCostFlow()
    handles = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities, costs
    )
    flow.set_node_supply(source, n_mentees)
    flow.set_node_supply(sink, -n_mentees)
    # A maximum flow of least cost: the cardinality first, then the score, with no big-M in
    # the solver's costs (they stay within ±SCORE_SCALE, far from int64 overflow).
    status = flow.solve_max_flow_with_min_cost()
    if status != SimpleMinCostFlow.OPTIMAL:
        raise RuntimeError(f"the min-cost flow solver stopped with status {status!r}")
    used = np.asarray(
        flow.flows(handles[n_mentees : n_mentees + arcs.mentees.size]), dtype=np.int64
    )
    chosen = used > 0
    mentor_of = np.full(n_mentees, -1, dtype=np.int64)
    mentor_of[arcs.mentees[chosen]] = arcs.mentors[chosen]
    return mentor_of


def _dual_prices(
    problem: _Problem, *, arcs: _Arcs, mentor_of: Int64Array
) -> tuple[Int64Array, Int64Array]:
    """Dual prices (u per mentee, v per mentor) that prove ``mentor_of`` optimal on ``arcs``.

    Weights are w = M + quantized score. The prices satisfy u_i + v_j ≥ w_ij on every
    candidate arc, u, v ≥ 0, and complementary slackness with ``mentor_of``.

    Raises:
        RuntimeError: When no such prices exist, i.e. the flow was not optimal.
    """
    n_mentees, n_mentors = problem.scores.shape
    matched = mentor_of >= 0
    own = mentor_of[arcs.mentees] == arcs.mentors
    own_quanta = np.zeros(n_mentees, dtype=np.int64)
    own_quanta[arcs.mentees[own]] = arcs.quanta[own]

    # An unmatched mentee has u = 0, so each of its mentors needs v_j ≥ w_ij outright.
    floor = np.zeros(n_mentors, dtype=np.int64)
    lonely = ~matched[arcs.mentees]
    np.maximum.at(floor, arcs.mentors[lonely], problem.big_m + arcs.quanta[lonely])
    # A matched mentee i could switch from m(i) to j: v_j ≥ v_m(i) + w_ij - w_i,m(i).
    switch = matched[arcs.mentees] & ~own
    who = arcs.mentees[switch]
    prices = _least_prices(
        floor,
        tails=mentor_of[who],
        heads=arcs.mentors[switch],
        gains=arcs.quanta[switch] - own_quanta[who],
    )

    load = np.bincount(mentor_of[matched], minlength=n_mentors)
    mentee_prices = np.where(
        matched, problem.big_m + own_quanta - prices[np.maximum(mentor_of, 0)], 0
    )
    if (prices[load < problem.capacity] != 0).any() or (mentee_prices < 0).any():
        raise RuntimeError("the min-cost flow returned a pairing that is not optimal")
    return mentee_prices, prices


def _least_prices(
    floor: Int64Array, *, tails: Int64Array, heads: Int64Array, gains: Int64Array
) -> Int64Array:
    """The least v ≥ floor with v[head] ≥ v[tail] + gain on every edge (longest paths).

    Bellman-Ford that relaxes, each pass, only the edges out of mentors whose price rose in
    the pass before. Without a positive cycle it settles within one pass per mentor.

    Raises:
        RuntimeError: On a positive cycle (the constraints have no solution).
    """
    n_mentors = floor.size
    order = np.argsort(tails, kind="stable")
    tails, heads, gains = tails[order], heads[order], gains[order]
    starts = np.searchsorted(tails, np.arange(n_mentors + 1))
    prices = floor.copy()
    frontier = np.arange(n_mentors)
    for _ in range(n_mentors + 1):
        counts = starts[frontier + 1] - starts[frontier]
        total = int(counts.sum())
        if total == 0:
            return prices
        # The edge indices of every frontier mentor, as one array.
        offsets = np.cumsum(counts) - counts
        edges = np.repeat(starts[frontier] - offsets, counts) + np.arange(total)
        offers = prices[tails[edges]] + gains[edges]
        better = offers > prices[heads[edges]]
        if not better.any():
            return prices
        raised = prices.copy()
        np.maximum.at(raised, heads[edges][better], offers[better])
        frontier = np.flatnonzero(raised != prices)
        prices = raised
    raise RuntimeError("mentor prices did not settle: the flow was not optimal")


def _greedy_pairs(problem: _Problem) -> tuple[Int64Array, Int64Array]:
    """Mentees in order, each taking its best mentor with a place left.

    Not a good pairing, but a maximal one: put among the candidates, it lets the restricted
    problem match (nearly always) as many mentees as the full one from the first round, so
    the rounds that follow are about the score alone.
    """
    n_mentees = problem.scores.shape[0]
    places = problem.capacity.copy()
    open_mentor = places > 0
    mentees: list[int] = []
    mentors: list[int] = []
    for mentee in range(n_mentees):
        usable = open_mentor if problem.allowed is None else open_mentor & problem.allowed[mentee]
        mentor = int(np.argmax(np.where(usable, problem.scores[mentee], -1.0)))
        if not usable[mentor]:
            continue
        mentees.append(mentee)
        mentors.append(mentor)
        places[mentor] -= 1
        open_mentor[mentor] = places[mentor] > 0
    return np.array(mentees, dtype=np.int64), np.array(mentors, dtype=np.int64)


def _violated_pairs(
    problem: _Problem,
    *,
    mentee_prices: Int64Array,
    mentor_prices: Int64Array,
    per_mentee: int,
    per_mentor: int,
) -> tuple[Int64Array, Int64Array] | None:
    """The most violated allowed pairs of the full matrix: where u_i + v_j < w_ij.

    Each mentee contributes its ``per_mentee`` most violated pairs and each mentor its
    ``per_mentor`` ones. With all prices zero every usable pair is violated by M + score,
    so the same call picks the initial candidates: each side's best-scoring pairs.

    Returns:
        None when no pair is violated (the prices certify the pairing for the full problem),
        else the (mentees, mentors) picked; a pair picked from both sides appears twice.
    """
    # u_i + v_j ≥ M + q_ij  ⇔  q_ij - v_j - (u_i - M) ≤ 0: anything above 0 is a violation.
    headroom = mentee_prices - problem.big_m
    picked: list[_Picked] = []
    by_mentor: list[_Picked] = []
    for rows in problem.row_chunks():
        excess = _quantize(problem.scores[rows])
        excess -= mentor_prices
        excess -= headroom[rows, None]
        usable = problem.usable(rows)
        if usable is not None:
            excess[~usable] = 0
        violated = excess > 0
        count = int(np.count_nonzero(violated))
        if count == 0:
            continue
        if count * 8 < excess.size:
            # Few violations (the usual case once prices settle): work on the list of them.
            row, column = np.nonzero(violated)
            found = _Picked(row + rows.start, column, excess[row, column])
            picked.append(found.best(by=found.mentees, keep=per_mentee))
            by_mentor.append(found.best(by=found.mentors, keep=per_mentor))
        else:
            picked.append(_best_in_rows(excess, start=rows.start, keep=per_mentee))
            by_mentor.append(_best_in_columns(excess, start=rows.start, keep=per_mentor))
    if not picked:
        return None
    across = _Picked.concatenate(by_mentor)
    chosen = _Picked.concatenate([*picked, across.best(by=across.mentors, keep=per_mentor)])
    return chosen.mentees, chosen.mentors


@dataclass(frozen=True)
class _Picked:
    """Violated pairs and by how much (in score units) each is violated."""

    mentees: Int64Array
    mentors: Int64Array
    gaps: Int64Array

    @staticmethod
    def concatenate(parts: Sequence[_Picked]) -> _Picked:
        """All the pairs of ``parts``, in order."""
        return _Picked(
            np.concatenate([p.mentees for p in parts]),
            np.concatenate([p.mentors for p in parts]),
            np.concatenate([p.gaps for p in parts]),
        )

    def best(self, *, by: Int64Array, keep: int) -> _Picked:
        """The ``keep`` largest gaps of each group of equal ``by`` (ties: first listed)."""
        order = np.lexsort((-self.gaps, by))
        groups = by[order]
        first = np.searchsorted(groups, groups, side="left")
        kept = order[np.arange(order.size) - first < keep]
        return _Picked(self.mentees[kept], self.mentors[kept], self.gaps[kept])


def _best_in_rows(excess: Int64Array, *, start: int, keep: int) -> _Picked:
    """Each row's ``keep`` largest positive entries of a dense block."""
    rows = np.flatnonzero((excess > 0).any(axis=1))
    block = excess[rows]
    n_columns = block.shape[1]
    if keep < n_columns:
        columns = np.argpartition(block, n_columns - keep, axis=1)[:, n_columns - keep :]
    else:
        columns = np.broadcast_to(np.arange(n_columns), block.shape)
    gaps = np.take_along_axis(block, columns, axis=1)
    row, position = np.nonzero(gaps > 0)
    return _Picked(rows[row] + start, columns[row, position], gaps[row, position])


def _best_in_columns(excess: Int64Array, *, start: int, keep: int) -> _Picked:
    """Each column's ``keep`` largest positive entries of a dense block."""
    by_column = _best_in_rows(excess.T, start=0, keep=keep)
    return _Picked(by_column.mentors + start, by_column.mentees, by_column.gaps)
