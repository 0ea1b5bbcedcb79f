"""Benchmark: one scheduler tick that claims and queues everything due for 100,000 pairings.

Builds a fresh database (SQLite in a temporary file; PostgreSQL as a throwaway database on
the server in MENTORBOT_TEST_POSTGRES_URL, dropped afterwards), migrates it, and bulk-inserts
a program of N active pairings (default 100,000): 2N people across five timezones and the
two program leads, their enrollments, the pairings (activated at staggered times), each
pairing's whole first-cycle schedule of due items (``handlers.cycle.schedule.cycle_items`` and
``due_row``), a logged session for a quarter of the pairings (their check-in is suppressed),
a three-milestone plan for a third, and one paused side in 2% (their items are held).

``now`` is chosen so that most pairings' first check-in fell due in the last week and a
tenth of them are a month in: their calibration is due too, and their check-in is more
than ``stale_after_days`` late (folded). About 1.1 N items are due at once.

It then times exactly one ``scheduler.due.run_due`` at ``now`` (the tick: lapse proposals,
resume pauses, claim in batches, ``process_due`` each batch), and a second one at the same
instant, which must find nothing (idempotence). It prints items processed, messages queued,
seconds, items per second, and the peak RSS of the process (resource.getrusage). Each
backend runs in its own process, so its peak RSS is its own; the seeding inserts in chunks,
so the peak before the tick is printed beside it. After seeding, PostgreSQL is vacuumed,
analysed and checkpointed (as autovacuum and the checkpointer would have done by then) and
SQLite's WAL is checkpointed (as after a restart); SQLite gets no ANALYZE, as mentorbot runs
none. The pool and statement cache are warmed by a tick at an instant when nothing is due,
outside the timing. ``--profile`` runs the timed tick under cProfile and prints the time
spent in each SQL statement.

Target: at least 5,000 due items per second on each backend. The benchmark prints numbers
and never fails on time; it fails only when the tick did not process every due item or the
second tick queued anything.

    .venv/bin/python bench/scheduler.py [--backend sqlite|postgresql|both] [--pairings N]
        [--batch B] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import multiprocessing
import os
import platform
import pstats
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.postgres when run as `python bench/scheduler.py`

from bot.config import load_programs  # noqa: E402
from handlers.core.program import Program  # noqa: E402
from handlers.core.programs import Programs  # noqa: E402
from handlers.cycle.schedule import cycle_items, due_row  # noqa: E402
from scheduler.due import BATCH, DueReport, run_due  # noqa: E402
from storage import (  # noqa: E402
    Database,
    DueItem,
    DueStatus,
    Enrollment,
    EnrollmentStatus,
    Milestone,
    MilestoneStatus,
    Outbox,
    Pairing,
    PairingStatus,
    Person,
    Role,
    SessionLog,
)
from tests import postgres  # noqa: E402

TARGET = 5000.0
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"]
DEPARTMENTS = ["Sales", "Product", "Engineering", "Finance", "People", "Marketing"]
#: Wednesday 24 February 2027, 10:00 UTC: no review month begins in the five weeks before.
NOW = datetime(2027, 2, 24, 10, 0, tzinfo=UTC)
#: Pairings generated and inserted per transaction while seeding.
CHUNK = 1000

PERSON = Person.__table__  # type: ignore[attr-defined]
ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]
PAIRING = Pairing.__table__  # type: ignore[attr-defined]
DUE = DueItem.__table__  # type: ignore[attr-defined]
SESSION = SessionLog.__table__  # type: ignore[attr-defined]
MILESTONE = Milestone.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]


@dataclass
class Result:
    """One backend: the seeded program and the two ticks."""

    backend: str
    pairings: int
    rows: int
    seed_seconds: float
    due: int
    processed: int
    messages: int
    outbox: int
    seconds: float
    sent: int
    suppressed: int
    folded: int
    held: int
    batches: int
    again_processed: int
    again_messages: int
    again_seconds: float
    rss_before: float
    rss_peak: float

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds else 0.0


HEADER = (
    f"{'backend':<10} {'pairings':>8} {'due':>7} {'processed':>9} {'queued':>7} "
    f"{'seconds':>8} {'items/s':>8} {'2nd tick s':>10} {'2nd queued':>10} "
    f"{'RSS MB before':>13} {'peak RSS MB':>11}"
)


def row(r: Result) -> str:
    return (
        f"{r.backend:<10} {r.pairings:>8} {r.due:>7} {r.processed:>9} {r.messages:>7} "
        f"{r.seconds:>8.2f} {r.rate:>8.0f} {r.again_seconds:>10.3f} {r.again_messages:>10} "
        f"{r.rss_before:>13.0f} {r.rss_peak:>11.0f}"
    )


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# -- the program ----------------------------------------------------------------------------


@dataclass
class Chunk:
    """The rows of a run of pairings, in insertion order."""

    people: list[dict[str, Any]]
    enrollments: list[dict[str, Any]]
    pairings: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    due: list[dict[str, Any]]

    def __len__(self) -> int:
        return sum(
            len(rows)
            for rows in (
                self.people,
                self.enrollments,
                self.pairings,
                self.sessions,
                self.milestones,
                self.due,
            )
        )


def _person(person_id: int, email: str, name: str, zone: str, rng: random.Random) -> dict[str, Any]:
    created = NOW - timedelta(days=400)
    return {
        "id": person_id,
        "email": email,
        "name": name,
        "department": rng.choice(DEPARTMENTS),
        "title": None,
        "level": rng.randint(2, 8),
        "manager_id": None,
        "timezone": zone,
        "location": None,
        "attributes": {},
        "created_at": created,
        "updated_at": created,
    }


def _enrollment(
    person_id: int, program: str, role: Role, paused: bool, enrolled: datetime
) -> dict[str, Any]:
    active = EnrollmentStatus.MATCHED if role is Role.MENTEE else EnrollmentStatus.AVAILABLE
    return {
        "person_id": person_id,
        "program": program,
        "role": role.value,
        "status": EnrollmentStatus.PAUSED.value if paused else active.value,
        "answers": {},
        "capacity": None if role is Role.MENTEE else 1,
        "enrolled_at": enrolled,
        "updated_at": enrolled,
        "waiting_since": enrolled if role is Role.MENTEE else None,
        # Still paused at NOW, so the tick holds the pairing's items and resumes no one.
        "paused_until": NOW + timedelta(days=10) if paused else None,
        "status_before_pause": active.value if paused else None,
    }


def chunks(program: Program, count: int, seed: int) -> Iterator[Chunk]:
    """The program's rows, ``CHUNK`` pairings at a time (so seeding holds little memory).

    Pairing ``i`` (id ``i + 1``) pairs mentee ``i + 1`` with mentor ``count + i + 1``.
    """
    rng = random.Random(seed)
    program_id = program.id
    for first in range(0, count, CHUNK):
        chunk = Chunk([], [], [], [], [], [])
        for i in range(first, min(first + CHUNK, count)):
            pairing_id, mentee_id, mentor_id = i + 1, i + 1, count + i + 1
            mentee_zone, mentor_zone = rng.choice(ZONES), rng.choice(ZONES)
            chunk.people.append(
                _person(mentee_id, f"mentee{i}@bench.example.com", f"Mentee {i}", mentee_zone, rng)
            )
            chunk.people.append(
                _person(mentor_id, f"mentor{i}@bench.example.com", f"Mentor {i}", mentor_zone, rng)
            )
            # A tenth a month in (calibration due, check-in stale), the rest two to three
            # weeks in (first check-in due in the last week).
            if rng.random() < 0.1:
                activated = NOW - timedelta(seconds=rng.uniform(30 * 86400, 37 * 86400))
            else:
                activated = NOW - timedelta(seconds=rng.uniform(14 * 86400, 21 * 86400))
            activated = activated.replace(microsecond=0)
            proposed = activated - timedelta(days=2)
            paused = rng.random() < 0.02
            paused_mentee = paused and i % 2 == 0
            paused_mentor = paused and i % 2 == 1
            chunk.enrollments.append(
                _enrollment(mentee_id, program_id, Role.MENTEE, paused_mentee, proposed)
            )
            chunk.enrollments.append(
                _enrollment(mentor_id, program_id, Role.MENTOR, paused_mentor, proposed)
            )
            last_activity = activated
            if rng.random() < 0.25:
                held_on = (activated + timedelta(days=rng.randint(2, 10))).date()
                last_activity = datetime.combine(held_on, activated.timetz())
                chunk.sessions.append(
                    {
                        "pairing_id": pairing_id,
                        "held_on": held_on,
                        "minutes": 45,
                        "format": "One-on-one",
                        "topics": ["people-leadership"],
                        "notes": None,
                        "summary": None,
                        "logged_by": mentor_id,
                        "created_at": last_activity,
                    }
                )
            planned = rng.random() < 1 / 3
            if planned:
                for position in (1, 2, 3):
                    chunk.milestones.append(
                        {
                            "pairing_id": pairing_id,
                            "cycle": 1,
                            "position": position,
                            "objective": f"Objective {position} of pairing {pairing_id}",
                            "target_date": (activated + timedelta(days=30 * position)).date(),
                            "status": MilestoneStatus.NOT_STARTED.value,
                            "created_at": activated,
                            "updated_at": activated,
                        }
                    )
            chunk.pairings.append(
                {
                    "id": pairing_id,
                    "program": program_id,
                    "mentee_id": mentee_id,
                    "mentor_id": mentor_id,
                    "status": PairingStatus.ACTIVE.value,
                    "score": round(rng.uniform(0.5, 0.95), 3),
                    "reasons": [],
                    "batch": "bench",
                    "proposed_by": None,
                    "proposed_at": proposed,
                    "expires_at": proposed + timedelta(days=7),
                    "mentor_answered_at": proposed + timedelta(days=1),
                    "activated_at": activated,
                    "closed_at": None,
                    "declined_by": None,
                    "cycle": 1,
                    "cycle_started_at": activated,
                    "last_activity_at": last_activity,
                    "missed_checkins": 0,
                    "at_risk_since": None,
                    "plan_confirmed_at": activated + timedelta(days=3) if planned else None,
                    "mentee_consent": None,
                    "mentor_consent": None,
                    "end_reason": None,
                }
            )
            chunk.due += [
                due_row(pairing_id, kind=kind, due_at=moment, now=activated)
                | {"program": program.id}
                for kind, moment in cycle_items(program, activated, cycle=1)
            ]
        yield chunk


async def seed(db: Database, program: Program, count: int, seed_value: int) -> int:
    """Insert the program with core executemany inserts, a chunk per transaction.

    Returns:
        How many rows were inserted.
    """
    rng = random.Random(seed_value + 1)
    leads = [
        _person(2 * count + n + 1, email, f"Lead {n + 1}", program.default_timezone, rng)
        for n, email in enumerate(program.leads)
    ]
    async with db.session() as session:
        conn = await session.connection()
        await conn.execute(PERSON.insert(), leads)
    total = len(leads)
    for chunk in chunks(program, count, seed_value):
        async with db.session() as session:
            conn = await session.connection()
            for table, rows in (
                (PERSON, chunk.people),
                (ENROLLMENT, chunk.enrollments),
                (PAIRING, chunk.pairings),
                (SESSION, chunk.sessions),
                (MILESTONE, chunk.milestones),
                (DUE, chunk.due),
            ):
                if rows:
                    await conn.execute(table.insert(), rows)
        total += len(chunk)
    if not db.is_sqlite:
        async with db.session() as session:
            conn = await session.connection()
            # The ids were given explicitly, so move the sequences past them.
            for table in ("person", "pairing"):
                await conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    # Settle the bulk load as a running program would be: on PostgreSQL vacuumed, analysed
    # and checkpointed (autovacuum and the checkpointer would have done it by then), on
    # SQLite with the WAL folded into the file (as after a restart). No ANALYZE on SQLite:
    # mentorbot never runs it.
    if db.is_sqlite:
        await db.dispose()  # closing the last connection checkpoints and removes the WAL
        return total
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(sa.text("VACUUM ANALYZE"))
        await autocommit.execute(sa.text("CHECKPOINT"))
    return total


async def count_due(db: Database, now: datetime) -> int:
    async with db.session() as session:
        conn = await session.connection()
        result = await conn.execute(
            sa.select(sa.func.count())
            .select_from(DUE)
            .where(DUE.c.status == DueStatus.PENDING.value, DUE.c.due_at <= now)
        )
        return int(result.scalar_one())


async def count_outbox(db: Database) -> int:
    async with db.session() as session:
        conn = await session.connection()
        result = await conn.execute(sa.select(sa.func.count()).select_from(OUTBOX))
        return int(result.scalar_one())


# -- the tick -------------------------------------------------------------------------------


async def tick(
    db: Database, program: Program, now: datetime, batch: int, profile: bool
) -> tuple[DueReport, float]:
    """One ``run_due``; returns its report and wall seconds (under cProfile if asked)."""
    if not profile:
        started = time.perf_counter()
        report = await run_due(db, Programs.one(program), now=now, batch=batch)
        return report, time.perf_counter() - started
    timer = StatementTimer(db)
    profiler = cProfile.Profile()
    profiler.enable()
    started = time.perf_counter()
    report = await run_due(db, Programs.one(program), now=now, batch=batch)
    seconds = time.perf_counter() - started
    profiler.disable()
    timer.remove()
    print(f"\n{db.engine.dialect.name}: the tick took {seconds:.2f} s under cProfile")
    timer.report(seconds)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    return report, seconds


class StatementTimer:
    """Wall time per SQL statement (by its opening words), with --profile."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine.sync_engine
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        sa.event.listen(self.engine, "before_cursor_execute", self.before)
        sa.event.listen(self.engine, "after_cursor_execute", self.after)
        # COMMIT is no cursor execute; time it by wrapping the dialect's (SQLite syncs here).
        dialect = self.engine.dialect
        self.do_commit = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            started = time.perf_counter()
            self.do_commit(dbapi_connection)
            self.seconds["COMMIT"] += time.perf_counter() - started
            self.calls["COMMIT"] += 1
            self.rows["COMMIT"] += 1

        setattr(dialect, "do_commit", do_commit)  # noqa: B010

    def remove(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self.before)
        sa.event.remove(self.engine, "after_cursor_execute", self.after)
        delattr(self.engine.dialect, "do_commit")

    def before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(self, conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        key = " ".join(statement.split())[:90]
        self.seconds[key] += elapsed
        self.calls[key] += 1
        self.rows[key] += len(params) if isinstance(params, list) else 1

    def report(self, total: float) -> None:
        print(f"{'seconds':>8} {'share':>6} {'calls':>6} {'params':>8}  statement")
        for key, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:15]:
            print(
                f"{seconds:>8.2f} {seconds / total:>6.0%} {self.calls[key]:>6} "
                f"{self.rows[key]:>8}  {key}"
            )
        print(f"{sum(self.seconds.values()):>8.2f} {'':>6} in SQL and COMMIT, of {total:.2f} s")


async def run_backend(
    backend: str, url: str, program: Program, count: int, batch: int, seed_value: int, profile: bool
) -> Result:
    db = Database(url)
    try:
        await db.upgrade()
        started = time.perf_counter()
        rows = await seed(db, program, count, seed_value)
        seeded = time.perf_counter() - started
        print(f"{backend}: seeded {rows} rows in {seeded:.1f} s", flush=True)
        due = await count_due(db, NOW)
        # Connections and statement compilation warm, outside the timing: nothing is due.
        warm, _ = await tick(db, program, NOW - timedelta(days=60), batch, False)
        assert warm.total == 0, "the warm-up tick found work"
        rss_before = peak_rss_mb()
        report, seconds = await tick(db, program, NOW, batch, profile)
        rss_peak = peak_rss_mb()
        again, again_seconds = await tick(db, program, NOW, batch, False)
        cycle = report.cycle
        return Result(
            backend=backend,
            pairings=count,
            rows=rows,
            seed_seconds=seeded,
            due=due,
            processed=cycle.processed,
            messages=cycle.messages,
            outbox=await count_outbox(db),
            seconds=seconds,
            sent=cycle.sent,
            suppressed=cycle.suppressed,
            folded=cycle.folded,
            held=cycle.held,
            batches=-(-cycle.processed // batch),
            again_processed=again.total,
            again_messages=again.cycle.messages,
            again_seconds=again_seconds,
            rss_before=rss_before,
            rss_peak=rss_peak,
        )
    finally:
        await db.dispose()


# -- databases ------------------------------------------------------------------------------


async def run_sqlite(program: Program, args: argparse.Namespace) -> Result | None:
    with tempfile.TemporaryDirectory(prefix="mentorbot-bench-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        return await run_backend(
            "sqlite", url, program, args.pairings, args.batch, args.seed, args.profile
        )


async def run_postgresql(program: Program, args: argparse.Namespace) -> Result | None:
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
        return None
    try:
        url = postgres.url_of(server, name)
        return await run_backend(
            "postgresql", url, program, args.pairings, args.batch, args.seed, args.profile
        )
    finally:
        await postgres.admin(server, postgres.drop_statement(name))


def one_backend(backend: str, args: argparse.Namespace) -> dict[str, Any] | None:
    """Run one backend (in a process of its own); the result as plain data."""
    program = load_programs(ROOT / "app.yaml").first
    run = run_sqlite if backend == "sqlite" else run_postgresql
    result = asyncio.run(run(program, args))
    return None if result is None else asdict(result)


# -- main -----------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"mentorbot scheduler benchmark: {args.pairings} active pairings, one run_due tick at "
        f"{NOW:%Y-%m-%d %H:%M} UTC, batch {args.batch}; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
        f"SQLAlchemy {sa.__version__}",
        flush=True,
    )
    results: list[Result] = []
    context = multiprocessing.get_context("spawn")
    for backend in backends:
        # A fresh process per backend, so each peak RSS is that backend's own.
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            found = pool.submit(one_backend, backend, args).result()
        if found is not None:
            results.append(Result(**found))

    print()
    print(HEADER)
    for r in results:
        print(row(r))
    print()
    failed = False
    for r in results:
        print(
            f"{r.backend}: {r.rows} rows seeded in {r.seed_seconds:.1f} s; the tick processed "
            f"{r.processed} of {r.due} due items in {r.batches} batches (sent {r.sent}, "
            f"suppressed {r.suppressed}, folded {r.folded}, held {r.held}) and queued "
            f"{r.messages} messages ({r.outbox} in the outbox); the second tick at the same "
            f"instant processed {r.again_processed} and queued {r.again_messages} messages."
        )
        if r.processed != r.due:
            print(f"ERROR: {r.backend}: processed {r.processed} items, expected {r.due}")
            failed = True
        if r.again_processed or r.again_messages:
            print(f"ERROR: {r.backend}: the second tick was not a no-op")
            failed = True
    for r in results:
        verdict = "met" if r.rate >= TARGET else "NOT met"
        print(
            f"target: at least {TARGET:,.0f} due items/s on {r.backend}: {verdict} "
            f"({r.rate:,.0f} items/s)"
        )
    return 1 if failed else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pairings", type=int, default=100_000, help="active pairings (100000)")
    parser.add_argument(
        "--batch", type=int, default=BATCH, help=f"items claimed per batch ({BATCH})"
    )
    parser.add_argument("--seed", type=int, default=2027, help="random seed of the program")
    parser.add_argument(
        "--profile", action="store_true", help="run the timed tick under cProfile and print it"
    )
    args = parser.parse_args(argv)
    if args.pairings < 1:
        parser.error("--pairings must be at least 1")
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(main(parse_args()))
