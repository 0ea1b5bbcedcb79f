"""The program the pair reports (overview, cadence, at-risk, milestones, mentors) are tested on.

The program is inserted row by row with known dates, so every figure can be worked out by
hand; the working is in the comments beside each expectation. ``NOW`` is Wednesday 10
March 2027, 12:00 UTC (London is on GMT then, so "today" is 10 March).

Most tests use the program with ``min_group_size`` 2 (the ``pairs_of_two`` fixture, in
conftest.py), so small groups show as numbers; the threshold tests use the shipped 5.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from handlers.core.figures import Report
from handlers.core.program import Program
from storage import (
    Database,
    DueItem,
    Enrollment,
    Feedback,
    Milestone,
    Pairing,
    Person,
    SessionLog,
)

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
PROGRAM_ID = "leadership-2027"
SECRET = "SECRET"
#: A program lead (in app.yaml), in the directory but not enrolled.
LEAD, LEAD_ID = "priya.shah@example.com", 30


def at(day: str, hour: int = 0) -> datetime:
    """An instant in UTC: ``at("2026-10-31")`` is midnight, ``at(..., 12)`` noon."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# Mentors: id, name, status, capacity.
MENTORS = [
    (1, "Ana Lima", "available", 2),
    (2, "Ben Okafor", "available", 4),
    (3, "Cara Diaz", "paused", 3),
    (4, "Dev Rao", "available", 3),
    (5, "Eve Stone", "left", 1),
]
# Mentees: id, name, status, enrolled_at, waiting_since.
MENTEES = [
    (11, "Lee Park", "matched", at("2026-08-01"), None),
    (12, "Mia Chen", "matched", at("2026-09-01"), None),
    (13, "Noa Levi", "matched", at("2026-10-01"), None),
    (14, "Omar Haddad", "matched", at("2026-11-01"), None),
    (15, "Pia Berg", "waiting", at("2027-03-01"), at("2027-03-01")),
    (16, "Quinn Ames", "waiting", at("2027-02-18", 12), at("2027-02-18", 12)),
    # No waiting_since: the wait counts from the enrollment.
    (17, "Ravi Shah", "waiting", at("2027-01-29", 12), None),
    # Re-joined on 28 February; her first pairing (9) was before that.
    (18, "Sara Nunes", "waiting", at("2027-02-28", 12), at("2027-02-28", 12)),
    (19, "Tom Wu", "completed", at("2026-06-01"), None),
    (20, "Uma Ito", "left", at("2026-06-01"), None),
    (21, "Vera Holm", "waiting", at("2027-03-01"), at("2027-03-01")),
    (22, "Wes Moy", "waiting", at("2027-02-07", 12), at("2027-02-07", 12)),
    (23, "Xan Roe", "matched", at("2027-02-20"), None),
    (24, "Yara Kim", "matched", at("2027-01-04", 12), None),
    (25, "Zed Fox", "waiting", at("2027-03-01"), at("2027-03-01")),
]


def pairing(
    pairing_id: int,
    mentee_id: int,
    mentor_id: int,
    status: str,
    *,
    activated: datetime | None = None,
    closed: datetime | None = None,
    proposed: datetime | None = None,
    expires: datetime | None = None,
    cycle: int = 1,
    cycle_started: datetime | None = None,
    missed: int = 0,
    confirmed: bool = False,
) -> dict[str, Any]:
    proposed = proposed or (activated or NOW) - timedelta(days=3)
    return {
        "id": pairing_id,
        "program": PROGRAM_ID,
        "mentee_id": mentee_id,
        "mentor_id": mentor_id,
        "status": status,
        "score": 0.8,
        "reasons": [],
        "batch": "test",
        "proposed_by": None,
        "proposed_at": proposed,
        "expires_at": expires or proposed + timedelta(days=7),
        "mentor_answered_at": None,
        "activated_at": activated,
        "closed_at": closed,
        "declined_by": None,
        "cycle": cycle,
        "cycle_started_at": cycle_started,
        "last_activity_at": activated,
        "missed_checkins": missed,
        "at_risk_since": None,
        "plan_confirmed_at": activated if confirmed and activated else None,
        "mentee_consent": None,
        "mentor_consent": None,
        "end_reason": "completed" if closed else None,
    }


PAIRINGS = [
    # Lee–Ana, in cycle 2 since 9 November; on cadence.
    pairing(
        1,
        11,
        1,
        "active",
        activated=at("2026-08-11"),
        cycle=2,
        cycle_started=at("2026-11-09"),
        confirmed=True,
    ),
    # Mia–Ana: two check-ins missed, last session 20 January (49 days).
    pairing(2, 12, 1, "active", activated=at("2026-09-21"), missed=2, confirmed=True),
    # Noa–Ben: the mentee said "no" at calibration.
    pairing(3, 13, 2, "active", activated=at("2026-10-31")),
    # Omar–Cara: Cara is paused, so the pair's silence is not flagged.
    pairing(4, 14, 3, "active", activated=at("2026-11-06"), confirmed=True),
    # Pia–Dev: proposed, lapses tomorrow.
    pairing(5, 15, 4, "proposed", proposed=at("2027-03-04", 12), expires=at("2027-03-11", 12)),
    # Tom–Eve: a finished pairing.
    pairing(6, 19, 5, "ended", activated=at("2026-06-05"), closed=at("2026-12-01")),
    # Vera–Dev: accepted by Dev, lapses in five days (not yet a worry).
    pairing(7, 21, 4, "accepted", proposed=at("2027-03-08", 12), expires=at("2027-03-15", 12)),
    # Noa–Eve: Noa's first match, ended after nine days (a re-match).
    pairing(8, 13, 5, "ended", activated=at("2026-10-16"), closed=at("2026-10-25")),
    # Sara–Ben: before Sara left and re-joined.
    pairing(9, 18, 2, "ended", activated=at("2026-05-01"), closed=at("2026-07-01")),
    # Quinn–Ben: declined, never active.
    pairing(10, 16, 2, "declined", proposed=at("2027-02-20")),
    # Xan–Ben: active for a week, no session yet: on cadence by grace.
    pairing(11, 23, 2, "active", activated=at("2027-03-03")),
    # Yara–Dev: active 35 days, never met.
    pairing(12, 24, 4, "active", activated=at("2027-02-03", 12), missed=1),
    # Zed–Ben: Ben accepted, Zed let it lapse yesterday.
    pairing(13, 25, 2, "accepted", proposed=at("2027-03-02", 12), expires=at("2027-03-09", 12)),
]

SESSIONS = {
    1: [
        "2026-09-10",
        "2026-10-08",
        "2026-11-05",
        "2026-11-19",
        "2026-12-03",
        "2027-01-14",
        "2027-02-11",
        "2027-02-25",
        "2027-03-04",
    ],
    2: ["2026-10-05", "2026-11-02", "2026-12-14", "2027-01-20"],
    3: ["2026-11-12", "2026-12-10", "2027-01-07", "2027-02-04", "2027-03-01"],
    4: ["2026-11-20", "2026-12-20"],
    6: ["2026-09-05", "2026-10-03", "2026-11-07"],
    8: ["2026-10-20"],
    9: ["2026-06-10"],
}

# (pairing, cycle, position, target, status)
MILESTONES = [
    # Lee–Ana's first cycle: all done, and not counted (cycle 2 is current).
    (1, 1, 1, "2026-09-01", "done"),
    (1, 1, 2, "2026-10-01", "done"),
    (1, 1, 3, "2026-11-01", "done"),
    (1, 2, 1, "2026-12-15", "done"),
    (1, 2, 2, "2027-01-31", "on_track"),  # overdue
    (1, 2, 3, "2027-04-01", "not_started"),
    (2, 1, 1, "2026-11-01", "done"),
    (2, 1, 2, "2026-12-01", "done"),
    (3, 1, 1, "2027-03-20", "on_track"),
    (3, 1, 2, "2027-02-20", "not_started"),  # overdue
    (4, 1, 1, "2027-01-10", "not_started"),  # overdue
    (6, 1, 1, "2026-08-01", "done"),  # an ended pairing: not counted
]

# (pairing, due_at, answers) of calibration items.
CALIBRATIONS = [
    (1, at("2026-09-10", 9), {"mentor": "no"}),  # Lee–Ana's first cycle: past
    (1, at("2026-12-09", 9), {"mentee": "yes", "mentor": "yes"}),
    (2, at("2026-10-21", 9), {}),
    (3, at("2026-11-30", 9), {"mentee": "no"}),
]

# (pairing, respondent, answers) of answered mentor-readiness surveys.
READINESS = [
    (1, 11, {"coaching": 4, "availability": 5, "domain_credibility": 3}),
    (1, 11, {"coaching": 5, "availability": 4, "domain_credibility": 4}),
    (1, 11, {"coaching": 3, "availability": 3, "domain_credibility": 5}),
    (2, 12, {"coaching": 4, "availability": 2, "domain_credibility": 4}),
    (3, 13, {"coaching": 2, "availability": 2, "domain_credibility": 2}),
    (6, 19, {"coaching": 5, "availability": 5, "domain_credibility": 5}),
]


#: Columns that hold a person's or a pairing's id: shifted in a copy of the world.
ID_COLUMNS = ("id", "person_id", "mentee_id", "mentor_id", "pairing_id", "respondent_id")
#: Columns that name someone or must stay unique: marked in a copy of the world.
MARKED_COLUMNS = ("email", "name", "key")


def _copied(row: dict[str, Any], *, program_id: str, offset: int, mark: str) -> dict[str, Any]:
    """A row of the world as it reads in its copy in another program."""
    copy = dict(row)
    for column in ID_COLUMNS:
        if copy.get(column) is not None:
            copy[column] += offset
    for column in MARKED_COLUMNS:
        if copy.get(column) is not None:
            copy[column] = f"{mark}{copy[column]}"
    if "program" in copy:
        copy["program"] = program_id
    return copy


async def seed(
    database: Database, *, program_id: str = PROGRAM_ID, offset: int = 0, mark: str = ""
) -> None:
    """Insert the known program; or, with another program id, a copy of it in that program.

    The copy's ids are ``offset`` higher and its names, emails and keys begin with
    ``mark``, so a report on one program that shows anything of the other can be caught.
    The program lead is inserted with the first program only.
    """
    created = at("2026-01-01")
    people = [
        {
            "id": person_id,
            "email": f"{name.split()[0].lower()}@example.com",
            "name": name,
            "attributes": {},
            "created_at": created,
            "updated_at": created,
        }
        for person_id, name, *_ in MENTORS + MENTEES
    ]
    people.append({**people[0], "id": LEAD_ID, "email": LEAD, "name": "Priya Shah"})
    enrollments = [
        {
            "person_id": person_id,
            "program": PROGRAM_ID,
            "role": "mentor",
            "status": status,
            "answers": {},
            "capacity": capacity,
            "enrolled_at": at("2026-05-01"),
            "updated_at": at("2026-05-01"),
            "waiting_since": None,
        }
        for person_id, _, status, capacity in MENTORS
    ] + [
        {
            "person_id": person_id,
            "program": PROGRAM_ID,
            "role": "mentee",
            "status": status,
            "answers": {},
            "capacity": None,
            "enrolled_at": enrolled,
            "updated_at": enrolled,
            "waiting_since": waiting,
        }
        for person_id, _, status, enrolled, waiting in MENTEES
    ]
    sessions = [
        {
            "pairing_id": pairing_id,
            "held_on": date.fromisoformat(day),
            "minutes": 45,
            "format": "One-on-one",
            "topics": ["coaching"],
            # Private to the pair: no report may show any of it.
            "notes": f"{SECRET} note of pairing {pairing_id}",
            "summary": {"text": f"{SECRET} summary"},
            "created_at": at(day),
        }
        for pairing_id, days in SESSIONS.items()
        for day in days
    ]
    plans = [
        {
            "pairing_id": pairing_id,
            "cycle": cycle,
            "position": position,
            "objective": f"{SECRET} objective {position}",
            "target_date": date.fromisoformat(target),
            "status": status,
            "created_at": created,
            "updated_at": created,
        }
        for pairing_id, cycle, position, target, status in MILESTONES
    ]
    due = [
        {
            "pairing_id": pairing_id,
            "program": PROGRAM_ID,
            "kind": "calibration",
            "due_at": due_at,
            "status": "done",
            "outcome": "sent",
            "answers": answers,
            "created_at": created,
        }
        for pairing_id, due_at, answers in CALIBRATIONS
    ]
    feedback = [
        {
            "key": f"mentor_readiness:{pairing_id}:{n}",
            "pairing_id": pairing_id,
            "program": PROGRAM_ID,
            "survey": "mentor_readiness",
            "respondent_id": respondent,
            "role": "mentee",
            "status": "answered",
            "answers": answers,
            "asked_at": at("2026-12-01"),
            "answered_at": at("2026-12-02"),
        }
        for n, (pairing_id, respondent, answers) in enumerate(READINESS)
    ] + [
        # Asked, not answered: not an answer.
        {
            "key": "mentor_readiness:2:asked",
            "pairing_id": 2,
            "program": PROGRAM_ID,
            "survey": "mentor_readiness",
            "respondent_id": 12,
            "role": "mentee",
            "status": "asked",
            "answers": None,
            "asked_at": at("2027-03-01"),
            "answered_at": None,
        },
        # Another survey's rating: not readiness, and never shown.
        {
            "key": "pulse:1:1",
            "pairing_id": 1,
            "program": PROGRAM_ID,
            "survey": "pulse",
            "respondent_id": 1,
            "role": "mentor",
            "status": "answered",
            "answers": {"usefulness": 1, "comment": f"{SECRET} comment"},
            "asked_at": at("2027-03-04"),
            "answered_at": at("2027-03-04"),
        },
    ]
    if program_id != PROGRAM_ID:
        people = [person for person in people if person["id"] != LEAD_ID]
    async with database.session() as session:
        conn = await session.connection()
        for model, rows in (
            (Person, people),
            (Enrollment, enrollments),
            (Pairing, PAIRINGS),
            (SessionLog, sessions),
            (Milestone, plans),
            (DueItem, due),
            (Feedback, feedback),
        ):
            copies = [_copied(row, program_id=program_id, offset=offset, mark=mark) for row in rows]
            await conn.execute(model.__table__.insert(), copies)  # type: ignore[attr-defined]


async def build(database: Database, builder: Any, program: Program) -> Report:
    await seed(database)
    async with database.session() as session:
        report: Report = await builder(session, program, now=NOW)
    return report


def figures(report: Report) -> dict[str, str]:
    return dict(report.figures)
