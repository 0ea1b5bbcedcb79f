"""``report milestones``: progress across active pairs' plans (on the program in
tests/handlers/reports/pairs_world.py)."""

from __future__ import annotations

from handlers.core.program import Program
from handlers.reports.milestones import milestones
from storage import Database
from tests.handlers.reports.pairs_world import build, figures


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
