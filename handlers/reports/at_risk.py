"""``report at-risk``: pairs that need a lead, each with a suggested action.

Pairs are named here because a lead must act on them, as the at-risk alerts already name
them: missed check-ins, silence, a "no" at calibration, proposals near their expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import deadline, local_date, local_moment
from handlers.core.figures import Cell, DatedKind, Report, Table
from handlers.core.messages import plural
from handlers.core.program import Program
from handlers.core.words import city_of
from handlers.reports.circles import (
    LAST_SESSIONS,
    circles_at_risk,
    is_circles,
    silent_days,
)
from handlers.reports.queries import (
    ACTIVE,
    DUE,
    PAIRING,
    PERSON,
    PROPOSALS,
    iso_day,
    last_session_day,
    met_since,
    midnight,
    paused_side,
    program_today,
    quiet_days,
)
from handlers.reports.suppression import count_figure, number, small_groups_note
from storage import DueKind, PairingStatus, Role

#: An unanswered proposal this close to its expiry (or past it) needs a nudge.
PROPOSAL_NEAR = timedelta(days=2)


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
            iso_day(self.last_session),
            "; ".join(self.reasons),
            "; ".join(self.actions),
            # As text: an id, not a quantity (no thousands separator in the text table).
            str(self.pairing_id),
        )


def attention_flags(pair: Any, program: Program, *, now: datetime) -> tuple[Any, ...]:
    """SQL: why an active pair needs a lead, one labelled condition each.

    ``missed`` (check-ins in a row), ``silent`` (no session for :func:`quiet_days`, with no
    side paused), ``mentee_no`` and ``mentor_no`` (said at this cycle's calibration that
    it isn't working). ``report programs`` counts the pairs any of them holds for.
    """
    today = program_today(program, now)
    quiet = quiet_days(program)
    missed = pair.c.missed_checkins >= program.cadence.escalate_after_missed
    silent = sa.and_(
        ~met_since(pair, today - timedelta(days=quiet - 1)),
        pair.c.activated_at < midnight(today - timedelta(days=quiet - 1), program),
        ~paused_side(pair, program.id),
    )

    def said_no(role: Role) -> Any:
        # The answer to this cycle's calibration (handlers.cycle.answers._calibrate).
        return sa.exists().where(
            DUE.c.pairing_id == pair.c.id,
            DUE.c.kind == DueKind.CALIBRATION.value,
            DUE.c.due_at >= sa.func.coalesce(pair.c.cycle_started_at, pair.c.activated_at),
            DUE.c.answers[role.value].as_string() == "no",
        )

    return (
        missed.label("missed"),
        silent.label("silent"),
        said_no(Role.MENTEE).label("mentee_no"),
        said_no(Role.MENTOR).label("mentor_no"),
    )


def _first_name(name: str) -> str:
    return name.split()[0] if name else name


def _lapse_moment(moment: datetime, program: Program, reader_zone: str | None) -> str:
    """When a proposal lapses: on the reading lead's clock, else the program's, named."""
    if reader_zone is not None:
        return deadline(moment, reader_zone)
    zone = program.default_timezone
    return f"{local_moment(moment, zone)} ({city_of(zone, moment)} time)"


async def at_risk(
    session: AsyncSession, program: Program, *, now: datetime, reader_zone: str | None = None
) -> Report:
    """Pairs that need a lead: missed check-ins, silence, a "no" at calibration, proposals.

    For a circles program: its circles in place of pairs (:func:`_circles_at_risk`).

    Args:
        reader_zone: The reading lead's time zone, for when each proposal lapses; None:
            the program's, named.
    """
    conn = await session.connection()
    if is_circles(program):
        return await _circles_at_risk(conn, program, now=now)
    program_id = program.id
    k = program.min_group_size
    cadence_ = program.cadence
    today = program_today(program, now)
    quiet = quiet_days(program)
    mentee, mentor = PERSON.alias("mentee"), PERSON.alias("mentor")
    pair = PAIRING.alias("pair")
    flags = attention_flags(pair, program, now=now)
    found = await conn.execute(
        sa.select(
            pair.c.id,
            mentee.c.name.label("mentee"),
            mentor.c.name.label("mentor"),
            pair.c.missed_checkins,
            pair.c.activated_at,
            last_session_day(pair).label("last_session"),
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
            reasons.append(f"{plural(row.missed_checkins, 'check-in')} in a row missed")
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
                f"no session for {plural(days, 'day')}"
                if last is not None
                else f"no session since pairing, {plural(days, 'day')} ago"
            )
            if days >= cadence_.auto_close_after_days:
                actions.append(
                    f"Past the {plural(cadence_.auto_close_after_days, 'day')} after which "
                    "closing is "
                    "proposed: ask both whether to keep going or close"
                )
            else:
                actions.append(
                    "Ask both how it's going before closing is proposed at "
                    f"{plural(cadence_.auto_close_after_days, 'day')}"
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
        expires = _lapse_moment(row.expires_at, program, reader_zone)
        lapse = "lapsed" if row.expires_at <= now else "lapses"
        flagged.append(
            _Flagged(
                row.id,
                row.mentee,
                row.mentor,
                row.status,
                None,
                (f"proposal unanswered by the {waiting_for}; it {lapse} on {expires}",),
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
        ("Pairs needing attention", count_figure(len(flagged), k)),
        (
            f"Missed {cadence_.escalate_after_missed} or more check-ins in a row",
            count_figure(counts["missed"], k),
        ),
        (f"No session for {plural(quiet, 'day')} or more", count_figure(counts["silent"], k)),
        ("Said at calibration it isn't working", count_figure(counts["calibration"], k)),
        ("Proposals unanswered near or past expiry", count_figure(counts["proposal"], k)),
    )
    table = Table(
        "Pairs needing attention (most reasons first)",
        ("mentee", "mentor", "status", "last session", "reasons", "suggested actions", "pairing"),
        tuple(f.row() for f in flagged),
    )
    notes = (
        f"Missed check-ins: {cadence_.escalate_after_missed} or more check-ins in a row fell "
        "due with no session logged (the pair was also reported when it happened).",
        f"No session: the last session (or the pairing's start) was {plural(quiet, 'day')} ago "
        f"or more, half of the {plural(cadence_.auto_close_after_days, 'day')} after which "
        "closing is proposed; "
        "pairs with a paused side are left out.",
        "Calibration: the yes/no answer to 'Is this pairing working?' in the current cycle; "
        "no survey ratings are shown.",
        f"Proposals: waiting for an answer and lapsing within {PROPOSAL_NEAR.days} days, or "
        "already past their expiry.",
        small_groups_note(k),
    )
    return Report("at-risk", "Pairs at risk", figures, (table,), None, notes)


async def _circles_at_risk(conn: AsyncConnection, program: Program, *, now: datetime) -> Report:
    """Active circles that need a lead: silent for two check-in windows, or attended by
    under half over their last sessions. Listed by number only: no one is named.

    Pairs' figures (missed check-ins, calibration, proposals) mean nothing here and are
    left out rather than shown as 0. Circles are counted as they are.
    """
    k = program.min_group_size
    today = program_today(program, now)
    quiet = silent_days(program)
    flagged = await circles_at_risk(conn, program, now=now)
    rows: list[tuple[Cell, ...]] = []
    # Most reasons first, then by number.
    for circle in sorted(flagged, key=lambda c: -(c.silent + c.low_attendance)):
        reasons: list[str] = []
        actions: list[str] = []
        if circle.silent:
            if circle.last_session is not None:
                reasons.append(
                    f"no session for {plural((today - circle.last_session).days, 'day')}"
                )
            else:
                since = local_date(circle.activated_at, program.default_timezone)
                reasons.append(
                    f"no session since it started, {plural((today - since).days, 'day')} ago"
                )
            actions.append("Ask the facilitator whether the circle needs help finding a time")
        if circle.low_attendance:
            reasons.append(f"fewer than half came to its last {LAST_SESSIONS} sessions")
            actions.append("Ask the facilitator whether the time and the format still suit")
        rows.append(
            (
                # As text: a number that names the circle, not a quantity.
                str(circle.circle_id),
                circle.members,
                iso_day(circle.last_session),
                "; ".join(reasons),
                "; ".join(actions),
            )
        )
    figures = (
        ("Circles needing attention", number(len(flagged))),
        (f"No session for {quiet} days or more", number(sum(c.silent for c in flagged))),
        (
            f"Fewer than half came to the last {LAST_SESSIONS} sessions",
            number(sum(c.low_attendance for c in flagged)),
        ),
    )
    notes = (
        f"No session: the last session (or the circle's start) was {plural(quiet, 'day')} "
        f"ago or more, two check-in intervals of "
        f"{plural(program.cadence.checkin_every_days, 'day')}.",
        f"Attendance: of the attendance rows of the circle's last {LAST_SESSIONS} sessions, "
        "fewer than half marked attended. No one's attendance is shown.",
        "Circles are listed by number: no circle report names anyone.",
        small_groups_note(k),
    )
    table = Table(
        "Circles needing attention (most reasons first)",
        ("circle", "members", "last session", "reasons", "suggested actions"),
        tuple(rows),
    )
    return Report("at-risk", "Circles at risk", figures, (table,), None, notes)


KIND = DatedKind(
    "at-risk", "pairs that need a lead, each with a suggested action", at_risk, for_reader=at_risk
)
