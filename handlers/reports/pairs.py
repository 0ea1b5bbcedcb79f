"""Lead reports about pairs: overview, cadence, at-risk, milestones and mentors.

Each report is a handful of aggregate queries (GROUP BY, COUNT with FILTER, look-ups of a
pairing's sessions that the ``(pairing_id, held_on)`` key answers, and window functions for
medians, all of which SQLite and PostgreSQL share): the database does the counting, and
only the rows a report shows (a mentor each, a pair at risk each) come back to Python.
bench/reports.py times them over 50,000 people and 500,000 sessions.

What leads see, and what they never see:

* no session note text or summary is read, and no one person's rating: a mentor's
  readiness averages are shown only when at least ``program.min_group_size`` answers make
  them up, else "fewer than N answers";
* a count of a group of people or pairs smaller than ``program.min_group_size`` reads
  "fewer than N" (:func:`handlers.core.figures.small`; none is not a small group and reads 0),
  and a share (a percentage) is shown only where its count is, so it never gives a
  hidden count away;
* pairs are named where a lead must act on them (at-risk, inactive mentors), as the
  at-risk alerts already name them.

Definitions every report shares (each report repeats the ones it uses in its notes):

* "today" is the calendar day in the program's default timezone;
* a pair is *on cadence* when it held a session in the last ``checkin_every_days`` days,
  or became active less than that long ago;
* a pair or a mentor is *silent* after :func:`quiet_days` days without a session: half of
  ``auto_close_after_days``, so a lead can step in before the bot proposes closing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import local_date
from handlers.core.figures import (
    Cell,
    Chart,
    Kind,
    Report,
    Table,
    checked_chart,
    month_label,
    small,
)
from handlers.core.program import Program, QuestionType
from handlers.reports.sql import ReportSql
from handlers.sessions.feedback import READINESS
from storage import (
    DueKind,
    EnrollmentStatus,
    FeedbackStatus,
    MilestoneStatus,
    PairingStatus,
    Role,
)
from storage.tables import DUE, ENROLLMENT, FEEDBACK, MILESTONE, PAIRING, PERSON
from storage.tables import SESSION_LOG as SESSION

#: The window of the sessions-per-pair distribution, in days.
RECENT_DAYS = 90
#: Full months the cadence report's monthly table and chart cover.
MONTHS = 6
#: Full months the headline "sessions per pair per month" averages over.
RATE_MONTHS = 3
#: An unanswered proposal this close to its expiry (or past it) needs a nudge.
PROPOSAL_NEAR = timedelta(days=2)
#: The sessions-per-pair distribution's last bucket holds this many sessions or more.
TOP_BUCKET = 6

ACTIVE = PairingStatus.ACTIVE.value
PROPOSALS = (PairingStatus.PROPOSED.value, PairingStatus.ACCEPTED.value)
OPEN = (*PROPOSALS, ACTIVE)
ROLE_ORDER = (Role.MENTEE.value, Role.MENTOR.value)
STATUS_ORDER = tuple(s.value for s in EnrollmentStatus)


def quiet_days(program: Program) -> int:
    """Days without a session after which a pair or a mentor counts as silent.

    Half of ``auto_close_after_days`` (at least one day): early enough for a lead to step
    in before the bot proposes closing the pairing.
    """
    return max(1, program.cadence.auto_close_after_days // 2)


# --- shared pieces -------------------------------------------------------------------------


def _today(program: Program, now: datetime) -> date:
    return local_date(now, program.default_timezone)


def _midnight(day: date, program: Program) -> datetime:
    """The instant a day begins in the program's timezone (as UTC)."""
    zone = ZoneInfo(program.default_timezone)
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _number(count: int) -> str:
    """A count as a headline figure: ``12,345``."""
    return f"{count:,}"


def _count(count: int, program: Program) -> str:
    """A group's size as a headline figure (``12,345``, or "fewer than N" when small)."""
    shown = small(count, program)
    return _number(shown) if isinstance(shown, int) else str(shown)


def _percent(part: float, whole: float) -> int:
    """``part`` of ``whole`` as a whole percentage, halves rounded up."""
    return math.floor(100 * part / whole + 0.5)


def _share(part: int, whole: int, program: Program) -> str | None:
    """``part`` of ``whole`` as a percentage; None when ``part`` is a small group.

    A share is shown only where the count it is made of would be, so it never gives away
    a count that reads "fewer than N" (none is not a small group: its share is 0%).
    """
    if not whole or isinstance(small(part, program), str):
        return None
    return f"{_percent(part, whole)}%"


def _days(value: float) -> str:
    """A duration in days, to a tenth: ``12 days``, ``3.5 days``, ``1 day``."""
    rounded = round(value, 1)
    return f"{rounded:g} day" + ("" if rounded == 1 else "s")


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


async def _middle(conn: AsyncConnection, values: sa.Select[Any]) -> tuple[int, list[Any]]:
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


async def _rows(conn: AsyncConnection, query: sa.Executable) -> Sequence[Any]:
    return (await conn.execute(query)).all()


async def _tally(conn: AsyncConnection, query: sa.Executable) -> dict[Any, int]:
    """A (key, count) query as a dict."""
    return {key: int(n) for key, n in await _rows(conn, query)}


def _paused(pairing: Any, program_id: str) -> Any:
    """SQL: either side of the pairing is paused."""
    return sa.exists().where(
        ENROLLMENT.c.person_id.in_([pairing.c.mentee_id, pairing.c.mentor_id]),
        ENROLLMENT.c.program == program_id,
        ENROLLMENT.c.status == EnrollmentStatus.PAUSED.value,
    )


def _last_session(pairing: Any) -> Any:
    """SQL: the day of the pairing's latest session (the unique key answers it)."""
    return (
        sa.select(sa.func.max(SESSION.c.held_on))
        .where(SESSION.c.pairing_id == pairing.c.id)
        .scalar_subquery()
    )


def _sessions_since(pairing: Any, since: date) -> Any:
    """SQL: whether the pairing held a session on ``since`` or later."""
    return sa.exists().where(SESSION.c.pairing_id == pairing.c.id, SESSION.c.held_on >= since)


def _small_note(program: Program) -> str:
    size = program.min_group_size
    return (
        f"Groups of fewer than {size} people or pairs are shown as 'fewer than {size}', and "
        "so are their shares; none is shown as 0."
    )


# --- overview ------------------------------------------------------------------------------


async def overview(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Participants by role and status, pairs, the waitlist, and how long matching takes."""
    conn = await session.connection()
    program_id = program.id
    size = program.min_group_size

    counted = await _rows(
        conn,
        sa.select(ENROLLMENT.c.role, ENROLLMENT.c.status, sa.func.count())
        .where(ENROLLMENT.c.program == program_id)
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
        (role, status, small(by_role_status[role, status], program))
        for role, status in sorted(by_role_status, key=order)
    )

    def enrolled(role: Role) -> int:
        return sum(
            n
            for (r, status), n in by_role_status.items()
            if r == role.value and status != EnrollmentStatus.LEFT.value
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

    # The waitlist as matching sees it (handlers.matching.waitlist.waitlist_positions): waiting
    # mentees with no open proposal, their place kept from when they first joined it.
    busy = sa.exists().where(
        PAIRING.c.program == ENROLLMENT.c.program,
        PAIRING.c.mentee_id == ENROLLMENT.c.person_id,
        PAIRING.c.status.in_(OPEN),
    )
    since = sa.func.coalesce(ENROLLMENT.c.waiting_since, ENROLLMENT.c.enrolled_at)
    waiting, middle = await _middle(
        conn,
        sa.select(since.label("since")).where(
            ENROLLMENT.c.program == program_id,
            ENROLLMENT.c.role == Role.MENTEE.value,
            ENROLLMENT.c.status == EnrollmentStatus.WAITING.value,
            ~busy,
        ),
    )
    if waiting >= size:
        median_since = middle[0] + (middle[-1] - middle[0]) / 2
        median_wait = _days((now - median_since).total_seconds() / 86400)
    elif waiting:
        median_wait = f"fewer than {size} waiting"
    else:
        median_wait = "nobody waiting"

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
    matched, middle = await _middle(
        conn,
        sa.select(ReportSql.of(conn).days(first.c.matched_at, first.c.enrolled_at).label("days")),
    )
    if matched >= size:
        median_match = _days(sum(float(v) for v in middle) / len(middle))
    elif matched:
        median_match = f"fewer than {size} matched"
    else:
        median_match = "nobody matched yet"

    free = await _free_places(conn, program_id)
    figures = (
        ("Mentees (not left)", _count(enrolled(Role.MENTEE), program)),
        ("Mentors (not left)", _count(enrolled(Role.MENTOR), program)),
        ("Active pairs", _count(active, program)),
        ("Proposals waiting for an answer", _count(proposals, program)),
        ("Waitlist", _count(waiting, program)),
        ("Median wait on the waitlist", median_wait),
        ("Median time from enrollment to first match", median_match),
        ("Free mentor places", _number(free)),
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
        _small_note(program),
    )
    return Report("overview", "Program overview", figures, (table,), None, notes)


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


# --- cadence -------------------------------------------------------------------------------


def _months(today: date, count: int) -> list[tuple[date, date]]:
    """The last ``count`` full months before today's month, oldest first, as [start, end)."""
    months: list[tuple[date, date]] = []
    end = today.replace(day=1)
    for _ in range(count):
        start = (end - timedelta(days=1)).replace(day=1)
        months.insert(0, (start, end))
        end = start
    return months


async def cadence(session: AsyncSession, program: Program, now: datetime) -> Report:
    """The share of pairs on cadence, sessions per pair per month, and their distribution."""
    conn = await session.connection()
    program_id = program.id
    today = _today(program, now)
    every = program.cadence.checkin_every_days

    # One row per active pair, aggregated again below: never returned whole.
    pair = PAIRING.alias("pair")
    recent = (
        sa.select(sa.func.count())
        .where(
            SESSION.c.pairing_id == pair.c.id,
            SESSION.c.held_on > today - timedelta(days=RECENT_DAYS),
        )
        .scalar_subquery()
    )
    on_cadence = sa.or_(
        _sessions_since(pair, today - timedelta(days=every)),
        pair.c.activated_at > now - timedelta(days=every),
    )
    per_pair = (
        sa.select(
            _paused(pair, program_id).label("paused"),
            on_cadence.label("on_cadence"),
            recent.label("recent"),
        )
        .where(pair.c.program == program_id, pair.c.status == ACTIVE)
        .subquery()
    )
    totals = (
        await conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(per_pair.c.paused),
                sa.func.count().filter(~per_pair.c.paused, per_pair.c.on_cadence),
            ).select_from(per_pair)
        )
    ).one()
    active, paused, on = int(totals[0]), int(totals[1] or 0), int(totals[2] or 0)
    counted = active - paused
    bucket = sa.case((per_pair.c.recent >= TOP_BUCKET, TOP_BUCKET), else_=per_pair.c.recent)
    spread = await _tally(
        conn,
        sa.select(bucket, sa.func.count())
        .select_from(per_pair)
        .where(~per_pair.c.paused)
        .group_by(bucket),
    )
    distribution = tuple(
        (
            f"{n} or more" if n == TOP_BUCKET else str(n),
            small(spread.get(n, 0), program),
            _share(spread.get(n, 0), counted, program),
        )
        for n in range(TOP_BUCKET + 1)
    )

    months = _months(today, MONTHS)
    first, last = months[0][0], months[-1][1]
    sessions_row = (
        await conn.execute(
            sa.select(
                *(
                    sa.func.count().filter(SESSION.c.held_on >= start, SESSION.c.held_on < end)
                    for start, end in months
                )
            )
            .select_from(SESSION.join(PAIRING, PAIRING.c.id == SESSION.c.pairing_id))
            .where(
                PAIRING.c.program == program_id,
                SESSION.c.held_on >= first,
                SESSION.c.held_on < last,
            )
        )
    ).one()
    pairs_row = (
        await conn.execute(
            sa.select(
                *(
                    sa.func.count().filter(
                        PAIRING.c.activated_at < _midnight(end, program),
                        sa.or_(
                            PAIRING.c.closed_at.is_(None),
                            PAIRING.c.closed_at >= _midnight(start, program),
                        ),
                    )
                    for start, end in months
                )
            ).where(
                PAIRING.c.program == program_id,
                PAIRING.c.activated_at.is_not(None),
                PAIRING.c.activated_at < _midnight(last, program),
            )
        )
    ).one()
    held = [int(n or 0) for n in sessions_row]
    paired = [int(n or 0) for n in pairs_row]
    # A month without an active pair has no rate (a gap in the chart), not a rate of 0.
    rates = [round(s / p, 2) if p else None for s, p in zip(held, paired, strict=True)]
    month_ids = tuple(f"{start:%Y-%m}" for start, _ in months)
    labels = tuple(month_label(month) for month in month_ids)
    monthly = tuple(
        (label, s, small(p, program), rate)
        for label, s, p, rate in zip(labels, held, paired, rates, strict=True)
    )
    rate_sessions, rate_pairs = sum(held[-RATE_MONTHS:]), sum(paired[-RATE_MONTHS:])
    rate = f"{rate_sessions / rate_pairs:.1f}" if rate_pairs else "–"
    share = _share(on, counted, program)

    figures = (
        ("Active pairs", _count(active, program)),
        ("Paused (either side; not counted below)", _count(paused, program)),
        ("On cadence", f"{share or small(on, program)} of {_count(counted, program)} pairs"),
        (f"Sessions per pair per month (last {RATE_MONTHS} full months)", rate),
    )
    tables = (
        Table(
            "Sessions per active pair, by month",
            ("month", "sessions", "active pairs", "sessions per pair"),
            monthly,
        ),
        Table(
            f"Sessions in the last {RECENT_DAYS} days, per active pair",
            ("sessions", "pairs", "share"),
            distribution,
        ),
    )
    chart, no_chart = checked_chart(
        Chart(
            "line",
            "Sessions per active pair, by month",
            labels,
            (("sessions per pair", tuple(rates)),),
            "sessions per pair",
            months=month_ids,
        ),
        all_zero=f"No chart of sessions by month: no session was logged in the last "
        f"{MONTHS} full months.",
        all_hidden=f"No chart of sessions by month: no pair was active in the last "
        f"{MONTHS} full months.",
    )
    notes = (
        *((no_chart,) if no_chart else ()),
        f"On cadence: an active pair that held a session in the last {every} days (the "
        f"check-in interval), or became active less than {every} days ago. Pairs with a "
        "paused side are left out of the share and of the distribution.",
        "Sessions per pair per month: sessions held in a month over the pairs active at any "
        "time in it (a pair active for part of a month counts as one).",
        _small_note(program),
    )
    return Report("cadence", "Cadence: are pairs meeting?", figures, tables, chart, notes)


# --- at-risk -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Flagged:
    """A pair that needs a lead's attention, and why."""

    pairing_id: int
    mentee: str
    mentor: str
    status: str
    last_session: date | None
    reasons: tuple[str, ...]
    actions: tuple[str, ...]

    def row(self) -> tuple[Cell, ...]:
        """The pair's row: who it is about first, its id last (for the CSV, not for chat)."""
        return (
            self.mentee,
            self.mentor,
            self.status,
            _iso(self.last_session),
            "; ".join(self.reasons),
            "; ".join(self.actions),
            # As text: an id, not a quantity (no thousands separator in the text table).
            str(self.pairing_id),
        )


def _first_name(name: str) -> str:
    return name.split()[0] if name else name


async def at_risk(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Pairs that need a lead: missed check-ins, silence, a "no" at calibration, proposals."""
    conn = await session.connection()
    program_id = program.id
    cadence_ = program.cadence
    today = _today(program, now)
    quiet = quiet_days(program)
    mentee, mentor = PERSON.alias("mentee"), PERSON.alias("mentor")
    pair = PAIRING.alias("pair")

    missed = pair.c.missed_checkins >= cadence_.escalate_after_missed
    silent = sa.and_(
        ~_sessions_since(pair, today - timedelta(days=quiet - 1)),
        pair.c.activated_at < _midnight(today - timedelta(days=quiet - 1), program),
        ~_paused(pair, program_id),
    )

    def said_no(role: Role) -> Any:
        # The answer to this cycle's calibration (handlers.cycle.running._calibrate).
        return sa.exists().where(
            DUE.c.pairing_id == pair.c.id,
            DUE.c.kind == DueKind.CALIBRATION.value,
            DUE.c.due_at >= sa.func.coalesce(pair.c.cycle_started_at, pair.c.activated_at),
            DUE.c.answers[role.value].as_string() == "no",
        )

    flags = (
        missed.label("missed"),
        silent.label("silent"),
        said_no(Role.MENTEE).label("mentee_no"),
        said_no(Role.MENTOR).label("mentor_no"),
    )
    found = await conn.execute(
        sa.select(
            pair.c.id,
            mentee.c.name.label("mentee"),
            mentor.c.name.label("mentor"),
            pair.c.missed_checkins,
            pair.c.activated_at,
            _last_session(pair).label("last_session"),
            *flags,
        )
        .select_from(
            pair.join(mentee, mentee.c.id == pair.c.mentee_id).join(
                mentor, mentor.c.id == pair.c.mentor_id
            )
        )
        .where(
            pair.c.program == program_id,
            pair.c.status == ACTIVE,
            sa.or_(*(flag.element for flag in flags)),
        )
    )
    flagged: list[_Flagged] = []
    counts = {"missed": 0, "silent": 0, "calibration": 0, "proposal": 0}
    for row in found.all():
        reasons: list[str] = []
        actions: list[str] = []
        last: date | None = row.last_session
        if row.missed:
            counts["missed"] += 1
            reasons.append(f"{row.missed_checkins} check-ins in a row missed")
            actions.append(
                f"Ask {_first_name(row.mentor)} whether they need help finding time; suggest a "
                "re-match if it isn't working"
            )
        if row.silent:
            counts["silent"] += 1
            since = (
                last if last is not None else local_date(row.activated_at, program.default_timezone)
            )
            days = (today - since).days
            reasons.append(
                f"no session for {days} days"
                if last is not None
                else f"no session since pairing, {days} days ago"
            )
            if days >= cadence_.auto_close_after_days:
                actions.append(
                    f"Past the {cadence_.auto_close_after_days} days after which closing is "
                    "proposed: ask both whether to keep going or close"
                )
            else:
                actions.append(
                    "Ask both how it's going before closing is proposed at "
                    f"{cadence_.auto_close_after_days} days"
                )
        if row.mentee_no or row.mentor_no:
            counts["calibration"] += 1
            who = (
                "both said"
                if row.mentee_no and row.mentor_no
                else "the mentee said"
                if row.mentee_no
                else "the mentor said"
            )
            reasons.append(f"calibration: {who} it isn't working")
            actions.append("Talk to them both; offer a re-match")
        flagged.append(
            _Flagged(row.id, row.mentee, row.mentor, ACTIVE, last, tuple(reasons), tuple(actions))
        )

    proposals = await conn.execute(
        sa.select(
            pair.c.id,
            mentee.c.name.label("mentee"),
            mentor.c.name.label("mentor"),
            pair.c.status,
            pair.c.expires_at,
        )
        .select_from(
            pair.join(mentee, mentee.c.id == pair.c.mentee_id).join(
                mentor, mentor.c.id == pair.c.mentor_id
            )
        )
        .where(
            pair.c.program == program_id,
            pair.c.status.in_(PROPOSALS),
            pair.c.expires_at <= now + PROPOSAL_NEAR,
        )
    )
    for row in proposals.all():
        counts["proposal"] += 1
        waiting_for, name = (
            ("mentor", row.mentor)
            if row.status == PairingStatus.PROPOSED.value
            else ("mentee", row.mentee)
        )
        expires = local_date(row.expires_at, program.default_timezone)
        lapse = "lapsed" if row.expires_at <= now else "lapses"
        flagged.append(
            _Flagged(
                row.id,
                row.mentee,
                row.mentor,
                row.status,
                None,
                (f"proposal unanswered by the {waiting_for}; it {lapse} on {expires.isoformat()}",),
                (
                    f"Remind {_first_name(name)} to accept or decline"
                    if row.expires_at > now
                    else f"It lapses at the bot's next run: ask {_first_name(name)} whether "
                    "they still want to take part",
                ),
            )
        )
    flagged.sort(key=lambda f: (-len(f.reasons), f.pairing_id))
    figures = (
        ("Pairs needing attention", _count(len(flagged), program)),
        (
            f"Missed {cadence_.escalate_after_missed} or more check-ins in a row",
            _count(counts["missed"], program),
        ),
        (f"No session for {quiet} days or more", _count(counts["silent"], program)),
        ("Said at calibration it isn't working", _count(counts["calibration"], program)),
        ("Proposals unanswered near or past expiry", _count(counts["proposal"], program)),
    )
    table = Table(
        "Pairs needing attention (most reasons first)",
        ("mentee", "mentor", "status", "last session", "reasons", "suggested actions", "pairing"),
        tuple(f.row() for f in flagged),
    )
    notes = (
        f"Missed check-ins: {cadence_.escalate_after_missed} or more check-ins in a row fell "
        "due with no session logged (the pair was also reported when it happened).",
        f"No session: the last session (or the pairing's start) was {quiet} days ago or more, "
        f"half of the {cadence_.auto_close_after_days} days after which closing is proposed; "
        "pairs with a paused side are left out.",
        "Calibration: the yes/no answer to 'Is this pairing working?' in the current cycle; "
        "no survey ratings are shown.",
        f"Proposals: waiting for an answer and lapsing within {PROPOSAL_NEAR.days} days, or "
        "already past their expiry.",
        _small_note(program),
    )
    return Report("at-risk", "Pairs at risk", figures, (table,), None, notes)


# --- milestones ----------------------------------------------------------------------------


async def milestones(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Milestone progress across active pairs' current plans."""
    conn = await session.connection()
    program_id = program.id
    today = _today(program, now)
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
    by_progress = await _tally(
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
            small(int(n), program),
            small(int(d), program),
            small(int(t), program),
            small(int(s), program),
            small(int(o), program),
            _share(int(d), int(n), program),
        )
        for position, n, d, t, s, o in by_position
    )
    progress_rows = tuple(
        (
            label,
            small(by_progress.get(label, 0), program),
            _share(by_progress.get(label, 0), active, program),
        )
        for label in ("no plan yet", "none done yet", "some done", "all done")
    )

    def of(n: int, whole: int) -> str:
        share = _share(n, whole, program)
        return f"{_number(n)} ({share})" if share else _count(n, program)

    def of_total(n: int) -> str:
        return of(n, total)

    figures = (
        ("Active pairs", _count(active, program)),
        ("With a plan this cycle", of(planned, active)),
        ("Plan confirmed by the mentor", _count(confirmed, program)),
        ("Milestones in current plans", _count(total, program)),
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
        _small_note(program),
    )
    return Report("milestones", "Milestone progress", figures, tables, None, notes)


# --- mentors -------------------------------------------------------------------------------


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


def _average(value: Any, respondents: int, size: int) -> Cell:
    """A readiness average to a tenth, or why it is not shown.

    The threshold counts the mentees behind the average, not their answers: one mentee
    answering at every checkpoint must not make up a mentor's average on their own.
    """
    if not respondents:
        return "no mentee answered"
    if respondents < size:
        return f"fewer than {size} mentees answered"
    return None if value is None else round(float(value), 1)


async def mentors(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Mentors' load against capacity, inactive mentors, and readiness averages."""
    conn = await session.connection()
    program_id = program.id
    size = program.min_group_size
    today = _today(program, now)
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
        sa.select(PAIRING.c.mentor_id, _last_session(PAIRING).label("last")).where(here).subquery()
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
    started_before = _midnight(silent_before, program)
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
        averages = [_average(row[9 + n], respondents, size) for n in range(len(questions))]
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
                _iso(last_day),
                small(answers, program),
                *averages,
            )
        )
        quiet_now = last_day is None or last_day < silent_before
        settled = row.oldest is not None and row.oldest < started_before
        if row.status == EnrollmentStatus.AVAILABLE.value and settled and quiet_now:
            inactive.append((row.name, row.email, int(row.active), _iso(last_day)))

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
        ("Mentors (not left)", _count(mentors_n, program)),
        ("Available", _count(available, program)),
        ("Paused", _count(paused, program)),
        ("Places (capacity)", _number(capacity)),
        ("Places taken (active pairs and proposals)", _number(taken)),
        (
            "Load",
            f"{_percent(taken, capacity)}% of capacity" if capacity else "–",
        ),
        ("Free places (available mentors)", _number(free)),
        ("Available mentors with no free place", _count(full, program)),
        ("Mentors with no mentee or proposal", _count(idle, program)),
        (f"Inactive mentors (no session for {quiet} days)", _count(len(inactive), program)),
    ]
    for n, question in enumerate(questions):
        average = _average(overall[1 + n], program_respondents, size)
        shown = (
            f"{average:.1f} from {_number(program_answers)} answers"
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
            f"Inactive mentors: active mentees, no session for {quiet} days",
            ("mentor", "email", "active mentees", "last session"),
            tuple(inactive),
        ),
    )
    notes = (
        "Load: open pairings (active and proposed) over the capacity of every mentor who has "
        "not left; free places count available mentors only (paused mentors get no new "
        "mentees).",
        f"Inactive: an available mentor with a pairing active for {quiet} days or more and no "
        f"session logged in any of their pairings in the last {quiet} days (paused mentors "
        "are on a break, so not listed).",
        f"Readiness: mentees' answers to the mentor-readiness survey, averaged per mentor "
        f"only when at least {size} different mentees answered; no one answer is shown.",
        _small_note(program),
    )
    return Report("mentors", "Mentors: load and readiness", tuple(figures), tables, None, notes)


#: The kinds this module offers, in the order ``report`` lists them.
KINDS: list[Kind] = [
    Kind(
        "overview",
        "participants by role and status, pairs, the waitlist, time to match",
        overview,
    ),
    Kind("cadence", "share of pairs on cadence, sessions per pair per month", cadence),
    Kind("at-risk", "pairs that need a lead, each with a suggested action", at_risk),
    Kind("milestones", "milestone progress across active pairs", milestones),
    Kind("mentors", "load against capacity, inactive mentors, readiness averages", mentors),
]
