"""Benchmark: every lead report over a large program, on SQLite and PostgreSQL.

Builds a fresh database (SQLite in a temporary file; PostgreSQL as a throwaway database on
the server in MENTORBOT_TEST_POSTGRES_URL, dropped afterwards), migrates it, and
bulk-inserts, in chunks, a program of (by default) 50,000 people: 6,000 mentors (capacity
1 to 4; a few paused or gone), 34,000 mentees (matched, waiting, completed, paused, left)
and 10,000 people who never enrolled; 20,000 pairings (45% active, 40% ended, 5% open
proposals, 10% declined or lapsed) spread over two and a half years; 500,000 sessions
(with note text, as a real log has) over the pairings' active spans; 200,000 feedback
rows (each activated pairing's first-cycle checkpoint surveys with mentor readiness, and
pulses after sessions; most answered); a three-milestone plan for most pairings; and
each active pairing's current cycle of due items (calibration answers included). Beside
it, a circles program (leader-circles of tests/fixtures/circles.yaml) of 625 circles of 3
to 5 members (60% active), made of people who never enrolled in the first, each meeting
about every two weeks, with attendance for every member and a pulse from most who came.

It then runs each kind in ``handlers.reports.catalogue.CATALOGUE`` (whoever wrote it) through
``run_report``, as a lead, ``--runs`` times (default 3), each in its own transaction, and
then the kinds that count circles on the circles program (as ``c:KIND``), and
prints the first run's seconds (statements compiled, caches cold) and the best run's, per
report and backend, and whether every run came in under the 1-second target. After
seeding, PostgreSQL is vacuumed, analysed and checkpointed (as autovacuum and the
checkpointer would have done by then); SQLite gets no ANALYZE, as mentorbot runs none, and
its WAL is folded into the file (as after a restart). The benchmark prints numbers and
never fails on time; it fails only when a report raises.

    .venv/bin/python bench/reports.py [--backend sqlite|postgresql|both] [--scale F]
        [--runs N] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import os
import platform
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.postgres when run as `python bench/reports.py`

from bot.config import load_programs  # noqa: E402
from handlers.core.program import Program, QuestionType  # noqa: E402
from handlers.cycle.schedule import cycle_items, due_row  # noqa: E402
from handlers.reports.catalogue import CATALOGUE, run_report  # noqa: E402
from handlers.sessions.feedback import READINESS  # noqa: E402
from storage import (  # noqa: E402
    Database,
    DueItem,
    DueKind,
    DueStatus,
    Enrollment,
    EnrollmentStatus,
    Feedback,
    FeedbackStatus,
    Milestone,
    MilestoneStatus,
    Pairing,
    PairingStatus,
    Person,
    Role,
    SessionLog,
)
from storage.tables import (  # noqa: E402
    CIRCLE,
    CIRCLE_ATTENDANCE,
    CIRCLE_FEEDBACK,
    CIRCLE_MEMBER,
    CIRCLE_SESSION,
)
from tests import postgres  # noqa: E402

TARGET = 1.0
#: Wednesday 10 March 2027, 12:00 UTC.
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
#: Rows inserted per statement (and per transaction) while seeding.
CHUNK = 5000
DEPARTMENTS = ["Sales", "Product", "Engineering", "Finance", "People", "Marketing", "Legal"]
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
NOTE = (
    "We talked about the reorganisation and how to bring the team along; agreed to draft "
    "a one-page plan before the next session and to ask two peers for feedback on it. "
)

PERSON = Person.__table__  # type: ignore[attr-defined]
ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]
PAIRING = Pairing.__table__  # type: ignore[attr-defined]
SESSION = SessionLog.__table__  # type: ignore[attr-defined]
MILESTONE = Milestone.__table__  # type: ignore[attr-defined]
DUE = DueItem.__table__  # type: ignore[attr-defined]
FEEDBACK = Feedback.__table__  # type: ignore[attr-defined]

#: How the pairings split by status.
PAIRING_MIX = (
    (PairingStatus.ACTIVE, 0.45),
    (PairingStatus.ENDED, 0.40),
    (PairingStatus.PROPOSED, 0.03),
    (PairingStatus.ACCEPTED, 0.02),
    (PairingStatus.DECLINED, 0.06),
    (PairingStatus.EXPIRED, 0.04),
)
OPEN = (PairingStatus.ACTIVE, PairingStatus.PROPOSED, PairingStatus.ACCEPTED)
#: When each first-cycle checkpoint survey is asked, in days after activation.
CHECKPOINTS = (("calibration", 30), ("midpoint", 45), ("end_of_cycle", 90))


@dataclass(frozen=True)
class Sizes:
    """How big the program is."""

    people: int = 50_000
    pairings: int = 20_000
    sessions: int = 500_000
    feedback: int = 200_000

    def scaled(self, factor: float) -> Sizes:
        return Sizes(*(max(1, round(getattr(self, f.name) * factor)) for f in fields(self)))

    @property
    def mentors(self) -> int:
        return max(1, self.people * 12 // 100)

    @property
    def mentees(self) -> int:
        return max(1, self.people * 68 // 100)


@dataclass
class Timing:
    """One report on one backend."""

    kind: str
    first: float = 0.0
    best: float = 0.0
    worst: float = 0.0
    error: str | None = None


@dataclass
class Result:
    """One backend: what was seeded and how long each report took."""

    backend: str
    rows: dict[str, int]
    seed_seconds: float
    timings: list[Timing] = field(default_factory=list)


# -- the program ----------------------------------------------------------------------------


@dataclass
class PlannedPairing:
    """A pairing before it is a row: who, its status and its dates."""

    id: int
    mentee_id: int
    mentor_id: int
    status: PairingStatus
    proposed: datetime
    activated: datetime | None = None
    closed: datetime | None = None

    @property
    def span_days(self) -> int:
        """Days from activation to its end (or now): the days sessions can fall on."""
        if self.activated is None:
            return 0
        return max(0, ((self.closed or NOW).date() - self.activated.date()).days)


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high) * 86400))


def plan_pairings(sizes: Sizes, rng: random.Random) -> list[PlannedPairing]:
    """Who is paired with whom, with what status and when: open pairings one per mentee."""
    mentor_ids = range(1, sizes.mentors + 1)
    mentee_ids = list(range(sizes.mentors + 1, sizes.mentors + sizes.mentees + 1))
    capacity = {m: _capacity(m) for m in mentor_ids}
    slots = [m for m in mentor_ids if not _mentor_left(m) for _ in range(capacity[m])]
    rng.shuffle(slots)
    rng.shuffle(mentee_ids)
    statuses: list[PairingStatus] = []
    for status, share in PAIRING_MIX:
        statuses += [status] * round(sizes.pairings * share)
    statuses = (statuses + [PairingStatus.ENDED] * sizes.pairings)[: sizes.pairings]
    rng.shuffle(statuses)
    planned: list[PlannedPairing] = []
    open_count = 0
    for pairing_id, status in enumerate(statuses, start=1):
        if status in OPEN and open_count < min(len(slots), len(mentee_ids)):
            mentee, mentor = mentee_ids[open_count], slots[open_count]
            open_count += 1
        else:
            status = PairingStatus.ENDED if status in OPEN else status
            mentee, mentor = rng.choice(mentee_ids), rng.randint(1, sizes.mentors)
        if status is PairingStatus.ACTIVE:
            activated = NOW - _days(rng, 1, 730)
            planned.append(
                PlannedPairing(
                    pairing_id, mentee, mentor, status, activated - _days(rng, 1, 6), activated
                )
            )
        elif status is PairingStatus.ENDED:
            activated = NOW - _days(rng, 60, 900)
            closed = min(activated + _days(rng, 20, 300), NOW - timedelta(days=1))
            planned.append(
                PlannedPairing(
                    pairing_id,
                    mentee,
                    mentor,
                    status,
                    activated - _days(rng, 1, 6),
                    activated,
                    closed,
                )
            )
        elif status in (PairingStatus.PROPOSED, PairingStatus.ACCEPTED):
            planned.append(
                PlannedPairing(pairing_id, mentee, mentor, status, NOW - _days(rng, 0, 7))
            )
        else:
            planned.append(
                PlannedPairing(pairing_id, mentee, mentor, status, NOW - _days(rng, 10, 800))
            )
    return planned


def _capacity(mentor_id: int) -> int:
    return (1, 2, 2, 3, 3, 4)[mentor_id % 6]


def _mentor_left(mentor_id: int) -> bool:
    return mentor_id % 17 == 0


def _mentor_status(mentor_id: int) -> str:
    if _mentor_left(mentor_id):
        return EnrollmentStatus.LEFT.value
    if mentor_id % 16 == 0:
        return EnrollmentStatus.PAUSED.value
    return EnrollmentStatus.AVAILABLE.value


def people_rows(sizes: Sizes, program: Program, rng: random.Random) -> Iterator[dict[str, Any]]:
    created = NOW - timedelta(days=1000)
    leads = {sizes.people - n: email for n, email in enumerate(program.leads)}
    for person_id in range(1, sizes.people + 1):
        yield {
            "id": person_id,
            "email": leads.get(person_id, f"person{person_id}@bench.example.com"),
            "name": f"Person {person_id}",
            "department": rng.choice(DEPARTMENTS),
            "title": None,
            "level": rng.randint(2, 8),
            "manager_id": None,
            "timezone": rng.choice(ZONES),
            "location": None,
            "attributes": {},
            "created_at": created,
            "updated_at": created,
        }


def enrollment_rows(
    sizes: Sizes, program: Program, planned: list[PlannedPairing], rng: random.Random
) -> Iterator[dict[str, Any]]:
    program_id = program.id
    for mentor_id in range(1, sizes.mentors + 1):
        enrolled = NOW - timedelta(days=950)
        yield {
            "person_id": mentor_id,
            "program": program_id,
            "role": Role.MENTOR.value,
            "status": _mentor_status(mentor_id),
            "answers": {"capacity": _capacity(mentor_id)},
            "capacity": _capacity(mentor_id),
            "enrolled_at": enrolled,
            "updated_at": enrolled,
            "waiting_since": None,
            "paused_until": None,
            "status_before_pause": None,
        }
    earliest: dict[int, datetime] = {}
    standing: dict[int, set[PairingStatus]] = {}
    for p in planned:
        earliest[p.mentee_id] = min(earliest.get(p.mentee_id, p.proposed), p.proposed)
        standing.setdefault(p.mentee_id, set()).add(p.status)
    for mentee_id in range(sizes.mentors + 1, sizes.mentors + sizes.mentees + 1):
        statuses = standing.get(mentee_id, set())
        if mentee_id in earliest:
            enrolled = earliest[mentee_id] - _days(rng, 1, 60)
        else:
            enrolled = NOW - _days(rng, 0, 400)
        if PairingStatus.ACTIVE in statuses:
            status = EnrollmentStatus.MATCHED
        elif statuses & {PairingStatus.PROPOSED, PairingStatus.ACCEPTED}:
            status = EnrollmentStatus.WAITING
        elif PairingStatus.ENDED in statuses:
            status = EnrollmentStatus.COMPLETED if rng.random() < 0.7 else EnrollmentStatus.WAITING
        else:
            draw = rng.random()
            status = (
                EnrollmentStatus.WAITING
                if draw < 0.85
                else EnrollmentStatus.PAUSED
                if draw < 0.9
                else EnrollmentStatus.LEFT
            )
        yield {
            "person_id": mentee_id,
            "program": program_id,
            "role": Role.MENTEE.value,
            "status": status.value,
            "answers": {},
            "capacity": None,
            "enrolled_at": enrolled,
            "updated_at": enrolled,
            "waiting_since": enrolled,
            "paused_until": None,
            "status_before_pause": None,
        }


def _cycle(p: PlannedPairing, program: Program) -> tuple[int, datetime]:
    """The pairing's current cycle and when it began."""
    assert p.activated is not None
    length = timedelta(days=program.cadence.cycle_days)
    cycle = int((min(p.closed or NOW, NOW) - p.activated) / length) + 1
    return cycle, p.activated + (cycle - 1) * length


def pairing_rows(
    planned: list[PlannedPairing], program: Program, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for p in planned:
        cycle, started = _cycle(p, program) if p.activated else (1, None)
        yield {
            "id": p.id,
            "program": program.id,
            "mentee_id": p.mentee_id,
            "mentor_id": p.mentor_id,
            "status": p.status.value,
            "score": round(rng.uniform(0.4, 0.95), 3),
            "reasons": [],
            "batch": "bench",
            "proposed_by": None,
            "proposed_at": p.proposed,
            "expires_at": p.proposed + timedelta(days=7),
            "mentor_answered_at": p.activated,
            "activated_at": p.activated,
            "closed_at": p.closed,
            "declined_by": "mentor" if p.status is PairingStatus.DECLINED else None,
            "cycle": cycle,
            "cycle_started_at": started,
            "last_activity_at": p.activated,
            "missed_checkins": rng.choice((0, 0, 0, 0, 1, 1, 2, 3))
            if p.status is PairingStatus.ACTIVE
            else 0,
            "at_risk_since": None,
            "plan_confirmed_at": p.activated if p.activated and rng.random() < 0.6 else None,
            "mentee_consent": None,
            "mentor_consent": None,
            "end_reason": "completed" if p.status is PairingStatus.ENDED else None,
        }


def session_counts(planned: list[PlannedPairing], total: int, rng: random.Random) -> list[int]:
    """Sessions per pairing, ``total`` in all: in proportion to each active span over a
    pace of one every 5 to 21 days, and never more than one a day."""
    weights = [p.span_days / rng.uniform(5, 21) for p in planned]
    whole = sum(weights) or 1.0
    counts = [
        min(p.span_days, round(w * total / whole)) for p, w in zip(planned, weights, strict=True)
    ]
    short = total - sum(counts)
    room = [i for i, p in enumerate(planned) if p.span_days > counts[i]]
    while short > 0 and room:
        i = rng.choice(room)
        counts[i] += 1
        short -= 1
        if counts[i] >= planned[i].span_days:
            room.remove(i)
    while short < 0:
        i = rng.randrange(len(counts))
        if counts[i]:
            counts[i] -= 1
            short += 1
    return counts


def session_rows(
    planned: list[PlannedPairing], counts: list[int], rng: random.Random
) -> Iterator[dict[str, Any]]:
    """Every session, with ids from 1 in order (the pulses refer to them)."""
    session_id = 0
    for p, count in zip(planned, counts, strict=True):
        if not count or p.activated is None:
            continue
        start = p.activated.date()
        for offset in sorted(rng.sample(range(1, p.span_days + 1), count)):
            session_id += 1
            held_on = start + timedelta(days=offset)
            yield {
                "id": session_id,
                "pairing_id": p.id,
                "held_on": held_on,
                "minutes": rng.choice((30, 45, 60)),
                "format": "One-on-one",
                "topics": ["people-leadership"],
                "notes": NOTE,
                "summary": None,
                "logged_by": p.mentor_id,
                "created_at": datetime.combine(held_on, p.activated.timetz()),
                "progress": None,
                "summary_status": None,
                "summary_attempts": 0,
                "summary_next_at": None,
                "summary_error": None,
            }


def _answers(program: Program, survey: str, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in program.feedback.surveys.of(survey):
        if question.type in (QuestionType.SCALE, QuestionType.NUMBER):
            answers[question.id] = rng.choices((1, 2, 3, 4, 5), (1, 2, 4, 6, 5))[0]
        elif question.is_choice and question.choices:
            answers[question.id] = rng.choice(question.choices).value
        else:
            answers[question.id] = None
    return answers


def _feedback(
    program: Program,
    rng: random.Random,
    *,
    key: str,
    pairing_id: int,
    survey: str,
    respondent: int,
    role: Role,
    asked: datetime,
    session_log_id: int | None = None,
) -> dict[str, Any]:
    answered = asked < NOW - timedelta(days=14) and rng.random() < 0.92
    return {
        "key": key,
        "pairing_id": pairing_id,
        "program": program.id,
        "session_log_id": session_log_id,
        "survey": survey,
        "respondent_id": respondent,
        "role": role.value,
        "status": (FeedbackStatus.ANSWERED if answered else FeedbackStatus.ASKED).value,
        "answers": _answers(program, survey, rng) if answered else None,
        "asked_at": asked,
        "answered_at": asked + timedelta(days=2) if answered else None,
    }


def checkpoint_count(planned: list[PlannedPairing]) -> int:
    """How many checkpoint feedback rows the pairings' first cycles asked (3 each)."""
    return sum(
        3
        for p in planned
        if p.activated is not None
        for _, day in CHECKPOINTS
        if p.activated + timedelta(days=day) < (p.closed or NOW)
    )


def feedback_rows(
    planned: list[PlannedPairing],
    counts: list[int],
    program: Program,
    total: int,
    rng: random.Random,
) -> Iterator[dict[str, Any]]:
    """Checkpoint surveys (both sides, and the mentee's mentor readiness), then pulses after
    sessions until ``total`` (pulses go to sessions picked evenly at random)."""
    checkpoints = checkpoint_count(planned)
    sessions = sum(counts)
    pulses = set(rng.sample(range(1, sessions + 1), max(0, min(sessions, total - checkpoints))))
    budget = total
    session_id = 0
    for p, count in zip(planned, counts, strict=True):
        if p.activated is None:
            continue
        for survey, day in CHECKPOINTS:
            asked = p.activated + timedelta(days=day)
            if asked >= (p.closed or NOW) or budget < 3:
                continue
            budget -= 3
            for person, role in ((p.mentee_id, Role.MENTEE), (p.mentor_id, Role.MENTOR)):
                yield _feedback(
                    program,
                    rng,
                    key=f"{survey}:{p.id}:1:{person}",
                    pairing_id=p.id,
                    survey=survey,
                    respondent=person,
                    role=role,
                    asked=asked,
                )
            yield _feedback(
                program,
                rng,
                key=f"{READINESS}:{p.id}:1:{p.mentee_id}:{survey}",
                pairing_id=p.id,
                survey=READINESS,
                respondent=p.mentee_id,
                role=Role.MENTEE,
                asked=asked,
            )
        start = session_id
        session_id += count
        for pulse in range(start + 1, session_id + 1):
            if pulse not in pulses or budget <= 0:
                continue
            budget -= 1
            yield _feedback(
                program,
                rng,
                key=f"pulse:{pulse}:{p.mentee_id}",
                pairing_id=p.id,
                survey="pulse",
                respondent=p.mentee_id,
                role=Role.MENTEE,
                asked=NOW - _days(rng, 0, p.span_days or 1),
                session_log_id=pulse,
            )


def plan_rows(
    planned: list[PlannedPairing], program: Program, rng: random.Random
) -> Iterator[dict[str, Any]]:
    """Three milestones for most activated pairings' current cycle."""
    statuses = [s.value for s in MilestoneStatus]
    for p in planned:
        if p.activated is None or rng.random() < 0.3:
            continue
        cycle, started = _cycle(p, program)
        for position in (1, 2, 3):
            yield {
                "pairing_id": p.id,
                "cycle": cycle,
                "position": position,
                "objective": f"Objective {position}",
                "target_date": (started + timedelta(days=30 * position)).date(),
                "status": MilestoneStatus.DONE.value if p.closed else rng.choice(statuses),
                "created_at": started,
                "updated_at": started,
            }


def due_rows(
    planned: list[PlannedPairing], program: Program, rng: random.Random
) -> Iterator[dict[str, Any]]:
    """Each active pairing's current cycle: past items done, the rest pending."""
    for p in planned:
        if p.status is not PairingStatus.ACTIVE:
            continue
        cycle, started = _cycle(p, program)
        for kind, moment in cycle_items(program, started, cycle=cycle):
            row = {
                **due_row(p.id, kind=kind, due_at=moment, now=started),
                "program": program.id,
                "outcome": None,
                "done_at": None,
            }
            if moment <= NOW:
                row["status"] = DueStatus.DONE.value
                row["outcome"] = "sent"
                row["done_at"] = moment
                if kind == DueKind.CALIBRATION:
                    row["answers"] = {
                        side: "no" if rng.random() < 0.08 else "yes"
                        for side in ("mentee", "mentor")
                        if rng.random() < 0.7
                    }
            yield row


def chunked(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- a circles program beside it ------------------------------------------------------------

#: The circles program the circle reports are timed on (tests/fixtures/circles.yaml).
CIRCLES_FILE = ROOT / "tests" / "fixtures" / "circles.yaml"
CIRCLES_ID = "leader-circles"
#: Circles per 10,000 people, and the share of them still running (the rest ended).
CIRCLES_PER_10K, ACTIVE_CIRCLES = 125, 0.6


def circle_program() -> Program:
    found = load_programs(CIRCLES_FILE).get(CIRCLES_ID)
    assert found is not None
    return found


@dataclass
class CircleRows:
    """A circles program's rows, made from people who never enrolled in the pairs program."""

    enrollments: list[dict[str, Any]] = field(default_factory=list)
    circles: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    attendance: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)


def circle_rows(sizes: Sizes, rng: random.Random) -> CircleRows:
    """Circles of 3 to 5 members and a facilitator, each meeting about every two weeks
    from its start (up to a year ago) to now or its end, with attendance for every member
    and a pulse from most who came."""
    made = CircleRows()
    person = sizes.mentors + sizes.mentees + 1
    last_person = sizes.people - 10  # the leads are the last people
    count = max(1, sizes.people * CIRCLES_PER_10K // 10_000)
    for circle_id in range(1, count + 1):
        size = rng.randint(3, 5)
        if person + size + 1 > last_person:
            break
        facilitator, people = person, list(range(person + 1, person + 1 + size))
        person += size + 1
        started = NOW - _days(rng, 20, 365)
        active = rng.random() < ACTIVE_CIRCLES
        ended = None if active else min(NOW, started + _days(rng, 60, 120))
        made.circles.append(
            {
                "id": circle_id,
                "program": CIRCLES_ID,
                "status": "active" if active else "ended",
                "score": round(rng.random(), 3),
                "reasons": [],
                "batch": "bench",
                "proposed_at": started - timedelta(days=3),
                "expires_at": started + timedelta(days=4),
                "activated_at": started,
                "closed_at": ended,
                "cycle": 1,
                "goals": [],
                "conversation": {},
            }
        )
        for who, role in [(facilitator, "mentor"), *((p, "mentee") for p in people)]:
            made.enrollments.append(
                {
                    "person_id": who,
                    "program": CIRCLES_ID,
                    "role": role,
                    "status": "available" if role == "mentor" else "matched",
                    "answers": {},
                    "capacity": 1 if role == "mentor" else None,
                    "enrolled_at": started - timedelta(days=10),
                    "updated_at": started,
                    "waiting_since": None,
                }
            )
            left = role == "mentee" and rng.random() < 0.1
            made.members.append(
                {
                    "circle_id": circle_id,
                    "person_id": who,
                    "role": "facilitator" if role == "mentor" else "member",
                    "status": "left" if left else "accepted",
                    "reasons": [],
                }
            )
        day = started + _days(rng, 3, 14)
        while day < (ended or NOW):
            session_id = len(made.sessions) + 1
            made.sessions.append(
                {
                    "id": session_id,
                    "circle_id": circle_id,
                    "held_on": day.date(),
                    "minutes": 60,
                    "notes": NOTE,
                    "logged_by": facilitator,
                    "created_at": day,
                }
            )
            for member in people:
                came = rng.random() < 0.8
                made.attendance.append(
                    {"session_id": session_id, "person_id": member, "attended": came}
                )
                if came and rng.random() < 0.7:
                    made.feedback.append(
                        {
                            "key": f"pulse:{session_id}:{member}",
                            "circle_id": circle_id,
                            "program": CIRCLES_ID,
                            "session_id": session_id,
                            "survey": "pulse",
                            "respondent_id": member,
                            "status": "answered",
                            "answers": {"usefulness": rng.randint(1, 5), "comment": NOTE},
                            "asked_at": day,
                            "answered_at": day + timedelta(hours=5),
                        }
                    )
            day += _days(rng, 10, 18)
    return made


async def seed(db: Database, program: Program, sizes: Sizes, seed_value: int) -> dict[str, int]:
    """Insert the program, a chunk of rows per transaction. Returns rows per table."""
    rng = random.Random(seed_value)
    planned = plan_pairings(sizes, rng)
    counts = session_counts(planned, sizes.sessions, rng)
    tables = (
        ("person", PERSON, people_rows(sizes, program, rng)),
        ("enrollment", ENROLLMENT, enrollment_rows(sizes, program, planned, rng)),
        ("pairing", PAIRING, pairing_rows(planned, program, rng)),
        ("session_log", SESSION, session_rows(planned, counts, rng)),
        ("feedback", FEEDBACK, feedback_rows(planned, counts, program, sizes.feedback, rng)),
        ("milestone", MILESTONE, plan_rows(planned, program, rng)),
        ("due_item", DUE, due_rows(planned, program, rng)),
    )
    circled = circle_rows(sizes, rng)
    tables += (
        ("circle enrollment", ENROLLMENT, iter(circled.enrollments)),
        ("circle", CIRCLE, iter(circled.circles)),
        ("circle_member", CIRCLE_MEMBER, iter(circled.members)),
        ("circle_session", CIRCLE_SESSION, iter(circled.sessions)),
        ("circle_attendance", CIRCLE_ATTENDANCE, iter(circled.attendance)),
        ("circle_feedback", CIRCLE_FEEDBACK, iter(circled.feedback)),
    )
    inserted: dict[str, int] = {}
    for name, table, rows in tables:
        inserted[name] = 0
        for chunk in chunked(rows):
            async with db.session() as session:
                conn = await session.connection()
                await conn.execute(table.insert(), chunk)
            inserted[name] += len(chunk)
    if not db.is_sqlite:
        async with db.session() as session:
            conn = await session.connection()
            # The ids were given explicitly, so move the sequences past them.
            for name in ("person", "pairing", "session_log", "circle", "circle_session"):
                await conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
    # Settle the bulk load as a running program would be (see the module's docstring).
    if db.is_sqlite:
        await db.dispose()
        return inserted
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(sa.text("VACUUM ANALYZE"))
        await autocommit.execute(sa.text("CHECKPOINT"))
    return inserted


# -- the reports ----------------------------------------------------------------------------


#: The kinds that count a circles program's circles, timed on it as "c:KIND".
CIRCLE_KINDS = ("circles", "overview", "cadence", "at-risk", "feedback", "programs")


async def time_reports(db: Database, program: Program, runs: int) -> list[Timing]:
    """Each kind in the catalogue, ``runs`` times, each run in its own transaction; then
    the kinds that count circles, on the circles program."""
    circles = circle_program()
    timings: list[Timing] = []
    runs_of = [(kind, kind, program) for kind in CATALOGUE.names()]
    runs_of += [(f"c:{kind}", kind, circles) for kind in CIRCLE_KINDS]
    for label, kind, reported in runs_of:
        lead = reported.leads[0]
        timing = Timing(label)
        seconds: list[float] = []
        try:
            for _ in range(runs):
                started = time.perf_counter()
                async with db.session() as session:
                    await run_report(
                        session,
                        reported,
                        actor=lead,
                        kind=kind,
                        now=NOW,
                        channel="bench",
                        output="table",
                    )
                seconds.append(time.perf_counter() - started)
        except Exception as exc:  # a report under construction must not stop the rest
            timing.error = f"{exc.__class__.__name__}: {exc}"
            traceback.print_exc()
        if seconds:
            timing.first, timing.best, timing.worst = seconds[0], min(seconds), max(seconds)
        print(f"  {label:<12} {', '.join(f'{s:.3f}' for s in seconds)} s", flush=True)
        timings.append(timing)
    return timings


async def run_backend(
    backend: str, url: str, program: Program, sizes: Sizes, runs: int, seed_value: int
) -> Result:
    db = Database(url)
    try:
        await db.upgrade()
        started = time.perf_counter()
        rows = await seed(db, program, sizes, seed_value)
        seeded = time.perf_counter() - started
        print(
            f"{backend}: seeded {sum(rows.values()):,} rows in {seeded:.1f} s "
            f"({', '.join(f'{name} {n:,}' for name, n in rows.items())})",
            flush=True,
        )
        timings = await time_reports(db, program, runs)
        return Result(backend, rows, seeded, timings)
    finally:
        await db.dispose()


async def run_sqlite(program: Program, args: argparse.Namespace) -> Result | None:
    with tempfile.TemporaryDirectory(prefix="mentorbot-bench-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        return await run_backend("sqlite", url, program, _sizes(args), args.runs, args.seed)


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
        return await run_backend("postgresql", url, program, _sizes(args), args.runs, args.seed)
    finally:
        await postgres.admin(server, postgres.drop_statement(name))


def _sizes(args: argparse.Namespace) -> Sizes:
    return Sizes().scaled(args.scale)


def one_backend(backend: str, args: argparse.Namespace) -> dict[str, Any] | None:
    """Run one backend (in a process of its own); the result as plain data."""
    program = load_programs(ROOT / "app.yaml").first
    run = run_sqlite if backend == "sqlite" else run_postgresql
    result = asyncio.run(run(program, args))
    return None if result is None else asdict(result)


# -- main -----------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    sizes = _sizes(args)
    print(
        f"mentorbot reports benchmark: {sizes.people:,} people, {sizes.pairings:,} pairings, "
        f"{sizes.sessions:,} sessions, {sizes.feedback:,} feedback rows; {args.runs} runs "
        f"of each report at {NOW:%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
        f"SQLAlchemy {sa.__version__}",
        flush=True,
    )
    results: list[Result] = []
    context = multiprocessing.get_context("spawn")
    for backend in backends:
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            found = pool.submit(one_backend, backend, args).result()
        if found is not None:
            timings = [Timing(**t) for t in found.pop("timings")]
            results.append(Result(**found, timings=timings))
    if not results:
        return 0

    kinds = [t.kind for t in results[0].timings]
    header = f"{'report':<12}" + "".join(
        f" {r.backend + ' first':>17} {'best':>7} {'< 1 s':>6}" for r in results
    )
    print()
    print(header)
    failed = False
    for kind in kinds:
        line = f"{kind:<12}"
        for r in results:
            t = next(t for t in r.timings if t.kind == kind)
            if t.error:
                failed = True
                line += f" {'error':>17} {'':>7} {'':>6}"
                continue
            verdict = "yes" if t.worst < TARGET else "NO"
            line += f" {t.first:>17.3f} {t.best:>7.3f} {verdict:>6}"
        print(line)
    print()
    for r in results:
        slow = [t.kind for t in r.timings if not t.error and t.worst >= TARGET]
        broken = [f"{t.kind} ({t.error})" for t in r.timings if t.error]
        verdict = "met" if not slow else f"NOT met by {', '.join(slow)}"
        print(f"target: every report under {TARGET:.0f} s on {r.backend}, every run: {verdict}")
        if broken:
            print(f"ERROR: {r.backend}: {'; '.join(broken)}")
    return 1 if failed else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="program size as a share of the default (1.0)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each report (3)")
    parser.add_argument("--seed", type=int, default=2027, help="random seed of the program")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be above 0")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(main(parse_args()))
