"""Benchmark: forming mentor circles for a large pool, and how close to the best bound.

Builds a seeded synthetic pool of ``--mentees`` members (2,000) and ``--facilitators``
(300) for the circles program of tests/fixtures/circles.yaml, resized to circles of
``--min``..``--max`` members (3..6), and forms its circles with
:func:`handlers.circles.formation.form_circles` (the part of ``plan_circles`` after the
database read): scoring, the optimiser, the words. People:

- members want 1-3 of the 10 competencies, mostly from one pillar of the strategy;
  facilitators offer 2-5; 85% facilitate one circle at a time, 15% two;
- timezones spread over eight zones (London, Berlin, New York, Chicago, San Francisco,
  Bangalore, Singapore, Sydney), weighted like a company with most people in Europe and
  the US; eight departments; levels 2-5 (members) and 5-8 (facilitators);
- management chains: one member in ten reports to a facilitator, one in twenty to
  another member.

Prints the time to form the circles (scoring included), circles formed, members placed, the
objective (the sum of every placed member's value in [0, 1]), the bound the optimiser
proved and the gap (bound − objective) / bound. Target: under 60 s with a gap under 5%.
It exits 1 only when a circle breaks a rule (a size, a capacity, a member twice, a
management chain).

    .venv/bin/python bench/circles.py [--mentees N] [--facilitators M] [--min A] [--max B]
                                      [--seconds S] [--seed SEED]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for handlers when run as `python bench/circles.py`

from bot.config import load_programs  # noqa: E402
from handlers.circles import circle_pool, circle_solver  # noqa: E402
from handlers.circles.circle_pool import CirclePool, ancestors  # noqa: E402
from handlers.circles.formation import form_circles  # noqa: E402
from handlers.core.program import Program  # noqa: E402
from handlers.matching.pool import Pool, Profile  # noqa: E402
from storage import Role  # noqa: E402

NOW = datetime(2027, 2, 10, 10, tzinfo=UTC)
ZONES = [
    ("Europe/London", 0.28),
    ("Europe/Berlin", 0.17),
    ("America/New_York", 0.2),
    ("America/Chicago", 0.08),
    ("America/Los_Angeles", 0.1),
    ("Asia/Kolkata", 0.09),
    ("Asia/Singapore", 0.05),
    ("Australia/Sydney", 0.03),
]
DEPARTMENTS = ["Sales", "Engineering", "Product", "Finance", "People", "Legal", "Ops", "Data"]
GOALS = [
    "Get ready to lead a team of five",
    "Learn how product decisions are made",
    "Grow into a senior leadership role",
    "Lead my team through a reorganisation",
    "Build influence with senior stakeholders",
    "Give better feedback and coach my reports",
]


def program_of(size: tuple[int, int], seconds: float) -> Program:
    """The fixture's circles program, resized."""
    program = load_programs(ROOT / "tests" / "fixtures" / "circles.yaml").of("leader-circles")
    assert program.circles is not None
    circles = program.circles.model_copy(
        update={
            "size": program.circles.size.model_copy(update={"min": size[0], "max": size[1]}),
            "solve_seconds": seconds,
        }
    )
    return program.model_copy(update={"circles": circles})


def synthetic_pool(program: Program, *, mentees: int, facilitators: int, seed: int) -> CirclePool:
    """A seeded pool of members and facilitators (see the module docstring)."""
    rng = np.random.default_rng(seed)
    pillars: dict[str, list[str]] = {}
    for competency in program.competencies:
        pillars.setdefault(competency.pillar, []).append(competency.id)
    groups = list(pillars.values())
    everything = [c.id for c in program.competencies]
    zones = [z for z, _ in ZONES]
    weights = np.array([w for _, w in ZONES])
    weights = weights / weights.sum()

    def wanted() -> tuple[str, ...]:
        home = groups[int(rng.integers(len(groups)))]
        count = int(rng.integers(1, 4))
        chosen: list[str] = []
        while len(chosen) < count:
            source = home if rng.random() < 0.75 else everything
            pick = source[int(rng.integers(len(source)))]
            if pick not in chosen:
                chosen.append(pick)
        return tuple(chosen)

    def person(k: int, role: Role) -> Profile:
        zone = zones[int(rng.choice(len(zones), p=weights))]
        is_member = role is Role.MENTEE
        strengths = (
            wanted()
            if is_member
            else tuple(rng.choice(everything, size=int(rng.integers(2, 6)), replace=False))
        )
        capacity = 0 if is_member else (2 if rng.random() < 0.15 else 1)
        return Profile(
            person_id=k,
            name=f"{'Member' if is_member else 'Facilitator'} {k}",
            email=f"{'m' if is_member else 'f'}{k}@example.com",
            role=role,
            department=DEPARTMENTS[int(rng.integers(len(DEPARTMENTS)))],
            title=None,
            level=int(rng.integers(2, 6)) if is_member else int(rng.integers(5, 9)),
            timezone=zone,
            competencies=tuple(str(s) for s in strengths),
            formats=("Group",),
            text=GOALS[int(rng.integers(len(GOALS)))] if is_member else "Years of leading teams.",
            free=capacity,
            capacity=capacity,
        )

    members = [person(k, Role.MENTEE) for k in range(1, mentees + 1)]
    leaders = [person(100_000 + k, Role.MENTOR) for k in range(1, facilitators + 1)]
    managers: dict[int, int | None] = {}
    for profile in members:
        draw = rng.random()
        if draw < 0.1:
            managers[profile.person_id] = leaders[int(rng.integers(len(leaders)))].person_id
        elif draw < 0.15:
            boss = members[int(rng.integers(len(members)))].person_id
            if boss != profile.person_id and profile.person_id not in ancestors(boss, managers):
                managers[profile.person_id] = boss
    pool = Pool(members, leaders, set(), managers)
    return CirclePool(members, leaders, enrolled=len(leaders), paused=0, pool=pool)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentees", type=int, default=2000)
    parser.add_argument("--facilitators", type=int, default=300)
    parser.add_argument("--min", type=int, default=3)
    parser.add_argument("--max", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30.0, help="the optimiser's limit")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args(argv)
    program = program_of((args.min, args.max), args.seconds)
    found = synthetic_pool(
        program, mentees=args.mentees, facilitators=args.facilitators, seed=args.seed
    )
    seats = sum(f.free for f in found.facilitators) * args.max
    print(
        f"pool: {len(found.mentees)} members, {len(found.facilitators)} facilitators "
        f"({seats} places in circles of {args.min}-{args.max}), seed {args.seed}"
    )
    started = time.perf_counter()
    plan = form_circles(program, found, now=NOW, time_limit=args.seconds)
    done = time.perf_counter()
    problem = circle_pool.tables(program, found, now=NOW).problem  # to check the rules
    at = {p.person_id: i for i, p in enumerate(found.mentees)}
    columns = {p.person_id: j for j, p in enumerate(found.facilitators)}
    circles = [
        (columns[c.facilitator.person_id], [at[m.person_id] for m in c.members])
        for c in plan.circles
    ]
    ok = circle_solver.is_feasible(problem, circles)
    print(f"forming circles:    {done - started:7.2f} s (scoring, optimiser, words)")
    print(f"circles formed:     {len(plan.circles):7d}")
    print(f"members placed:     {plan.placed:7d} of {len(found.mentees)}")
    print(f"objective:          {plan.objective:10.2f}")
    print(f"bound:              {plan.bound:10.2f}")
    print(f"gap:                {plan.optimality_gap:10.2%}")
    print(f"rules held:         {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
