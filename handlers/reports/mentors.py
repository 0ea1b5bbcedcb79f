"""``report mentors``: mentors' load against capacity, inactive mentors, readiness averages.

No one person's rating is shown: a mentor's readiness averages are shown only when at
least ``program.min_group_size`` different mentees answered, else "fewer than N mentees
answered".

In a circles program a facilitator's load is the circles they lead (active and forming)
against their capacity in circles (:func:`_facilitators`), not pairings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.circle_pool import facilitator_capacity
from handlers.core.figures import Cell, Kind, Report, Table
from handlers.core.messages import noun, plural
from handlers.core.program import Program, QuestionType
from handlers.reports.circles import is_circles
from handlers.reports.queries import (
    ACTIVE,
    ENROLLMENT,
    FEEDBACK,
    OPEN,
    PAIRING,
    PERSON,
    PROPOSALS,
    iso_day,
    last_session_day,
    midnight,
    program_today,
    quiet_days,
)
from handlers.reports.suppression import (
    average_cell,
    count_cell,
    count_figure,
    number,
    percent,
    small_groups_note,
)
from handlers.sessions.feedback import READINESS
from storage import (
    CircleMemberStatus,
    CircleRole,
    CircleStatus,
    EnrollmentStatus,
    FeedbackStatus,
    Role,
)
from storage.tables import CIRCLE, CIRCLE_MEMBER, CIRCLE_SESSION


def _readiness_questions(program: Program) -> list[str]:
    """The mentor-readiness questions averaged: those answered on a scale."""
    return [
        q.id
        for q in program.feedback.surveys.of(READINESS)
        if q.type in (QuestionType.SCALE, QuestionType.NUMBER)
    ]


def _readiness_columns(questions: Sequence[str]) -> list[Any]:
    return [
        sa.func.avg(FEEDBACK.c.answers[q].as_float()).label(f"avg_{n}")
        for n, q in enumerate(questions)
    ]


def _average(value: Any, respondents: int, k: int) -> Cell:
    """A readiness average to a tenth, or why it is not shown.

    The threshold counts the mentees behind the average, not their answers: one mentee
    answering at every checkpoint must not make up a mentor's average on their own.
    """
    return average_cell(
        respondents,
        k,
        average=lambda: None if value is None else round(float(value), 1),
        unit="mentees answered",
        none="no mentee answered",
    )


async def mentors(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """Mentors' load against capacity, inactive mentors, and readiness averages.

    For a circles program: its facilitators' load in circles (:func:`_facilitators`).
    """
    conn = await session.connection()
    if is_circles(program):
        return await _facilitators(conn, program)
    program_id = program.id
    k = program.min_group_size
    today = program_today(program, now)
    quiet = quiet_days(program)
    questions = _readiness_questions(program)
    here = PAIRING.c.program == program_id

    load = (
        sa.select(
            PAIRING.c.mentor_id,
            sa.func.count().filter(PAIRING.c.status == ACTIVE).label("active"),
            sa.func.count().filter(PAIRING.c.status.in_(PROPOSALS)).label("proposed"),
            sa.func.min(PAIRING.c.activated_at).filter(PAIRING.c.status == ACTIVE).label("oldest"),
        )
        .where(here, PAIRING.c.status.in_(OPEN))
        .group_by(PAIRING.c.mentor_id)
        .subquery()
    )
    per_pairing = (
        sa.select(PAIRING.c.mentor_id, last_session_day(PAIRING).label("last"))
        .where(here)
        .subquery()
    )
    last = (
        sa.select(per_pairing.c.mentor_id, sa.func.max(per_pairing.c.last).label("last"))
        .group_by(per_pairing.c.mentor_id)
        .subquery()
    )
    answered = sa.and_(
        FEEDBACK.c.survey == READINESS,
        FEEDBACK.c.status == FeedbackStatus.ANSWERED.value,
        FEEDBACK.c.answers.is_not(None),
    )
    ready = (
        sa.select(
            PAIRING.c.mentor_id,
            sa.func.count().label("answers"),
            sa.func.count(sa.distinct(FEEDBACK.c.respondent_id)).label("respondents"),
            *_readiness_columns(questions),
        )
        .select_from(FEEDBACK.join(PAIRING, PAIRING.c.id == FEEDBACK.c.pairing_id))
        .where(here, answered)
        .group_by(PAIRING.c.mentor_id)
        .subquery()
    )
    mentor_id = ENROLLMENT.c.person_id
    found = await conn.execute(
        sa.select(
            PERSON.c.name,
            PERSON.c.email,
            ENROLLMENT.c.status,
            sa.func.coalesce(ENROLLMENT.c.capacity, 0).label("capacity"),
            sa.func.coalesce(load.c.active, 0).label("active"),
            sa.func.coalesce(load.c.proposed, 0).label("proposed"),
            load.c.oldest,
            last.c.last,
            sa.func.coalesce(ready.c.answers, 0).label("answers"),
            *(ready.c[f"avg_{n}"] for n in range(len(questions))),
            sa.func.coalesce(ready.c.respondents, 0).label("respondents"),
        )
        .select_from(
            ENROLLMENT.join(PERSON, PERSON.c.id == mentor_id)
            .outerjoin(load, load.c.mentor_id == mentor_id)
            .outerjoin(last, last.c.mentor_id == mentor_id)
            .outerjoin(ready, ready.c.mentor_id == mentor_id)
        )
        .where(
            ENROLLMENT.c.program == program_id,
            ENROLLMENT.c.role == Role.MENTOR.value,
            ENROLLMENT.c.status != EnrollmentStatus.LEFT.value,
        )
        .order_by(PERSON.c.name, PERSON.c.email)
    )
    silent_before = today - timedelta(days=quiet - 1)
    started_before = midnight(silent_before, program)
    rows: list[tuple[Cell, ...]] = []
    inactive: list[tuple[Cell, ...]] = []
    mentors_n = available = paused = capacity = taken = free = full = idle = 0
    for row in found.all():
        mentors_n += 1
        open_ = int(row.active) + int(row.proposed)
        places = max(int(row.capacity) - open_, 0)
        capacity += int(row.capacity)
        taken += open_
        if row.status == EnrollmentStatus.AVAILABLE.value:
            available += 1
            free += places
            full += int(places == 0)
        elif row.status == EnrollmentStatus.PAUSED.value:
            paused += 1
        idle += int(open_ == 0)
        answers = int(row.answers)
        respondents = int(row.respondents)
        averages = [_average(row[9 + n], respondents, k) for n in range(len(questions))]
        last_day: date | None = row.last
        rows.append(
            (
                row.name,
                row.email,
                row.status,
                int(row.capacity),
                int(row.active),
                int(row.proposed),
                places,
                iso_day(last_day),
                count_cell(answers, k),
                *averages,
            )
        )
        quiet_now = last_day is None or last_day < silent_before
        settled = row.oldest is not None and row.oldest < started_before
        if row.status == EnrollmentStatus.AVAILABLE.value and settled and quiet_now:
            inactive.append((row.name, row.email, int(row.active), iso_day(last_day)))

    overall = (
        await conn.execute(
            sa.select(
                sa.func.count(),
                *_readiness_columns(questions),
                sa.func.count(sa.distinct(FEEDBACK.c.respondent_id)),
            )
            .select_from(FEEDBACK.join(PAIRING, PAIRING.c.id == FEEDBACK.c.pairing_id))
            .where(here, answered)
        )
    ).one()
    program_answers = int(overall[0])
    program_respondents = int(overall[-1])
    figures: list[tuple[str, Any]] = [
        ("Mentors (not left)", count_figure(mentors_n, k)),
        ("Available", count_figure(available, k)),
        ("Paused", count_figure(paused, k)),
        ("Places (capacity)", number(capacity)),
        ("Places taken (active pairs and proposals)", number(taken)),
        (
            "Load",
            f"{percent(taken, capacity)}% of capacity" if capacity else "–",
        ),
        ("Free places (available mentors)", number(free)),
        ("Available mentors with no free place", count_figure(full, k)),
        ("Mentors with no mentee or proposal", count_figure(idle, k)),
        (
            f"Inactive mentors (no session for {plural(quiet, 'day')})",
            count_figure(len(inactive), k),
        ),
    ]
    for n, question in enumerate(questions):
        average = _average(overall[1 + n], program_respondents, k)
        shown = (
            f"{average:.1f} from {number(program_answers)} {noun(program_answers, 'answer')}"
            if isinstance(average, float)
            else average
        )
        figures.append((f"Readiness: {question.replace('_', ' ')} (average)", str(shown or "–")))
    tables = (
        Table(
            "Mentors",
            (
                "mentor",
                "email",
                "status",
                "capacity",
                "active mentees",
                "proposals",
                "free places",
                "last session",
                "readiness answers",
                *(q.replace("_", " ") for q in questions),
            ),
            tuple(rows),
        ),
        Table(
            f"Inactive mentors: active mentees, no session for {plural(quiet, 'day')}",
            ("mentor", "email", "active mentees", "last session"),
            tuple(inactive),
        ),
    )
    notes = (
        "Load: open pairings (active and proposed) over the capacity of every mentor who has "
        "not left; free places count available mentors only (paused mentors get no new "
        "mentees).",
        f"Inactive: an available mentor with a pairing active for {plural(quiet, 'day')} or "
        "more and no session logged in any of their pairings in the last "
        f"{plural(quiet, 'day')} (paused mentors "
        "are on a break, so not listed).",
        f"Readiness: mentees' answers to the mentor-readiness survey, averaged per mentor "
        f"only when at least {k} different mentees answered; no one answer is shown.",
        small_groups_note(k),
    )
    return Report("mentors", "Mentors: load and readiness", tuple(figures), tables, None, notes)


async def _facilitators(conn: AsyncConnection, program: Program) -> Report:
    """A circles program's facilitators: the circles each leads (active and forming)
    against how many they lead at once, and the day of their circles' last session.

    A facilitator holds a circle as the round's pool counts it
    (handlers.circles.circle_pool): their place is invited or accepted, in a circle
    proposed (forming) or active. Their capacity is the round's too
    (:func:`~handlers.circles.circle_pool.facilitator_capacity`). One query.
    """
    k = program.min_group_size
    status = CIRCLE.c.status
    held = sa.and_(
        CIRCLE_MEMBER.c.role == CircleRole.FACILITATOR.value,
        CIRCLE.c.program == program.id,
    )
    holding = CIRCLE_MEMBER.c.status.in_(
        (CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value)
    )
    load = (
        sa.select(
            CIRCLE_MEMBER.c.person_id,
            sa.func.count().filter(holding, status == CircleStatus.ACTIVE.value).label("active"),
            sa.func.count().filter(holding, status == CircleStatus.PROPOSED.value).label("forming"),
        )
        .select_from(CIRCLE_MEMBER.join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id))
        .where(held)
        .group_by(CIRCLE_MEMBER.c.person_id)
        .subquery()
    )
    last = (
        sa.select(CIRCLE_MEMBER.c.person_id, sa.func.max(CIRCLE_SESSION.c.held_on).label("last"))
        .select_from(
            CIRCLE_SESSION.join(CIRCLE, CIRCLE.c.id == CIRCLE_SESSION.c.circle_id).join(
                CIRCLE_MEMBER, CIRCLE_MEMBER.c.circle_id == CIRCLE.c.id
            )
        )
        .where(held)
        .group_by(CIRCLE_MEMBER.c.person_id)
        .subquery()
    )
    facilitator_id = ENROLLMENT.c.person_id
    found = await conn.execute(
        sa.select(
            PERSON.c.name,
            PERSON.c.email,
            ENROLLMENT.c.status,
            ENROLLMENT.c.capacity,
            sa.func.coalesce(load.c.active, 0).label("active"),
            sa.func.coalesce(load.c.forming, 0).label("forming"),
            last.c.last,
        )
        .select_from(
            ENROLLMENT.join(PERSON, PERSON.c.id == facilitator_id)
            .outerjoin(load, load.c.person_id == facilitator_id)
            .outerjoin(last, last.c.person_id == facilitator_id)
        )
        .where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == Role.MENTOR.value,
            ENROLLMENT.c.status != EnrollmentStatus.LEFT.value,
        )
        .order_by(PERSON.c.name, PERSON.c.email)
    )
    rows: list[tuple[Cell, ...]] = []
    facilitators = available = paused = capacity = taken = free = full = idle = 0
    for row in found.all():
        facilitators += 1
        can_lead = facilitator_capacity(program, answered=row.capacity)
        leads = int(row.active) + int(row.forming)
        places = max(can_lead - leads, 0)
        capacity += can_lead
        taken += leads
        if row.status == EnrollmentStatus.AVAILABLE.value:
            available += 1
            free += places
            full += int(places == 0)
        elif row.status == EnrollmentStatus.PAUSED.value:
            paused += 1
        idle += int(leads == 0)
        last_day: date | None = row.last
        rows.append(
            (
                row.name,
                row.email,
                row.status,
                can_lead,
                int(row.active),
                int(row.forming),
                places,
                iso_day(last_day),
            )
        )
    figures: list[tuple[str, str]] = [
        ("Facilitators (not left)", count_figure(facilitators, k)),
        ("Available", count_figure(available, k)),
        ("Paused", count_figure(paused, k)),
        ("Circles they can lead (capacity)", number(capacity)),
        ("Circles led (active and forming)", number(taken)),
        ("Load", f"{percent(taken, capacity)}% of capacity" if capacity else "–"),
        ("Free places (available facilitators)", number(free)),
        ("Available facilitators with no free place", count_figure(full, k)),
        ("Facilitators leading no circle", count_figure(idle, k)),
    ]
    table = Table(
        "Facilitators",
        (
            "facilitator",
            "email",
            "status",
            "capacity (circles)",
            "active circles",
            "forming circles",
            "free places",
            "last session",
        ),
        tuple(rows),
    )
    notes = (
        "Load: the circles each facilitator leads, active and forming (proposed, with their "
        "place not declined), over how many circles every facilitator who has not left can "
        "lead at once (their capacity answer, else the program's circles.capacity); free "
        "places count available facilitators only (paused facilitators get no new circle).",
        "Last session: the latest session of any circle they lead or led in the program.",
        small_groups_note(k),
    )
    return Report("mentors", "Facilitators: load", tuple(figures), (table,), None, notes)


KIND = Kind("mentors", "load against capacity, inactive mentors, readiness averages", mentors)
