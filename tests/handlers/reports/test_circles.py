"""``report circles``, and the circle figures of the other reports for a circles program
(tests/handlers/reports/circles_world.py)."""

from __future__ import annotations

import pytest

from handlers.core.errors import NotALead
from handlers.core.figures import Report, as_csv, as_json, as_text
from handlers.core.program import Program, Programs
from handlers.reports.catalogue import CATALOGUE, run_report
from handlers.reports.circles import circles_report
from storage import AuditEntry, Database
from tests.handlers.reports.circles_world import (
    GLOBAL,
    LEAD,
    NOW,
    PROGRAM_ID,
    SECRET,
    build,
    figures,
    seed,
)
from tests.helpers import rows


@pytest.fixture
def circles(circle_programs: Programs) -> Program:
    """leader-circles: sizes 3 to 5, ``min_group_size`` 3."""
    return circle_programs.get(PROGRAM_ID) or pytest.fail("no leader-circles")


def table(report: Report, title: str) -> tuple[tuple[object, ...], ...]:
    [found] = [t for t in report.tables if t.title == title]
    return found.rows


async def test_report_circles_reads_each_size_sessions_attendance_and_pulse(
    database: Database, circles: Program
) -> None:
    report = await build(database, circles_report, circles)
    assert figures(report) == {
        "Circles active": "3",  # circles 1, 2, 3; 5 is proposed, 6 dissolved
        "Circles ended": "1",  # circle 4
        "Sessions held": "15",  # 5 + 2 + 5 + 3
        # December to February: 3 + 2 + 4 + 0 sessions over 3 + 3 + 2 + 0 circle-months.
        "Sessions per circle per month (last 3 full months)": "1.1",
        "Attendance": "71%",  # 37 of 52 attendance rows
        "Members who left a circle": "fewer than 3",  # 17
        # 8 different people, 9 answers adding up to 29.
        "Pulse: “How useful was the session?”": "3.22 (of 5)",
    }
    assert table(report, "Circles by size (members)") == (
        # Circles 1 and 4: 8 sessions; 3 in the last three months, over 3 circle-months.
        (3, 2, 0, 8, 1.0),
        # Circles 2 and 3: 7 sessions; 6 recent over 3 + 2 circle-months.
        (4, 2, "fewer than 3", 7, 1.2),
        (5, 0, 0, 0, None),
    )
    assert table(report, "Attendance and pulse by size") == (
        # 20 of 24 rows; 11, 12, 13, 22, 23 answered: (4 + 4 + 5 + 5 + 3 + 2) / 6.
        (3, "83%", 5, 3.83),
        # 17 of 28 rows; 14, 15, 18 answered: (2 + 3 + 1) / 3.
        (4, "61%", 3, 2.0),
        (5, None, 0, None),
    )
    assert table(report, "Active circles") == (
        # 14 of 15 attended; 11, 12 and 13 answered.
        ("1", 3, 5, "2027-03-08", "93%", 4.5),
        # 6 of 8; two answered: too few to show.
        ("2", 3, 2, "2027-01-20", "75%", "fewer than 3 answered"),
        ("3", 4, 5, "2027-03-01", "55%", "fewer than 3 answered"),
    )


async def test_a_pulse_is_shown_at_min_group_size_answerers_and_suppressed_below(
    database: Database, circles: Program
) -> None:
    four = circles.model_copy(update={"min_group_size": 4})
    report = await build(database, circles_report, four)
    assert figures(report)["Pulse: “How useful was the session?”"] == "3.22 (of 5)"  # 8
    assert table(report, "Attendance and pulse by size") == (
        # Five answered size 3, but size 4's three alone would follow from the program's
        # pulse and size 3's: size 3 is withheld with it.
        (3, "83%", 5, "withheld"),
        (4, "61%", "fewer than 4", "fewer than 4 answered"),
        (5, None, 0, None),
    )
    # Circle 1's three answerers are now too few.
    assert [row[-1] for row in table(report, "Active circles")] == ["fewer than 4 answered"] * 3
    nine = circles.model_copy(update={"min_group_size": 9})
    async with database.session() as session:
        report = await circles_report(session, nine, now=NOW)
    assert figures(report)["Pulse: “How useful was the session?”"] == "fewer than 9 answered"


async def test_another_programs_circles_are_not_counted(
    database: Database, circle_programs: Programs
) -> None:
    # Circle 7 is in other-circles, with sessions, attendance and three answers of 5.
    other = circle_programs.get(PROGRAM_ID)
    assert other is not None
    report = await build(database, circles_report, other.model_copy(update={"id": "none"}))
    assert figures(report)["Circles active"] == "0"
    assert figures(report)["Sessions held"] == "0"


async def test_report_circles_names_no_one_and_holds_no_private_text(
    database: Database, circles: Program
) -> None:
    report = await build(database, circles_report, circles)
    for rendering in (as_text(report), as_csv(report), as_json(report)):
        assert SECRET not in rendering
        assert "@example.com" not in rendering


async def test_report_circles_of_a_pairs_program_says_it_has_none(
    database: Database, circle_programs: Programs
) -> None:
    pairs = circle_programs.get("leadership-2027")
    assert pairs is not None
    async with database.session() as session:
        report = await circles_report(session, pairs, now=NOW)
    assert figures(report) == {"Circles": "0"}
    assert "forms pairs, not circles" in report.notes[0]


async def report_as(database: Database, program: Program, actor: str) -> Report:
    """``report circles`` as ``actor`` asks for it; NotALead once the refusal is committed."""
    async with database.session() as session:
        try:
            return await run_report(
                session, program, actor=actor, kind="circles", now=NOW, channel="test"
            )
        except NotALead as refused:
            error = refused  # the audited attempt commits as the session closes
    raise error


async def test_a_lead_of_another_program_is_refused_and_audited(
    database: Database, circles: Program
) -> None:
    await seed(database)
    # Priya leads leadership-2027, and no longer leader-circles.
    theirs = circles.model_copy(update={"leads": [GLOBAL]})
    with pytest.raises(NotALead):
        await report_as(database, theirs, LEAD)
    report = await report_as(database, theirs, GLOBAL)
    assert figures(report)["Circles active"] == "3"
    audited = await rows(database, AuditEntry)
    assert [(a.actor, a.allowed, a.target, a.detail["program"]) for a in audited] == [
        (LEAD, False, "circles", PROGRAM_ID),
        (GLOBAL, True, "circles", PROGRAM_ID),
    ]


def test_circles_is_in_the_catalogue() -> None:
    assert CATALOGUE.kinds["circles"].build is circles_report
