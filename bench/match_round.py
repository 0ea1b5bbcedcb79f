"""Benchmark: one whole matching round (scoring, hard rules, solve, explanations) in memory.

bench/matching.py measures the solver alone on 10,000 x 4,000; this measures what a program
lead waits for after typing ``match``: everything between the loaded pool and the listed
proposals, for pools of growing size.

    .venv/bin/python bench/match_round.py [--sizes 500x200,2000x800,5000x2000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.config import load_programs
from handlers.matching.pool import Pool, Profile
from handlers.matching.rounds import plan_matches
from storage import Role

ROOT = Path(__file__).resolve().parent.parent
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"]
DEPARTMENTS = ["Sales", "Product", "Engineering", "Finance", "People", "Marketing"]
GOALS = [
    "lead a team of engineers through a reorganisation",
    "learn how product strategy decisions are made",
    "build influence with senior stakeholders in sales",
    "become a better coach and give clearer feedback",
]


def pool(mentees: int, mentors: int, seed: int) -> Pool:
    program = load_programs(ROOT / "app.yaml").first
    rng = random.Random(seed)
    competencies = [c.id for c in program.competencies]

    def profile(number: int, role: Role) -> Profile:
        return Profile(
            person_id=number,
            name=f"Person {number}",
            email=f"p{number}@example.com",
            role=role,
            department=rng.choice(DEPARTMENTS),
            title=None,
            level=rng.randint(2, 4) if role is Role.MENTEE else rng.randint(4, 8),
            timezone=rng.choice(ZONES),
            competencies=tuple(rng.sample(competencies, 3)),
            formats=tuple(rng.sample(["One-on-one", "Group", "Shadowing"], 2)),
            text=rng.choice(GOALS),
            free=rng.randint(1, 3),
            capacity=3,
            waiting_since=datetime(2026, 11, rng.randint(1, 20), tzinfo=UTC),
        )

    return Pool(
        [profile(i, Role.MENTEE) for i in range(mentees)],
        [profile(mentees + j, Role.MENTOR) for j in range(mentors)],
        set(),
        {},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500x200,2000x800,5000x2000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    program = load_programs(ROOT / "app.yaml").first
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    plan_matches(
        program, pool(5, 3, args.seed), now=now
    )  # imports (scikit-learn) out of the timing
    print(f"{'mentees':>8} {'mentors':>8} {'pairs':>10} {'seconds':>8} {'matched':>8}")
    for size in args.sizes.split(","):
        mentees, mentors = (int(x) for x in size.split("x"))
        people = pool(mentees, mentors, args.seed)
        start = time.perf_counter()
        plan = plan_matches(program, people, now=now)
        seconds = time.perf_counter() - start
        print(
            f"{mentees:>8} {mentors:>8} {mentees * mentors:>10} {seconds:>8.2f} "
            f"{len(plan.proposals):>8}"
        )


if __name__ == "__main__":
    main()
