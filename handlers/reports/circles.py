"""``report circles``: a circles program's circles by size, and the SQL every report shares
about circles.

Per circle size: how many circles ran, the sessions they held (in all, and per circle per
month), attendance, the pulse, and the members who left; then each active circle by its
number. The other reports (overview, cadence, at-risk, feedback, programs) show a circles
program's circles with the pieces here in place of pairs'.

What a lead reads obeys the one small-group rule (:mod:`handlers.reports.suppression`):

* people are counted under it (members in circles, members who left): 1 to k-1 read
  "fewer than k";
* circles are counted as they are, as a department is named in ``report equity`` once it
  is big enough: a circle is a group of members and their facilitator, never one person,
  and what could single someone out in it (attendance, answers) has its own threshold;
* attendance (sessions attended over attendance rows) is a share: shown only where the
  attended count is (:func:`~handlers.reports.suppression.share_figure`);
* a circle's, or a size's, pulse is shown only where at least k different people
  answered (:func:`~handlers.reports.suppression.average_cell`), and the sizes' pulses,
  which make up the program's, hide the next smallest beside a hidden one
  (:func:`~handlers.reports.suppression.withheld`).

No circle report names anyone: circles are listed by number. Every figure is one grouped
query (by size, or by circle), whatever the number of circles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Cell, Kind, Report, Table
from handlers.core.program import Program, ProgramType, Question
from handlers.reports.queries import (
    PULSE,
    RATE_MONTHS,
    iso_day,
    main_rating,
    midnight,
    months_before,
    program_today,
)
from handlers.reports.sql import ReportSql
from handlers.reports.suppression import (
    average_cell,
    count_cell,
    count_figure,
    fewer_than,
    number,
    share_figure,
    small_groups_note,
    withheld,
)
from storage import CircleMemberStatus, CircleRole, CircleStatus, FeedbackStatus
from storage.tables import (
    CIRCLE,
    CIRCLE_ATTENDANCE,
    CIRCLE_FEEDBACK,
    CIRCLE_MEMBER,
    CIRCLE_SESSION,
)

ACTIVE_CIRCLE = CircleStatus.ACTIVE.value
#: Circles that ran: the ones with sessions, attendance and a pulse to count.
RAN = (CircleStatus.ACTIVE.value, CircleStatus.ENDED.value)
#: A member who took a place in a circle: in it, or in it until they left.
TOOK_PLACE = (CircleMemberStatus.ACCEPTED.value, CircleMemberStatus.LEFT.value)
MEMBER = CircleRole.MEMBER.value
LEFT = CircleMemberStatus.LEFT.value


def is_circles(program: Program) -> bool:
    """Whether the program forms circles (its reports count circles, not pairs)."""
    return program.type is ProgramType.CIRCLES


def _of_program(program_id: str, statuses: Sequence[str]) -> Any:
    return sa.and_(CIRCLE.c.program == program_id, CIRCLE.c.status.in_(statuses))


def per_circle(
    program: Program, *, months: list[tuple[date, date]], statuses: Sequence[str] = RAN
) -> sa.Subquery:
    """SQL: one row per circle of the program in ``statuses``, with what reports count.

    Columns: ``id``, ``status``, ``activated_at``, ``size`` (members who took a place,
    the facilitator not counted), ``left`` (members who left), ``members`` (members in it
    now), ``sessions`` (all held), ``last_session``, ``recent`` (held in ``months``),
    ``months_active`` (how many of ``months`` it was active in at any time), ``rows`` and
    ``attended`` (its sessions' attendance rows, and those marked attended).

    Each part is its own grouped query over the program's circles, joined by circle.
    """
    where = _of_program(program.id, statuses)
    member = CIRCLE_MEMBER.c.role == MEMBER
    people = (
        sa.select(
            CIRCLE_MEMBER.c.circle_id,
            sa.func.count().filter(member, CIRCLE_MEMBER.c.status.in_(TOOK_PLACE)).label("size"),
            sa.func.count().filter(member, CIRCLE_MEMBER.c.status == LEFT).label("left"),
            sa.func.count()
            .filter(member, CIRCLE_MEMBER.c.status == CircleMemberStatus.ACCEPTED.value)
            .label("members"),
        )
        .select_from(CIRCLE_MEMBER.join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id))
        .where(where)
        .group_by(CIRCLE_MEMBER.c.circle_id)
        .subquery()
    )
    first, last = months[0][0], months[-1][1]
    held = CIRCLE_SESSION.c.held_on
    sessions = (
        sa.select(
            CIRCLE_SESSION.c.circle_id,
            sa.func.count().label("sessions"),
            sa.func.max(held).label("last_session"),
            sa.func.count().filter(held >= first, held < last).label("recent"),
        )
        .select_from(CIRCLE_SESSION.join(CIRCLE, CIRCLE.c.id == CIRCLE_SESSION.c.circle_id))
        .where(where)
        .group_by(CIRCLE_SESSION.c.circle_id)
        .subquery()
    )
    attendance = (
        sa.select(
            CIRCLE_SESSION.c.circle_id,
            sa.func.count().label("rows"),
            sa.func.count().filter(CIRCLE_ATTENDANCE.c.attended).label("attended"),
        )
        .select_from(
            CIRCLE_ATTENDANCE.join(
                CIRCLE_SESSION, CIRCLE_SESSION.c.id == CIRCLE_ATTENDANCE.c.session_id
            ).join(CIRCLE, CIRCLE.c.id == CIRCLE_SESSION.c.circle_id)
        )
        .where(where)
        .group_by(CIRCLE_SESSION.c.circle_id)
        .subquery()
    )
    months_active = sum(
        (sa.case((active_in(start, end, program), 1), else_=0) for start, end in months),
        start=sa.literal(0),
    )
    return (
        sa.select(
            CIRCLE.c.id,
            CIRCLE.c.status,
            CIRCLE.c.activated_at,
            sa.func.coalesce(people.c.size, 0).label("size"),
            sa.func.coalesce(people.c.left, 0).label("left"),
            sa.func.coalesce(people.c.members, 0).label("members"),
            sa.func.coalesce(sessions.c.sessions, 0).label("sessions"),
            sessions.c.last_session,
            sa.func.coalesce(sessions.c.recent, 0).label("recent"),
            months_active.label("months_active"),
            sa.func.coalesce(attendance.c.rows, 0).label("rows"),
            sa.func.coalesce(attendance.c.attended, 0).label("attended"),
        )
        .select_from(
            CIRCLE.outerjoin(people, people.c.circle_id == CIRCLE.c.id)
            .outerjoin(sessions, sessions.c.circle_id == CIRCLE.c.id)
            .outerjoin(attendance, attendance.c.circle_id == CIRCLE.c.id)
        )
        .where(where)
        .subquery()
    )


def active_in(start: date, end: date, program: Program) -> Any:
    """SQL: the circle was active at some time in the days [start, end)."""
    return sa.and_(
        CIRCLE.c.activated_at.is_not(None),
        CIRCLE.c.activated_at < midnight(end, program),
        sa.or_(CIRCLE.c.closed_at.is_(None), CIRCLE.c.closed_at >= midnight(start, program)),
    )


async def monthly_circle_sessions(
    conn: AsyncConnection, program: Program, months: list[tuple[date, date]]
) -> tuple[list[int], list[int]]:
    """Circle sessions held in each month, and the circles active at any time in it.

    As :func:`handlers.reports.cadence.monthly_sessions` counts pairs' (two queries).
    """
    first, last = months[0][0], months[-1][1]
    held = CIRCLE_SESSION.c.held_on
    sessions_row = (
        await conn.execute(
            sa.select(*(sa.func.count().filter(held >= start, held < end) for start, end in months))
            .select_from(CIRCLE_SESSION.join(CIRCLE, CIRCLE.c.id == CIRCLE_SESSION.c.circle_id))
            .where(CIRCLE.c.program == program.id, held >= first, held < last)
        )
    ).one()
    circles_row = (
        await conn.execute(
            sa.select(
                *(sa.func.count().filter(active_in(start, end, program)) for start, end in months)
            ).where(
                CIRCLE.c.program == program.id,
                CIRCLE.c.activated_at.is_not(None),
                CIRCLE.c.activated_at < midnight(last, program),
            )
        )
    ).one()
    return [int(n or 0) for n in sessions_row], [int(n or 0) for n in circles_row]


def circle_rate(sessions: int, circle_months: int) -> float | None:
    """Sessions per circle per month, to a tenth; None without a circle active then."""
    return round(sessions / circle_months, 1) if circle_months else None


def attendance_cell(attended: int, rows: int, *, k: int) -> Cell:
    """Attended of attendance rows as a share (``75%``), under the small-group rule.

    None without a row; "fewer than k" where fewer than k attended (the share would give
    the count away).
    """
    return share_figure(attended, rows, k=k) or (fewer_than(k) if rows else None)


@dataclass(frozen=True)
class CircleCounts:
    """A program's circles by status, and the different people in its active ones."""

    active: int = 0
    proposed: int = 0
    ended: int = 0
    members: int = 0
    facilitators: int = 0


async def circle_counts(conn: AsyncConnection, program: Program) -> CircleCounts:
    """The program's circles active, proposed and ended, and who is in the active ones.

    Two grouped queries: one over the circles, one over the active circles' people.
    """
    status = CIRCLE.c.status
    found = (
        await conn.execute(
            sa.select(
                sa.func.count().filter(status == ACTIVE_CIRCLE),
                sa.func.count().filter(status == CircleStatus.PROPOSED.value),
                sa.func.count().filter(status == CircleStatus.ENDED.value),
            ).where(CIRCLE.c.program == program.id)
        )
    ).one()
    role = CIRCLE_MEMBER.c.role
    people = (
        await conn.execute(
            sa.select(
                sa.func.count(sa.distinct(sa.case((role == MEMBER, CIRCLE_MEMBER.c.person_id)))),
                sa.func.count(
                    sa.distinct(
                        sa.case((role == CircleRole.FACILITATOR.value, CIRCLE_MEMBER.c.person_id))
                    )
                ),
            )
            .select_from(CIRCLE_MEMBER.join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id))
            .where(
                _of_program(program.id, (ACTIVE_CIRCLE,)),
                CIRCLE_MEMBER.c.status == CircleMemberStatus.ACCEPTED.value,
            )
        )
    ).one()
    return CircleCounts(*(int(n or 0) for n in (*found, *people)))


#: How many of a circle's last sessions its attendance is judged over, and the least
#: share of attendance rows marked attended there.
LAST_SESSIONS, LEAST_ATTENDANCE = 3, 0.5


def silent_days(program: Program) -> int:
    """Days without a session after which an active circle needs a lead: two check-ins."""
    return 2 * program.cadence.checkin_every_days


@dataclass(frozen=True)
class CircleAtRisk:
    """An active circle that needs a lead, and why (no one in it is named)."""

    circle_id: int
    members: int
    activated_at: datetime
    last_session: date | None
    silent: bool
    low_attendance: bool


async def circles_at_risk(
    conn: AsyncConnection, program: Program, *, now: datetime
) -> list[CircleAtRisk]:
    """Active circles with no session for :func:`silent_days`, or whose last
    :data:`LAST_SESSIONS` sessions were attended under :data:`LEAST_ATTENDANCE`.

    One query: each part (members now, the last session, the last sessions' attendance,
    ranked by a window) is grouped by circle over the program's active circles.
    """
    where = _of_program(program.id, (ACTIVE_CIRCLE,))
    today = program_today(program, now)
    since = today - timedelta(days=silent_days(program) - 1)
    ranked = (
        sa.select(
            CIRCLE_SESSION.c.id,
            CIRCLE_SESSION.c.circle_id,
            sa.func.row_number()
            .over(partition_by=CIRCLE_SESSION.c.circle_id, order_by=CIRCLE_SESSION.c.held_on.desc())
            .label("rank"),
        )
        .select_from(CIRCLE_SESSION.join(CIRCLE, CIRCLE.c.id == CIRCLE_SESSION.c.circle_id))
        .where(where)
        .subquery()
    )
    recent = (
        sa.select(
            ranked.c.circle_id,
            sa.func.count().label("rows"),
            sa.func.count().filter(CIRCLE_ATTENDANCE.c.attended).label("attended"),
        )
        .select_from(CIRCLE_ATTENDANCE.join(ranked, ranked.c.id == CIRCLE_ATTENDANCE.c.session_id))
        .where(ranked.c.rank <= LAST_SESSIONS)
        .group_by(ranked.c.circle_id)
        .subquery()
    )
    last = (
        sa.select(
            CIRCLE_SESSION.c.circle_id, sa.func.max(CIRCLE_SESSION.c.held_on).label("held_on")
        )
        .select_from(CIRCLE_SESSION.join(CIRCLE, CIRCLE.c.id == CIRCLE_SESSION.c.circle_id))
        .where(where)
        .group_by(CIRCLE_SESSION.c.circle_id)
        .subquery()
    )
    members = (
        sa.select(CIRCLE_MEMBER.c.circle_id, sa.func.count().label("members"))
        .select_from(CIRCLE_MEMBER.join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id))
        .where(
            where,
            CIRCLE_MEMBER.c.role == MEMBER,
            CIRCLE_MEMBER.c.status == CircleMemberStatus.ACCEPTED.value,
        )
        .group_by(CIRCLE_MEMBER.c.circle_id)
        .subquery()
    )
    silent = sa.and_(
        sa.or_(last.c.held_on.is_(None), last.c.held_on < since),
        CIRCLE.c.activated_at < midnight(since, program),
    )
    low = sa.and_(recent.c.rows > 0, recent.c.attended < LEAST_ATTENDANCE * recent.c.rows)
    found = await conn.execute(
        sa.select(
            CIRCLE.c.id,
            sa.func.coalesce(members.c.members, 0),
            CIRCLE.c.activated_at,
            last.c.held_on,
            silent.label("silent"),
            sa.func.coalesce(low, False).label("low"),
        )
        .select_from(
            CIRCLE.outerjoin(last, last.c.circle_id == CIRCLE.c.id)
            .outerjoin(recent, recent.c.circle_id == CIRCLE.c.id)
            .outerjoin(members, members.c.circle_id == CIRCLE.c.id)
        )
        .where(where, sa.or_(silent, low))
        .order_by(CIRCLE.c.id)
    )
    return [
        CircleAtRisk(int(row[0]), int(row[1]), row[2], row[3], bool(row[4]), bool(row[5]))
        for row in found.all()
    ]


@dataclass(frozen=True)
class Pulse:
    """The pulse of a group of circles: different people who answered, answers, their sum."""

    answered: int = 0
    answers: int = 0
    total: float = 0.0

    def mean(self) -> Cell:
        """The mean answer, to two places (for :func:`average_cell` to call)."""
        return round(self.total / self.answers, 2) if self.answers else None

    def cell(self, k: int, *, none: Cell = None) -> Cell:
        """The mean where at least ``k`` different people answered; else what reads instead."""
        return average_cell(self.answered, k, average=self.mean, unit="answered", none=none)


async def pulse_by(
    conn: AsyncConnection,
    program: Program,
    question: Question,
    key: Any = None,
    *,
    via: sa.Subquery | None = None,
    survey: str = PULSE,
) -> dict[Any, Pulse]:
    """Answers to ``question`` (of the pulse, or ``survey``) about the program's circles,
    grouped by ``key``: a column of circle_feedback (``circle_id``), an expression on it
    (the month answered), or a column of ``via``, a subquery of circles joined on its
    ``id``. Without a key, the whole program, under None. One grouped query; people are
    counted once per group however often they answered.
    """
    value = ReportSql.of(conn).number(CIRCLE_FEEDBACK.c.answers, question.id)
    columns = [
        sa.func.count(sa.distinct(sa.case((value.is_not(None), CIRCLE_FEEDBACK.c.respondent_id)))),
        sa.func.count(value),
        sa.func.sum(value),
    ]
    query = sa.select(*([key] if key is not None else []), *columns).where(
        CIRCLE_FEEDBACK.c.program == program.id,
        CIRCLE_FEEDBACK.c.survey == survey,
        CIRCLE_FEEDBACK.c.status == FeedbackStatus.ANSWERED.value,
    )
    if via is not None:
        query = query.select_from(
            CIRCLE_FEEDBACK.join(via, via.c.id == CIRCLE_FEEDBACK.c.circle_id)
        )
    if key is not None:
        query = query.group_by(key)
    found: dict[Any, Pulse] = {}
    for row in (await conn.execute(query)).all():
        *group, answered, answers, total = row
        found[group[0] if group else None] = Pulse(
            int(answered or 0), int(answers or 0), float(total or 0.0)
        )
    return found


async def surveys_asked(conn: AsyncConnection, program: Program) -> dict[str, tuple[int, int]]:
    """Each survey about the program's circles: how many were asked, and answered."""
    found = await conn.execute(
        sa.select(
            CIRCLE_FEEDBACK.c.survey,
            sa.func.count(),
            sa.func.count().filter(CIRCLE_FEEDBACK.c.status == FeedbackStatus.ANSWERED.value),
        )
        .where(CIRCLE_FEEDBACK.c.program == program.id)
        .group_by(CIRCLE_FEEDBACK.c.survey)
    )
    return {str(survey): (int(asked), int(answered or 0)) for survey, asked, answered in found}


def circle_sizes(program: Program, statuses: Sequence[str] = RAN) -> sa.Subquery:
    """SQL: the program's circles in ``statuses``, each with its ``id`` and ``size`` (the
    members who took a place, the facilitator not counted)."""
    return (
        sa.select(
            CIRCLE_MEMBER.c.circle_id.label("id"),
            sa.func.count()
            .filter(CIRCLE_MEMBER.c.role == MEMBER, CIRCLE_MEMBER.c.status.in_(TOOK_PLACE))
            .label("size"),
        )
        .select_from(CIRCLE_MEMBER.join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id))
        .where(_of_program(program.id, statuses))
        .group_by(CIRCLE_MEMBER.c.circle_id)
        .subquery()
    )


def sizes_pulse_cells(
    program: Program, order: Sequence[int], pulses: dict[Any, Pulse]
) -> dict[int, Cell]:
    """Each size's pulse as it may read: hidden under ``min_group_size`` answerers, and
    "withheld" where a hidden one could be worked out from the rest and the whole."""
    k = program.min_group_size
    _, protecting = withheld([(size, pulses.get(size, Pulse()).answered) for size in order], k)
    return {
        size: "withheld" if size in protecting else pulses.get(size, Pulse()).cell(k)
        for size in order
    }


@dataclass
class _Size:
    """The circles of one size, summed."""

    circles: int = 0
    active: int = 0
    left: int = 0
    sessions: int = 0
    recent: int = 0
    months_active: int = 0
    rows: int = 0
    attended: int = 0


async def _by_size(conn: AsyncConnection, circles: sa.Subquery) -> dict[int, _Size]:
    """Each size's circles, members who left, sessions and attendance (one grouped query)."""
    found = await conn.execute(
        sa.select(
            circles.c.size,
            sa.func.count(),
            sa.func.count().filter(circles.c.status == ACTIVE_CIRCLE),
            sa.func.sum(circles.c.left),
            sa.func.sum(circles.c.sessions),
            sa.func.sum(circles.c.recent),
            sa.func.sum(circles.c.months_active),
            sa.func.sum(circles.c.rows),
            sa.func.sum(circles.c.attended),
        ).group_by(circles.c.size)
    )
    return {int(size): _Size(*(int(n or 0) for n in figures)) for size, *figures in found.all()}


def _no_circles(program: Program) -> Report:
    return Report(
        "circles",
        "Mentor circles",
        (("Circles", "0"),),
        (),
        None,
        (
            f"{program.name} is a {program.type.value.replace('_', '-')} program: it forms "
            "pairs, not circles. report circles is about a circles program.",
        ),
    )


async def circles_report(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """Circles by size (sessions, attendance, pulse, who left), then each active circle."""
    if not is_circles(program):
        return _no_circles(program)
    conn = await session.connection()
    k = program.min_group_size
    months = months_before(program_today(program, now), RATE_MONTHS)
    circles = per_circle(program, months=months)
    sizes = await _by_size(conn, circles)
    question = main_rating(program)
    sized = circle_sizes(program)
    pulses = await pulse_by(conn, program, question, sized.c.size, via=sized) if question else {}
    overall = (await pulse_by(conn, program, question)).get(None, Pulse()) if question else Pulse()

    shape = program.circles
    expected = range(shape.size.min, shape.size.max + 1) if shape is not None else range(0)
    order = sorted(set(expected) | set(sizes))
    pulse_cells = sizes_pulse_cells(program, order, pulses)
    counted = [(size, sizes.get(size, _Size())) for size in order]
    by_size = tuple(
        (size, each.circles, count_cell(each.left, k), each.sessions, _rate(each))
        for size, each in counted
    )
    engagement = tuple(
        (
            size,
            attendance_cell(each.attended, each.rows, k=k),
            count_cell(pulses.get(size, Pulse()).answered, k),
            pulse_cells[size],
        )
        for size, each in counted
    )
    listed = await _active_circles(conn, program, months, question)

    total = _Size(*(sum(getattr(each, part.name) for _, each in counted) for part in fields(_Size)))
    scale = f" (of {question.max})" if question and question.max is not None else ""
    pulse_shown = overall.cell(k, none="no answers yet")
    figures: list[tuple[str, str]] = [
        ("Circles active", number(total.active)),
        ("Circles ended", number(total.circles - total.active)),
        ("Sessions held", number(total.sessions)),
        (
            f"Sessions per circle per month (last {RATE_MONTHS} full months)",
            _text(_rate(total)),
        ),
        ("Attendance", _text(attendance_cell(total.attended, total.rows, k=k))),
        ("Members who left a circle", count_figure(total.left, k)),
    ]
    if question is not None:
        shown = f"{pulse_shown}{scale}" if isinstance(pulse_shown, float) else str(pulse_shown)
        figures.append((f"Pulse: “{question.prompt}”", shown))
    notes = (
        "Size: the members who took a place in a circle, those who left since included "
        "(the facilitator not counted). Circles that ran (active or ended) are counted; "
        "circles are counted as they are, the people in them under the small-group rule.",
        f"Sessions per circle per month: sessions held in the last {RATE_MONTHS} full months "
        "over the circles active in each of them (a circle active for part of a month "
        "counts as one).",
        "Attendance: attendance rows marked attended over every attendance row of the "
        f"circles' sessions; shown where at least {k} were attended.",
        *(
            (
                f"Pulse: the mean answer to “{question.prompt}” after circle sessions, shown "
                f"for a circle or a size only where at least {k} different people answered; "
                'a size marked "withheld" has enough, but is hidden so that a smaller one '
                "cannot be worked out from the program's pulse.",
            )
            if question is not None
            else ()
        ),
        "Circles are listed by number; no circle report names anyone.",
        small_groups_note(k),
    )
    return Report(
        "circles",
        "Mentor circles by size",
        tuple(figures),
        (
            Table(
                "Circles by size (members)",
                ("members", "circles", "left", "sessions", "a circle a month"),
                by_size,
            ),
            Table(
                "Attendance and pulse by size",
                ("members", "attended", "answered", "pulse"),
                engagement,
            ),
            Table(
                "Active circles",
                ("circle", "members", "sessions", "last session", "attended", "pulse"),
                listed,
            ),
        ),
        None,
        notes,
    )


def _rate(size: _Size) -> float | None:
    return circle_rate(size.recent, size.months_active)


def _text(cell: Cell) -> str:
    return "–" if cell is None else f"{cell:.1f}" if isinstance(cell, float) else str(cell)


async def _active_circles(
    conn: AsyncConnection,
    program: Program,
    months: list[tuple[date, date]],
    question: Question | None,
) -> tuple[tuple[Cell, ...], ...]:
    """Each active circle by number: members now, sessions, the last, attendance, pulse."""
    k = program.min_group_size
    circles = per_circle(program, months=months, statuses=(ACTIVE_CIRCLE,))
    found = await conn.execute(sa.select(circles).order_by(circles.c.id))
    pulses = (
        await pulse_by(conn, program, question, CIRCLE_FEEDBACK.c.circle_id) if question else {}
    )
    return tuple(
        (
            # As text: a number that names the circle, not a quantity.
            str(row.id),
            # A circle's size, as the sizes above: not a count of a group of people.
            int(row.members),
            int(row.sessions),
            iso_day(row.last_session),
            attendance_cell(int(row.attended), int(row.rows), k=k),
            pulses.get(row.id, Pulse()).cell(k),
        )
        for row in found.all()
    )


KIND = Kind(
    "circles",
    "a circles program by circle size: sessions, attendance, pulse, members who left",
    circles_report,
)
