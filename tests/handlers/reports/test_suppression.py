"""The small-group rule: what a lead reads for none, a few, and enough (k = 5 here).

None reads 0, one to four read "fewer than 5", five and more read as they are; a share or
an average of too few is not shown. Every report reads a figure the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from handlers.core.figures import Cell, Report
from handlers.core.program import Program
from handlers.reports.catalogue import CATALOGUE
from handlers.reports.suppression import (
    average_cell,
    count_cell,
    count_figure,
    fewer_than,
    rate_figure,
    share_figure,
    too_few,
    withheld,
)
from storage import Database, Enrollment, EnrollmentStatus, Person, Role

K = 5
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("count", "shown"), [(0, 0), (1, "fewer than 5"), (4, "fewer than 5"), (5, 5), (6, 6)]
)
def test_a_count_reads_0_for_none_fewer_than_k_for_a_few_and_itself_from_k(
    count: int, shown: Cell
) -> None:
    assert count_cell(count, K) == shown


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (3, "fewer than 5"), (5, "5"), (12345, "12,345")]
)
def test_a_headline_count_follows_the_same_rule_with_thousands_separated(
    count: int, shown: str
) -> None:
    assert count_figure(count, K) == shown


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (0, 10, "0%"),  # the share of none is shown: none is not a small group
        (3, 10, None),  # it would give a hidden count of 3 away
        (5, 10, "50%"),
        (5, 8, "63%"),  # halves round up
        (0, 0, None),  # a share of nothing is no share
    ],
)
def test_a_share_is_shown_only_where_its_count_is(part: int, whole: int, shown: str) -> None:
    assert share_figure(part, whole, k=K) == shown


def test_an_average_of_too_few_is_not_worked_out() -> None:
    def average() -> Cell:
        raise AssertionError("worked out from too few values")

    assert average_cell(4, K, average=average, unit="answers") == "fewer than 5 answers"
    assert average_cell(0, K, average=average, unit="answers") is None
    assert average_cell(0, K, average=average, unit="waiting", none="nobody waiting") == (
        "nobody waiting"
    )


def test_an_average_of_enough_is_shown() -> None:
    assert average_cell(5, K, average=lambda: 4.2, unit="answers") == 4.2


def test_too_few_reads_fewer_than_k_in_the_figures_unit_and_none_as_none() -> None:
    assert too_few(2, K, unit="matched") == fewer_than(K, "matched") == "fewer than 5 matched"
    assert too_few(0, K, unit="matched") is None


def test_an_empty_cell_needs_no_protection_from_subtraction() -> None:
    # None is not a small group: a zero cell is neither hidden nor a reason to hide others.
    assert withheld([("a", 9), ("b", 0), ("c", 6)], K) == (set(), set())


# -- every report reads a figure the same way -----------------------------------------------


async def _report(database: Database, program: Program, kind: str) -> Report:
    async with database.session() as session:
        return await CATALOGUE.kinds[kind].build(session, program, now=NOW)


def _rows(report: Report, title: str) -> list[tuple[Any, ...]]:
    return next(list(t.rows) for t in report.tables if t.title == title)


async def test_a_question_nobody_answered_has_no_figure_in_any_table(
    database: Database, program: Program
) -> None:
    report = await _report(database, program, "feedback")
    averages = _rows(report, "Average rating per question")
    shares = _rows(report, "Single-choice answers (share of answers)")
    # A rated question and a single choice nobody answered read alike: 0 answers, no
    # figure. (The shares table used to say "fewer than 5 answers" for none.)
    assert ("pulse", "usefulness", 0, None) in averages
    assert ("pulse", "next_step", 0, "", None) in shares
    assert not any("fewer than" in str(cell) for row in shares for cell in row)


async def test_the_overview_and_the_equity_report_count_mentees_alike(
    database: Database, program: Program
) -> None:
    mentees = 1000
    async with database.session() as session:
        conn = await session.connection()
        await conn.execute(
            sa.insert(Person.__table__),  # type: ignore[attr-defined]
            [
                {
                    "email": f"mentee{n}@example.org",
                    "name": f"Mentee {n}",
                    "attributes": {},
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(mentees)
            ],
        )
        ids = (await conn.execute(sa.select(Person.__table__.c.id))).scalars().all()  # type: ignore[attr-defined]
        await conn.execute(
            sa.insert(Enrollment.__table__),  # type: ignore[attr-defined]
            [
                {
                    "person_id": person_id,
                    "program": program.id,
                    "role": Role.MENTEE.value,
                    "status": EnrollmentStatus.WAITING.value,
                    "answers": {},
                    "enrolled_at": NOW,
                    "updated_at": NOW,
                }
                for person_id in ids
            ],
        )
    overview = dict((await _report(database, program, "overview")).figures)
    equity = dict((await _report(database, program, "equity")).figures)
    # The equity report used to write "1000" where every other report writes "1,000".
    assert overview["Mentees (not left)"] == equity["Mentees enrolled"] == "1,000"


def test_withholding_adds_the_smallest_shown_cells_until_the_hidden_are_enough() -> None:
    # Hidden alone, "b" (2) could be had from the total: the smallest shown cell goes too.
    assert withheld([("a", 9), ("b", 2), ("c", 6), ("d", 0)], 5) == ({"b"}, {"c"})
    # Enough hidden together, or nothing hidden: nothing more to do.
    assert withheld([("a", 9), ("b", 2), ("c", 3)], 5) == ({"b", "c"}, set())
    assert withheld([("a", 9), ("b", 5)], 5) == (set(), set())
    # Among equals, the earliest goes; everything goes when the total itself is small.
    assert withheld([("a", 6), ("b", 6), ("c", 1)], 5) == ({"c"}, {"a"})
    assert withheld([("a", 1), ("b", 3)], 5) == ({"a", "b"}, set())


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (12, 6, 2.0),
        (7, 3, None),  # 7 sessions at 2.33 per pair would give the 3 pairs away
        (0, 3, 0.0),  # none per a few tells nothing of how few
        (0, 0, None),  # nothing to be per
    ],
)
def test_a_rate_per_a_hidden_count_is_not_shown(part: int, whole: int, shown: float | None) -> None:
    assert rate_figure(part, whole, k=K) == shown
