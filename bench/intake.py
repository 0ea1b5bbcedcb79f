"""Benchmark: N simulated people completing the mentee intake through the engine at once.

Runs on SQLite (a temporary file) and on PostgreSQL (a throwaway database on the server in
MENTORBOT_TEST_POSTGRES_URL), under two load models, and prints turns per second and the
p50/p99 latency of one turn (``Engine.handle``, measured with time.perf_counter):

burst
    All N people start at the same moment as asyncio tasks and type their next line as
    soon as the previous reply arrives (closed loop, no think time). This measures the
    throughput ceiling; its latency includes queueing behind the other N-1 people.
paced
    A fresh set of N people, (nearly) all mid-intake at the same time, each waiting a random
    think time between lines so that the offered load is a fixed rate (Poisson arrivals at
    half the burst throughput just measured on the same backend, or at ``--rate``). This
    latency is the one to compare with the target: p99 below 20 ms per turn on SQLite.

The benchmark prints numbers and never fails on time; it fails only when the intakes did
not all complete (it counts the enrollment rows each phase created).

    .venv/bin/python bench/intake.py [--backend sqlite|postgresql|both] [--people N]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.helpers when run as `python bench/intake.py`

from bot.config import load_programs  # noqa: E402
from handlers import Engine, Inbound, build_engine  # noqa: E402
from handlers.core.program import Program  # noqa: E402
from handlers.core.programs import Programs  # noqa: E402
from storage import Database, Enrollment, Person  # noqa: E402
from tests import postgres  # noqa: E402
from tests.helpers import MENTEE_ANSWERS  # noqa: E402

#: Every line of a complete mentee intake of the shipped app.yaml.
INTAKE = ["join mentee", *MENTEE_ANSWERS, "yes"]
TARGET_P99_MS = 20.0
CHANNEL = "bench"


@dataclass
class Result:
    """One phase on one backend."""

    backend: str
    load: str
    people: int
    turns: int
    seconds: float
    latencies: list[float] = field(repr=False)
    enrollments: int
    offered: float | None = None
    think: float | None = None

    @property
    def rate(self) -> float:
        return self.turns / self.seconds

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the per-turn latency, in milliseconds."""
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1] * 1000


HEADER = (
    f"{'backend':<10} {'load':<6} {'people':>6} {'turns':>6} {'seconds':>8} {'turns/s':>8} "
    f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'enrolled':>8}"
)


def row(r: Result) -> str:
    return (
        f"{r.backend:<10} {r.load:<6} {r.people:>6} {r.turns:>6} {r.seconds:>8.1f} "
        f"{r.rate:>8.0f} {r.percentile(50):>8.1f} {r.percentile(99):>8.1f} "
        f"{max(r.latencies) * 1000:>8.1f} {r.enrollments:>8}"
    )


# -- the work -------------------------------------------------------------------------------


async def add_people(db: Database, prefix: str, count: int) -> list[tuple[str, int]]:
    """Insert ``count`` directory people; returns (email, id) pairs."""
    now = datetime.now(UTC)
    people = [
        Person(
            email=f"{prefix}-{i:05d}@bench.example.com",
            name=f"Bench {prefix.title()} {i}",
            attributes={},
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    ]
    async with db.session() as session:
        session.add_all(people)
        await session.flush()
    pairs = [(p.email, p.id) for p in people if p.id is not None]
    assert len(pairs) == count, "the people were not inserted"
    return pairs


async def count_enrollments(db: Database) -> int:
    async with db.session() as session:
        conn = await session.connection()
        result = await conn.execute(sa.select(sa.func.count()).select_from(Enrollment))
        return int(result.scalar_one())


async def one_turn(engine: Engine, email: str, person_id: int, line: str) -> float:
    inbound = Inbound(channel=CHANNEL, user_key=email, person_id=person_id, text=line)
    started = time.perf_counter()
    replies = await engine.handle(inbound)
    elapsed = time.perf_counter() - started
    if line == "yes" and not any("enrolled as a mentee" in r.text for r in replies):
        raise RuntimeError(f"{email}: the intake did not end in an enrollment: {replies!r}")
    return elapsed


async def burst(engine: Engine, people: Sequence[tuple[str, int]]) -> tuple[float, list[float]]:
    """Everyone at once, no think time. Returns (wall seconds, per-turn latencies)."""
    latencies: list[float] = []

    async def person(email: str, person_id: int) -> None:
        for line in INTAKE:
            latencies.append(await one_turn(engine, email, person_id, line))

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for email, person_id in people:
            group.create_task(person(email, person_id))
    return time.perf_counter() - started, latencies


async def paced(
    engine: Engine, people: Sequence[tuple[str, int]], rate: float, rng: random.Random
) -> tuple[float, list[float], float]:
    """Everyone mid-intake at once, at ``rate`` turns per second in total.

    The send times of all turns form one Poisson process at ``rate`` (exponential gaps),
    and each send time goes to a person at random (every person gets one per intake line,
    in order). So the offered load is the same from the first second to the last, the kinds
    of turn (join, answers, yes) are mixed throughout, nearly everyone is mid-intake at the
    same time, and the think time between one person's lines is random (about people / rate
    seconds on average). The schedule is kept from the start, so a slow turn does not lower
    the offered rate; a person whose reply came after their next send time sends at once.

    Returns:
        Wall seconds, per-turn latencies, and the mean scheduled think time in seconds.
    """
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    owners = [i for i in range(len(people)) for _ in INTAKE]
    rng.shuffle(owners)
    due: list[list[float]] = [[] for _ in people]
    clock = 0.0
    for owner in owners:
        clock += rng.expovariate(rate)
        due[owner].append(clock)
    think = sum(times[-1] - times[0] for times in due) / (len(people) * (len(INTAKE) - 1))
    start = loop.time()

    async def person(email: str, person_id: int, times: list[float]) -> None:
        for line, at in zip(INTAKE, times, strict=True):
            delay = start + at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            latencies.append(await one_turn(engine, email, person_id, line))

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for (email, person_id), times in zip(people, due, strict=True):
            group.create_task(person(email, person_id, times))
    return time.perf_counter() - started, latencies, think


async def run_backend(
    backend: str, url: str, program: Program, count: int, rate: float | None, seed: int
) -> list[Result]:
    db = Database(url)
    try:
        await db.upgrade()
        engine = build_engine(programs=Programs.one(program), database=db)
        turns = count * len(INTAKE)
        results: list[Result] = []

        crowd = await add_people(db, "burst", count)
        before = await count_enrollments(db)
        seconds, latencies = await burst(engine, crowd)
        enrolled = await count_enrollments(db) - before
        results.append(Result(backend, "burst", count, turns, seconds, latencies, enrolled))
        print(row(results[-1]), flush=True)

        offered = rate if rate is not None else results[-1].rate / 2
        crowd = await add_people(db, "paced", count)
        before = await count_enrollments(db)
        seconds, latencies, think = await paced(engine, crowd, offered, random.Random(seed))
        enrolled = await count_enrollments(db) - before
        results.append(
            Result(backend, "paced", count, turns, seconds, latencies, enrolled, offered, think)
        )
        print(row(results[-1]), flush=True)
        return results
    finally:
        await db.dispose()


# -- databases ------------------------------------------------------------------------------


async def run_sqlite(program: Program, count: int, rate: float | None, seed: int) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="mentorbot-bench-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        return await run_backend("sqlite", url, program, count, rate, seed)


async def run_postgresql(
    program: Program, count: int, rate: float | None, seed: int
) -> list[Result]:
    server = postgres.server_url()
    name = postgres.scratch_name("mentorbot_bench")
    try:
        await postgres.admin(server, postgres.create_statement(name))
    except postgres.UNREACHABLE as exc:
        print(
            f"postgresql skipped: {postgres.shown(server)} is not usable "
            f"({exc.__class__.__name__}: {exc}); set MENTORBOT_TEST_POSTGRES_URL",
            flush=True,
        )
        return []
    try:
        url = postgres.url_of(server, name)
        return await run_backend("postgresql", url, program, count, rate, seed)
    finally:
        await postgres.admin(server, postgres.drop_statement(name))


# -- main -----------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    program = load_programs(ROOT / "app.yaml").first
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"mentorbot intake benchmark: {args.people} people x {len(INTAKE)} turns "
        f"(join mentee, {len(MENTEE_ANSWERS)} answers, yes); Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
        f"SQLAlchemy {sa.__version__}"
    )
    print(HEADER, flush=True)
    results: list[Result] = []
    for backend in backends:
        run = run_sqlite if backend == "sqlite" else run_postgresql
        results += await run(program, args.people, args.rate, args.seed)

    print()
    print(
        f"burst: all {args.people} people at once, no think time (closed loop); its latency "
        f"includes queueing behind the other {args.people - 1} people."
    )
    for r in results:
        if r.load == "paced":
            how = "--rate" if args.rate is not None else "50% of burst"
            print(
                f"paced {r.backend}: offered {r.offered:.0f} turns/s ({how}, Poisson "
                f"arrivals), mean think time {r.think:.1f} s per person; "
                f"achieved {r.rate:.0f} turns/s."
            )
    target = f"target: SQLite paced p99 < {TARGET_P99_MS:.0f} ms per turn"
    sqlite = next((r for r in results if r.backend == "sqlite" and r.load == "paced"), None)
    if sqlite is None:
        print(f"{target}: not measured (SQLite was not run)")
    else:
        p99 = sqlite.percentile(99)
        print(f"{target}: {'met' if p99 < TARGET_P99_MS else 'NOT met'} (p99 {p99:.1f} ms)")
    failed = [r for r in results if r.enrollments != r.people]
    for r in failed:
        print(f"ERROR: {r.backend} {r.load}: {r.enrollments} enrollments, expected {r.people}")
    return 1 if failed else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--people", type=int, default=1000, help="simulated people (1000)")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="paced offered load in turns/s (default: half the burst throughput)",
    )
    parser.add_argument("--seed", type=int, default=2027, help="think-time random seed")
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error("--people must be at least 1")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
