"""A circles program the circle reports are tested on (tests/fixtures/circles.yaml's
leader-circles: sizes 3 to 5, check-ins every 14 days, ``min_group_size`` 3).

Rows are inserted directly with known dates, so every figure can be worked out by hand;
the working is beside each expectation in the tests. ``NOW`` is Wednesday 10 March 2027,
12:00 UTC (London is on GMT: "today" is 10 March); the last three full months are
December, January and February.

Circles (members; the facilitator not counted):

1. active since 2 Nov 2026, members 11 12 13 (size 3); 5 sessions, the last on 8 March;
2. active since 1 Dec 2026, members 14 15 16 and 17, who left (size 4); 2 sessions, the
   last on 20 January: silent for more than two check-in windows;
3. active since 4 Jan 2027, members 18 to 21 (size 4); 5 sessions, one of four came to
   each of the last three: attendance under half;
4. ended (2 Jun to 20 Nov 2026), members 22 23 24 (size 3); 3 sessions;
5. proposed: members 25 26 27 invited; 6. dissolved. Neither ran.

A seventh circle, with sessions, attendance and answers, is in another program.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from handlers.core.figures import Report
from handlers.core.program import Program
from storage import Database
from storage.tables import (
    CIRCLE,
    CIRCLE_ATTENDANCE,
    CIRCLE_FEEDBACK,
    CIRCLE_MEMBER,
    CIRCLE_SESSION,
    ENROLLMENT,
    PERSON,
)

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
PROGRAM_ID, OTHER = "leader-circles", "other-circles"
SECRET = "SECRET"
LEAD, GLOBAL = "priya.shah@example.com", "hr.lead@example.com"


def at(day: str, hour: int = 0) -> datetime:
    """An instant in UTC: midnight of the day, or ``hour`` o'clock."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


#: id: (program, status, facilitator, activated, closed)
CIRCLES: dict[int, tuple[str, str, int, str | None, str | None]] = {
    1: (PROGRAM_ID, "active", 1, "2026-11-02", None),
    2: (PROGRAM_ID, "active", 2, "2026-12-01", None),
    3: (PROGRAM_ID, "active", 3, "2027-01-04", None),
    4: (PROGRAM_ID, "ended", 4, "2026-06-02", "2026-11-20"),
    5: (PROGRAM_ID, "proposed", 5, None, None),
    6: (PROGRAM_ID, "dissolved", 6, None, None),
    7: (OTHER, "active", 7, "2026-12-01", None),
}
#: circle: [(person, status)] of its members.
MEMBERS: dict[int, list[tuple[int, str]]] = {
    1: [(11, "accepted"), (12, "accepted"), (13, "accepted")],
    2: [(14, "accepted"), (15, "accepted"), (16, "accepted"), (17, "left")],
    3: [(18, "accepted"), (19, "accepted"), (20, "accepted"), (21, "accepted")],
    4: [(22, "accepted"), (23, "accepted"), (24, "accepted")],
    5: [(25, "invited"), (26, "invited"), (27, "invited")],
    6: [(28, "declined"), (29, "declined")],
    7: [(41, "accepted"), (42, "accepted"), (43, "accepted"), (44, "left"), (45, "left")],
}
#: circle: [(held on, who attended)]; everyone else in the circle then is marked absent.
SESSIONS: dict[int, list[tuple[str, set[int]]]] = {
    1: [
        ("2026-11-16", {11, 12, 13}),
        ("2026-12-07", {11, 12, 13}),
        ("2027-01-11", {11, 13}),
        ("2027-02-08", {11, 12, 13}),
        ("2027-03-08", {11, 12, 13}),
    ],
    2: [("2026-12-15", {14, 15, 16, 17}), ("2027-01-20", {14, 16})],
    3: [
        ("2027-01-18", {18, 19, 20, 21}),
        ("2027-02-01", {18, 19, 20, 21}),
        ("2027-02-15", {18}),
        ("2027-02-22", {19}),
        ("2027-03-01", {20}),
    ],
    4: [
        ("2026-06-15", {22, 23}),
        ("2026-07-15", {22, 23, 24}),
        ("2026-09-15", {23}),
    ],
    7: [(f"2027-0{m}-10", {41}) for m in (1, 2, 3)],
}
#: Answers to the pulse's "How useful was the session?": (circle, person, usefulness).
PULSES = [
    (1, 11, 4),
    (1, 11, 4),
    (1, 12, 5),
    (1, 13, 5),
    (4, 22, 3),
    (4, 23, 2),
    (2, 14, 2),
    (2, 15, 3),
    (3, 18, 1),
    # Another program's answers: never counted here.
    (7, 41, 5),
    (7, 42, 5),
    (7, 43, 5),
]
#: Members waiting (not in an open circle): 17 left circle 2; 25-27 are invited to
#: circle 5, so not on the waitlist. (person, status, waiting since)
WAITING = [(17, "2027-02-01"), (28, "2027-01-10"), (29, "2027-02-20"), (30, "2027-03-05")]


def _person(person_id: int, email: str | None = None) -> dict[str, Any]:
    created = at("2026-01-01")
    return {
        "id": person_id,
        "email": email or f"person{person_id}@example.com",
        "name": f"{SECRET} Person {person_id}",
        "attributes": {},
        "created_at": created,
        "updated_at": created,
    }


def _enrollment(
    person_id: int, program: str, role: str, status: str, **more: Any
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "program": program,
        "role": role,
        "status": status,
        "answers": {},
        "capacity": 1 if role == "mentor" else None,
        "enrolled_at": at("2026-05-01"),
        "updated_at": at("2026-05-01"),
        "waiting_since": None,
        **more,
    }


async def seed(database: Database) -> None:
    """Insert the circles world (and the other program's circle)."""
    ids = sorted({p for members in MEMBERS.values() for p, _ in members} | {30})
    facilitators = sorted({f for _, _, f, _, _ in CIRCLES.values()})
    people = [_person(p) for p in facilitators + ids] + [_person(99, LEAD)]
    waiting = {person: since for person, since in WAITING}
    enrollments = [_enrollment(f, CIRCLES[f][0], "mentor", "available") for f in facilitators] + [
        _enrollment(
            p,
            OTHER if p > 40 else PROGRAM_ID,
            "mentee",
            "waiting" if p in waiting or 25 <= p <= 27 else "matched",
            waiting_since=at(waiting[p]) if p in waiting else None,
        )
        for p in ids
    ]
    circles = [
        {
            "id": circle_id,
            "program": program,
            "status": status,
            "score": 0.7,
            "reasons": [],
            "batch": "test",
            "proposed_at": at("2026-05-20"),
            "expires_at": at("2026-05-27"),
            "activated_at": at(activated) if activated else None,
            "closed_at": at(closed) if closed else None,
            "cycle": 1,
            "goals": [{"text": f"{SECRET} goal", "status": "open"}],
            "conversation": {},
        }
        for circle_id, (program, status, _, activated, closed) in CIRCLES.items()
    ]
    members = [
        {
            "circle_id": circle_id,
            "person_id": facilitator,
            "role": "facilitator",
            "status": "accepted" if status in ("active", "ended") else "invited",
            "reasons": [],
        }
        for circle_id, (_, status, facilitator, _, _) in CIRCLES.items()
    ] + [
        {
            "circle_id": circle_id,
            "person_id": person,
            "role": "member",
            "status": status,
            "reasons": [f"{SECRET} reason"],
            "left_at": at("2027-01-25") if status == "left" else None,
        }
        for circle_id, people_of in MEMBERS.items()
        for person, status in people_of
    ]
    sessions: list[dict[str, Any]] = []
    attendance: list[dict[str, Any]] = []
    session_of: dict[int, int] = {}
    for circle_id, held in SESSIONS.items():
        for day, came in held:
            session_id = len(sessions) + 1
            session_of.setdefault(circle_id, session_id)
            sessions.append(
                {
                    "id": session_id,
                    "circle_id": circle_id,
                    "held_on": date.fromisoformat(day),
                    "minutes": 60,
                    "notes": f"{SECRET} circle note",
                    "logged_by": CIRCLES[circle_id][2],
                    "created_at": at(day),
                }
            )
            # Every member in the circle then: those who left after 20 January were.
            for person, status in MEMBERS[circle_id]:
                if status == "left" and day > "2027-01-25":
                    continue
                attendance.append(
                    {"session_id": session_id, "person_id": person, "attended": person in came}
                )
    feedback = [
        {
            "key": f"pulse:{n}:{person}",
            "circle_id": circle_id,
            "program": CIRCLES[circle_id][0],
            "session_id": session_of[circle_id],
            "survey": "pulse",
            "respondent_id": person,
            "status": "answered",
            "answers": {"usefulness": usefulness, "comment": f"{SECRET} comment"},
            "asked_at": at("2027-02-01"),
            "answered_at": at("2027-02-02"),
        }
        for n, (circle_id, person, usefulness) in enumerate(PULSES)
    ] + [
        # Asked, never answered.
        {
            "key": "pulse:asked:19",
            "circle_id": 3,
            "program": PROGRAM_ID,
            "session_id": session_of[3],
            "survey": "pulse",
            "respondent_id": 19,
            "status": "asked",
            "answers": None,
            "asked_at": at("2027-03-01"),
            "answered_at": None,
        }
    ]
    async with database.session() as session:
        conn = await session.connection()
        for table, rows in (
            (PERSON, people),
            (ENROLLMENT, enrollments),
            (CIRCLE, circles),
            (CIRCLE_MEMBER, members),
            (CIRCLE_SESSION, sessions),
            (CIRCLE_ATTENDANCE, attendance),
            (CIRCLE_FEEDBACK, feedback),
        ):
            await conn.execute(sa.insert(table), rows)


async def build(database: Database, builder: Any, program: Program) -> Report:
    """Seed the world and build one report on ``program`` at ``NOW``."""
    await seed(database)
    async with database.session() as session:
        report: Report = await builder(session, program, now=NOW)
    return report


def figures(report: Report) -> dict[str, str]:
    return dict(report.figures)
