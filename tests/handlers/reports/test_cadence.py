"""``report cadence``: the share on cadence, sessions per pair by month, their spread
(on the program in tests/handlers/reports/pairs_world.py)."""

from __future__ import annotations

from handlers.core.program import Program
from handlers.reports.cadence import cadence
from storage import Database
from tests.handlers.reports.pairs_world import build, figures


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
        # No pair of this world booked a meeting (tests/handlers/meetings books some).
        "Meetings booked from now on": "0",
        "With a booked next meeting": "0% of 6 pairs",
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
    assert report.tables[0].rows[0] == ("Sep 2026", 2, "fewer than 5", None)
    assert report.tables[1].rows[0] == ("0", "fewer than 5", None)


async def test_cadence_shows_no_sessions_per_pair_for_a_month_of_few_pairs(
    database: Database, program: Program
) -> None:
    report = await build(database, cadence, program)
    # Sessions over sessions per pair would give a month's hidden number of pairs away.
    assert report.tables[0].rows == (
        ("Sep 2026", 2, "fewer than 5", None),  # 3 pairs
        ("Oct 2026", 4, 5, 0.8),
        ("Nov 2026", 6, 5, 1.2),
        ("Dec 2026", 4, 5, 0.8),
        ("Jan 2027", 3, "fewer than 5", None),  # 4 pairs
        ("Feb 2027", 3, 5, 0.6),
    )
    assert report.chart is not None
    assert report.chart.series == (("sessions per pair", (None, 0.8, 1.2, 0.8, None, 0.6)),)
    # December to February includes January: 10 sessions over it would give January away.
    assert figures(report)["Sessions per pair per month (last 3 full months)"] == "withheld"
    assert any("fewer than 5 active pairs" in note for note in report.notes)


async def test_cadence_says_why_no_month_has_a_chart_when_every_month_has_few_pairs(
    database: Database, program: Program
) -> None:
    ten = program.model_copy(update={"min_group_size": 10})
    report = await build(database, cadence, ten)
    assert report.chart is None
    assert report.notes[0] == (
        "No chart of sessions by month: no month in the last 6 full months had 10 active "
        "pairs or more to show a rate for."
    )
