"""``report feedback``, ``report equity`` and ``report export``: exact figures on a known program.

The data set is inserted directly with known values: 16 mentees across departments,
levels, locations and self-identified attributes, 6 mentors, pairings activated a known
number of days after enrollment, logged sessions, plans and survey answers over four
months. Notes, summaries, comments, goals and objectives hold distinctive strings that no
rendering of any report may contain.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from handlers import build_engine
from handlers.core.figures import Report, as_csv, as_json, as_text
from handlers.core.program import Program, Question, QuestionType
from handlers.reports.catalogue import CATALOGUE
from handlers.reports.equity import KIND as EQUITY
from handlers.reports.equity import equity_report
from handlers.reports.export import EXPORT_COLUMNS, export_report
from handlers.reports.export import KIND as EXPORT
from handlers.reports.feedback import KIND as FEEDBACK
from handlers.reports.feedback import feedback_report
from handlers.reports.suppression import withheld
from storage import (
    Database,
    Enrollment,
    Feedback,
    Milestone,
    Pairing,
    Person,
    SessionLog,
)
from tests.handlers import export_world
from tests.handlers.export_world import seed_small_program
from tests.helpers import Chat, FakeClock, make_person

#: The reports about people, in the order the catalogue lists them.
KINDS = [FEEDBACK, EQUITY, EXPORT]

PROGRAM = "leadership-2027"
ENROLLED = datetime(2026, 8, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECRETS = (
    "SECRET-NOTE-ALPHA",
    "SECRET-SUMMARY-BETA",
    "SECRET-COMMENT-GAMMA",
    "SECRET-GOAL-DELTA",
    "SECRET-OBJECTIVE-EPSILON",
    "Mentee Number",
    "@example.org",
    # The lone answer to a number question: one person's own rating.
    "977",
)

#: (department, level, location, attributes, days from enrollment to a match or None).
MENTEES: list[tuple[str | None, int | None, str | None, dict[str, str], int | None]] = [
    ("Engineering", 3, "London", {"gender": "woman"}, 10),  # 1
    ("Engineering", 3, "London", {"gender": "woman"}, 10),  # 2
    ("Engineering", 3, "London", {"gender": "woman"}, 20),  # 3
    ("Engineering", 3, "London", {"gender": "man"}, 20),  # 4
    ("Engineering", 3, "Paris", {"gender": "man"}, 40),  # 5
    ("Engineering", 4, "Paris", {"gender": "woman"}, None),  # 6: a proposal is open
    ("Sales", 3, "London", {"gender": "woman"}, 5),  # 7
    ("Sales", 3, "London", {"gender": "man"}, 15),  # 8
    ("Sales", 3, "London", {"gender": "man"}, None),  # 9: declined a proposal
    ("Sales", 4, "Paris", {"gender": "man"}, None),  # 10
    ("Sales", 5, "Paris", {}, 30),  # 11
    ("Legal", 5, "London", {"gender": "non-binary", "ethnicity": "X"}, 50),  # 12
    ("Legal", None, "London", {"ethnicity": "Y"}, None),  # 13
    ("HR", None, "Paris", {"gender": "woman"}, None),  # 14
    ("Sales", 4, "Paris", {"gender": "man"}, 25),  # 15
    ("Engineering", None, "London", {"gender": "woman"}, 35),  # 16
]

#: Pulse "usefulness" ratings by the month they were answered in.
USEFULNESS = {
    "2026-08": [3, 3, 4, 4, 4, 5, 5],  # 7 answers, 4.0
    "2026-09": [4, 4, 5, 3, 4],  # 5 answers, 4.0 - withheld to protect November
    "2026-10": [5, 5, 5, 4, 4, 3],  # 6 answers, 4.33
    "2026-11": [1, 2],  # 2 answers: fewer than 5
}


@dataclass
class World:
    """Ids of the rows the tests look at."""

    mentees: list[int]
    first: int  # mentee 1's ended pairing
    second: int  # mentee 1's active pairing after it
    at_risk: int  # mentee 2's pairing
    pairings: dict[int, int]  # mentee number -> their active pairing


def _at(day: datetime | date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _person(number: int, role: str, **fields: Any) -> Person:
    return Person(
        email=f"{role}{number}@example.org",
        name=f"{role.title()} Number {number}",
        created_at=ENROLLED,
        updated_at=ENROLLED,
        **fields,
    )


async def _seed(database: Database, *, number_question: bool = False) -> World:
    async with database.session() as session:
        mentees = [
            _person(n, "mentee", department=d, level=lv, location=loc, attributes=attrs)
            for n, (d, lv, loc, attrs, _) in enumerate(MENTEES, start=1)
        ]
        mentors = [
            _person(n, "mentor", department="Operations", level=7, attributes={"gender": "x"})
            for n in range(1, 7)
        ]
        outsider = _person(99, "mentee", department="Engineering", level=3)
        session.add_all([*mentees, *mentors, outsider])
        await session.flush()
        for person in mentees:
            assert person.id is not None
            session.add(
                Enrollment(
                    person_id=person.id,
                    program=PROGRAM,
                    role="mentee",
                    status="waiting",
                    answers={"goals": "SECRET-GOAL-DELTA"},
                    enrolled_at=ENROLLED,
                    updated_at=ENROLLED,
                )
            )
        for person in mentors:
            assert person.id is not None
            session.add(
                Enrollment(
                    person_id=person.id,
                    program=PROGRAM,
                    role="mentor",
                    status="available",
                    capacity=3,
                    enrolled_at=ENROLLED,
                    updated_at=ENROLLED,
                )
            )
        assert outsider.id is not None
        # Someone in another program counts nowhere here.
        session.add(
            Enrollment(
                person_id=outsider.id,
                program="other-program",
                role="mentee",
                status="waiting",
                enrolled_at=ENROLLED,
                updated_at=ENROLLED,
            )
        )

        def pairing(mentee: Person, mentor: Person, status: str, **fields: Any) -> Pairing:
            assert mentee.id is not None and mentor.id is not None
            return Pairing(
                program=fields.pop("program", PROGRAM),
                mentee_id=mentee.id,
                mentor_id=mentor.id,
                status=status,
                batch="round-1",
                proposed_at=ENROLLED,
                expires_at=ENROLLED + timedelta(days=7),
                **fields,
            )

        pairings: dict[int, Pairing] = {}
        for number, (*_, days) in enumerate(MENTEES, start=1):
            if days is None:
                continue
            mentor = mentors[number % len(mentors)]
            activated = ENROLLED + timedelta(days=days)
            if number == 1:
                # Matched on day 10, ended on day 50; matched again on day 60.
                first = pairing(
                    mentees[0],
                    mentor,
                    "ended",
                    activated_at=activated,
                    closed_at=ENROLLED + timedelta(days=50),
                    end_reason="completed",
                    at_risk_since=ENROLLED + timedelta(days=40),
                    missed_checkins=1,
                )
                session.add(first)
                activated = ENROLLED + timedelta(days=60)
            pairings[number] = pairing(
                mentees[number - 1], mentor, "active", activated_at=activated
            )
        pairings[2].at_risk_since = ENROLLED + timedelta(days=100)
        pairings[2].missed_checkins = 2
        pairings[2].cycle = 2
        session.add_all(pairings.values())
        session.add(pairing(mentees[5], mentors[0], "proposed"))
        session.add(pairing(mentees[8], mentors[1], "declined", declined_by="mentee"))
        elsewhere = pairing(
            outsider, mentors[2], "active", program="other-program", activated_at=ENROLLED
        )
        session.add(elsewhere)
        await session.flush()

        def log(pair: Pairing, held_on: date, minutes: int) -> SessionLog:
            assert pair.id is not None
            return SessionLog(
                pairing_id=pair.id,
                held_on=held_on,
                minutes=minutes,
                notes="SECRET-NOTE-ALPHA: we talked about the reorganisation",
                summary={"summary": "SECRET-SUMMARY-BETA", "next_steps": ["SECRET-NOTE-ALPHA"]},
                created_at=_at(held_on),
            )

        def milestone(pair: Pairing, cycle: int, position: int, status: str) -> Milestone:
            assert pair.id is not None
            return Milestone(
                pairing_id=pair.id,
                cycle=cycle,
                position=position,
                objective="SECRET-OBJECTIVE-EPSILON",
                target_date=date(2026, 10, 1),
                status=status,
                created_at=ENROLLED,
                updated_at=ENROLLED,
            )

        session.add_all(
            [
                log(first, date(2026, 8, 20), 60),
                log(first, date(2026, 9, 20), 30),
                log(pairings[2], date(2026, 11, 3), 45),
                log(elsewhere, date(2026, 11, 4), 600),
                milestone(first, 1, 1, "done"),
                milestone(first, 1, 2, "done"),
                milestone(first, 1, 3, "on_track"),
                # Mentee 2's pairing is in its second cycle: the first cycle's plan is done.
                milestone(pairings[2], 1, 1, "done"),
                milestone(pairings[2], 1, 2, "done"),
                milestone(pairings[2], 2, 1, "done"),
                milestone(pairings[2], 2, 2, "not_started"),
            ]
        )

        keys = iter(range(1, 10_000))

        def answer(
            pair: Pairing,
            survey: str,
            answers: dict[str, Any] | None,
            when: datetime | None,
            role: str = "mentee",
        ) -> Feedback:
            assert pair.id is not None
            return Feedback(
                key=f"{survey}:{pair.id}:{next(keys)}",
                pairing_id=pair.id,
                survey=survey,
                respondent_id=pair.mentee_id if role == "mentee" else pair.mentor_id,
                role=role,
                status="answered" if when is not None else "asked",
                answers=answers,
                asked_at=when or NOW,
                answered_at=when,
            )

        rows: list[Feedback] = []
        comment = "SECRET-COMMENT-GAMMA, my mentor was late again"
        for month, ratings in USEFULNESS.items():
            year, number = (int(part) for part in month.split("-"))
            for i, rating in enumerate(ratings):
                # 2 of the first pairing's pulses; the rest on mentee 1's second pairing.
                pair = first if (month, i) in (("2026-08", 0), ("2026-08", 1)) else pairings[1]
                rows.append(
                    answer(
                        pair,
                        "pulse",
                        {
                            "usefulness": rating,
                            "next_step": "Yes" if rating >= 4 else "No",
                            "comment": comment,
                        },
                        datetime(year, number, 10 + i, 15, tzinfo=UTC),
                        role="mentor" if i % 2 else "mentee",
                    )
                )
        rows += [
            # Answered, but the rating was skipped, or is not a number.
            answer(pairings[1], "pulse", {"next_step": "Yes"}, datetime(2026, 10, 20, tzinfo=UTC)),
            answer(pairings[1], "pulse", {"usefulness": "n/a"}, datetime(2026, 10, 21, tzinfo=UTC)),
            # Asked and not answered (yet).
            answer(pairings[2], "pulse", None, None),
            answer(pairings[2], "pulse", None, None),
            answer(pairings[3], "calibration", None, None),
        ]
        # Only three calibrations answered: too few for an average.
        rows += [
            answer(
                pairings[n], "calibration", {"fit": 5, "comment": comment}, _at(date(2026, 9, 1))
            )
            for n in (3, 4, 5)
        ]
        # Three end-of-cycle answers: too few for an average or for shares of "recommend".
        rows += [
            answer(
                pairings[n],
                "end_of_cycle",
                {"value": 5, "recommend": "Yes", "comment": comment},
                _at(date(2026, 11, 2)),
            )
            for n in (7, 8, 11)
        ]
        # Mentor readiness: coaching and availability by five mentees, credibility by four.
        for n, (coaching, availability, credibility) in zip(
            (3, 4, 5, 7, 8),
            ((5, 4, 3), (4, 4, 3), (4, 3, 4), (3, 5, 5), (5, 4, None)),
            strict=True,
        ):
            given = {"coaching": coaching, "availability": availability}
            if credibility is not None:
                given["domain_credibility"] = credibility
            rows.append(answer(pairings[n], "mentor_readiness", given, _at(date(2026, 10, 5))))
        if number_question:
            rows.append(
                answer(
                    pairings[3],
                    "pulse",
                    {"usefulness": 4, "hours_saved": 977},
                    datetime(2026, 11, 25, tzinfo=UTC),
                )
            )
        # Another program's answers change nothing here.
        rows += [
            answer(elsewhere, "pulse", {"usefulness": 1, "next_step": "No"}, _at(date(2026, 10, d)))
            for d in range(1, 11)
        ]
        session.add_all(rows)
        await session.flush()
        ids = [p.id for p in mentees]
        assert all(i is not None for i in ids)
        assert first.id is not None and pairings[1].id is not None and pairings[2].id is not None
        return World(
            mentees=[i for i in ids if i is not None],
            first=first.id,
            second=pairings[1].id,
            at_risk=pairings[2].id,
            pairings={n: p.id for n, p in pairings.items() if p.id is not None},
        )


async def _build(database: Database, program: Program, build: Any) -> Report:
    async with database.session() as session:
        report: Report = await build(session, program, now=NOW)
        return report


def _with_number_question(program: Program) -> Program:
    """The program with a number question added to the pulse survey."""
    surveys = program.feedback.surveys
    extra = Question(id="hours_saved", prompt="Hours saved?", type=QuestionType.NUMBER, min=0)
    surveys = surveys.model_copy(update={"pulse": [*surveys.pulse, extra]})
    feedback = program.feedback.model_copy(update={"surveys": surveys})
    return program.model_copy(update={"feedback": feedback})


def _table(report: Report, title: str) -> list[tuple[Any, ...]]:
    found = [t for t in report.tables if t.title == title]
    assert found, f"no table {title!r} in {[t.title for t in report.tables]}"
    return list(found[0].rows)


# -- the kinds -------------------------------------------------------------------------------


def test_the_three_kinds_are_offered_to_leads() -> None:
    assert [k.name for k in KINDS] == ["feedback", "equity", "export"]
    for kind in KINDS:
        assert CATALOGUE.kinds[kind.name] is kind


async def test_a_lead_runs_each_report_in_chat(database: Database, program: Program) -> None:
    await _seed(database)
    lead = await make_person(database, "priya.shah@example.com", name="Priya Shah")
    engine = build_engine(program=program, database=database, clock=FakeClock(NOW))
    chat = Chat(engine, lead)
    await chat.expect("report feedback", "Average rating per question", "usefulness")
    await chat.expect("report equity", "Mentees by group", "other (groups under 5)")
    await chat.expect("report export", "Figures per pairing", "pairing_id")


# -- feedback --------------------------------------------------------------------------------


async def test_feedback_averages_each_rated_question_where_enough_answered(
    database: Database, program: Program
) -> None:
    await _seed(database)
    report = await _build(database, program, feedback_report)
    assert _table(report, "Average rating per question") == [
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
    assert _table(report, "Responses per survey") == [
        ("pulse", 24, 22, 91.7),
        ("calibration", 4, 3, 75.0),
        ("midpoint", 0, 0, None),
        ("end_of_cycle", 3, 3, 100.0),
        ("mentor_readiness", 5, 5, 100.0),
    ]


async def test_feedback_trend_hides_small_months_and_one_more_that_would_reveal_them(
    database: Database, program: Program
) -> None:
    await _seed(database)
    report = await _build(database, program, feedback_report)
    pulse = [
        row for row in _table(report, "Average rating per question by month") if row[1] == "pulse"
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
    await _seed(database)
    report = await _build(database, program, feedback_report)
    totals = {
        (survey, question): answers
        for survey, question, answers, average in _table(report, "Average rating per question")
        if isinstance(average, float)
    }
    assert totals
    for (survey, question), answers in totals.items():
        shown = sum(
            row[3]
            for row in _table(report, "Average rating per question by month")
            if row[1:3] == (survey, question) and isinstance(row[4], float)
        )
        # Averages hidden by month rest on none, or on 5 answers or more together.
        assert answers - shown == 0 or answers - shown >= 5, (survey, question)


async def test_feedback_shows_shares_of_single_choices_only_with_enough_answers(
    database: Database, program: Program
) -> None:
    await _seed(database)
    report = await _build(database, program, feedback_report)
    # 21 pulses answered next_step: 14 rated 4 or 5 (Yes), 6 rated 1-3 (No), 1 skipped (Yes).
    assert _table(report, "Single-choice answers (share of answers)") == [
        ("pulse", "next_step", 21, "Yes", 71.4),
        ("pulse", "next_step", 21, "No", 28.6),
        ("end_of_cycle", "recommend", "fewer than 5", "", "fewer than 5 answers"),
    ]


async def test_feedback_never_shows_one_persons_number(
    database: Database, program: Program
) -> None:
    await _seed(database, number_question=True)
    report = await _build(database, _with_number_question(program), feedback_report)
    rows = _table(report, "Average rating per question")
    assert ("pulse", "hours_saved", "fewer than 5", "fewer than 5 answers") in rows
    assert ("pulse", "usefulness", 21, 3.86) in rows
    for rendering in (as_text(report), as_csv(report), as_json(report)):
        assert "977" not in rendering


# -- equity ----------------------------------------------------------------------------------


async def test_equity_figures_by_every_dimension(database: Database, program: Program) -> None:
    await _seed(database)
    report = await _build(database, program, equity_report)
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
    assert _table(report, "Mentees by group") == [
        # Legal (2) and HR (1) are too small, and together still under 5: the next
        # smallest, Sales (6), is folded into "other" with them.
        ("department", "Engineering", 7, 85.7, 22.5),
        ("department", "Sales", *other),
        ("department", "other (groups under 5)", 9, 55.6, 25.0),
        # Levels 4, 5 and none (3 + 2 + 3) make an "other" big enough on its own; its 4
        # matched mentees are too few for a mean, so level 3's is withheld with it.
        ("level", "3", 8, 87.5, "withheld"),
        ("level", "other (groups under 5)", 8, 50.0, "fewer than 5 matched"),
        ("location", "London", 10, 80.0, "withheld"),
        ("location", "Paris", 6, 50.0, "fewer than 5 matched"),
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
    await _seed(database)
    report = await _build(database, program, equity_report)
    total = int(dict(report.figures)["Mentees enrolled"])
    matched = round(total * float(dict(report.figures)["Matched"].rstrip("%")) / 100)
    rows = _table(report, "Mentees by group")
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


def test_withholding_adds_the_smallest_shown_cells_until_the_hidden_are_enough() -> None:
    # Hidden alone, "b" (2) could be had from the total: the smallest shown cell goes too.
    assert withheld([("a", 9), ("b", 2), ("c", 6), ("d", 0)], 5) == ({"b"}, {"c"})
    # Enough hidden together, or nothing hidden: nothing more to do.
    assert withheld([("a", 9), ("b", 2), ("c", 3)], 5) == ({"b", "c"}, set())
    assert withheld([("a", 9), ("b", 5)], 5) == (set(), set())
    # Among equals, the earliest goes; everything goes when the total itself is small.
    assert withheld([("a", 6), ("b", 6), ("c", 1)], 5) == ({"c"}, {"a"})
    assert withheld([("a", 1), ("b", 3)], 5) == ({"a", "b"}, set())


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
    report = await _build(database, program, equity_report)
    assert dict(report.figures)["Mentees enrolled"] == "fewer than 5"
    # Nobody matched is none, not a small group.
    assert dict(report.figures)["Mean days to match"] == "none matched yet"
    for row in _table(report, "Mentees by group"):
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
    report = await _build(database, program, equity_report)
    rows = _table(report, "Mentees by group")
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


# -- the export ------------------------------------------------------------------------------


async def test_export_csv_has_one_row_per_pairing_that_became_active(
    database: Database, program: Program
) -> None:
    world = await _seed(database)
    report = await _build(database, program, export_report)
    parsed = list(csv.reader(io.StringIO(as_csv(report))))
    # The headings a lead's spreadsheet shows, spelled out, not read back from the code.
    assert tuple(parsed[0]) == (
        "pairing_id",
        "program",
        "mentee_department",
        "mentee_level",
        "mentor_department",
        "mentor_level",
        "status",
        "activated_at",
        "days_active",
        "sessions_logged",
        "minutes",
        "last_session",
        "missed_checkins",
        "at_risk",
        "milestones_done",
        "milestones_total",
        "pulse_responses",
    )
    # Every record is as wide as the table; the note follows the rows after an empty one.
    assert {len(row) for row in parsed} == {17}
    *table, empty, note = parsed
    assert empty == [""] * 17
    assert note[0].startswith("Note: So that no one can be picked out, every combination of")
    body = {row[0]: row for row in table[1:]}
    # Mentee 1's two pairings and the 9 other matched mentees'; no proposal, no decline,
    # nothing from the other program. Mentee 16 (Engineering, no level given) is the only
    # one of their combination, so their pairing is left out; Sales (4) and Legal (1) read
    # "other" together, and levels read in bands of 6 (k-anonymity, k = 5).
    assert len(body) == 11
    assert str(world.pairings[16]) not in body
    assert body[str(world.first)] == [
        str(world.first), PROGRAM, "Engineering", "0–6", "Operations", "7", "ended",
        "2026-08-11T00:00:00+00:00", "40", "2", "90", "2026-09-20", "1",
        # Ended pairings are no longer at risk.
        "no", "2", "3", "2",
    ]  # fmt: skip
    assert body[str(world.second)] == [
        str(world.second), PROGRAM, "Engineering", "0–6", "Operations", "7", "active",
        "2026-09-30T00:00:00+00:00", "62", "0", "0", "", "0", "no", "0", "0", "20",
    ]  # fmt: skip
    # Second cycle: its own plan only (1 of 2 done), not the first cycle's.
    assert body[str(world.at_risk)] == [
        str(world.at_risk), PROGRAM, "Engineering", "0–6", "Operations", "7", "active",
        "2026-08-11T00:00:00+00:00", "112", "1", "45", "2026-11-03", "2", "yes", "1", "2", "0",
    ]  # fmt: skip
    legal = body[str(world.pairings[12])]
    assert legal[2:4] == ["other", "0–6"]
    assert legal[7:9] == ["2026-09-20T00:00:00+00:00", "72"]
    assert dict(report.figures) == {
        "Pairings": "11",
        "Active": "10",
        "Ended": "1",
        "Left out so that no one stands out": "fewer than 5",
    }


async def test_a_lone_department_and_level_does_not_pick_out_an_at_risk_pair(
    database: Database, program: Program
) -> None:
    """The only Legal mentee's pairing is at risk: the export must not say whose it is."""
    small = await seed_small_program(database)
    lead = await make_person(database, export_world.LEAD, name="Priya Shah")
    engine = build_engine(program=program, database=database, clock=FakeClock(export_world.NOW))
    chat = Chat(engine, lead)

    text = await chat.expect("report export", export_world.NOTE)

    assert "Legal" not in text
    [reply] = chat.last
    assert reply.report is not None
    [table] = reply.report.tables
    assert [row[2:6] for row in table.rows] == export_world.SHOWN
    assert [row[0] for row in table.rows] == small.pairings[:10]
    assert all(row[13] == "no" for row in table.rows)
    assert dict(reply.report.figures)["Left out so that no one stands out"] == "fewer than 5"
    for rendering in (as_text(reply.report), as_csv(reply.report), as_json(reply.report)):
        assert "Legal" not in rendering and "yes" not in rendering
    records = list(csv.reader(io.StringIO(as_csv(reply.report))))
    assert records[0] == list(EXPORT_COLUMNS)
    assert records[-1][0] == f"Note: {export_world.NOTE}"
    assert {len(record) for record in records} == {len(EXPORT_COLUMNS)}


# -- confidentiality -------------------------------------------------------------------------


async def test_no_rendering_of_any_report_holds_notes_comments_or_names(
    database: Database, program: Program
) -> None:
    await _seed(database, number_question=True)
    extended = _with_number_question(program)
    for build in (feedback_report, equity_report, export_report):
        report = await _build(database, extended, build)
        renderings = {
            "text": as_text(report),
            "csv": as_csv(report),
            "json": as_json(report),
            "chart": json.dumps(report.chart.__dict__ if report.chart else None),
        }
        for how, rendering in renderings.items():
            for secret in SECRETS:
                assert secret not in rendering, f"{secret!r} in the {how} of {report.kind}"
