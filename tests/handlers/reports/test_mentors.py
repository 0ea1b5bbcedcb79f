"""``report mentors``: load against capacity, inactivity and readiness averages (on the
program in tests/handlers/reports/pairs_world.py)."""

from __future__ import annotations

from handlers.core.program import Program
from handlers.reports.mentors import mentors
from storage import Database
from tests.handlers.reports.pairs_world import build, figures


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
    three = program.model_copy(update={"min_group_size": 3})
    report = await build(database, mentors, three)
    ana = report.tables[0].rows[0]
    assert ana[0] == "Ana Lima" and ana[8] == 4
    assert ana[9:] == ("fewer than 3 mentees answered",) * 3
    assert figures(report)["Readiness: coaching (average)"] == "3.8 from 6 answers"
