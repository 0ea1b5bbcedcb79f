"""``report feedback``: average ratings per question, their monthly trend, single-choice shares.

Every figure is aggregated in the database (``GROUP BY``, with survey answers read out of
their JSON by :class:`handlers.reports.sql.ReportSql`): one query per survey whatever the
size of the program. No session notes or summaries are read, nor any text answer. An
average or a share is shown only where at least ``program.min_group_size`` answers make it
up, and a month that could be worked out from the overall average is withheld too
(:func:`handlers.reports.suppression.withheld`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import (
    Cell,
    Chart,
    Kind,
    Report,
    Table,
    checked_chart,
    month_label,
    months_between,
)
from handlers.core.messages import plural
from handlers.core.program import SURVEYS, Program, Question, QuestionType
from handlers.reports.circles import (
    Pulse,
    circle_sizes,
    is_circles,
    pulse_by,
    sizes_pulse_cells,
    surveys_asked,
)
from handlers.reports.queries import (
    FEEDBACK,
    PAIRING,
    PULSE,
    RATED,
    main_rating,
    percent_to_tenth,
)
from handlers.reports.sql import ReportSql
from handlers.reports.suppression import (
    average_cell,
    count_cell,
    count_figure,
    enough,
    fewer_than,
    is_small,
    too_few,
    withheld,
)
from storage import FeedbackStatus
from storage.tables import CIRCLE_FEEDBACK


@dataclass
class _Tally:
    """Numeric answers to one question: how many and their sum."""

    count: int = 0
    total: float = 0.0

    def add(self, count: int, total: float | None) -> None:
        self.count += count
        self.total += total or 0.0

    @property
    def average(self) -> float:
        return round(self.total / self.count, 2)

    def mean(self) -> Cell:
        """The average, for :func:`~handlers.reports.suppression.average_cell` to call."""
        return self.average


@dataclass
class _Choices:
    """Answers to one single-choice question: how many in all, and per option value."""

    count: int = 0
    by_option: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Answers:
    """Everything the feedback report shows, as read from the database."""

    asked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: (survey, question id) -> month -> tally.
    ratings: dict[tuple[str, str], dict[str, _Tally]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(_Tally))
    )
    choices: dict[tuple[str, str], _Choices] = field(default_factory=lambda: defaultdict(_Choices))


def _rated(program: Program) -> list[tuple[str, Question]]:
    """The questions that have averages (scale and number), survey by survey."""
    return [
        (survey, question)
        for survey in SURVEYS
        for question in program.feedback.surveys.of(survey)
        if question.type in RATED
    ]


def _single_choices(program: Program) -> list[tuple[str, Question]]:
    return [
        (survey, question)
        for survey in SURVEYS
        for question in program.feedback.surveys.of(survey)
        if question.type is QuestionType.SINGLE_CHOICE
    ]


async def _read_answers(conn: AsyncConnection, program: Program) -> _Answers:
    """Each survey's asked and answered counts, ratings by month, and choices.

    One query per survey, grouped by the month answered: each question's answer is read
    out of the JSON only on its own survey's answered rows. (One query for every survey,
    with each survey's figures in columns of their own, evaluates every column on every
    row: half again slower on SQLite at 200,000 answers.)
    """
    sql = ReportSql.of(conn)
    answers = FEEDBACK.c.answers
    answered = FEEDBACK.c.status == FeedbackStatus.ANSWERED.value
    month = sql.month(FEEDBACK.c.answered_at)
    found = _Answers()
    for name in SURVEYS:
        questions = program.feedback.surveys.of(name)
        rated = [q for q in questions if q.type in RATED]
        chosen = [q for q in questions if q.type is QuestionType.SINGLE_CHOICE]
        columns: list[sa.ColumnElement[Any]] = [
            month,
            sa.func.count(),
            sa.func.count(sa.case((answered, 1))),
        ]
        for question in rated:
            value = sa.case((answered, sql.number(answers, question.id)))
            columns += [sa.func.count(value), sa.func.sum(value)]
        for question in chosen:
            value = sa.case((answered, sql.text(answers, question.id)))
            columns.append(sa.func.count(value))
            columns += [
                sa.func.count(sa.case((value == choice.value, 1))) for choice in question.choices
            ]
        query = (
            sa.select(*columns)
            .select_from(FEEDBACK.join(PAIRING, PAIRING.c.id == FEEDBACK.c.pairing_id))
            .where(PAIRING.c.program == program.id, FEEDBACK.c.survey == name)
            .group_by(month)
        )
        for when, asked, replied, *cells in (await conn.execute(query)).all():
            found.asked[name] += asked
            found.answered[name] += replied
            if when is None:
                # Asked and not answered (yet): no month, no answers.
                continue
            for question in rated:
                how_many, total, *cells = cells
                if how_many:
                    found.ratings[(name, question.id)][when].add(how_many, total)
            for question in chosen:
                how_many, *cells = cells
                picks, cells = cells[: len(question.choices)], cells[len(question.choices) :]
                if how_many:
                    tally = found.choices[(name, question.id)]
                    tally.count += how_many
                    for choice, picked in zip(question.choices, picks, strict=True):
                        tally.by_option[choice.value] += picked
    return found


async def feedback_report(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """Average ratings per question and their monthly trend; shares of single choices.

    An average (per question, and per question and month) is shown only where at least
    ``min_group_size`` answers make it up, a single choice's shares only where at least
    that many answered it; text answers are never shown.
    """
    k = program.min_group_size
    conn = await session.connection()
    if is_circles(program):
        return await _circles_feedback(conn, program)
    found = await _read_answers(conn, program)
    rated = _rated(program)
    few = fewer_than(k, "answers")

    averages: list[tuple[Cell, ...]] = []
    trend: list[tuple[Cell, ...]] = []
    protected = False
    #: The main rating's average by month: None where it is hidden.
    chart_points: dict[str, float | None] = {}
    main = main_rating(program)
    for name, question in rated:
        months = found.ratings.get((name, question.id), {})
        overall = _Tally()
        for tally in months.values():
            overall.add(tally.count, tally.total)
        averages.append(
            (
                name,
                question.id,
                count_cell(overall.count, k),
                average_cell(overall.count, k, average=overall.mean, unit="answers"),
            )
        )
        ordered = sorted(months.items())
        under, protecting = withheld([(m, t.count) for m, t in ordered], k)
        protected = protected or bool(protecting)
        for month, tally in ordered:
            average: Cell
            if month in under:
                average = few
            elif month in protecting:
                average = "withheld"
            else:
                average = tally.average
            if main is not None and name == PULSE and question.id == main.id:
                chart_points[month] = average if isinstance(average, float) else None
            trend.append((month, name, question.id, count_cell(tally.count, k), average))
    trend.sort(key=lambda row: str(row[0]))
    # Sorted as YYYY-MM, shown as every report writes a month.
    trend = [(month_label(str(month)), *rest) for month, *rest in trend]

    shares: list[tuple[Cell, ...]] = []
    for name, question in _single_choices(program):
        picks = found.choices.get((name, question.id), _Choices())
        if not enough(picks.count, k):
            hidden = too_few(picks.count, k, unit="answers")
            shares.append((name, question.id, count_cell(picks.count, k), "", hidden))
            continue
        for choice in question.choices:
            picked = picks.by_option.get(choice.value, 0)
            shares.append(
                (
                    name,
                    question.id,
                    picks.count,
                    choice.label,
                    percent_to_tenth(picked, picks.count),
                )
            )
        unlisted = picks.count - sum(picks.by_option.values())
        if unlisted:
            # Answers to options since removed from the program file.
            shares.append(
                (name, question.id, picks.count, "(other)", percent_to_tenth(unlisted, picks.count))
            )

    def response_rate(answered: int, asked: int) -> Cell:
        """The share answered: none of none asked, and no share of a few answers."""
        if not asked:
            return None
        return few if is_small(answered, k) else percent_to_tenth(answered, asked)

    responses = [
        (
            name,
            count_cell(found.asked.get(name, 0), k),
            count_cell(found.answered.get(name, 0), k),
            response_rate(found.answered.get(name, 0), found.asked.get(name, 0)),
        )
        for name in SURVEYS
    ]
    asked = sum(found.asked.values())
    answered = sum(found.answered.values())
    response = response_rate(answered, asked)
    figures: list[tuple[str, str]] = [
        ("Surveys answered", f"{count_figure(answered, k)} of {count_figure(asked, k)} asked"),
        ("Response rate", f"{response}%" if isinstance(response, float) else str(response or "–")),
    ]
    if main is not None:
        pulse = _Tally()
        for tally in found.ratings.get((PULSE, main.id), {}).values():
            pulse.add(tally.count, tally.total)
        shown = average_cell(
            pulse.count, k, average=pulse.mean, unit="answers", none="no answers yet"
        )
        scale = f" (of {main.max})" if main.max is not None and isinstance(shown, float) else ""
        figures.append((f"Average answer to “{main.prompt}”", f"{shown}{scale}"))

    chart, no_chart = _rating_chart(main, chart_points, k) if main is not None else (None, "")
    notes = [
        *((no_chart,) if no_chart else ()),
        f"An average or a share is shown only where at least {plural(k, 'answer')} make it "
        f'up; otherwise "{few}". Text answers are never shown, nor anyone\'s own answers.',
        f'Surveys asked or answered: 1 to {k - 1} read "fewer than {k}"; none reads 0.',
        "Months are calendar months (UTC) of when the survey was answered.",
    ]
    if protected:
        notes.append(
            'A month marked "withheld" has enough answers, but is hidden so that a smaller '
            "month cannot be worked out from the question's overall average."
        )
    others = [
        f"{name} {q.id}"
        for name in SURVEYS
        for q in program.feedback.surveys.of(name)
        if q.type in (QuestionType.MULTI_CHOICE, QuestionType.DATE)
    ]
    if others:
        notes.append(f"Not summarised here: {', '.join(others)}.")
    return Report(
        "feedback",
        "Feedback: ratings and their trend",
        tuple(figures),
        (
            Table(
                "Average rating per question",
                ("survey", "question", "answers", "average"),
                tuple(averages),
            ),
            Table(
                "Average rating per question by month",
                ("month", "survey", "question", "answers", "average"),
                tuple(trend),
            ),
            Table(
                "Single-choice answers (share of answers)",
                ("survey", "question", "answers", "option", "share (%)"),
                tuple(shares),
            ),
            Table(
                "Responses per survey",
                ("survey", "asked", "answered", "response rate (%)"),
                tuple(responses),
            ),
        ),
        chart,
        tuple(notes),
    )


def _rating_chart(
    question: Question, points: dict[str, float | None], threshold: int
) -> tuple[Chart | None, str]:
    """The main rating's average by month as a line over time, or why there is none.

    Every month from the first answered to the last is on the axis; a month with no
    answers, or whose average is hidden, is a gap.
    """
    months = months_between(min(points), max(points)) if points else []
    low = float(question.min) if question.min is not None else 0.0
    high = float(question.max) if question.max is not None else None
    if question.help:
        y_label = f"average answer ({question.help})"
    elif high is not None:
        y_label = f"average answer ({low:g} to {high:g})"
    else:
        y_label = "average answer"
    about = f"No chart of the answers to “{question.prompt}” by month"
    return checked_chart(
        Chart(
            "line",
            f"“{question.prompt}”: average answer by month",
            tuple(month_label(month) for month in months),
            (("average answer", tuple(points.get(month) for month in months)),),
            y_label,
            months=tuple(months),
            scale=(low, high),
        ),
        all_zero=f"{about}: every average is 0.",
        all_hidden=f"{about}: no month has {threshold} answers or more that can be shown."
        if points
        else f"{about}: nobody has answered it yet.",
    )


async def _circles_feedback(conn: AsyncConnection, program: Program) -> Report:
    """A circles program's feedback: the circles' surveys, aggregated.

    An average is shown only where at least ``min_group_size`` different people answered
    (a member answers the pulse after every session, so answers alone would let one
    person's average through); months and sizes that could be worked out from the overall
    average are withheld (:func:`handlers.reports.suppression.withheld`). Pairs' feedback
    means nothing here and is left out rather than shown as none.
    """
    k = program.min_group_size
    few = fewer_than(k, "answered")
    asked = await surveys_asked(conn, program)
    averages: list[tuple[Cell, ...]] = []
    for name, question in _rated(program):
        rated = (await pulse_by(conn, program, question, survey=name)).get(None, Pulse())
        if name in asked or rated.answers:
            averages.append((name, question.id, count_cell(rated.answered, k), rated.cell(k)))
    main = main_rating(program)
    trend: list[tuple[Cell, ...]] = []
    by_size: list[tuple[Cell, ...]] = []
    chart_points: dict[str, float | None] = {}
    overall: Cell = "no answers yet"
    if main is not None:
        overall = (
            (await pulse_by(conn, program, main)).get(None, Pulse()).cell(k, none="no answers yet")
        )
        month = ReportSql.of(conn).month(CIRCLE_FEEDBACK.c.answered_at)
        months = await pulse_by(conn, program, main, month)
        ordered = sorted((str(m), p) for m, p in months.items() if m is not None)
        _, protecting = withheld([(m, p.answered) for m, p in ordered], k)
        for when, pulse in ordered:
            average = "withheld" if when in protecting else pulse.cell(k)
            chart_points[when] = average if isinstance(average, float) else None
            trend.append((month_label(when), count_cell(pulse.answered, k), average))
        sized = circle_sizes(program)
        sizes = await pulse_by(conn, program, main, sized.c.size, via=sized)
        order = sorted(int(size) for size in sizes)
        cells = sizes_pulse_cells(program, order, sizes)
        by_size = [(size, count_cell(sizes[size].answered, k), cells[size]) for size in order]
    answered = sum(n for _, n in asked.values())
    total = sum(n for n, _ in asked.values())
    rate = (
        None if not total else few if is_small(answered, k) else percent_to_tenth(answered, total)
    )
    figures: list[tuple[str, str]] = [
        ("Surveys answered", f"{count_figure(answered, k)} of {count_figure(total, k)} asked"),
        ("Response rate", f"{rate}%" if isinstance(rate, float) else str(rate or "–")),
    ]
    if main is not None:
        scale = f" (of {main.max})" if main.max is not None and isinstance(overall, float) else ""
        figures.append((f"Average answer to “{main.prompt}”", f"{overall}{scale}"))
    chart, no_chart = _rating_chart(main, chart_points, k) if main is not None else (None, "")
    notes = (
        *((no_chart,) if no_chart else ()),
        f"Surveys about circles: an average is shown only where at least {k} different "
        f'people answered; otherwise "{few}". A month or a size marked "withheld" has '
        "enough, but is hidden so that a smaller one cannot be worked out from the average "
        "of all. Text answers are never shown, nor anyone's own answers.",
        f'Surveys asked or answered: 1 to {k - 1} read "fewer than {k}"; none reads 0.',
        "Months are calendar months (UTC) of when the survey was answered. Size: the members "
        "who took a place in the circle (the facilitator not counted).",
    )
    return Report(
        "feedback",
        "Feedback: circles' ratings and their trend",
        tuple(figures),
        (
            Table(
                "Average rating per question",
                ("survey", "question", "answered", "average"),
                tuple(averages),
            ),
            Table("Pulse by month", ("month", "answered", "average"), tuple(trend)),
            Table("Pulse by circle size", ("members", "answered", "average"), tuple(by_size)),
            Table(
                "Responses per survey",
                ("survey", "asked", "answered", "response rate (%)"),
                tuple(
                    (
                        name,
                        count_cell(n, k),
                        count_cell(done, k),
                        few if is_small(done, k) else percent_to_tenth(done, n),
                    )
                    for name, (n, done) in sorted(asked.items())
                ),
            ),
        ),
        chart,
        notes,
    )


KIND = Kind("feedback", "average ratings per question and their monthly trend", feedback_report)
