"""``report feedback``: averages, their trend, single-choice shares and responses (on the
program in tests/handlers/reports/people_world.py)."""

from __future__ import annotations

from handlers.core.figures import as_csv, as_json, as_text
from handlers.core.program import Program
from handlers.reports.feedback import feedback_report
from storage import Database
from tests.handlers.reports.people_world import (
    build_report,
    rows_of,
    seed,
    with_number_question,
)


async def test_feedback_averages_each_rated_question_where_enough_answered(
    database: Database, program: Program
) -> None:
    await seed(database)
    report = await build_report(database, program, feedback_report)
    assert rows_of(report, "Average rating per question") == [
        # 7 + 5 + 6 + 2 ratings: (28 + 20 + 26 + 3) / 20; the skipped and "n/a" don't count.
        ("pulse", "usefulness", 20, 3.85),
        ("calibration", "fit", "fewer than 5", "fewer than 5 answers"),
        ("midpoint", "progress", 0, None),
        ("end_of_cycle", "value", "fewer than 5", "fewer than 5 answers"),
        ("mentor_readiness", "coaching", 5, 4.2),
        ("mentor_readiness", "availability", 5, 4.0),
        ("mentor_readiness", "domain_credibility", "fewer than 5", "fewer than 5 answers"),
    ]
    assert dict(report.figures) == {
        "Surveys answered": "33 of 36 asked",
        "Response rate": "91.7%",
        "Average answer to “How useful was the session?”": "3.85 (of 5)",
    }
    assert rows_of(report, "Responses per survey") == [
        ("pulse", 24, 22, 91.7),
        # 4 asked, 3 answered: a few read "fewer than 5", and so does their share.
        ("calibration", "fewer than 5", "fewer than 5", "fewer than 5 answers"),
        ("midpoint", 0, 0, None),
        ("end_of_cycle", "fewer than 5", "fewer than 5", "fewer than 5 answers"),
        ("mentor_readiness", 5, 5, 100.0),
    ]


async def test_feedback_trend_hides_small_months_and_one_more_that_would_reveal_them(
    database: Database, program: Program
) -> None:
    await seed(database)
    report = await build_report(database, program, feedback_report)
    pulse = [
        row for row in rows_of(report, "Average rating per question by month") if row[1] == "pulse"
    ]
    assert pulse == [
        ("Aug 2026", "pulse", "usefulness", 7, 4.0),
        # September has enough answers, but with November (2 answers) hidden alone the
        # overall average would give November's away: September is withheld with it.
        ("Sep 2026", "pulse", "usefulness", 5, "withheld"),
        ("Oct 2026", "pulse", "usefulness", 6, 4.33),
        ("Nov 2026", "pulse", "usefulness", "fewer than 5", "fewer than 5 answers"),
    ]
    assert any("withheld" in note for note in report.notes)
    assert report.chart is not None
    assert report.chart.kind == "line"
    # Every month from the first answered to the last, on a time axis; hidden ones are gaps.
    assert report.chart.months == ("2026-08", "2026-09", "2026-10", "2026-11")
    assert report.chart.labels == ("Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026")
    assert report.chart.series == (("average answer", (4.0, None, 4.33, None)),)
    # In the question's words, never its id; the y-axis runs over the whole scale.
    assert report.chart.title == "“How useful was the session?”: average answer by month"
    assert report.chart.y_label == "average answer (1 = not at all, 5 = very useful)"
    assert report.chart.scale == (1.0, 5.0)


async def test_feedback_leaves_no_small_month_to_work_out_from_a_questions_total(
    database: Database, program: Program
) -> None:
    await seed(database)
    report = await build_report(database, program, feedback_report)
    totals = {
        (survey, question): answers
        for survey, question, answers, average in rows_of(report, "Average rating per question")
        if isinstance(average, float)
    }
    assert totals
    for (survey, question), answers in totals.items():
        shown = sum(
            row[3]
            for row in rows_of(report, "Average rating per question by month")
            if row[1:3] == (survey, question) and isinstance(row[4], float)
        )
        # Averages hidden by month rest on none, or on 5 answers or more together.
        assert answers - shown == 0 or answers - shown >= 5, (survey, question)


async def test_feedback_shows_shares_of_single_choices_only_with_enough_answers(
    database: Database, program: Program
) -> None:
    await seed(database)
    report = await build_report(database, program, feedback_report)
    # 21 pulses answered next_step: 14 rated 4 or 5 (Yes), 6 rated 1-3 (No), 1 skipped (Yes).
    assert rows_of(report, "Single-choice answers (share of answers)") == [
        ("pulse", "next_step", 21, "Yes", 71.4),
        ("pulse", "next_step", 21, "No", 28.6),
        ("end_of_cycle", "recommend", "fewer than 5", "", "fewer than 5 answers"),
    ]


async def test_feedback_never_shows_one_persons_number(
    database: Database, program: Program
) -> None:
    await seed(database, number_question=True)
    report = await build_report(database, with_number_question(program), feedback_report)
    rows = rows_of(report, "Average rating per question")
    assert ("pulse", "hours_saved", "fewer than 5", "fewer than 5 answers") in rows
    assert ("pulse", "usefulness", 21, 3.86) in rows
    for rendering in (as_text(report), as_csv(report), as_json(report)):
        assert "977" not in rendering


async def test_feedback_counts_a_few_surveys_asked_or_answered_as_fewer_than_k(
    database: Database, program: Program
) -> None:
    await seed(database)
    forty = program.model_copy(update={"min_group_size": 40})
    report = await build_report(database, forty, feedback_report)
    # 33 answered of 36 asked: both under 40, and so is the share they make.
    assert dict(report.figures)["Surveys answered"] == "fewer than 40 of fewer than 40 asked"
    assert dict(report.figures)["Response rate"] == "fewer than 40 answers"
    assert rows_of(report, "Responses per survey")[2] == ("midpoint", 0, 0, None)
    assert any('1 to 39 read "fewer than 40"' in note for note in report.notes)
