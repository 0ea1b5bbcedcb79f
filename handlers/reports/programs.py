"""``report programs``: one row per program, side by side.

Participants by role, active pairs, the waitlist and its median wait, sessions per pair
per month, the share of active pairs at risk, and the calibration survey's mean fit. Each
figure is worked out as the program's own report works it out (overview, cadence,
at-risk), and each row obeys the small-group rule with its program's ``min_group_size``
(:mod:`handlers.reports.suppression`). There is no total row: a total less the shown cells
would give a hidden one away.

A global lead sees every program of the file and every archived one that still has rows;
a program lead sees the programs they lead (:func:`handlers.reports.catalogue.run_report`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Cell, Kind, Report, Table
from handlers.core.messages import noun
from handlers.core.program import Program
from handlers.reports.at_risk import attention_flags
from handlers.reports.cadence import headline_rate, monthly_sessions
from handlers.reports.circles import (
    circle_counts,
    circle_rate,
    circles_at_risk,
    is_circles,
    monthly_circle_sessions,
)
from handlers.reports.queries import (
    ACTIVE,
    ENROLLMENT,
    FEEDBACK,
    PAIRING,
    RATE_MONTHS,
    fetch_tally,
    middle_values,
    months_before,
    program_today,
    waiting_list,
    waiting_since,
)
from handlers.reports.sql import ReportSql
from handlers.reports.suppression import (
    average_cell,
    count_cell,
    fewer_than,
    is_small,
    number,
    percent,
    share_figure,
    small_groups_note,
)
from storage import EnrollmentStatus, FeedbackStatus, Role

#: The calibration survey, and its question whose answers are averaged as "fit".
CALIBRATION, FIT = "calibration", "fit"
ROLES = (Role.MENTEE.value, Role.MENTOR.value, Role.PEER.value)
COLUMNS = (
    "program",
    "type",
    "mentees",
    "mentors",
    "peers",
    "active pairs",
    "waitlist",
    "median wait (days)",
    "sessions per pair per month",
    "at-risk share",
    "calibration fit",
)


class AcrossBuilder(Protocol):
    """Builds a report across programs: ``await across(session, programs, now=now)``."""

    def __call__(
        self, session: AsyncSession, programs: Sequence[Program], /, *, now: datetime
    ) -> Awaitable[Report]:
        """The report on ``programs`` as they stand at ``now``."""
        ...


@dataclass(frozen=True)
class AcrossKind(Kind):
    """A report kind across programs; ``build`` reports on one program as its only row."""

    across: AcrossBuilder


async def _participants(conn: AsyncConnection, program_id: str) -> dict[str, int]:
    """People enrolled (and not left), by role."""
    return await fetch_tally(
        conn,
        sa.select(ENROLLMENT.c.role, sa.func.count())
        .where(
            ENROLLMENT.c.program == program_id,
            ENROLLMENT.c.status != EnrollmentStatus.LEFT.value,
        )
        .group_by(ENROLLMENT.c.role),
    )


async def _at_risk(conn: AsyncConnection, program: Program, now: datetime) -> tuple[int, int]:
    """Active pairs, and those ``report at-risk`` lists for missed check-ins, silence or a no."""
    pair = PAIRING.alias("pair")
    flags = attention_flags(pair, program, now=now)
    row = (
        await conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(sa.or_(*(flag.element for flag in flags))),
            ).where(pair.c.program == program.id, pair.c.status == ACTIVE)
        )
    ).one()
    return int(row[0]), int(row[1] or 0)


async def _fit(conn: AsyncConnection, program_id: str) -> tuple[int, float | None]:
    """How many people answered the calibration's fit question, and the mean answer."""
    fit = ReportSql.of(conn).number(FEEDBACK.c.answers, FIT)
    row = (
        await conn.execute(
            sa.select(
                sa.func.count(sa.distinct(sa.case((fit.is_not(None), FEEDBACK.c.respondent_id)))),
                sa.func.avg(fit),
            ).where(
                FEEDBACK.c.program == program_id,
                FEEDBACK.c.survey == CALIBRATION,
                FEEDBACK.c.status == FeedbackStatus.ANSWERED.value,
            )
        )
    ).one()
    return int(row[0]), None if row[1] is None else float(row[1])


async def _circle_cells(
    conn: AsyncConnection, program: Program, months: list[tuple[date, date]], now: datetime
) -> tuple[Cell, Cell, Cell]:
    """A circles program's active circles, sessions per circle per month and at-risk share.

    Written with their unit ("4 circles", "1.5 per circle") in the columns pairs fill, so
    no one reads a circle as a pair; circles are counted as they are.
    """
    counts = await circle_counts(conn, program)
    held, circles = await monthly_circle_sessions(conn, program, months)
    rate = circle_rate(sum(held), sum(circles))
    flagged = len(await circles_at_risk(conn, program, now=now))
    return (
        f"{number(counts.active)} {noun(counts.active, 'circle')}",
        None if rate is None else f"{rate:.1f} per circle",
        f"{percent(flagged, counts.active)}%" if counts.active else None,
    )


async def program_row(conn: AsyncConnection, program: Program, now: datetime) -> tuple[Cell, ...]:
    """One program's row of ``report programs``, small groups hidden."""
    k = program.min_group_size
    participants = await _participants(conn, program.id)
    waiting, longest = await middle_values(
        conn, sa.select(waiting_since().label("since")).where(waiting_list(program))
    )

    def median_wait() -> Cell:
        median_since: datetime = longest[0] + (longest[-1] - longest[0]) / 2
        return round((now - median_since).total_seconds() / 86400, 1)

    months = months_before(program_today(program, now), RATE_MONTHS)
    active_cell: Cell
    rate: Cell
    at_risk: Cell
    if is_circles(program):
        active_cell, rate, at_risk = await _circle_cells(conn, program, months, now)
    else:
        held, paired = await monthly_sessions(conn, program, months)
        rate = headline_rate(held, paired, k=k)
        if rate == "withheld" and all(is_small(p, k) or not p for p in paired):
            # Every month had too few pairs: the figure rests on a small group, not beside one.
            rate = fewer_than(k, "pairs")
        active, flagged = await _at_risk(conn, program, now)
        active_cell = count_cell(active, k)
        at_risk = share_figure(flagged, active, k=k) or (fewer_than(k) if active else None)
    answered, mean_fit = await _fit(conn, program.id)
    fit = average_cell(
        answered,
        k,
        average=lambda: None if mean_fit is None else round(mean_fit, 2),
        unit="answered",
    )
    roles = {role for role in ROLES if role in {r.value for r in program.roles}}
    return (
        f"{program.id} (archived)" if program.archived else program.id,
        program.type.value,
        *(
            count_cell(participants.get(role, 0), k)
            if role in roles or participants.get(role)
            else None
            for role in ROLES
        ),
        active_cell,
        count_cell(waiting, k),
        average_cell(waiting, k, average=median_wait, unit="waiting", none=None),
        rate,
        at_risk,
        fit,
    )


async def programs_report(
    session: AsyncSession, programs: Sequence[Program], *, now: datetime
) -> Report:
    """Each program's participants, pairs, waitlist, cadence, risk and fit, one row each."""
    conn = await session.connection()
    rows = tuple([await program_row(conn, program, now) for program in programs])
    sizes = sorted({program.min_group_size for program in programs})
    archived = sum(program.archived for program in programs)
    figures = (
        ("Programs", str(len(programs) - archived)),
        *((("Archived programs (no longer in the file)", str(archived)),) if archived else ()),
    )
    scales = sorted(
        {
            f"{question.min:g} to {question.max:g}"
            for program in programs
            for question in program.feedback.surveys.of(CALIBRATION)
            if question.id == FIT and question.min is not None and question.max is not None
        }
    )
    notes = (
        "Participants: enrolled and not left. Waitlist: mentees (peers, in a peer program) "
        "waiting for a match with no open proposal; the median wait counts from when they "
        "first joined it.",
        f"Sessions per pair per month: sessions held in the last {RATE_MONTHS} full months "
        "over the pairs active in each of them (as in report cadence); withheld when one of "
        "those months had too few active pairs to show.",
        "At-risk share: active pairs that report at-risk lists for missed check-ins, silence "
        "or a 'no' at calibration.",
        *(
            (
                "A circles program's row counts circles where pairs are counted: its active "
                "circles, sessions per circle per month and the share of its active circles "
                "that report at-risk lists; it has no calibration fit.",
            )
            if any(is_circles(program) for program in programs)
            else ()
        ),
        "Calibration fit: the mean answer to the calibration survey's fit question"
        + (f" ({', '.join(scales)})" if scales else "")
        + ", shown where enough different people answered.",
        *(small_groups_note(k) for k in sizes),
    )
    return Report(
        "programs",
        "Programs side by side",
        figures,
        (Table("Programs", COLUMNS, rows),),
        None,
        notes,
    )


async def _one_program(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """``report programs`` on one program: its row alone."""
    return await programs_report(session, [program], now=now)


KIND = AcrossKind(
    "programs",
    "one row per program: participants, pairs, waitlist, cadence, risk, fit",
    _one_program,
    programs_report,
)
