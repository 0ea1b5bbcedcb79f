"""``report overview``: participants, pairs and the waitlist on the pair reports' program
(tests/handlers/reports/pairs_world.py)."""

from __future__ import annotations

import csv
import io

from handlers.core.figures import as_csv
from handlers.core.program import Program
from handlers.reports.overview import overview
from storage import Database
from tests.handlers.reports.pairs_world import NOW, build, figures


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
