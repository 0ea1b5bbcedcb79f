"""``report export``: per-pair figures as one table (CSV with ``--format csv``).

No names, notes, summaries or ratings: counts, dates and the two sides' department and
level, made k-anonymous (:mod:`handlers.reports.anonymity`) so that no combination of them
picks anyone out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Cell, Kind, Report, Table
from handlers.core.program import Program
from handlers.reports.anonymity import Bands, Groups, Hierarchy, k_anonymous
from handlers.reports.queries import FEEDBACK, MILESTONE, PAIRED, PAIRING, PERSON, PULSE, SESSION
from handlers.reports.suppression import count_figure
from storage import FeedbackStatus, MilestoneStatus, PairingStatus

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
            SESSION.c.pairing_id,
            sa.func.count().label("logged"),
            sa.func.sum(SESSION.c.minutes).label("minutes"),
            sa.func.max(SESSION.c.held_on).label("last"),
        )
        .group_by(SESSION.c.pairing_id)
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


async def export_report(session: AsyncSession, program: Program, *, now: datetime) -> Report:
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
    shown = k_anonymous(rows, EXPORT_QUASI_IDENTIFIERS, k=threshold)
    active = sum(1 for row in shown.rows if row[6] == PairingStatus.ACTIVE.value)
    figures = [
        ("Pairings", f"{len(shown.rows):,}"),
        ("Active", f"{active:,}"),
        ("Ended", f"{len(shown.rows) - active:,}"),
    ]
    if shown.left_out:
        figures.append(
            ("Left out so that no one stands out", count_figure(shown.left_out, threshold))
        )
    note = shown.note("pairings", one="pairing")
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


KIND = Kind("export", "per-pair figures as a table (CSV with --format csv)", export_report)
