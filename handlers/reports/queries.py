"""What several reports share: the tables, the statuses, and the SQL pieces they reuse.

Definitions every report about pairs uses (each report repeats the ones it uses in its
notes):

* "today" is the calendar day in the program's default timezone (:func:`program_today`);
* a pair is *on cadence* when it held a session in the last ``checkin_every_days`` days,
  or became active less than that long ago;
* a pair or a mentor is *silent* after :func:`quiet_days` days without a session: half of
  ``auto_close_after_days``, so a lead can step in before the bot proposes closing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.core.calendar import local_date
from handlers.core.program import Program, ProgramType, Question, QuestionType
from storage import (
    OPEN_CIRCLE,
    CircleMemberStatus,
    CircleRole,
    DueItem,
    Enrollment,
    EnrollmentStatus,
    Feedback,
    Milestone,
    Pairing,
    PairingStatus,
    Person,
    Role,
    SessionLog,
)
from storage.tables import CIRCLE, CIRCLE_MEMBER

PERSON = Person.__table__  # type: ignore[attr-defined]
ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]
PAIRING = Pairing.__table__  # type: ignore[attr-defined]
SESSION = SessionLog.__table__  # type: ignore[attr-defined]
MILESTONE = Milestone.__table__  # type: ignore[attr-defined]
DUE = DueItem.__table__  # type: ignore[attr-defined]
FEEDBACK = Feedback.__table__  # type: ignore[attr-defined]

ACTIVE = PairingStatus.ACTIVE.value
PROPOSALS = (PairingStatus.PROPOSED.value, PairingStatus.ACCEPTED.value)
OPEN = (*PROPOSALS, ACTIVE)
#: Pairings that happened: a mentee with one of these has been matched.
PAIRED = (PairingStatus.ACTIVE.value, PairingStatus.ENDED.value)
#: The survey whose main rating the feedback report charts month by month.
PULSE = "pulse"
#: The question types that have an average.
RATED = (QuestionType.SCALE, QuestionType.NUMBER)
#: Full months a headline "sessions per pair (or circle) per month" averages over.
RATE_MONTHS = 3


def months_before(today: date, count: int) -> list[tuple[date, date]]:
    """The last ``count`` full months before today's month, oldest first, as [start, end)."""
    months: list[tuple[date, date]] = []
    end = today.replace(day=1)
    for _ in range(count):
        start = (end - timedelta(days=1)).replace(day=1)
        months.insert(0, (start, end))
        end = start
    return months


def main_rating(program: Program) -> Question | None:
    """The pulse survey's first scale question (its first numeric one failing that).

    The one rating the feedback report charts by month and ``report circles`` calls a
    circle's pulse.
    """
    rated = [q for q in program.feedback.surveys.of(PULSE) if q.type in RATED]
    scales = [q for q in rated if q.type is QuestionType.SCALE]
    first = scales or rated
    return first[0] if first else None


def quiet_days(program: Program) -> int:
    """Days without a session after which a pair or a mentor counts as silent.

    Half of ``auto_close_after_days`` (at least one day): early enough for a lead to step
    in before the bot proposes closing the pairing.
    """
    return max(1, program.cadence.auto_close_after_days // 2)


def program_today(program: Program, now: datetime) -> date:
    """Today, as a calendar day in the program's default timezone."""
    return local_date(now, program.default_timezone)


def midnight(day: date, program: Program) -> datetime:
    """The instant a day begins in the program's timezone (as UTC)."""
    zone = ZoneInfo(program.default_timezone)
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def days_text(value: float) -> str:
    """A duration in days, to a tenth: ``12 days``, ``3.5 days``, ``1 day``."""
    rounded = round(value, 1)
    return f"{rounded:g} day" + ("" if rounded == 1 else "s")


def iso_day(day: date | None) -> str | None:
    """A day as ``YYYY-MM-DD``; None for no day."""
    return None if day is None else day.isoformat()


async def middle_values(conn: AsyncConnection, values: sa.Select[Any]) -> tuple[int, list[Any]]:
    """How many values a one-column query selects, and its middle one (two when even).

    Both backends lack a median aggregate; ``row_number`` and ``count`` over a window give
    the middle rows in one pass, so only one or two values come back.
    """
    inner = values.subquery()
    value = inner.c[inner.c.keys()[0]]
    ranked = sa.select(
        value.label("value"),
        sa.func.row_number().over(order_by=value).label("rank"),
        sa.func.count().over().label("total"),
    ).subquery()
    rows = (
        await conn.execute(
            sa.select(ranked.c.value, ranked.c.total)
            .where(2 * ranked.c.rank >= ranked.c.total, 2 * ranked.c.rank <= ranked.c.total + 2)
            .order_by(ranked.c.rank)
        )
    ).all()
    if not rows:
        return 0, []
    return int(rows[0].total), [row.value for row in rows]


async def fetch_rows(conn: AsyncConnection, query: sa.Executable) -> Sequence[Any]:
    """Every row a query selects."""
    return (await conn.execute(query)).all()


async def fetch_tally(conn: AsyncConnection, query: sa.Executable) -> dict[Any, int]:
    """A (key, count) query as a dict."""
    return {key: int(n) for key, n in await fetch_rows(conn, query)}


def paused_side(pairing: Any, program_id: str) -> Any:
    """SQL: either side of the pairing is paused."""
    return sa.exists().where(
        ENROLLMENT.c.person_id.in_([pairing.c.mentee_id, pairing.c.mentor_id]),
        ENROLLMENT.c.program == program_id,
        ENROLLMENT.c.status == EnrollmentStatus.PAUSED.value,
    )


def last_session_day(pairing: Any) -> Any:
    """SQL: the day of the pairing's latest session (the unique key answers it)."""
    return (
        sa.select(sa.func.max(SESSION.c.held_on))
        .where(SESSION.c.pairing_id == pairing.c.id)
        .scalar_subquery()
    )


def met_since(pairing: Any, since: date) -> Any:
    """SQL: whether the pairing held a session on ``since`` or later."""
    return sa.exists().where(SESSION.c.pairing_id == pairing.c.id, SESSION.c.held_on >= since)


def percent_to_tenth(part: int, whole: int) -> float:
    """``part`` of ``whole`` as a percentage to a tenth: ``71.4``."""
    return round(100.0 * part / whole, 1)


async def stored_program_ids(conn: AsyncConnection) -> set[str]:
    """Every program id stored on an enrollment or a pairing (archived ones included)."""
    found = await conn.execute(
        sa.union(sa.select(ENROLLMENT.c.program), sa.select(PAIRING.c.program))
    )
    return {str(program_id) for program_id in found.scalars()}


def waiting_list(program: Program) -> Any:
    """SQL: an enrollment on the program's waitlist, as matching sees it.

    A mentee (a peer, in a peer program) waiting for a match with no open proposal or
    pairing in the program (handlers.matching.waitlist.waitlist_positions); a peer may be
    on either side of a pairing. Each side is its own ``NOT EXISTS``, which PostgreSQL runs
    as an anti-join; one ``EXISTS`` with an ``OR`` of the sides ran once per enrollment
    (20 s for the overview of 40,000 enrollments in bench/reports.py). In a circles
    program, a member waiting with no place (invited or accepted) in an open circle.
    """
    if program.type is ProgramType.CIRCLES:
        return sa.and_(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == Role.MENTEE.value,
            ENROLLMENT.c.status == EnrollmentStatus.WAITING.value,
            ~sa.exists().where(
                CIRCLE.c.program == ENROLLMENT.c.program,
                CIRCLE.c.status.in_([status.value for status in OPEN_CIRCLE]),
                CIRCLE_MEMBER.c.circle_id == CIRCLE.c.id,
                CIRCLE_MEMBER.c.person_id == ENROLLMENT.c.person_id,
                CIRCLE_MEMBER.c.role == CircleRole.MEMBER.value,
                CIRCLE_MEMBER.c.status.in_(
                    (CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value)
                ),
            ),
        )
    peer = program.type is ProgramType.PEER

    def busy_as(side: sa.Column[Any]) -> Any:
        return ~sa.exists().where(
            PAIRING.c.program == ENROLLMENT.c.program,
            PAIRING.c.status.in_(OPEN),
            side == ENROLLMENT.c.person_id,
        )

    free = [busy_as(PAIRING.c.mentee_id), *([busy_as(PAIRING.c.mentor_id)] if peer else [])]
    return sa.and_(
        ENROLLMENT.c.program == program.id,
        ENROLLMENT.c.role == (Role.PEER if peer else Role.MENTEE).value,
        ENROLLMENT.c.status == EnrollmentStatus.WAITING.value,
        *free,
    )


def waiting_since() -> Any:
    """SQL: when a waiting enrollment's wait began (a re-match keeps its place)."""
    return sa.func.coalesce(ENROLLMENT.c.waiting_since, ENROLLMENT.c.enrolled_at)
