"""``report equity``: mentees, match rate and days to match by group (on the program in
tests/handlers/reports/people_world.py)."""

from __future__ import annotations

from handlers.core.figures import as_csv, as_json, as_text
from handlers.core.program import Program
from handlers.reports.equity import equity_report
from storage import Database, Enrollment
from tests.handlers.reports.people_world import (
    ENROLLED,
    PROGRAM,
    build_report,
    rows_of,
    seed,
)
from tests.helpers import make_person


async def test_equity_figures_by_every_dimension(database: Database, program: Program) -> None:
    await seed(database)
    report = await build_report(database, program, equity_report)
    assert dict(report.figures) == {
        "Mentees enrolled": "16",
        "Matched": "68.8%",
        # Mentee 1's first match (day 10) counts, not the later one.
        "Mean days to match": "23.6",
        "Mentors enrolled": "6",
    }
    other = ("in other", None, None)
    # A group under 5 has no row (its name would say someone in it enrolled): it is
    # counted only in "other".
    assert rows_of(report, "Mentees by group") == [
        # Legal (2) and HR (1) are too small, and together still under 5: the next
        # smallest, Sales (6), is folded into "other" with them.
        ("department", "Engineering", 7, 85.7, 22.5),
        ("department", "Sales", *other),
        ("department", "other (groups under 5)", 9, 55.6, 25.0),
        # Levels 4, 5 and none (3 + 2 + 3) make an "other" big enough on its own; its 4
        # matched mentees are too few for a rate or a mean, so level 3's are withheld with
        # them (the overall rate would give them away).
        ("level", "3", 8, "withheld", "withheld"),
        ("level", "other (groups under 5)", 8, "fewer than 5 matched", "fewer than 5 matched"),
        ("location", "London", 10, "withheld", "withheld"),
        ("location", "Paris", 6, "fewer than 5 matched", "fewer than 5 matched"),
        ("ethnicity", "(not given)", *other),
        ("ethnicity", "other (groups under 5)", 16, 68.8, 23.6),
        ("gender", "man", *other),
        ("gender", "woman", 7, 71.4, 16.0),
        ("gender", "other (groups under 5)", 9, 66.7, 30.0),
    ]
    assert report.chart is not None
    assert report.chart.labels == ("Engineering", "other (groups under 5)")
    assert report.chart.series == (("matched (%)", (85.7, 55.6)),)
    assert any("in other" in note for note in report.notes)


async def test_equity_leaves_no_small_group_to_work_out_from_the_totals(
    database: Database, program: Program
) -> None:
    await seed(database)
    report = await build_report(database, program, equity_report)
    total = int(dict(report.figures)["Mentees enrolled"])
    matched = round(total * float(dict(report.figures)["Matched"].rstrip("%")) / 100)
    rows = rows_of(report, "Mentees by group")
    for dimension in {row[0] for row in rows}:
        shown = [row for row in rows if row[0] == dimension and isinstance(row[2], int)]
        # Every group shown holds at least 5, and the shown groups add up to everyone:
        # nothing under 5 is left over to subtract.
        assert all(row[2] >= 5 for row in shown)
        assert sum(row[2] for row in shown) == total
        # Means of days to match: those hidden rest on none, or on 5 matched or more.
        timed = [row for row in shown if isinstance(row[4], float)]
        hidden = matched - sum(round(row[2] * row[3] / 100) for row in timed)
        assert hidden == 0 or hidden >= 5, dimension


async def test_equity_shows_no_match_rate_that_would_give_fewer_than_5_matched_away(
    database: Database, program: Program
) -> None:
    await seed(database)
    report = await build_report(database, program, equity_report)
    total = int(dict(report.figures)["Mentees enrolled"])
    matched = round(total * float(dict(report.figures)["Matched"].rstrip("%")) / 100)
    rows = rows_of(report, "Mentees by group")
    # Paris: 6 mentees, 3 matched. 50% of 6 would say 3; the lead still reads how few.
    assert ("location", "Paris", 6, "fewer than 5 matched", "fewer than 5 matched") in rows
    for dimension in {row[0] for row in rows}:
        rated = [row for row in rows if row[0] == dimension and isinstance(row[3], float)]
        # A rate shown says how many are matched: none, or 5 or more; and those it hides,
        # worked out from the overall rate, are none or 5 or more too.
        shown = [round(row[2] * row[3] / 100) for row in rated]
        assert all(n == 0 or n >= 5 for n in shown), dimension
        assert matched - sum(shown) == 0 or matched - sum(shown) >= 5, dimension


async def test_equity_with_too_few_mentees_shows_no_figure(
    database: Database, program: Program
) -> None:
    for number in range(1, 5):
        person = await make_person(database, f"m{number}@x.com", department="Legal", level=3)
        async with database.session() as session:
            assert person.id is not None
            session.add(
                Enrollment(
                    person_id=person.id,
                    program=PROGRAM,
                    role="mentee",
                    status="waiting",
                    enrolled_at=ENROLLED,
                    updated_at=ENROLLED,
                )
            )
    report = await build_report(database, program, equity_report)
    assert dict(report.figures)["Mentees enrolled"] == "fewer than 5"
    # Nobody matched is none, not a small group.
    assert dict(report.figures)["Mean days to match"] == "none matched yet"
    for row in rows_of(report, "Mentees by group"):
        assert not any(isinstance(cell, int | float) for cell in row[2:]), row


async def test_equity_never_names_a_small_group_and_counts_it_in_other(
    database: Database, program: Program
) -> None:
    # Two mentees in Tokyo, in a two-person Design department: groups under 5.
    people = [
        *(("Engineering", "London") for _ in range(6)),
        *(("Sales", "Paris") for _ in range(7)),
        *(("Design", "Tokyo") for _ in range(2)),
    ]
    for number, (department, location) in enumerate(people, start=1):
        person = await make_person(
            database, f"m{number}@x.com", department=department, level=3, location=location
        )
        async with database.session() as session:
            assert person.id is not None
            session.add(
                Enrollment(
                    person_id=person.id,
                    program=PROGRAM,
                    role="mentee",
                    status="waiting",
                    enrolled_at=ENROLLED,
                    updated_at=ENROLLED,
                )
            )
    report = await build_report(database, program, equity_report)
    rows = rows_of(report, "Mentees by group")
    # Tokyo (2) alone would be under 5 in "other", so London (6) is folded in with it.
    assert [row for row in rows if row[0] == "location"] == [
        ("location", "London", "in other", None, None),
        ("location", "Paris", 7, 0.0, None),
        ("location", "other (groups under 5)", 8, 0.0, None),
    ]
    # Every rate shown is 0%: a chart of nothing but zeros is not drawn, and a note says why.
    assert report.chart is None
    assert report.notes[0] == (
        "No chart of match rates by department: no mentee has been matched yet."
    )
    for rendering in (as_text(report), as_csv(report), as_json(report), *report.notes):
        assert "Tokyo" not in rendering and "Design" not in rendering
    # None of the 15 is matched yet: none is not a small group.
    assert dict(report.figures)["Matched"] == "0.0%"
    assert dict(report.figures)["Mean days to match"] == "none matched yet"
