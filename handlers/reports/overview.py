"""``report overview``: participants by role and status, pairs, the waitlist, time to match."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Cell, Kind, Report, Table
from handlers.core.program import Program
from handlers.reports.circles import circle_counts, is_circles
from handlers.reports.queries import (
    ACTIVE,
    ENROLLMENT,
    OPEN,
    PAIRING,
    PROPOSALS,
    days_text,
    fetch_rows,
    middle_values,
    waiting_list,
    waiting_since,
)
from handlers.reports.sql import ReportSql
from handlers.reports.suppression import (
    average_cell,
    count_cell,
    count_figure,
    number,
    small_groups_note,
)
from storage import EnrollmentStatus, Role

ROLE_ORDER = (Role.MENTEE.value, Role.MENTOR.value)
STATUS_ORDER = tuple(s.value for s in EnrollmentStatus)


async def overview(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """Participants by role and status, pairs, the waitlist, and how long matching takes.

    For a circles program: its circles in place of pairs (:func:`_circles_overview`).
    """
    conn = await session.connection()
    program_id = program.id
    k = program.min_group_size

    by_role_status, participants = await _participants(conn, program)

    def enrolled(role: Role) -> int:
        return _enrolled(by_role_status, role)

    if is_circles(program):
        return await _circles_overview(
            conn, program, now=now, enrolled=enrolled, table=participants
        )

    pairs = (
        await conn.execute(
            sa.select(
                sa.func.count().filter(PAIRING.c.status == ACTIVE),
                sa.func.count().filter(PAIRING.c.status.in_(PROPOSALS)),
            ).where(PAIRING.c.program == program_id, PAIRING.c.status.in_(OPEN))
        )
    ).one()
    active, proposals = int(pairs[0]), int(pairs[1])

    waiting, median_wait = await _waitlist(conn, program, now=now)

    # Each mentee's first pairing to become active since they (last) enrolled.
    first = (
        sa.select(
            ENROLLMENT.c.enrolled_at,
            sa.func.min(PAIRING.c.activated_at).label("matched_at"),
        )
        .select_from(
            PAIRING.join(
                ENROLLMENT,
                sa.and_(
                    ENROLLMENT.c.person_id == PAIRING.c.mentee_id,
                    ENROLLMENT.c.program == PAIRING.c.program,
                    ENROLLMENT.c.role == Role.MENTEE.value,
                ),
            )
        )
        .where(
            PAIRING.c.program == program_id,
            PAIRING.c.activated_at.is_not(None),
            PAIRING.c.activated_at >= ENROLLMENT.c.enrolled_at,
        )
        .group_by(ENROLLMENT.c.person_id, ENROLLMENT.c.enrolled_at)
        .subquery()
    )
    matched, middle = await middle_values(
        conn,
        sa.select(ReportSql.of(conn).days(first.c.matched_at, first.c.enrolled_at).label("days")),
    )
    median_match = str(
        average_cell(
            matched,
            k,
            average=lambda: days_text(sum(float(v) for v in middle) / len(middle)),
            unit="matched",
            none="nobody matched yet",
        )
    )

    free = await _free_places(conn, program_id)
    figures = (
        ("Mentees (not left)", count_figure(enrolled(Role.MENTEE), k)),
        ("Mentors (not left)", count_figure(enrolled(Role.MENTOR), k)),
        ("Active pairs", count_figure(active, k)),
        ("Proposals waiting for an answer", count_figure(proposals, k)),
        ("Waitlist", count_figure(waiting, k)),
        ("Median wait on the waitlist", median_wait),
        ("Median time from enrollment to first match", median_match),
        ("Free mentor places", number(free)),
    )
    table = Table(
        "Participants by role and status",
        ("role", "status", "people"),
        participants,
    )
    notes = (
        "Waitlist: mentees waiting for a match with no open proposal; their wait counts from "
        "when they first joined it (a re-match keeps their place).",
        "Time to first match: from a mentee's enrollment to the moment their first pairing "
        "since then became active (both accepted).",
        "Free mentor places: available mentors' capacity minus their open pairings and proposals.",
        small_groups_note(k),
    )
    return Report("overview", "Program overview", figures, (table,), None, notes)


async def _participants(
    conn: AsyncConnection, program: Program
) -> tuple[dict[tuple[str, str], int], tuple[tuple[Cell, ...], ...]]:
    """Enrollments by role and status, and the rows of the table that shows them."""
    k = program.min_group_size
    counted = await fetch_rows(
        conn,
        sa.select(ENROLLMENT.c.role, ENROLLMENT.c.status, sa.func.count())
        .where(ENROLLMENT.c.program == program.id)
        .group_by(ENROLLMENT.c.role, ENROLLMENT.c.status),
    )
    by_role_status = {(role, status): int(n) for role, status, n in counted}

    def order(key: tuple[str, str]) -> tuple[int, int, str]:
        role, status = key
        return (
            ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER),
            STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER),
            role + status,
        )

    participants = tuple(
        (role, status, count_cell(by_role_status[role, status], k))
        for role, status in sorted(by_role_status, key=order)
    )
    return by_role_status, participants


def _enrolled(by_role_status: dict[tuple[str, str], int], role: Role) -> int:
    """People enrolled in ``role`` who have not left."""
    return sum(
        n
        for (r, status), n in by_role_status.items()
        if r == role.value and status != EnrollmentStatus.LEFT.value
    )


async def _waitlist(conn: AsyncConnection, program: Program, *, now: datetime) -> tuple[int, str]:
    """How many wait, and the median wait (as the small-group rule lets it read).

    The waitlist as matching sees it (handlers.matching.waitlist.waitlist_positions):
    waiting mentees with no open proposal (in a circles program, no place in an open
    circle), their place kept from when they first joined it.
    """
    waiting, longest = await middle_values(
        conn, sa.select(waiting_since().label("since")).where(waiting_list(program))
    )

    def median_waited() -> str:
        median_since = longest[0] + (longest[-1] - longest[0]) / 2
        return days_text((now - median_since).total_seconds() / 86400)

    k = program.min_group_size
    return waiting, str(
        average_cell(waiting, k, average=median_waited, unit="waiting", none="nobody waiting")
    )


async def _circles_overview(
    conn: AsyncConnection,
    program: Program,
    *,
    now: datetime,
    enrolled: Callable[[Role], int],
    table: tuple[tuple[Cell, ...], ...],
) -> Report:
    """A circles program's overview: its people, its circles and the waitlist.

    Pairs' figures (active pairs, proposals, time to a first match, free mentor places)
    mean nothing here and are left out rather than shown as 0.
    """
    k = program.min_group_size
    circles = await circle_counts(conn, program)
    waiting, median_wait = await _waitlist(conn, program, now=now)
    figures = (
        ("Members (not left)", count_figure(enrolled(Role.MENTEE), k)),
        ("Facilitators (not left)", count_figure(enrolled(Role.MENTOR), k)),
        ("Circles active", number(circles.active)),
        ("Circles proposed, waiting for answers", number(circles.proposed)),
        ("Circles ended", number(circles.ended)),
        ("Members in active circles", count_figure(circles.members, k)),
        ("Facilitators of active circles", count_figure(circles.facilitators, k)),
        ("Waitlist", count_figure(waiting, k)),
        ("Median wait on the waitlist", median_wait),
    )
    notes = (
        "Members are enrolled as mentees, facilitators as mentors. Circles are counted as "
        "they are; the people in them under the small-group rule.",
        "Waitlist: members waiting for a circle with no place (invited or accepted) in an "
        "open one; their wait counts from when they first joined it.",
        small_groups_note(k),
    )
    return Report(
        "overview",
        "Program overview: circles",
        figures,
        (Table("Participants by role and status", ("role", "status", "people"), table),),
        None,
        notes,
    )


async def _free_places(conn: AsyncConnection, program_id: str) -> int:
    """Available mentors' capacity less their open pairings, summed."""
    taken = (
        sa.select(PAIRING.c.mentor_id, sa.func.count().label("taken"))
        .where(PAIRING.c.program == program_id, PAIRING.c.status.in_(OPEN))
        .group_by(PAIRING.c.mentor_id)
        .subquery()
    )
    left = sa.func.coalesce(ENROLLMENT.c.capacity, 0) - sa.func.coalesce(taken.c.taken, 0)
    found = await conn.scalar(
        sa.select(sa.func.sum(sa.case((left > 0, left), else_=0)))
        .select_from(ENROLLMENT.outerjoin(taken, taken.c.mentor_id == ENROLLMENT.c.person_id))
        .where(
            ENROLLMENT.c.program == program_id,
            ENROLLMENT.c.role == Role.MENTOR.value,
            ENROLLMENT.c.status == EnrollmentStatus.AVAILABLE.value,
        )
    )
    return int(found or 0)


KIND = Kind(
    "overview",
    "participants by role and status, pairs, the waitlist, time to match",
    overview,
)
