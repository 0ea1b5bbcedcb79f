"""Lead reports about people: feedback, equity of access, and the per-pair export.

Every figure is aggregated in the database (``GROUP BY``, with survey answers read out of
their JSON by :class:`handlers.reports.sql.ReportSql`), so a report is a handful of
queries whatever the size of the program. No query here reads a session's notes or
summary, or a text answer.

Small numbers are protected the same way throughout: an average or a share is shown only
where at least ``program.min_group_size`` answers make it up, and a group of people only
where it holds at least that many. A hidden figure must not come back by subtraction
from a shown total either, so when the hidden cells of a table add up to fewer than the
threshold, the smallest shown cells are hidden (or folded into "other") with them
(:func:`withheld`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

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
    small,
)
from handlers.core.program import SURVEYS, Program, Question, QuestionType
from handlers.reports.anonymity import Bands, Groups, Hierarchy, k_anonymous
from handlers.reports.sql import ReportSql
from storage import (
    FeedbackStatus,
    MilestoneStatus,
    PairingStatus,
    Role,
)
from storage.tables import ENROLLMENT, FEEDBACK, MILESTONE, PAIRING, PERSON, SESSION_LOG

#: Pairings that happened: a mentee with one of these has been matched.
PAIRED = (PairingStatus.ACTIVE.value, PairingStatus.ENDED.value)
#: The survey whose main rating the feedback report charts month by month.
PULSE = "pulse"
NOT_GIVEN = "(not given)"
#: The question types that have an average.
RATED = (QuestionType.SCALE, QuestionType.NUMBER)

Key = TypeVar("Key")


# -- small numbers ---------------------------------------------------------------------------


def withheld(counts: Sequence[tuple[Key, int]], threshold: int) -> tuple[set[Key], set[Key]]:
    """Which cells of a table to hide so that none under ``threshold`` can be learnt.

    A cell made up of fewer than ``threshold`` people (or answers) is hidden. Every cell of
    the table adds up to a total that is shown elsewhere, so if the hidden cells together
    hold fewer than ``threshold``, subtracting the shown cells from the total would give
    them back: the smallest shown cells (the earliest first among equals) are hidden too,
    until the hidden ones hold at least ``threshold`` or none is left.

    Args:
        counts: Each cell's key and how many it is made of, in the table's order.
        threshold: The smallest number of people or answers a shown figure may rest on.

    Returns:
        The cells under the threshold, and the larger ones hidden to protect them.
    """
    under = {key for key, count in counts if 0 < count < threshold}
    hidden = sum(count for key, count in counts if key in under)
    shown = sorted(
        ((count, index, key) for index, (key, count) in enumerate(counts) if count >= threshold),
        key=lambda cell: (cell[0], cell[1]),
    )
    protecting: set[Key] = set()
    for count, _, key in shown:
        if not 0 < hidden < threshold:
            break
        protecting.add(key)
        hidden += count
    return under, protecting


def _fewer(program: Program, what: str) -> str:
    return f"fewer than {program.min_group_size} {what}"


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1)


# -- feedback --------------------------------------------------------------------------------


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


def _main_rating(program: Program) -> Question | None:
    """The pulse survey's first scale question (its first numeric one failing that)."""
    rated = [q for survey, q in _rated(program) if survey == PULSE]
    scales = [q for q in rated if q.type is QuestionType.SCALE]
    first = scales or rated
    return first[0] if first else None


async def feedback_report(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Average ratings per question and their monthly trend; shares of single choices.

    An average (per question, and per question and month) is shown only where at least
    ``min_group_size`` answers make it up, a single choice's shares only where at least
    that many answered it; text answers are never shown.
    """
    threshold = program.min_group_size
    conn = await session.connection()
    found = await _read_answers(conn, program)
    rated = _rated(program)
    few = _fewer(program, "answers")

    averages: list[tuple[Cell, ...]] = []
    trend: list[tuple[Cell, ...]] = []
    protected = False
    #: The main rating's average by month: None where it is hidden.
    chart_points: dict[str, float | None] = {}
    main = _main_rating(program)
    for name, question in rated:
        months = found.ratings.get((name, question.id), {})
        overall = _Tally()
        for tally in months.values():
            overall.add(tally.count, tally.total)
        averages.append(
            (
                name,
                question.id,
                small(overall.count, program),
                None if overall.count == 0 else _shown_average(overall, threshold, few),
            )
        )
        ordered = sorted(months.items())
        under, protecting = withheld([(m, t.count) for m, t in ordered], threshold)
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
            trend.append((month, name, question.id, small(tally.count, program), average))
    trend.sort(key=lambda row: str(row[0]))
    # Sorted as YYYY-MM, shown as every report writes a month.
    trend = [(month_label(str(month)), *rest) for month, *rest in trend]

    shares: list[tuple[Cell, ...]] = []
    for name, question in _single_choices(program):
        picks = found.choices.get((name, question.id), _Choices())
        if picks.count < threshold:
            shares.append((name, question.id, small(picks.count, program), "", few))
            continue
        for choice in question.choices:
            picked = picks.by_option.get(choice.value, 0)
            shares.append(
                (name, question.id, picks.count, choice.label, _percent(picked, picks.count))
            )
        unlisted = picks.count - sum(picks.by_option.values())
        if unlisted:
            # Answers to options since removed from the program file.
            shares.append(
                (name, question.id, picks.count, "(other)", _percent(unlisted, picks.count))
            )

    responses = [
        (
            name,
            found.asked.get(name, 0),
            found.answered.get(name, 0),
            _percent(found.answered[name], found.asked[name]) if found.asked.get(name) else None,
        )
        for name in SURVEYS
    ]
    asked = sum(found.asked.values())
    answered = sum(found.answered.values())
    figures: list[tuple[str, str]] = [
        ("Surveys answered", f"{answered:,} of {asked:,} asked"),
        ("Response rate", f"{_percent(answered, asked)}%" if asked else "–"),
    ]
    if main is not None:
        pulse = _Tally()
        for tally in found.ratings.get((PULSE, main.id), {}).values():
            pulse.add(tally.count, tally.total)
        shown = _shown_average(pulse, threshold, few) if pulse.count else "no answers yet"
        scale = f" (of {main.max})" if main.max is not None and isinstance(shown, float) else ""
        figures.append((f"Average answer to “{main.prompt}”", f"{shown}{scale}"))

    chart, no_chart = (
        _rating_chart(main, chart_points, threshold) if main is not None else (None, "")
    )
    notes = [
        *((no_chart,) if no_chart else ()),
        f"An average or a share is shown only where at least {threshold} answers make it "
        f'up; otherwise "{few}". Text answers are never shown, nor anyone\'s own answers.',
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


def _shown_average(tally: _Tally, threshold: int, few: str) -> Cell:
    return tally.average if tally.count >= threshold else few


# -- equity of access ------------------------------------------------------------------------


@dataclass
class _Group:
    """Mentees in one group: how many, how many matched, and their days to a match."""

    mentees: int = 0
    matched: int = 0
    days: float = 0.0
    timed: int = 0

    def add(self, other: _Group) -> None:
        self.mentees += other.mentees
        self.matched += other.matched
        self.days += other.days
        self.timed += other.timed

    def less(self, other: _Group) -> _Group:
        return _Group(
            self.mentees - other.mentees,
            self.matched - other.matched,
            self.days - other.days,
            self.timed - other.timed,
        )


def _mentees(sql: ReportSql, program: Program) -> sa.CTE:
    """Each mentee of the program with their profile, whether matched, and days to match."""
    first = (
        sa.select(PAIRING.c.mentee_id, sa.func.min(PAIRING.c.activated_at).label("first_active"))
        .where(PAIRING.c.program == program.id, PAIRING.c.status.in_(PAIRED))
        .group_by(PAIRING.c.mentee_id)
        .subquery("first_match")
    )
    return (
        sa.select(
            PERSON.c.department,
            PERSON.c.level,
            PERSON.c.location,
            PERSON.c.attributes,
            sa.case((first.c.mentee_id.is_not(None), 1), else_=0).label("matched"),
            sql.days(first.c.first_active, ENROLLMENT.c.enrolled_at).label("days"),
        )
        .select_from(
            ENROLLMENT.join(PERSON, PERSON.c.id == ENROLLMENT.c.person_id).outerjoin(
                first, first.c.mentee_id == ENROLLMENT.c.person_id
            )
        )
        .where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == Role.MENTEE.value,
        )
        .cte("mentees")
    )


def _tallies(mentees: sa.CTE) -> list[sa.ColumnElement[Any]]:
    return [
        sa.func.count(),
        sa.func.sum(mentees.c.matched),
        sa.func.sum(mentees.c.days),
        sa.func.count(mentees.c.days),
    ]


def _label(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return text or NOT_GIVEN


async def _groups(
    conn: AsyncConnection, program: Program
) -> tuple[_Group, dict[str, dict[str, _Group]]]:
    """Everyone's figures, and each dimension's groups (profile fields, then attributes)."""
    sql = ReportSql.of(conn)
    mentees = _mentees(sql, program)
    fields = {
        "department": mentees.c.department,
        "level": sa.cast(mentees.c.level, sa.String),
        "location": mentees.c.location,
    }
    query = sa.union_all(
        *(
            sa.select(sa.literal(name, sa.String), value, *_tallies(mentees)).group_by(value)
            for name, value in fields.items()
        )
    )
    dimensions: dict[str, dict[str, _Group]] = {name: defaultdict(_Group) for name in fields}
    for name, value, *figures in (await conn.execute(query)).all():
        dimensions[name][_label(value)].add(_as_group(figures))
    everyone = _Group()
    for group in dimensions["department"].values():
        everyone.add(group)

    pairs = sql.attributes(mentees.c.attributes)
    given = (
        sa.select(pairs.c.key, pairs.c.value, *_tallies(mentees))
        .select_from(mentees.join(pairs, sa.true()))
        .where(pairs.c.value.is_not(None))
        .group_by(pairs.c.key, pairs.c.value)
    )
    attributes: dict[str, dict[str, _Group]] = defaultdict(lambda: defaultdict(_Group))
    for key, value, *figures in (await conn.execute(given)).all():
        label = _label(value)
        if label != NOT_GIVEN:
            attributes[str(key)][label].add(_as_group(figures))
    for key in sorted(attributes):
        groups = attributes[key]
        gave = _Group()
        for group in groups.values():
            gave.add(group)
        rest = everyone.less(gave)
        if rest.mentees:
            groups[NOT_GIVEN].add(rest)
        # An attribute may share a profile field's name; it stays a dimension of its own.
        dimensions[key if key not in dimensions else f"{key} (self-identified)"] = groups
    return everyone, dimensions


def _as_group(figures: Sequence[Any]) -> _Group:
    mentees, matched, days, timed = figures
    return _Group(int(mentees), int(matched or 0), float(days or 0.0), int(timed))


def _order(dimension: str, labels: Iterable[str]) -> list[str]:
    def key(label: str) -> tuple[int, float, str]:
        if label == NOT_GIVEN:
            return (2, 0.0, label)
        if dimension == "level":
            try:
                return (0, float(label), label)
            except ValueError:
                return (1, 0.0, label)
        return (0, 0.0, label.casefold())

    return sorted(labels, key=key)


@dataclass(frozen=True)
class _Protected:
    """A dimension's rows after small groups are folded and small figures hidden."""

    rows: list[tuple[Cell, ...]]
    folded_larger: bool
    withheld_time: bool


def _protect(dimension: str, groups: dict[str, _Group], program: Program) -> _Protected:
    """One dimension's rows: small groups are not named, only counted in "other".

    The groups under the threshold go into one "other" row and get no row of their own:
    a group's name next to "fewer than N" already says that someone in it enrolled. If
    "other" would itself be under the threshold, the smallest groups above it join it (so
    nothing can be worked out from the total); they are large enough to be named, so they
    are, marked "in other". "Other" obeys the rule too: its count may read "fewer than N".
    Mean days to match is shown where at least the threshold of matched mentees make it
    up, with the same protection.
    """
    threshold = program.min_group_size
    labels = _order(dimension, groups)
    under, protecting = withheld([(label, groups[label].mentees) for label in labels], threshold)
    other_label = f"other (groups under {threshold})"
    folded = under | protecting
    shown = [label for label in labels if label not in folded]
    other = _Group()
    for label in folded:
        other.add(groups[label])
    figured = shown + ([other_label] if folded else [])
    figures = {label: groups[label] for label in shown}
    if folded:
        figures[other_label] = other
    slow, guarded = withheld(
        [(label, figures[label].timed) for label in figured if figures[label].mentees >= threshold],
        threshold,
    )

    def row(label: str) -> tuple[Cell, ...]:
        group = figures[label]
        if group.mentees < threshold:
            return (dimension, label, small(group.mentees, program), None, None)
        days: Cell
        if group.timed == 0:
            days = None
        elif label in slow:
            days = _fewer(program, "matched")
        elif label in guarded:
            days = "withheld"
        else:
            days = round(group.days / group.timed, 1)
        return (dimension, label, group.mentees, _percent(group.matched, group.mentees), days)

    rows: list[tuple[Cell, ...]] = []
    for label in labels:
        if label in under:
            continue
        if label in protecting:
            rows.append((dimension, label, "in other", None, None))
        else:
            rows.append(row(label))
    if folded:
        rows.append(row(other_label))
    return _Protected(rows, bool(protecting), bool(guarded))


async def equity_report(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Mentees, match rate and days to match by department, level, location and attributes.

    Self-identified attributes are those people chose to give (``Person.attributes``),
    each value a group; everyone who did not give one is "(not given)".
    """
    threshold = program.min_group_size
    conn = await session.connection()
    everyone, dimensions = await _groups(conn, program)
    mentors = (
        await conn.execute(
            sa.select(sa.func.count()).where(
                ENROLLMENT.c.program == program.id,
                ENROLLMENT.c.role == Role.MENTOR.value,
            )
        )
    ).scalar_one()

    rows: list[tuple[Cell, ...]] = []
    folded_larger = withheld_time = False
    chart_bars: list[tuple[str, float]] = []
    for dimension, groups in dimensions.items():
        protected = _protect(dimension, groups, program)
        rows += protected.rows
        folded_larger = folded_larger or protected.folded_larger
        withheld_time = withheld_time or protected.withheld_time
        if dimension == "department":
            chart_bars = [
                (str(label), rate)
                for _, label, _, rate, _ in protected.rows
                if isinstance(rate, float)
            ]

    enough = everyone.mentees >= threshold
    figures = [
        ("Mentees enrolled", str(small(everyone.mentees, program))),
        (
            "Matched",
            f"{_percent(everyone.matched, everyone.mentees)}%" if enough else "–",
        ),
        (
            "Mean days to match",
            f"{everyone.days / everyone.timed:.1f}"
            if everyone.timed >= threshold
            else _fewer(program, "matched")
            if everyone.timed
            else "none matched yet",
        ),
        ("Mentors enrolled", str(small(mentors, program))),
    ]
    notes = [
        "Mentees: everyone who enrolled as a mentee, including those who left or finished. "
        "Matched: has had an active pairing (active now or ended). Days to match: from "
        "enrolling to the first pairing becoming active, for those matched.",
        f"A group of fewer than {threshold} mentees is not shown by name: it is counted only "
        f'in "other (groups under {threshold})", itself shown as "fewer than {threshold}" '
        "when small. Attributes are only those people chose to give; each value is a group.",
    ]
    if folded_larger:
        notes.append(
            'A group marked "in other" is large enough to show, but is folded into "other" '
            f"because the smaller groups alone would be fewer than {threshold} and could be "
            "worked out from the total."
        )
    if withheld_time:
        notes.append(
            'Days to match marked "withheld" rest on enough mentees, but are hidden so that '
            "a smaller group's cannot be worked out from the overall mean."
        )
    chart, no_chart = checked_chart(
        Chart(
            "bar",
            "Match rate by department",
            tuple(label for label, _ in chart_bars),
            (("matched (%)", tuple(rate for _, rate in chart_bars)),),
            y_label="% of mentees matched",
            scale=(0.0, 100.0),
        ),
        all_zero="No chart of match rates by department: no mentee has been matched yet.",
        all_hidden="No chart of match rates by department: no department has "
        f"{threshold} mentees or more to show a rate for.",
    )
    if no_chart:
        notes.insert(0, no_chart)
    return Report(
        "equity",
        "Equity of access: who gets matched, and how fast",
        tuple(figures),
        (
            Table(
                "Mentees by group",
                ("dimension", "group", "mentees", "matched (%)", "mean days to match"),
                tuple(rows),
            ),
        ),
        chart,
        tuple(notes),
    )


# -- the per-pair export ---------------------------------------------------------------------

EXPORT_COLUMNS = (
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
#: The columns that could point at a person (by their index), and how each is generalised
#: so that every combination covers ``min_group_size`` pairings (k-anonymity).
EXPORT_QUASI_IDENTIFIERS: dict[int, Hierarchy] = {
    EXPORT_COLUMNS.index(hierarchy.column): hierarchy
    for hierarchy in (
        Groups("mentee_department"),
        Bands("mentee_level"),
        Groups("mentor_department"),
        Bands("mentor_level"),
    )
}


def _export_query(program: Program) -> sa.Select[Any]:
    """One row per pairing that became active, with its figures from grouped subqueries.

    Sessions and pulse answers are grouped for every program at once (one pass over each
    table); the join keeps this program's pairings.
    """
    sessions = (
        sa.select(
            SESSION_LOG.c.pairing_id,
            sa.func.count().label("logged"),
            sa.func.sum(SESSION_LOG.c.minutes).label("minutes"),
            sa.func.max(SESSION_LOG.c.held_on).label("last"),
        )
        .group_by(SESSION_LOG.c.pairing_id)
        .subquery("sessions")
    )
    plan = (
        sa.select(
            MILESTONE.c.pairing_id,
            sa.func.count(sa.case((MILESTONE.c.status == MilestoneStatus.DONE.value, 1))).label(
                "done"
            ),
            sa.func.count().label("total"),
        )
        .select_from(
            MILESTONE.join(
                PAIRING,
                sa.and_(
                    PAIRING.c.id == MILESTONE.c.pairing_id, PAIRING.c.cycle == MILESTONE.c.cycle
                ),
            )
        )
        .where(PAIRING.c.program == program.id, PAIRING.c.status.in_(PAIRED))
        .group_by(MILESTONE.c.pairing_id)
        .subquery("plan")
    )
    # Grouped by the column, SQLite would walk its index and fetch each answer from
    # wherever it lies (answers arrive over time, scattered): an expression makes it
    # scan the table once and sort, several times faster. The cast keeps the integer
    # affinity that lets SQLite index the grouped rows for the join.
    answered_in = sa.cast(FEEDBACK.c.pairing_id + sa.literal_column("0"), sa.Integer)
    pulses = (
        sa.select(answered_in.label("pairing_id"), sa.func.count().label("answered"))
        .where(FEEDBACK.c.survey == PULSE, FEEDBACK.c.status == FeedbackStatus.ANSWERED.value)
        .group_by(answered_in)
        .subquery("pulses")
    )
    mentee = PERSON.alias("mentee")
    mentor = PERSON.alias("mentor")
    return (
        sa.select(
            PAIRING.c.id,
            PAIRING.c.program,
            mentee.c.department,
            mentee.c.level,
            mentor.c.department,
            mentor.c.level,
            PAIRING.c.status,
            PAIRING.c.activated_at,
            PAIRING.c.closed_at,
            sessions.c.logged,
            sessions.c.minutes,
            sessions.c.last,
            PAIRING.c.missed_checkins,
            PAIRING.c.at_risk_since,
            plan.c.done,
            plan.c.total,
            pulses.c.answered,
        )
        .select_from(
            PAIRING.join(mentee, mentee.c.id == PAIRING.c.mentee_id)
            .join(mentor, mentor.c.id == PAIRING.c.mentor_id)
            .outerjoin(sessions, sessions.c.pairing_id == PAIRING.c.id)
            .outerjoin(plan, plan.c.pairing_id == PAIRING.c.id)
            .outerjoin(pulses, pulses.c.pairing_id == PAIRING.c.id)
        )
        .where(PAIRING.c.program == program.id, PAIRING.c.status.in_(PAIRED))
        .order_by(PAIRING.c.id)
    )


def _moment(value: datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


async def export_report(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Per-pair figures as one table (``report export --format csv`` writes it as CSV).

    No notes, summaries or ratings: only counts, dates and the two sides' department
    and level, generalised until every combination of them covers at least
    ``min_group_size`` pairings (:func:`handlers.reports.anonymity.k_anonymous`; the table's note
    says how).
    """
    conn = await session.connection()
    rows: list[tuple[Cell, ...]] = []
    for (
        pairing_id,
        program_id,
        mentee_department,
        mentee_level,
        mentor_department,
        mentor_level,
        status,
        activated_at,
        closed_at,
        logged,
        minutes,
        last,
        missed,
        at_risk_since,
        done,
        total,
        pulses,
    ) in (await conn.execute(_export_query(program))).all():
        end = closed_at if status == PairingStatus.ENDED.value and closed_at else now
        last_session: date | None = last
        rows.append(
            (
                pairing_id,
                program_id,
                mentee_department,
                mentee_level,
                mentor_department,
                mentor_level,
                status,
                _moment(activated_at),
                None if activated_at is None else max(0, (end - activated_at).days),
                logged or 0,
                minutes or 0,
                "" if last_session is None else last_session.isoformat(),
                missed,
                "yes" if status == PairingStatus.ACTIVE.value and at_risk_since else "no",
                done or 0,
                total or 0,
                pulses or 0,
            )
        )
    threshold = program.min_group_size
    shown = k_anonymous(rows, EXPORT_QUASI_IDENTIFIERS, threshold)
    active = sum(1 for row in shown.rows if row[6] == PairingStatus.ACTIVE.value)
    figures = [
        ("Pairings", f"{len(shown.rows):,}"),
        ("Active", f"{active:,}"),
        ("Ended", f"{len(shown.rows) - active:,}"),
    ]
    if shown.left_out:
        figures.append(("Left out so that no one stands out", str(small(shown.left_out, program))))
    note = shown.note("pairings")
    return Report(
        "export",
        "Export: figures per pairing",
        tuple(figures),
        (Table("Figures per pairing", EXPORT_COLUMNS, shown.rows, note),),
        None,
        (
            "One row per pairing that became active (active now, or ended). Days active run "
            "to the end of an ended pairing, or to now. Milestones are those of the current "
            "(or last) cycle's plan. At risk: an active pairing flagged for missed check-ins.",
            "No names, session notes, summaries, comments or ratings are included.",
        ),
    )


#: The kinds this module offers, in the order ``report`` lists them.
KINDS: list[Kind] = [
    Kind("feedback", "average ratings per question and their monthly trend", feedback_report),
    Kind("equity", "enrollment, match rate and time to match by group", equity_report),
    Kind("export", "per-pair figures as a table (CSV with --format csv)", export_report),
]
