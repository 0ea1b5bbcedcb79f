"""``report milestones``: milestone progress across active pairs' current plans."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Kind, Report, Table
from handlers.core.program import Program
from handlers.reports.queries import ACTIVE, MILESTONE, PAIRING, fetch_tally, program_today
from handlers.reports.suppression import (
    count_cell,
    count_figure,
    number,
    share_figure,
    small_groups_note,
)
from storage import MilestoneStatus


async def milestones(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """Milestone progress across active pairs' current plans."""
    conn = await session.connection()
    program_id = program.id
    k = program.min_group_size
    today = program_today(program, now)
    done = MILESTONE.c.status == MilestoneStatus.DONE.value
    overdue = sa.and_(~done, MILESTONE.c.target_date < today)
    current = sa.and_(MILESTONE.c.pairing_id == PAIRING.c.id, MILESTONE.c.cycle == PAIRING.c.cycle)
    active_here = sa.and_(PAIRING.c.program == program_id, PAIRING.c.status == ACTIVE)

    per_pair = (
        sa.select(
            sa.func.count(MILESTONE.c.id).label("planned"),
            sa.func.count(MILESTONE.c.id).filter(done).label("done"),
            sa.func.max(sa.case((PAIRING.c.plan_confirmed_at.is_not(None), 1), else_=0)).label(
                "confirmed"
            ),
        )
        .select_from(PAIRING.outerjoin(MILESTONE, current))
        .where(active_here)
        .group_by(PAIRING.c.id)
        .subquery()
    )
    progress = sa.case(
        (per_pair.c.planned == 0, "no plan yet"),
        (per_pair.c.done == 0, "none done yet"),
        (per_pair.c.done < per_pair.c.planned, "some done"),
        else_="all done",
    )
    by_progress = await fetch_tally(
        conn, sa.select(progress, sa.func.count()).select_from(per_pair).group_by(progress)
    )
    confirmed = int(
        await conn.scalar(
            sa.select(sa.func.count())
            .select_from(per_pair)
            .where(per_pair.c.planned > 0, per_pair.c.confirmed == 1)
        )
        or 0
    )
    active = sum(by_progress.values())
    planned = active - by_progress.get("no plan yet", 0)

    by_position = (
        await conn.execute(
            sa.select(
                MILESTONE.c.position,
                sa.func.count(),
                sa.func.count().filter(done),
                sa.func.count().filter(MILESTONE.c.status == MilestoneStatus.ON_TRACK.value),
                sa.func.count().filter(MILESTONE.c.status == MilestoneStatus.NOT_STARTED.value),
                sa.func.count().filter(overdue),
            )
            .select_from(MILESTONE.join(PAIRING, current))
            .where(active_here)
            .group_by(MILESTONE.c.position)
            .order_by(MILESTONE.c.position)
        )
    ).all()
    totals = [sum(int(row[i]) for row in by_position) for i in range(1, 6)]
    total, done_n, on_track, not_started, overdue_n = totals

    positions = tuple(
        (
            f"milestone {position}",
            count_cell(int(n), k),
            count_cell(int(d), k),
            count_cell(int(t), k),
            count_cell(int(s), k),
            count_cell(int(o), k),
            share_figure(int(d), int(n), k=k),
        )
        for position, n, d, t, s, o in by_position
    )
    progress_rows = tuple(
        (
            label,
            count_cell(by_progress.get(label, 0), k),
            share_figure(by_progress.get(label, 0), active, k=k),
        )
        for label in ("no plan yet", "none done yet", "some done", "all done")
    )

    def of(n: int, whole: int) -> str:
        share = share_figure(n, whole, k=k)
        return f"{number(n)} ({share})" if share else count_figure(n, k)

    def of_total(n: int) -> str:
        return of(n, total)

    figures = (
        ("Active pairs", count_figure(active, k)),
        ("With a plan this cycle", of(planned, active)),
        ("Plan confirmed by the mentor", count_figure(confirmed, k)),
        ("Milestones in current plans", count_figure(total, k)),
        ("Done", of_total(done_n)),
        ("On track", of_total(on_track)),
        ("Not started", of_total(not_started)),
        ("Overdue (target date passed, not done)", of_total(overdue_n)),
    )
    tables = (
        Table(
            "Milestones by place in the plan",
            ("milestone", "pairs with one", "done", "on track", "not started", "overdue", "done %"),
            positions,
        ),
        Table("Active pairs by progress", ("progress", "pairs", "share"), progress_rows),
    )
    notes = (
        "Only active pairs' plans for their current cycle count; objectives are not shown.",
        "Overdue: not done and its target date is before today.",
        small_groups_note(k),
    )
    return Report("milestones", "Milestone progress", figures, tables, None, notes)


KIND = Kind("milestones", "milestone progress across active pairs", milestones)
