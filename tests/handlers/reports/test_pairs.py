"""The pair reports (overview, cadence, at-risk, milestones, mentors) on a known program.

The program is inserted row by row with known dates, so every figure can be worked out by
hand; the working is in the comments beside each expectation. ``NOW`` is Wednesday 10
March 2027, 12:00 UTC (London is on GMT then, so "today" is 10 March).

Most tests use the program with ``min_group_size`` 2, so small groups show as numbers;
the threshold tests use the shipped 5.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from handlers import build_engine
from handlers.core.figures import Report, as_csv, as_json, as_text
from handlers.core.program import Program
from handlers.reports.at_risk import KIND as AT_RISK
from handlers.reports.at_risk import at_risk
from handlers.reports.cadence import KIND as CADENCE
from handlers.reports.cadence import cadence
from handlers.reports.catalogue import CATALOGUE
from handlers.reports.mentors import KIND as MENTORS
from handlers.reports.mentors import mentors
from handlers.reports.milestones import KIND as MILESTONES
from handlers.reports.milestones import milestones
from handlers.reports.overview import KIND as OVERVIEW
from handlers.reports.overview import overview
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
from tests.helpers import Chat, FakeClock

#: The reports about pairs, in the order the catalogue lists them.
KINDS = [OVERVIEW, CADENCE, AT_RISK, MILESTONES, MENTORS]

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


async def seed(database: Database) -> None:
    """Insert the known program."""
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
            "survey": "pulse",
            "respondent_id": 1,
            "role": "mentor",
            "status": "answered",
            "answers": {"usefulness": 1, "comment": f"{SECRET} comment"},
            "asked_at": at("2027-03-04"),
            "answered_at": at("2027-03-04"),
        },
    ]
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
            await conn.execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]


@pytest.fixture
def pairs_of_two(program: Program) -> Program:
    """The shipped program with groups of two shown as numbers."""
    info = program.info.model_copy(update={"min_group_size": 2})
    return program.model_copy(update={"info": info})


async def build(database: Database, builder: Any, program: Program) -> Report:
    await seed(database)
    async with database.session() as session:
        report: Report = await builder(session, program, now=NOW)
    return report


def figures(report: Report) -> dict[str, str]:
    return dict(report.figures)


# --- overview ------------------------------------------------------------------------------


async def test_overview_counts_participants_pairs_and_the_waitlist(
    database: Database, pairs_of_two: Program
) -> None:
    report = await build(database, overview, pairs_of_two)
    assert figures(report) == {
        "Mentees (not left)": "14",  # 15 mentees, Uma left
        "Mentors (not left)": "4",  # Eve left
        "Active pairs": "6",  # pairings 1, 2, 3, 4, 11, 12
        "Proposals waiting for an answer": "3",  # 5 proposed; 7 and 13 accepted
        # Quinn, Ravi, Sara, Wes (Pia, Vera and Zed have an open proposal).
        "Waitlist": "4",
        # Waits of 10, 20, 31 and 40 days: the middle two average 25.5.
        "Median wait on the waitlist": "25.5 days",
        # Tom 4, Omar 5, Lee 10, Xan 11, Noa 15 (pairing 8), Mia 20, Yara 30; Sara's only
        # pairing was before she re-joined.
        "Median time from enrollment to first match": "11 days",
        # Ana 2 of 2 taken, Ben 3 of 4, Dev 3 of 3; Cara is paused.
        "Free mentor places": "1",
    }
    [table] = report.tables
    assert table.columns == ("role", "status", "people")
    assert table.rows == (
        ("mentee", "waiting", 7),
        ("mentee", "matched", 6),
        ("mentee", "completed", "fewer than 2"),
        ("mentee", "left", "fewer than 2"),
        ("mentor", "available", 3),
        ("mentor", "paused", "fewer than 2"),
        ("mentor", "left", "fewer than 2"),
    )
    assert report.chart is None


async def test_overview_hides_small_groups_and_medians_of_few(
    database: Database, program: Program
) -> None:
    report = await build(database, overview, program)
    assert figures(report) == {
        "Mentees (not left)": "14",
        "Mentors (not left)": "fewer than 5",
        "Active pairs": "6",
        "Proposals waiting for an answer": "fewer than 5",
        "Waitlist": "fewer than 5",
        "Median wait on the waitlist": "fewer than 5 waiting",
        "Median time from enrollment to first match": "11 days",
        "Free mentor places": "1",
    }
    assert report.tables[0].rows[:3] == (
        ("mentee", "waiting", 7),
        ("mentee", "matched", 6),
        ("mentee", "completed", "fewer than 5"),
    )


async def test_overview_of_an_empty_program_shows_none_as_zero(
    database: Database, program: Program
) -> None:
    async with database.session() as session:
        report = await overview(session, program, now=NOW)
    assert figures(report) == {
        "Mentees (not left)": "0",
        "Mentors (not left)": "0",
        "Active pairs": "0",
        "Proposals waiting for an answer": "0",
        "Waitlist": "0",
        "Median wait on the waitlist": "nobody waiting",
        "Median time from enrollment to first match": "nobody matched yet",
        "Free mentor places": "0",
    }


async def test_overview_as_csv_carries_its_headline_figures(
    database: Database, program: Program
) -> None:
    report = await build(database, overview, program)
    parsed = list(csv.reader(io.StringIO(as_csv(report))))
    assert parsed[:4] == [
        ["figure", "value"],
        ["Mentees (not left)", "14"],
        ["Mentors (not left)", "fewer than 5"],
        ["Active pairs", "6"],
    ]
    assert ["Median time from enrollment to first match", "11 days"] in parsed
    assert ["role", "status", "people"] in parsed
    assert ["mentee", "waiting", "7"] in parsed


# --- cadence -------------------------------------------------------------------------------


async def test_cadence_shares_rates_and_distribution(
    database: Database, pairs_of_two: Program
) -> None:
    report = await build(database, cadence, pairs_of_two)
    assert figures(report) == {
        "Active pairs": "6",
        "Paused (either side; not counted below)": "fewer than 2",  # Omar–Cara
        # Of 1, 2, 3, 11, 12: Lee–Ana (4 March) and Noa–Ben (1 March) met since 24
        # February; Xan–Ben became active a week ago.
        "On cadence": "60% of 5 pairs",
        # December to February: 4 + 3 + 3 sessions over 5 + 4 + 5 active pairs.
        "Sessions per pair per month (last 3 full months)": "0.7",
    }
    monthly, spread = report.tables
    assert monthly.columns == ("month", "sessions", "active pairs", "sessions per pair")
    assert monthly.rows == (
        ("Sep 2026", 2, 3, 0.67),  # pairs 1, 2, 6
        ("Oct 2026", 4, 5, 0.8),  # 1, 2, 3 (active from 31 Oct), 6, 8
        ("Nov 2026", 6, 5, 1.2),  # 1, 2, 3, 4, 6
        ("Dec 2026", 4, 5, 0.8),  # 6 closed on 1 December
        ("Jan 2027", 3, 4, 0.75),
        ("Feb 2027", 3, 5, 0.6),  # 12 active from 3 February
    )
    # Sessions after 10 December: Lee–Ana 4, Mia–Ana 2, Noa–Ben 3 (10 December itself is
    # 90 days ago, outside), Xan–Ben and Yara–Dev none.
    assert spread.rows == (
        ("0", 2, "40%"),
        # None is not a small group: 0 shows as 0, and its share as 0%.
        ("1", 0, "0%"),
        ("2", "fewer than 2", None),
        ("3", "fewer than 2", None),
        ("4", "fewer than 2", None),
        ("5", 0, "0%"),
        ("6 or more", 0, "0%"),
    )
    assert report.chart is not None
    assert report.chart.kind == "line"
    assert report.chart.labels == (
        "Sep 2026",
        "Oct 2026",
        "Nov 2026",
        "Dec 2026",
        "Jan 2027",
        "Feb 2027",
    )
    assert report.chart.series == (("sessions per pair", (0.67, 0.8, 1.2, 0.8, 0.75, 0.6)),)
    assert any("held a session in the last 14 days" in note for note in report.notes)


async def test_cadence_hides_shares_of_small_groups(database: Database, program: Program) -> None:
    report = await build(database, cadence, program)
    assert figures(report)["On cadence"] == "fewer than 5 of 5 pairs"
    assert report.tables[0].rows[0] == ("Sep 2026", 2, "fewer than 5", 0.67)
    assert report.tables[1].rows[0] == ("0", "fewer than 5", None)


# --- at-risk -------------------------------------------------------------------------------


async def test_at_risk_lists_each_pair_with_reasons_and_actions(
    database: Database, pairs_of_two: Program
) -> None:
    report = await build(database, at_risk, pairs_of_two)
    assert figures(report) == {
        "Pairs needing attention": "5",
        "Missed 2 or more check-ins in a row": "fewer than 2",
        "No session for 30 days or more": "2",
        "Said at calibration it isn't working": "fewer than 2",
        "Proposals unanswered near or past expiry": "2",
    }
    [table] = report.tables
    # The pair first (what each row is about), its id last.
    assert table.columns == (
        "mentee",
        "mentor",
        "status",
        "last session",
        "reasons",
        "suggested actions",
        "pairing",
    )
    assert table.rows == (
        (
            "Mia Chen",
            "Ana Lima",
            "active",
            "2027-01-20",
            "2 check-ins in a row missed; no session for 49 days",
            "Ask Ana whether they need help finding time; suggest a re-match if it isn't "
            "working; Ask both how it's going before closing is proposed at 60 days",
            "2",
        ),
        (
            "Noa Levi",
            "Ben Okafor",
            "active",
            "2027-03-01",
            "calibration: the mentee said it isn't working",
            "Talk to them both; offer a re-match",
            "3",
        ),
        (
            "Pia Berg",
            "Dev Rao",
            "proposed",
            None,
            "proposal unanswered by the mentor; it lapses on 2027-03-11",
            "Remind Dev to accept or decline",
            "5",
        ),
        (
            "Yara Kim",
            "Dev Rao",
            "active",
            None,
            "no session since pairing, 35 days ago",
            "Ask both how it's going before closing is proposed at 60 days",
            "12",
        ),
        (
            "Zed Fox",
            "Ben Okafor",
            "accepted",
            None,
            "proposal unanswered by the mentee; it lapsed on 2027-03-09",
            "It lapses at the bot's next run: ask Zed whether they still want to take part",
            "13",
        ),
    )


async def test_at_risk_suggests_a_close_after_the_auto_close_days(
    database: Database, pairs_of_two: Program
) -> None:
    quick = pairs_of_two.model_copy(
        update={"cadence": pairs_of_two.cadence.model_copy(update={"auto_close_after_days": 40})}
    )
    report = await build(database, at_risk, quick)
    # Silent after 20 days now: Mia–Ana (49 days) is past the 40 at which closing was
    # proposed; Omar–Cara stays out (Cara is paused).
    rows = {row[-1]: row for row in report.tables[0].rows}
    assert rows["2"][4] == "2 check-ins in a row missed; no session for 49 days"
    assert str(rows["2"][5]).endswith(
        "Past the 40 days after which closing is proposed: ask both whether to keep going or close"
    )
    assert "4" not in rows
    assert figures(report)["No session for 20 days or more"] == "2"


# --- milestones ----------------------------------------------------------------------------


async def test_milestones_progress_across_active_pairs(
    database: Database, pairs_of_two: Program
) -> None:
    report = await build(database, milestones, pairs_of_two)
    assert figures(report) == {
        "Active pairs": "6",
        "With a plan this cycle": "4 (67%)",  # 1, 2, 3, 4; not 11, 12
        "Plan confirmed by the mentor": "3",  # 1, 2, 4
        # Current cycles only: Lee–Ana's cycle 2 (3), Mia–Ana 2, Noa–Ben 2, Omar–Cara 1.
        "Milestones in current plans": "8",
        "Done": "3 (38%)",
        "On track": "2 (25%)",
        "Not started": "3 (38%)",
        "Overdue (target date passed, not done)": "3 (38%)",
    }
    by_position, by_progress = report.tables
    assert by_position.columns == (
        "milestone",
        "pairs with one",
        "done",
        "on track",
        "not started",
        "overdue",
        "done %",
    )
    assert by_position.rows == (
        ("milestone 1", 4, 2, "fewer than 2", "fewer than 2", "fewer than 2", "50%"),
        (
            "milestone 2",
            3,
            "fewer than 2",
            "fewer than 2",
            "fewer than 2",
            2,
            None,
        ),
        ("milestone 3", "fewer than 2", 0, 0, "fewer than 2", 0, "0%"),
    )
    assert by_progress.rows == (
        ("no plan yet", 2, "33%"),
        ("none done yet", 2, "33%"),  # 3 and 4
        ("some done", "fewer than 2", None),  # 1
        ("all done", "fewer than 2", None),  # 2
    )


# --- mentors -------------------------------------------------------------------------------


async def test_mentors_load_inactivity_and_readiness(
    database: Database, pairs_of_two: Program
) -> None:
    report = await build(database, mentors, pairs_of_two)
    assert figures(report) == {
        "Mentors (not left)": "4",
        "Available": "3",
        "Paused": "fewer than 2",
        "Places (capacity)": "12",
        "Places taken (active pairs and proposals)": "9",  # Ana 2, Ben 3, Cara 1, Dev 3
        "Load": "75% of capacity",
        "Free places (available mentors)": "1",
        "Available mentors with no free place": "2",  # Ana, Dev
        "Mentors with no mentee or proposal": "0",
        "Inactive mentors (no session for 30 days)": "fewer than 2",  # Dev
        # All six answers, Eve's mentee's included.
        "Readiness: coaching (average)": "3.8 from 6 answers",
        "Readiness: availability (average)": "3.5 from 6 answers",
        "Readiness: domain credibility (average)": "3.8 from 6 answers",
    }
    table, inactive = report.tables
    assert table.columns == (
        "mentor",
        "email",
        "status",
        "capacity",
        "active mentees",
        "proposals",
        "free places",
        "last session",
        "readiness answers",
        "coaching",
        "availability",
        "domain credibility",
    )
    few = "fewer than 2 mentees answered"
    assert table.rows == (
        # Four answers: coaching (4+5+3+4)/4, availability (5+4+3+2)/4, domain (3+4+5+4)/4.
        ("Ana Lima", "ana@example.com", "available", 2, 2, 0, 0, "2027-03-04", 4, 4.0, 3.5, 4.0),
        (
            "Ben Okafor",
            "ben@example.com",
            "available",
            4,
            2,
            1,
            1,
            "2027-03-01",
            "fewer than 2",
            few,
            few,
            few,
        ),
        (
            "Cara Diaz",
            "cara@example.com",
            "paused",
            3,
            1,
            0,
            2,
            "2026-12-20",
            # No answers is none, not a small group.
            0,
            "no mentee answered",
            "no mentee answered",
            "no mentee answered",
        ),
        (
            "Dev Rao",
            "dev@example.com",
            "available",
            3,
            1,
            2,
            0,
            None,
            0,
            "no mentee answered",
            "no mentee answered",
            "no mentee answered",
        ),
    )
    # Dev's pairing with Yara has been active 35 days without a session; Cara (80 days
    # since a session) is paused, so not listed.
    assert inactive.rows == (("Dev Rao", "dev@example.com", 1, None),)


async def test_mentors_readiness_needs_enough_answers(database: Database, program: Program) -> None:
    report = await build(database, mentors, program)
    ana = report.tables[0].rows[0]
    assert ana[:2] == ("Ana Lima", "ana@example.com")
    assert ana[8:] == (
        "fewer than 5",
        "fewer than 5 mentees answered",
        "fewer than 5 mentees answered",
        "fewer than 5 mentees answered",
    )
    # Six answers across the program come from four mentees: not enough either.
    assert figures(report)["Readiness: coaching (average)"] == "fewer than 5 mentees answered"
    assert figures(report)["Available mentors with no free place"] == "fewer than 5"


async def test_one_mentee_answering_often_cannot_make_up_an_average(
    database: Database, program: Program
) -> None:
    # Ana's four answers come from two mentees (three from one of them): with a threshold
    # of three the answers would be enough, the mentees are not.
    three = program.model_copy(
        update={"info": program.info.model_copy(update={"min_group_size": 3})}
    )
    report = await build(database, mentors, three)
    ana = report.tables[0].rows[0]
    assert ana[0] == "Ana Lima" and ana[8] == 4
    assert ana[9:] == ("fewer than 3 mentees answered",) * 3
    assert figures(report)["Readiness: coaching (average)"] == "3.8 from 6 answers"


# --- every kind ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [kind.name for kind in KINDS])
async def test_a_report_on_an_empty_program_shows_nothing_to_count(
    database: Database, program: Program, kind: str
) -> None:
    async with database.session() as session:
        report = await CATALOGUE.kinds[kind].build(session, program, now=NOW)
    assert report.kind == kind
    assert report.tables
    json.loads(as_json(report))
    lines = as_csv(report).splitlines()
    # The headline figures lead the CSV; the first table follows after a blank row.
    assert lines[0] == "figure,value"
    assert lines[len(report.figures) + 2] == ",".join(report.tables[0].columns)


async def test_a_lead_asks_for_a_report_in_chat(database: Database, program: Program) -> None:
    await seed(database)
    async with database.session() as session:
        lead = await session.get(Person, LEAD_ID)
    assert lead is not None
    engine = build_engine(program=program, database=database, clock=FakeClock(NOW))
    reply = await Chat(engine, lead).send("report at-risk")
    assert "Pairs needing attention" in reply
    assert "Mia Chen" in reply and "2 check-ins in a row missed; no session for 49 days" in reply
    assert SECRET not in reply


def test_every_kind_is_in_the_catalogue() -> None:
    names = [kind.name for kind in KINDS]
    assert names == ["overview", "cadence", "at-risk", "milestones", "mentors"]
    assert all(CATALOGUE.kinds[name] is kind for name, kind in zip(names, KINDS, strict=True))
    assert CATALOGUE.names()[: len(names)] == names


@pytest.mark.parametrize("kind", [kind.name for kind in KINDS])
async def test_csv_and_json_parse_back_and_hold_no_private_text(
    database: Database, pairs_of_two: Program, kind: str
) -> None:
    found = CATALOGUE.kinds[kind]
    report = await build(database, found.build, pairs_of_two)
    assert report.kind == kind
    parsed = list(csv.reader(io.StringIO(as_csv(report))))
    first = report.tables[0]
    count = len(report.figures)
    assert parsed[: count + 2] == [["figure", "value"], *map(list, report.figures), []]
    assert parsed[count + 2] == list(first.columns)
    assert parsed[count + 3 :] == [["" if c is None else str(c) for c in row] for row in first.rows]
    data = json.loads(as_json(report))
    assert data["kind"] == kind
    assert data["figures"] == dict(report.figures)
    assert [t["title"] for t in data["tables"]] == [t.title for t in report.tables]
    assert data["tables"][0]["rows"] == [
        dict(zip(first.columns, row, strict=True)) for row in first.rows
    ]
    # Notes, summaries, objectives and survey comments never reach a report.
    for rendered in (as_text(report), as_csv(report), as_json(report)):
        assert SECRET not in rendered
