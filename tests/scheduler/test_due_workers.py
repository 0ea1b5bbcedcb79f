"""Several scheduler workers on one database: every due message goes out once, none is lost.

Workers are separate :class:`storage.Database` objects on the same URL (separate connection
pools) run together with ``asyncio.gather``, and in one test separate ``mentorbot run-due``
processes. A crash between claiming and processing, and a worker whose lease another took
over, are simulated by claiming (:func:`claim_due`) and processing a claim
(:func:`process_claimed`) by hand, as :func:`scheduler.claims.drain` does.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from handlers.core.messages import Reply, reply_to_dict
from handlers.core.outbox import delivered as read_at
from handlers.core.ports import Recipient
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.cycle.batch import CycleReport
from handlers.cycle.due_pass import process_due
from handlers.cycle.schedule import DueWork, cycle_items, due_row, insert_due
from scheduler.claims import Claimed, claim, lease_until, lock_in
from scheduler.due import DUE_BATCHES, DUE_ITEMS, LEASE, DueReport, run_due
from scheduler.outbox import OutboxWorker
from storage import (
    Database,
    DueItem,
    DueKind,
    DueStatus,
    Enrollment,
    EnrollmentStatus,
    Outbox,
    OutboxStatus,
    Pairing,
    PairingStatus,
    Person,
    Role,
)
from tests.bot.cli_helpers import ROOT
from tests.helpers import FakeClock

PERSON = Person.__table__  # type: ignore[attr-defined]
ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]
PAIRING = Pairing.__table__  # type: ignore[attr-defined]
DUE = DueItem.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]

#: Tuesday 12 January 2027, 10:00 UTC: the instant every worker runs at.
NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)


async def claim_due(
    database: Database, now: datetime, *, batch: int | None = None, lease: timedelta = LEASE
) -> list[Claimed[DueWork]]:
    """Claim due items as a pass does, and stop there: a worker that then dies or stalls."""
    until = lease_until(now, lease)
    async with database.session() as session:
        rows = await claim(
            await session.connection(),
            DUE_ITEMS,
            now=now,
            until=until,
            returning=DUE_BATCHES.returning,
            batch=batch,
        )
    return [Claimed(DUE_BATCHES.work(row), until) for row in rows]


async def process_claimed(
    session: Any, programs: Programs, *, claimed: Sequence[Claimed[DueWork]], now: datetime
) -> CycleReport:
    """What a pass does with its claim: lock in what is still its own, and process that."""
    mine = await lock_in(await session.connection(), DUE_ITEMS, claimed=claimed)
    return await process_due(session, programs, items=[c.work for c in mine], now=now)


#: The pairings started a month earlier, so the calibration falls due now.
START = NOW - timedelta(days=30)
#: Late enough that every queued message is inside its recipient's working hours.
DELIVERY_TIME = NOW + timedelta(days=8)
ZONES = (
    "Europe/London",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Kolkata",
    None,
)


# -- seeding --------------------------------------------------------------------------------


@dataclass
class Seeded:
    """Active pairings and the due items they owe."""

    #: pairing id -> (mentee id, mentor id)
    pairs: dict[int, tuple[int, int]]
    #: Items due at NOW: id -> (pairing id, kind)
    due_now: dict[int, tuple[int, str]]
    #: Items of the same cycles still in the future.
    future: set[int]

    def expected_keys(self, items: Sequence[int] | None = None) -> set[str]:
        """The outbox dedupe keys that processing these due-now items must queue, once each.

        A check-in and a calibration each reach both sides of the pairing.
        """
        keys: set[str] = set()
        for item_id in self.due_now if items is None else items:
            pairing_id, _kind = self.due_now[item_id]
            mentee_id, mentor_id = self.pairs[pairing_id]
            keys.add(f"due:{item_id}:{mentor_id}")
            keys.add(f"due:{item_id}:{mentee_id}")
        return keys


async def seed(
    database: Database,
    program: Program,
    count: int,
    *,
    kinds: Sequence[DueKind] = (DueKind.CHECKIN, DueKind.CALIBRATION),
) -> Seeded:
    """``count`` active one-to-one pairings, each owing ``kinds`` at NOW (plus its future)."""
    program_id = program.id
    people: list[dict[str, Any]] = []
    for i in range(count):
        for role in (Role.MENTEE, Role.MENTOR):
            people.append(
                {
                    "email": f"{role.value}{i:05d}@example.com",
                    "name": f"{role.value.title()}{i:05d} Example",
                    "timezone": ZONES[(i + (role is Role.MENTOR)) % len(ZONES)],
                    "attributes": {},
                    "created_at": START,
                    "updated_at": START,
                }
            )
    async with database.session() as session:
        conn = await session.connection()
        person_ids = list(
            (
                await conn.execute(
                    sa.insert(PERSON).returning(PERSON.c.id, sort_by_parameter_order=True),
                    people,
                )
            ).scalars()
        )
        couples = [(person_ids[2 * i], person_ids[2 * i + 1]) for i in range(count)]
        enrollments: list[dict[str, Any]] = []
        for mentee_id, mentor_id in couples:
            for person_id, role, status, capacity in (
                (mentee_id, Role.MENTEE, EnrollmentStatus.MATCHED, None),
                (mentor_id, Role.MENTOR, EnrollmentStatus.AVAILABLE, 1),
            ):
                enrollments.append(
                    {
                        "person_id": person_id,
                        "program": program_id,
                        "role": role.value,
                        "status": status.value,
                        "answers": {},
                        "capacity": capacity,
                        "enrolled_at": START - timedelta(days=10),
                        "updated_at": START,
                        "waiting_since": START - timedelta(days=10)
                        if role is Role.MENTEE
                        else None,
                    }
                )
        await conn.execute(sa.insert(ENROLLMENT), enrollments)
        pairing_ids = list(
            (
                await conn.execute(
                    sa.insert(PAIRING).returning(PAIRING.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "program": program_id,
                            "mentee_id": mentee_id,
                            "mentor_id": mentor_id,
                            "status": PairingStatus.ACTIVE.value,
                            "score": 0.8,
                            "reasons": [],
                            "batch": "seed",
                            "proposed_at": START - timedelta(days=2),
                            "expires_at": START + timedelta(days=5),
                            "mentor_answered_at": START - timedelta(days=1),
                            "activated_at": START,
                            "cycle": 1,
                            "cycle_started_at": START,
                            "last_activity_at": NOW - timedelta(days=1),
                            "missed_checkins": 0,
                        }
                        for mentee_id, mentor_id in couples
                    ],
                )
            ).scalars()
        )
        rows: list[dict[str, Any]] = []
        for pairing_id in pairing_ids:
            rows += [due_row(pairing_id, kind=kind, due_at=NOW, now=START) for kind in kinds]
            # The rest of the cycle, still ahead: no worker may touch it now.
            rows += [
                due_row(pairing_id, kind=kind, due_at=moment, now=START)
                for kind, moment in cycle_items(program, START, cycle=1)
                if moment > NOW and kind not in kinds
            ]
        for chunk in range(0, len(rows), 2000):
            await insert_due(session, rows[chunk : chunk + 2000])
        found = await conn.execute(sa.select(DUE.c.id, DUE.c.pairing_id, DUE.c.kind, DUE.c.due_at))
        due_now: dict[int, tuple[int, str]] = {}
        future: set[int] = set()
        for item_id, pairing_id, kind, due_at in found.all():
            if due_at == NOW:
                due_now[item_id] = (pairing_id, kind)
            else:
                assert due_at > NOW
                future.add(item_id)
    return Seeded(dict(zip(pairing_ids, couples, strict=True)), due_now, future)


# -- looking at the database ----------------------------------------------------------------


async def due_items(database: Database) -> dict[int, Any]:
    """Every due item by id."""
    async with database.session() as session:
        conn = await session.connection()
        result = await conn.execute(sa.select(DUE).order_by(DUE.c.id))
        return {row.id: row for row in result.all()}


async def outbox_rows(database: Database) -> list[Any]:
    async with database.session() as session:
        conn = await session.connection()
        return list((await conn.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id))).all())


async def snapshot(database: Database) -> tuple[list[Any], list[Any], list[Any]]:
    """Every due item, outbox message and pairing, to compare before and after."""
    async with database.session() as session:
        conn = await session.connection()
        tables = []
        for table in (DUE, OUTBOX, PAIRING):
            result = await conn.execute(sa.select(table).order_by(table.c.id))
            tables.append([tuple(row) for row in result.all()])
    return tables[0], tables[1], tables[2]


async def missed_checkins(database: Database) -> Counter[int]:
    """How many pairings have each count of missed check-ins in a row."""
    async with database.session() as session:
        conn = await session.connection()
        return Counter((await conn.scalars(sa.select(PAIRING.c.missed_checkins))).all())


def payload_key(person_id: int, payload: list[dict[str, Any]]) -> tuple[int, str]:
    """One message as its recipient gets it, comparable between the outbox and a sender."""
    return person_id, json.dumps(payload, sort_keys=True)


@dataclass
class CountingSender:
    """A platform that counts each (recipient, message) it delivers."""

    platform: str = "count"
    calls: Counter[tuple[int, str]] = field(default_factory=Counter)

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> None:
        await asyncio.sleep(0)  # let the other workers in between claim and record
        self.calls[payload_key(recipient.person_id, [reply_to_dict(r) for r in replies])] += 1


def assert_processed_once(items: dict[int, Any], processed: Sequence[int], now: datetime) -> None:
    """Each item is done, with the outcome ``sent``, at ``now``, and its lease released."""
    for item_id in processed:
        item = items[item_id]
        assert (item.status, item.outcome, item.lease_until, item.done_at) == (
            DueStatus.DONE.value,
            "sent",
            None,
            now,
        ), item


# -- several workers at once, on PostgreSQL -------------------------------------------------


@pytest.mark.postgres
async def test_several_workers_send_each_due_message_exactly_once(
    pg: Database, postgres_url: str, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 240 due items in batches of 4 and 480 messages in batches of 4: as many claims
    # racing one another (60 and 120) as 3,000 items and 6,000 messages in batches of 50,
    # at a twelfth of the rows to write and read back.
    pairings = 120
    batch = 4
    seeded = await seed(pg, program, pairings)
    assert len(seeded.due_now) == 2 * pairings
    expected = seeded.expected_keys()
    assert len(expected) == 4 * pairings  # a check-in and a calibration, each to both sides

    # Record every batch handed to processing, to show the claims were disjoint.
    handed: Counter[int] = Counter()

    async def recording(
        session: Any, programs: Programs, *, items: Sequence[DueWork], now: datetime
    ) -> CycleReport:
        handed.update(item.id for item in items)
        return await process_due(session, programs, items=items, now=now)

    monkeypatch.setattr("scheduler.due.process_due", recording)

    workers = [Database(postgres_url) for _ in range(4)]
    try:
        reports: list[DueReport] = list(
            await asyncio.gather(
                *(run_due(w, Programs.one(program), now=NOW, batch=batch) for w in workers)
            )
        )

        # Due work: every item claimed by exactly one worker, processed once, nothing left.
        assert set(handed) == set(seeded.due_now)
        assert [i for i, n in handed.items() if n != 1] == []
        assert sum(r.failed_batches for r in reports) == 0
        assert sum(r.cycle.processed for r in reports) == len(seeded.due_now)
        assert sum(r.cycle.sent for r in reports) == len(seeded.due_now)
        assert sum(r.cycle.messages for r in reports) == len(expected)
        assert sum(1 for r in reports if r.cycle.processed) >= 2, "the workers did not overlap"
        items = await due_items(pg)
        assert_processed_once(items, list(seeded.due_now), NOW)
        assert all(items[i].status == DueStatus.PENDING for i in seeded.future)
        known = set(seeded.due_now) | seeded.future
        follow_ups = [row for i, row in items.items() if i not in known]
        # The next check-in, and a look at the calibration's surveys in case one stays open.
        reminder = timedelta(days=program.cadence.remind_after_days)
        assert sorted(
            (row.pairing_id, row.kind, row.due_at, row.status) for row in follow_ups
        ) == sorted(
            [
                (p, DueKind.CHECKIN.value, NOW + timedelta(days=14), DueStatus.PENDING.value)
                for p in seeded.pairs
            ]
            + [
                (p, DueKind.SURVEY_REMINDER.value, NOW + reminder, DueStatus.PENDING.value)
                for p in seeded.pairs
            ]
        )
        assert await missed_checkins(pg) == {1: pairings}  # each check-in counted once
        queued = await outbox_rows(pg)
        assert len(queued) == len(expected)
        assert {row.dedupe_key for row in queued} == expected
        assert {row.status for row in queued} == {OutboxStatus.PENDING.value}

        # Delivery: four outbox workers until nothing is left.
        clock = FakeClock(DELIVERY_TIME)
        senders = [CountingSender() for _ in workers]
        outbox = [
            OutboxWorker(database=w, senders=[s], clock=clock, batch=batch)
            for w, s in zip(workers, senders, strict=True)
        ]

        async def drain(worker: OutboxWorker) -> int:
            handled = 0
            while done := (await worker.run_once()).total:
                handled += done
            return handled

        handled = [0] * len(outbox)
        waiting = {OutboxStatus.PENDING.value, OutboxStatus.SENDING.value}
        for _ in range(5):  # a worker that found nothing stops; go on while any is waiting
            for index, count in enumerate(await asyncio.gather(*(drain(o) for o in outbox))):
                handled[index] += count
            if not any(row.status in waiting for row in await outbox_rows(pg)):
                break
    finally:
        for worker in workers:
            await worker.dispose()

    delivered: Counter[tuple[int, str]] = sum((s.calls for s in senders), Counter())
    rows = await outbox_rows(pg)
    assert len(rows) == len(expected)
    assert Counter(row.status for row in rows) == {OutboxStatus.SENT.value: len(expected)}
    assert Counter(row.attempts for row in rows) == {1: len(expected)}  # each claimed once
    assert {row.channel for row in rows} == {"count"}
    assert sum(handled) == len(expected)
    assert sum(1 for h in handled if h) >= 2, "the outbox workers did not overlap"
    assert sum(delivered.values()) == len(rows)
    assert [key for key, n in delivered.items() if n != 1] == []
    # Each as it reads on the day it went out (a nudge's count of days is that day's).
    assert set(delivered) == {
        payload_key(row.person_id, [reply_to_dict(r) for r in read_at(row.payload, DELIVERY_TIME)])
        for row in rows
    }


# -- separate processes ---------------------------------------------------------------------


def _cli_env(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORBOT_", "SLACK_", "Microsoft"))
    }
    env["MENTORBOT_DATABASE_URL"] = database_url
    env["MENTORBOT_CONFIG"] = str(ROOT / "app.yaml")
    return env


async def _run_due_process(env: dict[str, str], now: datetime) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run-due",
        "--now",
        now.isoformat(),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.postgres
async def test_two_run_due_processes_at_once_queue_each_message_exactly_once(
    pg: Database, postgres_url: str, program: Program
) -> None:
    pairings = 300
    kinds = (DueKind.CHECKIN, DueKind.CALIBRATION, DueKind.MIDPOINT, DueKind.QUARTERLY_REVIEW)
    seeded = await seed(pg, program, pairings, kinds=kinds)
    assert len(seeded.due_now) == len(kinds) * pairings  # more than one batch of 1000
    expected = seeded.expected_keys()
    env = _cli_env(postgres_url)

    results = await asyncio.gather(*(_run_due_process(env, NOW) for _ in range(2)))

    processed = sent = messages = 0
    for code, out, err in results:
        assert code == 0, f"run-due failed:\n{out}\n{err}"
        assert "failed and will be retried" not in out, out
        found = re.search(r"(\d+) due items?: (\d+) sent", out)
        queued = re.search(r"(\d+) messages? queued", out)
        assert found is not None and queued is not None, out
        processed += int(found[1])
        sent += int(found[2])
        messages += int(queued[1])
    assert (processed, sent) == (len(seeded.due_now), len(seeded.due_now))
    assert messages == len(expected)
    items = await due_items(pg)
    assert_processed_once(items, list(seeded.due_now), NOW)
    assert all(items[i].status == DueStatus.PENDING for i in seeded.future)
    rows = await outbox_rows(pg)
    assert len(rows) == len(expected)
    assert {row.dedupe_key for row in rows} == expected
    assert await missed_checkins(pg) == {1: pairings}

    # A third pass at the same instant finds nothing left to do.
    code, out, err = await _run_due_process(env, NOW)
    assert code == 0, err
    assert "0 due items" in out and "0 messages queued" in out, out
    assert len(await outbox_rows(pg)) == len(expected)


# -- crashes and stale leases, on both backends ---------------------------------------------


async def test_a_claim_that_dies_before_processing_is_picked_up_after_its_lease(
    database: Database, program: Program
) -> None:
    seeded = await seed(database, program, 5)
    assert len(seeded.due_now) == 10
    lost = await claim_due(database, NOW, batch=4)  # then the process dies
    lost_ids = sorted(taken.work.id for taken in lost)
    assert len(lost_ids) == 4
    others = sorted(set(seeded.due_now) - set(lost_ids))

    # At the same instant the lease still holds: the other items go out, the lost ones wait.
    first = await run_due(database, Programs.one(program), now=NOW)
    assert (first.cycle.processed, first.cycle.messages) == (
        len(others),
        len(seeded.expected_keys(others)),
    )
    items = await due_items(database)
    assert_processed_once(items, others, NOW)
    for taken in lost:
        assert (items[taken.work.id].status, items[taken.work.id].lease_until) == (
            DueStatus.CLAIMED.value,
            taken.lease_until,
        )
    assert {row.dedupe_key for row in await outbox_rows(database)} == seeded.expected_keys(others)

    # Once the lease has run out, the next pass takes the lost items, each once.
    later = NOW + LEASE + timedelta(seconds=1)
    second = await run_due(database, Programs.one(program), now=later)
    lost_keys = seeded.expected_keys(lost_ids)
    assert (second.cycle.processed, second.cycle.sent, second.cycle.messages) == (
        len(lost_ids),
        len(lost_ids),
        len(lost_keys),
    )
    assert second.failed_batches == 0
    items = await due_items(database)
    assert_processed_once(items, lost_ids, later)
    assert_processed_once(items, others, NOW)
    rows = await outbox_rows(database)
    assert Counter(row.dedupe_key for row in rows) == Counter(seeded.expected_keys())

    # And again: nothing left to do, nothing queued twice.
    before = await snapshot(database)
    third = await run_due(database, Programs.one(program), now=later)
    assert (third.total, third.cycle.messages, third.failed_batches) == (0, 0, 0)
    assert await snapshot(database) == before


async def test_a_batch_that_fails_waits_for_its_lease_and_loses_nothing(
    database: Database, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = await seed(database, program, 5)
    calls = 0

    async def fails_first(*args: Any, **kwargs: Any) -> CycleReport:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away mid-batch")
        return await process_due(*args, **kwargs)

    monkeypatch.setattr("scheduler.due.process_due", fails_first)
    first = await run_due(database, Programs.one(program), now=NOW, batch=4)
    # The failed batch neither loops nor blocks the rest: its four items wait for the lease.
    assert first.failed_batches == 1
    assert first.cycle.processed == len(seeded.due_now) - 4
    items = await due_items(database)
    waiting = sorted(i for i in seeded.due_now if items[i].status == DueStatus.CLAIMED.value)
    assert len(waiting) == 4
    assert all(items[i].lease_until is not None and items[i].lease_until > NOW for i in waiting)
    done = sorted(set(seeded.due_now) - set(waiting))
    assert {row.dedupe_key for row in await outbox_rows(database)} == seeded.expected_keys(done)

    later = NOW + LEASE + timedelta(seconds=1)
    second = await run_due(database, Programs.one(program), now=later)
    assert (second.failed_batches, second.cycle.processed) == (0, 4)
    rows = await outbox_rows(database)
    assert Counter(row.dedupe_key for row in rows) == Counter(seeded.expected_keys())


class _Spinning(BaseException):
    """Stops a pass that would claim for ever (no ``except Exception`` catches it)."""


async def test_a_pass_whose_claim_fails_raises_instead_of_claiming_again(
    database: Database, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database going away while a pass claims is not a failed batch: there is no
    # batch. The pass raises (the tick logs it and tries again next time) rather than
    # counting a failure and claiming again at once, for ever.
    await seed(database, program, 2)
    calls = 0

    async def gone(*args: Any, **kwargs: Any) -> list[Any]:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise _Spinning(f"claimed {calls} times")
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr("scheduler.claims.claim", gone)
    monkeypatch.setattr("scheduler.claims.choose", gone)
    with pytest.raises(ConnectionResetError):
        await run_due(database, Programs.one(program), now=NOW)
    assert calls == 1


async def test_a_worker_whose_lease_was_taken_over_does_nothing(
    database: Database, program: Program
) -> None:
    seeded = await seed(database, program, 3)
    lease = timedelta(minutes=5)
    mine = await claim_due(database, NOW, lease=lease)  # worker A, which then stalls
    assert sorted(c.work.id for c in mine) == sorted(seeded.due_now)

    # Past A's lease, worker B claims the same items.
    later = NOW + lease + timedelta(seconds=1)
    theirs = await claim_due(database, later)
    assert sorted(c.work.id for c in theirs) == sorted(seeded.due_now)
    assert {c.lease_until for c in theirs}.isdisjoint({c.lease_until for c in mine})

    # A wakes up before B processes: its stale claim changes nothing.
    before = await snapshot(database)
    async with database.session() as session:
        stale = await process_claimed(session, Programs.one(program), claimed=mine, now=later)
    assert (stale.processed, stale.messages) == (0, 0)
    assert await snapshot(database) == before

    async with database.session() as session:
        done = await process_claimed(session, Programs.one(program), claimed=theirs, now=later)
    assert (done.processed, done.sent, done.messages) == (
        len(seeded.due_now),
        len(seeded.due_now),
        len(seeded.expected_keys()),
    )

    # A wakes up after B processed: still nothing.
    before = await snapshot(database)
    async with database.session() as session:
        late = await process_claimed(
            session, Programs.one(program), claimed=mine, now=later + timedelta(minutes=1)
        )
    assert (late.processed, late.messages, late.at_risk) == (0, 0, [])
    assert await snapshot(database) == before
    items = await due_items(database)
    assert_processed_once(items, list(seeded.due_now), later)
    rows = await outbox_rows(database)
    assert Counter(row.dedupe_key for row in rows) == Counter(seeded.expected_keys())
    assert await missed_checkins(database) == {1: len(seeded.pairs)}


async def test_a_failed_batch_logs_no_private_text(
    database: Database,
    program: Program,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database error can quote a note or an answer: the log keeps its type and place only."""
    await seed(database, program, 2)
    private = "my manager keeps taking credit for my work"

    async def fails(*args: Any, **kwargs: Any) -> CycleReport:
        raise RuntimeError(f"invalid byte sequence in value '{private}'")

    monkeypatch.setattr("scheduler.due.process_due", fails)
    report = await run_due(database, Programs.one(program), now=NOW, batch=4)
    assert report.failed_batches >= 1
    [failed] = [r for r in caplog.records if "a batch failed" in r.getMessage()][:1]
    assert "RuntimeError" in failed.getMessage()
    assert "reference=" in failed.getMessage()
    for record in caplog.records:
        assert private not in record.getMessage()
        assert private not in (record.exc_text or "")
        assert record.exc_info is None
