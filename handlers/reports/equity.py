"""``report equity``: mentees, match rate and days to match by group.

Groups are departments, levels, locations and the attributes people chose to give. A
group of fewer than ``program.min_group_size`` mentees is never named: it is counted in
"other", and larger groups join it when "other" alone could be worked out from the total
(:func:`handlers.reports.suppression.withheld`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Cell, Chart, Kind, Report, Table, checked_chart
from handlers.core.program import Program
from handlers.reports.queries import ENROLLMENT, PAIRED, PAIRING, PERSON, percent_to_tenth
from handlers.reports.sql import ReportSql
from handlers.reports.suppression import (
    average_cell,
    count_cell,
    count_figure,
    enough,
    fewer_than,
    is_small,
    withheld,
)
from storage import Role

NOT_GIVEN = "(not given)"


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
    withheld_figure: bool


def _protect(dimension: str, groups: dict[str, _Group], program: Program) -> _Protected:
    """One dimension's rows: small groups are not named, only counted in "other".

    The groups under the threshold go into one "other" row and get no row of their own:
    a group's name next to "fewer than N" already says that someone in it enrolled. If
    "other" would itself be under the threshold, the smallest groups above it join it (so
    nothing can be worked out from the total); they are large enough to be named, so they
    are, marked "in other". "Other" obeys the rule too: its count may read "fewer than N".
    The match rate and mean days to match are shown where at least the threshold of
    matched mentees make them up (a rate of none is 0%), with the same protection: the
    rate would give the number matched away, and the overall rate the rest.
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
    named = [label for label in figured if figures[label].mentees >= threshold]
    few_matched, rate_guarded = withheld(
        [(label, figures[label].matched) for label in named], threshold
    )
    slow, guarded = withheld([(label, figures[label].timed) for label in named], threshold)

    def row(label: str) -> tuple[Cell, ...]:
        group = figures[label]
        if not enough(group.mentees, threshold):
            return (dimension, label, count_cell(group.mentees, threshold), None, None)
        rate: Cell
        if label in few_matched:
            rate = fewer_than(threshold, "matched")
        elif label in rate_guarded:
            rate = "withheld"
        else:
            rate = percent_to_tenth(group.matched, group.mentees)
        days: Cell
        if group.timed == 0:
            days = None
        elif label in slow:
            days = fewer_than(threshold, "matched")
        elif label in guarded:
            days = "withheld"
        else:
            days = round(group.days / group.timed, 1)
        return (
            dimension,
            label,
            group.mentees,
            rate,
            days,
        )

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
    return _Protected(rows, bool(protecting), bool(guarded or rate_guarded))


def _matched_figure(everyone: _Group, threshold: int) -> str:
    """The headline share matched: none of too few mentees, and no share of too few matched."""
    if not enough(everyone.mentees, threshold):
        return "–"
    if is_small(everyone.matched, threshold):
        return fewer_than(threshold)
    return f"{percent_to_tenth(everyone.matched, everyone.mentees)}%"


async def equity_report(session: AsyncSession, program: Program, *, now: datetime) -> Report:
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
    folded_larger = withheld_figure = False
    chart_bars: list[tuple[str, float]] = []
    for dimension, groups in dimensions.items():
        protected = _protect(dimension, groups, program)
        rows += protected.rows
        folded_larger = folded_larger or protected.folded_larger
        withheld_figure = withheld_figure or protected.withheld_figure
        if dimension == "department":
            chart_bars = [
                (str(label), rate)
                for _, label, _, rate, _ in protected.rows
                if isinstance(rate, float)
            ]

    figures = [
        ("Mentees enrolled", count_figure(everyone.mentees, threshold)),
        ("Matched", _matched_figure(everyone, threshold)),
        (
            "Mean days to match",
            str(
                average_cell(
                    everyone.timed,
                    threshold,
                    average=lambda: f"{everyone.days / everyone.timed:.1f}",
                    unit="matched",
                    none="none matched yet",
                )
            ),
        ),
        ("Mentors enrolled", count_figure(mentors, threshold)),
    ]
    notes = [
        "Mentees: everyone who enrolled as a mentee, including those who left or finished. "
        "Matched: has had an active pairing (active now or ended). Days to match: from "
        "enrolling to the first pairing becoming active, for those matched.",
        f"A group of fewer than {threshold} mentees is not shown by name: it is counted only "
        f'in "other (groups under {threshold})", itself shown as "fewer than {threshold}" '
        "when small. Attributes are only those people chose to give; each value is a group.",
        f"A group's match rate and days to match are shown where at least {threshold} of it "
        f'are matched (none matched is 0%); otherwise they read "fewer than {threshold} '
        'matched".',
    ]
    if folded_larger:
        notes.append(
            'A group marked "in other" is large enough to show, but is folded into "other" '
            f"because the smaller groups alone would be fewer than {threshold} and could be "
            "worked out from the total."
        )
    if withheld_figure:
        notes.append(
            'A match rate or days to match marked "withheld" rests on enough mentees, but is '
            "hidden so that a smaller group's cannot be worked out from the overall figure."
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


KIND = Kind("equity", "enrollment, match rate and time to match by group", equity_report)
