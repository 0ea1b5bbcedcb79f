"""``report circles``, and the circle figures of the other reports for a circles program
(tests/handlers/reports/circles_world.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from handlers import build_engine
from handlers.core.errors import NotALead
from handlers.core.figures import Report, as_csv, as_json, as_text
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.at_risk import at_risk
from handlers.reports.cadence import cadence
from handlers.reports.catalogue import CATALOGUE, run_report
from handlers.reports.circles import circles_report
from handlers.reports.feedback import feedback_report
from handlers.reports.mentors import mentors
from handlers.reports.overview import overview
from handlers.reports.programs import COLUMNS, programs_report
from storage import AuditEntry, Database
from storage.tables import ENROLLMENT
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
from tests.helpers import Chat, FakeClock, make_person, rows


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


async def test_report_mentors_counts_the_circles_each_facilitator_leads_against_capacity(
    database: Database, circles: Program
) -> None:
    await seed(database)
    async with database.session() as session:
        # Facilitator 1 leads up to two circles at once (their capacity answer).
        await (await session.connection()).execute(
            sa.update(ENROLLMENT)
            .where(ENROLLMENT.c.person_id == 1, ENROLLMENT.c.program == PROGRAM_ID)
            .values(capacity=2)
        )
    async with database.session() as session:
        report = await mentors(session, circles, now=NOW)
    assert figures(report) == {
        "Facilitators (not left)": "6",  # 1 to 6; 7 is in the other program
        "Available": "6",
        "Paused": "0",
        "Circles they can lead (capacity)": "7",  # 2 + 1 + 1 + 1 + 1 + 1
        "Circles led (active and forming)": "4",  # circles 1, 2, 3 active; 5 forming
        "Load": "57% of capacity",
        "Free places (available facilitators)": "3",  # 1 has one; 4 and 6 lead none
        "Available facilitators with no free place": "3",  # 2, 3, 5
        "Facilitators leading no circle": "fewer than 3",  # 4 (ended), 6 (dissolved)
    }
    assert report.title == "Facilitators: load"
    [facilitators] = report.tables
    assert facilitators.columns == (
        "facilitator",
        "email",
        "status",
        "capacity (circles)",
        "active circles",
        "forming circles",
        "free places",
        "last session",
    )
    assert [row[3:] for row in facilitators.rows] == [
        (2, 1, 0, 1, "2027-03-08"),
        (1, 1, 0, 0, "2027-01-20"),
        (1, 1, 0, 0, "2027-03-01"),
        (1, 0, 0, 1, "2026-09-15"),
        (1, 0, 1, 0, None),
        (1, 0, 0, 1, None),
    ]
    assert [row[1] for row in facilitators.rows] == [f"person{n}@example.com" for n in range(1, 7)]
    # No pairing is counted: the program has none.
    assert "Places taken (active pairs and proposals)" not in figures(report)


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


# -- the other reports, for a circles program ------------------------------------------------


async def test_overview_of_a_circles_program_counts_circles_not_pairs(
    database: Database, circles: Program
) -> None:
    report = await build(database, overview, circles)
    assert figures(report) == {
        "Members (not left)": "20",  # 11 to 30
        "Facilitators (not left)": "6",  # 1 to 6; 7 is in another program
        "Circles active": "3",
        "Circles proposed, waiting for answers": "1",  # 5
        "Circles ended": "1",  # 4
        "Members in active circles": "10",  # 3 + 3 (17 left) + 4
        "Facilitators of active circles": "3",
        # 17, 28, 29, 30; 25 to 27 are waiting, but invited to circle 5.
        "Waitlist": "4",
        # Since 10 Jan, 1 Feb, 20 Feb, 5 Mar: the middle two meet on 10 Feb at noon.
        "Median wait on the waitlist": "28 days",
    }
    assert report.tables[0].rows == (
        ("mentee", "waiting", 7),
        ("mentee", "matched", 13),
        ("mentor", "available", 6),
    )


async def test_cadence_of_a_circles_program_is_sessions_per_circle(
    database: Database, circles: Program
) -> None:
    report = await build(database, cadence, circles)
    assert figures(report) == {
        "Active circles": "3",
        # Circle 1 met on 8 March, circle 3 on 1 March; circle 2 last on 20 January.
        "With a session in the last 14 days": "67% of 3 circles",
        "Sessions per circle per month (last 3 full months)": "1.1",  # 9 over 2 + 3 + 3
    }
    [monthly] = report.tables
    assert monthly.rows == (
        ("Sep 2026", 1, 1, 1.0),  # circle 4
        ("Oct 2026", 0, 1, 0.0),
        ("Nov 2026", 1, 2, 0.5),  # circle 4 ended on the 20th; circle 1 began on the 2nd
        ("Dec 2026", 2, 2, 1.0),
        ("Jan 2027", 3, 3, 1.0),
        ("Feb 2027", 4, 3, 1.3),
    )
    assert report.chart is not None


async def test_at_risk_lists_silent_and_poorly_attended_circles_by_number(
    database: Database, circles: Program
) -> None:
    report = await build(database, at_risk, circles)
    assert figures(report) == {
        "Circles needing attention": "2",
        "No session for 28 days or more": "1",
        "Fewer than half came to the last 3 sessions": "1",
    }
    [flagged] = report.tables
    assert flagged.rows == (
        (
            "2",
            3,
            "2027-01-20",
            "no session for 49 days",
            "Ask the facilitator whether the circle needs help finding a time",
        ),
        (
            "3",
            4,
            "2027-03-01",
            "fewer than half came to its last 3 sessions",
            "Ask the facilitator whether the time and the format still suit",
        ),
    )
    assert SECRET not in as_text(report)


async def test_feedback_of_a_circles_program_counts_different_people(
    database: Database, circles: Program
) -> None:
    report = await build(database, feedback_report, circles)
    assert figures(report) == {
        "Surveys answered": "9 of 10 asked",
        "Response rate": "90.0%",
        "Average answer to “How useful was the session?”": "3.22 (of 5)",
    }
    assert table(report, "Average rating per question") == (("pulse", "usefulness", 8, 3.22),)
    assert table(report, "Pulse by month") == (("Feb 2027", 8, 3.22),)
    assert table(report, "Pulse by circle size") == ((3, 5, 3.83), (4, 3, 2.0))
    assert table(report, "Responses per survey") == (("pulse", 10, 9, 90.0),)
    four = circles.model_copy(update={"min_group_size": 4})
    async with database.session() as session:
        hidden = await feedback_report(session, four, now=NOW)
    assert table(hidden, "Pulse by circle size") == (
        (3, 5, "withheld"),
        (4, "fewer than 4", "fewer than 4 answered"),
    )
    assert SECRET not in as_json(hidden)


async def test_report_programs_counts_a_circles_programs_circles(
    database: Database, circle_programs: Programs
) -> None:
    await seed(database)
    async with database.session() as session:
        report = await programs_report(session, list(circle_programs), now=NOW)
    rows = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in report.tables[0].rows}
    assert rows[PROGRAM_ID] == {
        "program": PROGRAM_ID,
        "type": "circles",
        "mentees": 20,
        "mentors": 6,
        "peers": None,
        "active pairs": "3 circles",
        "waitlist": 4,
        "median wait (days)": 28.0,
        "sessions per pair per month": "1.1 per circle",
        "at-risk share": "67%",  # circles 2 and 3 of 3
        "calibration fit": None,
    }
    # The one-to-one program beside it has no circle of the circles program's.
    assert rows["leadership-2027"]["active pairs"] == 0
    assert rows["leadership-2027"]["mentees"] == 0


async def test_a_pairs_programs_reports_count_no_circle(
    database: Database, circle_programs: Programs
) -> None:
    pairs = circle_programs.get("leadership-2027")
    assert pairs is not None
    overview_of_pairs = await build(database, overview, pairs)
    assert figures(overview_of_pairs)["Active pairs"] == "0"
    assert "Circles active" not in figures(overview_of_pairs)
    async with database.session() as session:
        at_risk_of_pairs = await at_risk(session, pairs, now=NOW)
    assert at_risk_of_pairs.title == "Pairs at risk"
    assert figures(at_risk_of_pairs)["Pairs needing attention"] == "0"


async def test_a_lead_types_report_circles_in_chat(
    database: Database, circle_programs: Programs
) -> None:
    await seed(database)
    lead = await make_person(database, LEAD)
    engine = build_engine(programs=circle_programs, database=database, clock=FakeClock(NOW))
    chat = Chat(engine, lead)
    reply = await chat.expect(
        f"report circles {PROGRAM_ID}",
        "Mentor circles by size",
        "Circles by size (members)",
        "Attendance and pulse by size",
        "3.22 (of 5)",
    )
    assert SECRET not in reply
    await chat.expect("report", "circles")


async def test_an_empty_circles_program_shows_none_as_zero(
    database: Database, circles: Program
) -> None:
    async with database.session() as session:
        report = await circles_report(session, circles, now=NOW)
    assert figures(report) == {
        "Circles active": "0",
        "Circles ended": "0",
        "Sessions held": "0",
        "Sessions per circle per month (last 3 full months)": "–",
        "Attendance": "–",
        "Members who left a circle": "0",
        "Pulse: “How useful was the session?”": "no answers yet",
    }
    assert table(report, "Circles by size (members)") == tuple(
        (size, 0, 0, 0, None) for size in (3, 4, 5)
    )
    assert table(report, "Active circles") == ()
