"""A count of one meets its noun in the singular in every report: never "1 pairs".

The world holds one of each thing: one mentor, one mentee and their pairing, one session,
one milestone, one missed check-in, one proposal about to lapse, one survey answer, one
circle with one member and one session, one undeliverable message. The small-group rule
would hide every count of one as "fewer than k", so the programs here show every count
(``min_group_size`` 1, below what a program file allows): the wording is under test, not
the rule. Check-ins fall due every day, so the cadence's own numbers are one too.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from handlers import build_engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.catalogue import CATALOGUE
from storage import Database, Person
from storage.tables import (
    CIRCLE,
    CIRCLE_ATTENDANCE,
    CIRCLE_FEEDBACK,
    CIRCLE_MEMBER,
    CIRCLE_SESSION,
    DUE,
    ENROLLMENT,
    FEEDBACK,
    MILESTONE,
    OUTBOX,
    PAIRING,
    PERSON,
    SESSION_LOG,
)
from tests.helpers import Chat, FakeClock

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
PAIRS, CIRCLES = "leadership-2027", "leader-circles"
LEAD_ID = 30
#: A count of one followed by a noun in the plural.
ONE_PLURAL = re.compile(
    r"(?<!fewer than )\b1 (pairs|pairings|mentees|mentors|peers|sessions|circles|people|members|items|"
    r"messages|proposals|answers|surveys|check-ins|milestones|days|weeks|months|rows)\b"
)


def at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _person(person_id: int, email: str) -> dict[str, Any]:
    return {
        "id": person_id,
        "email": email,
        "name": email.split("@")[0].title(),
        "attributes": {},
        "created_at": at("2026-01-01"),
        "updated_at": at("2026-01-01"),
    }


def _enrollment(person_id: int, program: str, role: str, status: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "program": program,
        "role": role,
        "status": status,
        "answers": {},
        "capacity": 2 if role == "mentor" else None,
        "enrolled_at": at("2026-12-01"),
        "updated_at": at("2026-12-01"),
        "waiting_since": at("2027-03-01") if status == "waiting" else None,
    }


def _pairing(pairing_id: int, mentee: int, status: str, **more: Any) -> dict[str, Any]:
    return {
        "id": pairing_id,
        "program": PAIRS,
        "mentee_id": mentee,
        "mentor_id": 1,
        "status": status,
        "score": 0.8,
        "reasons": [],
        "batch": "test",
        "proposed_at": at("2027-01-01"),
        "expires_at": at("2027-01-08"),
        "cycle": 1,
        "missed_checkins": 0,
        **more,
    }


async def _seed(database: Database) -> None:
    people = [
        _person(1, "ana@example.com"),
        _person(2, "lee@example.com"),
        _person(3, "kim@example.com"),
        _person(4, "mo@example.com"),
        _person(5, "pia@example.com"),
        _person(LEAD_ID, "priya.shah@example.com"),
    ]
    enrollments = [
        _enrollment(1, PAIRS, "mentor", "available"),
        _enrollment(2, PAIRS, "mentee", "matched"),
        _enrollment(5, PAIRS, "mentee", "waiting"),
        _enrollment(3, CIRCLES, "mentor", "available"),
        _enrollment(4, CIRCLES, "mentee", "matched"),
    ]
    activated = at("2027-01-04")
    pairings = [
        _pairing(
            1,
            2,
            "active",
            activated_at=activated,
            cycle_started_at=activated,
            last_activity_at=at("2027-02-01"),
            missed_checkins=1,
            at_risk_since=at("2027-03-01"),
        ),
        # Proposed to Ana, lapsing tomorrow.
        _pairing(2, 5, "proposed", proposed_at=at("2027-03-04"), expires_at=at("2027-03-11")),
    ]
    sessions = [
        {
            "pairing_id": 1,
            "held_on": date(2027, 2, 1),
            "minutes": 45,
            "format": "One-on-one",
            "topics": ["coaching"],
            "created_at": at("2027-02-01"),
        }
    ]
    milestones = [
        {
            "pairing_id": 1,
            "cycle": 1,
            "position": 1,
            "objective": "Run a retro",
            "target_date": date(2027, 3, 1),
            "status": "on_track",
            "created_at": activated,
            "updated_at": activated,
        }
    ]
    due = [
        {
            "pairing_id": 1,
            "program": PAIRS,
            "kind": "calibration",
            "due_at": at("2027-02-03", 9),
            "status": "done",
            "outcome": "sent",
            "answers": {"mentee": "no"},
            "created_at": activated,
        }
    ]
    feedback = [
        {
            "key": f"{survey}:1:{n}",
            "pairing_id": 1,
            "program": PAIRS,
            "survey": survey,
            "respondent_id": 2,
            "role": "mentee",
            "status": "answered",
            "answers": answers,
            "asked_at": at("2027-02-03"),
            "answered_at": at("2027-02-04"),
        }
        for n, (survey, answers) in enumerate(
            [
                ("mentor_readiness", {"coaching": 4, "availability": 4, "domain_credibility": 4}),
                ("pulse", {"usefulness": 4}),
                ("calibration", {"fit": 4}),
            ]
        )
    ]
    circle = {
        "id": 1,
        "program": CIRCLES,
        "status": "active",
        "score": 0.7,
        "reasons": [],
        "batch": "test",
        "proposed_at": at("2026-12-20"),
        "expires_at": at("2026-12-27"),
        "activated_at": activated,
        "cycle": 1,
        "goals": [],
        "conversation": {},
    }
    members = [
        {
            "circle_id": 1,
            "person_id": 3,
            "role": "facilitator",
            "status": "accepted",
            "reasons": [],
        },
        {"circle_id": 1, "person_id": 4, "role": "member", "status": "accepted", "reasons": []},
    ]
    circle_session = {
        "id": 1,
        "circle_id": 1,
        "held_on": date(2027, 2, 1),
        "minutes": 60,
        "logged_by": 3,
        "created_at": at("2027-02-01"),
    }
    circle_feedback = {
        "key": "pulse:c1:4",
        "circle_id": 1,
        "program": CIRCLES,
        "session_id": 1,
        "survey": "pulse",
        "respondent_id": 4,
        "status": "answered",
        "answers": {"usefulness": 4},
        "asked_at": at("2027-02-01"),
        "answered_at": at("2027-02-02"),
    }
    undeliverable = {
        "dedupe_key": "nudge:1",
        "person_id": 2,
        "payload": [{"text": "Time for a check-in"}],
        "status": "undeliverable",
        "attempts": 1,
        "next_attempt_at": at("2027-03-09"),
        "last_error": "no Slack user has this email",
        "created_at": at("2027-03-09"),
        "pairing_id": 1,
    }
    async with database.session() as session:
        conn = await session.connection()
        for table, rows in (
            (PERSON, people),
            (ENROLLMENT, enrollments),
            (PAIRING, pairings),
            (SESSION_LOG, sessions),
            (MILESTONE, milestones),
            (DUE, due),
            (FEEDBACK, feedback),
            (CIRCLE, [circle]),
            (CIRCLE_MEMBER, members),
            (CIRCLE_SESSION, [circle_session]),
            (CIRCLE_ATTENDANCE, [{"session_id": 1, "person_id": 4, "attended": True}]),
            (CIRCLE_FEEDBACK, [circle_feedback]),
            (OUTBOX, [undeliverable]),
        ):
            for row in rows:  # one at a time: rows of a table set different columns
                await conn.execute(sa.insert(table), row)


def _one_at_a_time(program: Program) -> Program:
    """The program with every count shown and a cadence of one day."""
    cadence = program.cadence.model_copy(
        update={"checkin_every_days": 1, "escalate_after_missed": 1, "auto_close_after_days": 2}
    )
    return program.model_copy(update={"min_group_size": 1, "cadence": cadence})


async def test_no_report_says_one_of_something_in_the_plural(
    database: Database, circle_programs: Programs
) -> None:
    await _seed(database)
    programs = Programs([_one_at_a_time(p) for p in circle_programs], leads=circle_programs.leads)
    engine = build_engine(programs=programs, database=database, clock=FakeClock(NOW))
    async with database.session() as session:
        lead = await session.get(Person, LEAD_ID)
    assert lead is not None
    chat = Chat(engine, lead)
    read: list[str] = []
    for kind in CATALOGUE.names():
        for scope in [""] if kind == "programs" else [PAIRS, CIRCLES]:
            read.append(f"report {kind} {scope}".strip())
            read.append(await chat.send(read[-1]))
    # Each kind ran: a report, not a refusal, stands under each command.
    assert all(said.startswith("== ") for said in read[1::2]), read
    plural_ones = [
        f"{asked}: {line}"
        for asked, said in zip(read[::2], read[1::2], strict=True)
        for line in said.splitlines()
        if ONE_PLURAL.search(line)
    ]
    assert plural_ones == []
