"""Benchmark: the exact pairing optimiser on a large pool, against a greedy pairing.

For each scenario, a fresh process builds a seeded random pool (``--mentees`` × ``--mentors``
float64 scores, capacities 1..``--max-capacity``) and times
:func:`handlers.matching.solver.solve` on it with time.perf_counter, then the peak resident
set size of the process (resource.getrusage ru_maxrss, which includes the input matrix
itself; the table also shows the peak before the solve). Then it runs a greedy baseline on
the same pool: every allowed pair in descending order of score, each taken while its mentee
is free and its mentor has a place. Scenarios:

all allowed
    Every mentee may pair with every mentor.
forbidden
    ``--forbidden`` of the pairs (10% by default), chosen at random, must never be used.

Then peer matching (handlers.matching.peer_solver), ``--peers`` peers (10,000) at levels
1-8 with ``max_level_gap`` 1: each wants 1-3 of 10 competencies and offers 1-3, and sits
in one of 12 timezones; a pair's fit is half what each wants that the other offers (both
ways) and half their timezone closeness. Timed: building the candidate graph (in row
chunks, every pair within the level gap scored, each peer's 10 best kept) and pairing
it. Beyond 1,000 peers the pairing is near-exact (see peer_solver): the LP relaxation's
whole pairs, then an exact blossom over everyone else; the relaxation's value is an upper
bound, and the table prints how close the pairing comes. ``--peer-exact`` also runs ONE
exact blossom over the same candidate graph (minutes). The peer target: under 10 s.

``--scores alike`` draws scores where everyone ranks the mentors much alike (half of each
score is the mentor's popularity): the harder case for the optimiser's candidate graph.

The benchmark prints numbers and never fails on time; it exits 1 only when a pairing breaks
a rule (a mentee twice, a mentor over capacity, a forbidden pair) or the greedy pairing
beats the optimum, in matches or in total score.

    .venv/bin/python bench/matching.py [--mentees N] [--mentors M] [--max-capacity C]
                                       [--forbidden F] [--scores random|alike] [--seed S]
                                       [--peers P] [--peer-exact]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for handlers when run as `python bench/matching.py`

from handlers.matching import peer_solver  # noqa: E402
from handlers.matching.solver import solve  # noqa: E402

TARGET_SECONDS = 10.0
TARGET_RSS_MB = 2048.0
Pairs = list[tuple[int, int]]


@dataclass(frozen=True)
class Scenario:
    """One pool to pair."""

    name: str
    mentees: int
    mentors: int
    max_capacity: int
    forbidden: float
    scores: str
    seed: int


@dataclass(frozen=True)
class Outcome:
    """One method on one scenario."""

    method: str
    seconds: float
    matched: int
    total: float
    problems: list[str]


@dataclass(frozen=True)
class Result:
    """Both methods on one scenario, and the memory the optimiser's process used."""

    scenario: Scenario
    places: int
    input_rss_mb: float
    solve_rss_mb: float
    optimum: Outcome
    greedy: Outcome


HEADER = (
    f"{'scenario':<12} {'method':<8} {'seconds':>8} {'peak RSS MB':>12} {'matched':>8} "
    f"{'total score':>12} {'mean score':>10}"
)


def row(scenario: str, outcome: Outcome, rss: str) -> str:
    mean = outcome.total / outcome.matched if outcome.matched else 0.0
    return (
        f"{scenario:<12} {outcome.method:<8} {outcome.seconds:>8.2f} {rss:>12} "
        f"{outcome.matched:>8} {outcome.total:>12.4f} {mean:>10.6f}"
    )


# -- the work -------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """The peak resident set size of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS


def make_pool(
    scenario: Scenario,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.bool_] | None]:
    """Seeded scores, capacities and (for the forbidden scenario) the mask of allowed pairs."""
    rng = np.random.default_rng(scenario.seed)
    shape = (scenario.mentees, scenario.mentors)
    scores = rng.random(shape)
    if scenario.scores == "alike":
        scores *= 0.5
        scores += 0.5 * rng.random(scenario.mentors)
    capacity = rng.integers(1, scenario.max_capacity + 1, size=scenario.mentors)
    if scenario.forbidden == 0:
        return scores, capacity, None
    allowed = np.empty(shape, dtype=bool)
    step = max(1, (1 << 22) // max(1, scenario.mentors))
    for start in range(0, scenario.mentees, step):
        # In row blocks, so no full-size float temporary inflates the peak before the solve.
        block = allowed[start : start + step]
        block[:] = rng.random(block.shape) >= scenario.forbidden
    return scores, capacity, allowed


def greedy(
    scores: npt.NDArray[np.float64],
    capacity: npt.NDArray[np.int64],
    allowed: npt.NDArray[np.bool_] | None,
) -> Pairs:
    """Every allowed pair from the highest score down, taken when both sides are still free.

    Equal scores go in (mentee, mentor) order. Rather than sorting all pairs at once, the
    pairs are sorted in score bands from the top, each band twice as wide as the one before,
    which gives the same order; the greedy usually finishes within the first few bands.
    """
    n_mentees, n_mentors = scores.shape
    places = capacity.copy()
    free = np.ones(n_mentees, dtype=bool)
    pairs: Pairs = []
    step = max(1, (1 << 22) // max(1, n_mentors))
    high, width = np.inf, 1.0 / max(1, n_mentors)
    while high > 0.0 and free.any() and places.any():
        low = 1.0 - width if high == np.inf else high - width
        low = low if low > 0.0 else -np.inf  # the last band takes the rest, zeros included
        found: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.intp]]]
        found = []
        for start in range(0, n_mentees, step):
            block = scores[start : start + step]
            wanted = (block >= low) & (block < high)
            wanted &= free[start : start + step, None] & (places > 0)
            if allowed is not None:
                wanted &= allowed[start : start + step]
            mentee, mentor = np.nonzero(wanted)
            found.append((block[mentee, mentor], mentee + start, mentor))
        band = [np.concatenate(part) for part in zip(*found, strict=True)]
        for index in np.lexsort((band[2], band[1], -band[0])).tolist():
            mentee, mentor = int(band[1][index]), int(band[2][index])
            if free[mentee] and places[mentor] > 0:
                free[mentee] = False
                places[mentor] -= 1
                pairs.append((mentee, mentor))
        high, width = low, 2 * width
    return sorted(pairs)


def problems_of(
    pairs: Pairs,
    capacity: npt.NDArray[np.int64],
    allowed: npt.NDArray[np.bool_] | None,
) -> list[str]:
    """The rules a pairing breaks, in words (none: an empty list)."""
    found = []
    mentees = [mentee for mentee, _ in pairs]
    if len(set(mentees)) != len(mentees):
        found.append("a mentee is paired twice")
    load = np.bincount([mentor for _, mentor in pairs], minlength=capacity.size)
    if (load > capacity).any():
        found.append(f"{int((load > capacity).sum())} mentors are over capacity")
    if allowed is not None and not all(allowed[i, j] for i, j in pairs):
        found.append("a forbidden pair is used")
    return found


def outcome(
    *,
    method: str,
    pairs: Pairs,
    seconds: float,
    pool: tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.bool_] | None],
) -> Outcome:
    scores, capacity, allowed = pool
    total = float(sum(scores[i, j] for i, j in pairs))
    return Outcome(method, seconds, len(pairs), total, problems_of(pairs, capacity, allowed))


def run_scenario(scenario: Scenario) -> Result:
    """Runs in a fresh process, so ru_maxrss is this scenario's alone."""
    pool = make_pool(scenario)
    scores, capacity, allowed = pool
    input_rss = peak_rss_mb()
    started = time.perf_counter()
    pairs = solve(scores, capacity, allowed=allowed)
    seconds = time.perf_counter() - started
    solve_rss = peak_rss_mb()
    optimum = outcome(method="optimum", pairs=pairs, seconds=seconds, pool=pool)
    started = time.perf_counter()
    pairs = greedy(*pool)
    seconds = time.perf_counter() - started
    baseline = outcome(method="greedy", pairs=pairs, seconds=seconds, pool=pool)
    return Result(scenario, int(pool[1].sum()), input_rss, solve_rss, optimum, baseline)


# -- main -----------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    scenarios = [
        Scenario(name, args.mentees, args.mentors, args.max_capacity, forbid, args.scores, seed)
        for name, forbid, seed in [
            ("all allowed", 0.0, args.seed),
            ("forbidden", args.forbidden, args.seed + 1),
        ]
    ]
    print(
        f"mentorbot matching benchmark: {args.mentees} mentees x {args.mentors} mentors, "
        f"capacities 1-{args.max_capacity}, {args.scores} scores, seed {args.seed}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(HEADER, flush=True)
    results: list[Result] = []
    for scenario in scenarios:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            result = pool.submit(run_scenario, scenario).result()
        results.append(result)
        print(row(scenario.name, result.optimum, f"{result.solve_rss_mb:.0f}"))
        print(row(scenario.name, result.greedy, "-"), flush=True)

    failed = False
    print()
    for r in results:
        label = r.scenario.name
        if r.scenario.forbidden:
            label += f" ({r.scenario.forbidden:.0%} of pairs)"
        gain = r.optimum.total - r.greedy.total
        print(
            f"{label}: {r.places} places for {r.scenario.mentees} mentees; optimum matched "
            f"{r.optimum.matched} vs greedy {r.greedy.matched}, total score "
            f"{r.optimum.total:.4f} vs {r.greedy.total:.4f} "
            f"({gain:+.4f}, {gain / r.greedy.total:+.3%} over greedy)."
            if r.greedy.total
            else f"{label}: nothing matched."
        )
        print(
            f"  peak RSS {r.solve_rss_mb:.0f} MB, of which {r.input_rss_mb:.0f} MB before "
            f"the solve (the input pool, numpy and OR-Tools)."
        )
        for problem in r.optimum.problems + r.greedy.problems:
            print(f"ERROR: {label}: {problem}")
            failed = True
        worse = (r.optimum.matched, r.optimum.total + 1e-6) < (r.greedy.matched, r.greedy.total)
        if worse:
            print(f"ERROR: {label}: the greedy pairing beats the optimum")
            failed = True
    for r in results:
        seconds, rss = r.optimum.seconds, r.solve_rss_mb
        verdict = "met" if seconds < TARGET_SECONDS and rss < TARGET_RSS_MB else "NOT met"
        print(
            f"target {r.scenario.name}: solve < {TARGET_SECONDS:.0f} s and peak RSS < "
            f"{TARGET_RSS_MB / 1024:.0f} GB: {verdict} ({seconds:.2f} s, {rss:.0f} MB)"
        )
    if not peer_bench(args):
        failed = True
    return 1 if failed else 0


def peer_pool(n: int, seed: int) -> tuple[npt.NDArray[Any], ...]:
    """A seeded pool of ``n`` peers: levels, wants and offers (0/1 rows), timezones."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(1, 9, n)

    def picks() -> npt.NDArray[np.float64]:
        """1-3 of 10 competencies per peer: the first k of a random order."""
        rank = np.argsort(rng.random((n, 10)), axis=1)
        return (rank < rng.integers(1, 4, n)[:, None]).astype(np.float64)

    wants, offers = picks(), picks()
    zones = rng.integers(0, 12, n)
    return levels, wants, offers, zones


def peer_candidates(
    pool: tuple[npt.NDArray[np.int64], ...],
) -> tuple[npt.NDArray[np.int64], peer_solver.Edges]:
    """Score every pair within the level gap, in row chunks, and keep each peer's best."""
    levels, wants, offers, zones = pool
    keep = peer_solver.CANDIDATES_PER_PEER
    share = (wants / wants.sum(axis=1, keepdims=True)).astype(np.float32)
    offers = offers.astype(np.float32)
    first, second, fits = [], [], []
    # Only peers within the level gap are scored: one level's rows against the columns of
    # that level and the next ones, in chunks of rows.
    for level in np.unique(levels).tolist():
        columns = np.flatnonzero(np.abs(levels - level) <= 1)
        for chunk in np.array_split(
            np.flatnonzero(levels == level), max(1, int((levels == level).sum()) // 1000)
        ):
            helped = share[chunk] @ offers[columns].T  # what row i wants that column j offers
            helps = offers[chunk] @ share[columns].T  # what column j wants that row i offers
            apart = np.abs(zones[chunk, None] - zones[None, columns])
            close = 1.0 - np.minimum(apart, 12 - apart) / np.float32(6.0)
            fit = 0.25 * helped + 0.25 * helps + 0.5 * close
            fit[chunk[:, None] == columns[None, :]] = -1.0
            best = np.argpartition(-fit, keep, axis=1)[:, :keep]
            here = np.repeat(chunk, keep)
            chosen = np.take_along_axis(fit, best, axis=1).ravel()
            usable = chosen >= 0
            first.append(here[usable])
            second.append(columns[best.ravel()][usable])
            fits.append(np.clip(chosen[usable], 0, 1).astype(np.float64))
    edges = peer_solver.Edges.of(
        np.concatenate(first), np.concatenate(second), np.concatenate(fits)
    )
    return np.argsort(levels, kind="stable"), edges


def peer_bench(args: argparse.Namespace) -> bool:
    """Pair ``--peers`` peers; print the numbers; False when a pairing breaks a rule."""
    n = args.peers
    pool = peer_pool(n, args.seed)
    began = time.perf_counter()
    order, edges = peer_candidates(pool)
    built = time.perf_counter()
    pairs = peer_solver.pair_peers(n, edges, order=order)
    done = time.perf_counter()
    weight = {
        (int(a), int(b)): float(w)
        for a, b, w in zip(edges.first, edges.second, edges.fit, strict=True)
    }
    total = sum(weight[p] for p in pairs)
    people = [p for pair in pairs for p in pair]
    ok = len(people) == len(set(people)) and all(p in weight for p in pairs)
    print(
        f"\npeers: {n} peers, {edges.first.size} candidate pairs; candidate graph "
        f"{built - began:.2f} s, pairing {done - built:.2f} s, total {done - began:.2f} s; "
        f"{len(pairs)} pairs ({2 * len(pairs)} of {n} peers paired), total fit {total:.4f}"
    )
    bound = peer_solver.upper_bound(n, edges)
    print(
        f"peers: the LP bound on the total fit is {bound:.4f}; the pairing reaches "
        f"{total / bound:.3%} of it"
    )
    verdict = "met" if done - began < TARGET_SECONDS else "NOT met"
    print(f"target peers: {n} peers in < {TARGET_SECONDS:.0f} s: {verdict} ({done - began:.2f} s)")
    if args.peer_exact:
        saved = peer_solver.BLOCK_PEERS
        peer_solver.BLOCK_PEERS = n
        try:
            start = time.perf_counter()
            exact = peer_solver.pair_peers(n, edges)
            seconds = time.perf_counter() - start
        finally:
            peer_solver.BLOCK_PEERS = saved
        best = sum(weight[p] for p in exact)
        print(
            f"peers, one exact blossom on the same candidate graph: {seconds:.1f} s, "
            f"{len(exact)} pairs, total fit {best:.4f}; the near-exact pairing reaches "
            f"{len(pairs)}/{len(exact)} pairs and {total / best:.5%} of its fit"
        )
    if not ok:
        print("ERROR: peers: a peer paired twice or a pair outside the candidate graph")
    return ok


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentees", type=int, default=10_000, help="mentees (10000)")
    parser.add_argument("--mentors", type=int, default=4_000, help="mentors (4000)")
    parser.add_argument(
        "--max-capacity", type=int, default=5, help="capacities drawn from 1..this (5)"
    )
    parser.add_argument(
        "--forbidden", type=float, default=0.1, help="share of forbidden pairs (0.1)"
    )
    parser.add_argument("--scores", choices=["random", "alike"], default="random")
    parser.add_argument("--seed", type=int, default=2027, help="pool random seed")
    parser.add_argument("--peers", type=int, default=10_000, help="peers to pair (10000)")
    parser.add_argument(
        "--peer-exact", action="store_true", help="also one exact blossom on all peers (slow)"
    )
    args = parser.parse_args(argv)
    if args.mentees < 1 or args.mentors < 1:
        parser.error("--mentees and --mentors must be at least 1")
    if args.max_capacity < 1:
        parser.error("--max-capacity must be at least 1")
    if not 0 <= args.forbidden < 1:
        parser.error("--forbidden must be in [0, 1)")
    return args


if __name__ == "__main__":
    sys.exit(main(parse_args()))
