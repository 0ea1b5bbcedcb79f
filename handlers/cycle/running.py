"""The 90-day cycle once it runs: what falls due, nudges, and the words that steer a pairing.

:func:`process_due` turns claimed due items into messages. It is given a batch (the
scheduler claims them, see scheduler.due) and does everything for the batch in one
transaction with a handful of queries, so a tick keeps up with a large program:

* a **check-in** with no session logged in its window nudges both sides, since either
  may book the meeting or log it (Log session / Snooze 3 days / Reschedule); a snoozed or
  rescheduled reminder goes to whoever asked for it; ``escalate_after_missed`` misses in a
  row put the pair at risk and tell the program leads; a logged session suppresses it;
* the **calibration** asks both "Is this pairing working for you?" (Yes / Not really);
* the **mid-point**, the **quarterly reviews** and the **end-of-cycle review** (continue or
  close) go to both with the plan's milestones;
* the **inactivity** check proposes closing a pairing with no activity for
  ``auto_close_after_days`` to both and to the leads;
* the **plan** and **survey reminders** remind whoever still owes a step (see
  handlers.cycle.reminders).

Each message is delivered inside its recipient's working hours, in their timezone, and a
count of days in it is worked out when it is delivered (handlers.core.messages.DaysSince). A
paused pairing's items are held until the pause ends. Items more than ``stale_after_days``
late (the bot was down) are folded into one catch-up message per person.

The commands here are the answers to those messages (calibrate, rematch, continue, close,
keep, snooze, reschedule) and a person's own pause, resume and leave.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import WEEKDAYS, day_label, local_date, next_delivery, parse_day
from handlers.core.engine import Command, Flow, FlowState, Outcome, Turn
from handlers.core.messages import (
    DaysSince,
    Option,
    Pieces,
    Prompt,
    PromptKind,
    Reply,
    counting,
    first_sentence,
    plural,
)
from handlers.core.outbox import enqueue, outbox_row, withdraw
from handlers.core.program import Program
from handlers.cycle.reminders import LOOKS, PairSides, Side
from handlers.cycle.schedule import (
    DUE,
    cancel_due,
    cycle_day,
    cycle_end,
    cycle_start,
    due_row,
    insert_due,
    move_checkin,
    release_held,
    reminder_check,
    schedule_cycle,
    start_of,
)
from handlers.matching.lapses import LAPSES
from handlers.people.lookups import pairings_of, people_by_id, program_leads
from handlers.plans.chat import (
    active_pairings,
    milestone_progress,
    my_pairing,
    role_in,
    zone_of,
)
from handlers.sessions.feedback import CHECKPOINTS, checkpoint_rows, give_feedback, insert_requests
from handlers.sessions.summaries import action_items_for
from storage import (
    OPEN_PAIRING,
    DueItem,
    DueKind,
    DueStatus,
    Enrollment,
    EnrollmentStatus,
    Feedback,
    Milestone,
    Outbox,
    Pairing,
    PairingStatus,
    Person,
    Role,
    SessionLog,
)
from storage.queries import among, enrollments_of, insert_for

PAIRING = Pairing.__table__  # type: ignore[attr-defined]
PERSON = Person.__table__  # type: ignore[attr-defined]
ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]
SNOOZE = timedelta(days=3)
#: How many actions a catch-up message offers at most.
CATCH_UP_ACTIONS = 6


def _first(name: str) -> str:
    return name.split()[0] if name else name


def nudge_actions(pairing_id: int) -> tuple[Option, ...]:
    """The buttons of a nudge: Log session, Snooze 3 days, Reschedule."""
    return (
        Option(f"log {pairing_id}", "Log session"),
        Option(f"snooze {pairing_id}", "Snooze 3 days"),
        Option(f"reschedule {pairing_id}", "Reschedule"),
    )


# --- processing what fell due --------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A due item a tick has claimed, with the lease that makes the claim its own.

    ``lease_until`` is None when the item was chosen inside the very transaction that
    processes it (SQLite, whose single writer lock makes that transaction the owner).
    """

    id: int
    pairing_id: int
    kind: str
    due_at: datetime
    answers: dict[str, Any]
    lease_until: datetime | None


@dataclass
class CycleReport:
    """What processing a batch of due items did.

    Attributes:
        sent: Items that produced messages.
        suppressed: Check-ins and reminders a logged session made unnecessary.
        folded: Late items folded into a catch-up message.
        held: Items held back because someone in the pairing is paused.
        closed: Items of pairings that ended.
        messages: Outbox messages queued.
        at_risk: Pairings that became at risk in this batch.
        close_proposed: Pairings proposed for closing after a long silence.
    """

    sent: int = 0
    suppressed: int = 0
    folded: int = 0
    held: int = 0
    closed: int = 0
    messages: int = 0
    at_risk: list[int] = field(default_factory=list)
    close_proposed: list[int] = field(default_factory=list)

    def add(self, other: CycleReport) -> None:
        """Add another batch's counts to these."""
        for name in ("sent", "suppressed", "folded", "held", "closed", "messages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.at_risk += other.at_risk
        self.close_proposed += other.close_proposed

    @property
    def processed(self) -> int:
        """Every item handled."""
        return self.sent + self.suppressed + self.folded + self.held + self.closed


@dataclass
class _Pair:
    """A pairing as one batch sees and changes it."""

    id: int
    status: str
    cycle: int
    start: datetime
    activated: datetime
    last_activity: datetime
    missed: int
    at_risk_since: datetime | None
    mentee_id: int
    mentor_id: int
    mentee: str
    mentor: str
    mentee_zone: str
    mentor_zone: str
    changed: bool = False

    def sides(self) -> PairSides:
        """The pairing as the reminders of owed steps see it."""
        return PairSides(
            id=self.id,
            cycle=self.cycle,
            start=self.start,
            mentee=Side(self.mentee_id, self.mentee, self.mentee_zone),
            mentor=Side(self.mentor_id, self.mentor, self.mentor_zone),
        )


@dataclass
class _Message:
    person_id: int
    zone: str
    reply: Reply
    key: str
    stale: bool
    item_id: int
    #: The pairing the message is about, so it is withdrawn if the pairing ends first.
    pairing_id: int | None = None


@dataclass
class _Context:
    program: Program
    now: datetime
    pairs: dict[int, _Pair]
    paused: set[int]
    last_session: dict[int, date]
    sessions: dict[int, int]
    milestones: dict[int, list[tuple[int, str, date, str]]]
    leads: list[Person] | None = None
    #: Feedback requests the batch's checkpoints ask.
    surveys: list[dict[str, Any]] = field(default_factory=list)
    #: The open action items of each pairing's latest summarised session.
    action_items: dict[int, list[str]] = field(default_factory=dict)


async def process_due(
    session: AsyncSession, program: Program, items: Sequence[Claimed], now: datetime
) -> CycleReport:
    """Turn claimed due items into messages, follow-ups and pairing changes, once.

    Only the items whose claim is still ours (the lease matches) are processed: a tick
    that lost its lease to another after a stall processes nothing twice.
    Everything happens in the caller's transaction, so a crash undoes all of it and the
    expired lease hands the items to the next tick.
    """
    report = CycleReport()
    sqlite = (await session.connection()).dialect.name == "sqlite"
    mine = await _lock_in(session, items, sqlite)
    if not mine:
        return report
    context = await _load(session, program, [i.pairing_id for i in mine], now)
    messages: list[_Message] = []
    follow_ups: list[dict[str, Any]] = []
    outcomes: dict[str, list[int]] = defaultdict(list)
    held: list[int] = []
    stale_before = now - timedelta(days=program.cadence.stale_after_days)
    for item in sorted(mine, key=lambda i: (i.due_at, i.id)):
        pair = context.pairs.get(item.pairing_id)
        if pair is None or pair.status != PairingStatus.ACTIVE:
            outcomes["closed"].append(item.id)
            report.closed += 1
            continue
        if pair.mentee_id in context.paused or pair.mentor_id in context.paused:
            held.append(item.id)
            report.held += 1
            continue
        produced: list[_Message] = []
        outcome = await _handle(session, context, item, pair, produced, follow_ups, report)
        stale = item.due_at < stale_before
        for message in produced:
            message.stale = stale
            message.pairing_id = item.pairing_id
        messages += produced
        if outcome == "sent" and stale:
            outcome = "folded"
        outcomes[outcome].append(item.id)
        if outcome == "sent":
            report.sent += 1
        elif outcome == "folded":
            report.folded += 1
        else:
            report.suppressed += 1
    report.messages = await _queue(session, program, messages, now)
    await insert_due(session, follow_ups)
    await insert_requests(session, context.surveys)
    conn = await session.connection()
    # One write per item: its final status and outcome.
    for outcome, ids in outcomes.items():
        await conn.execute(
            sa.update(DUE)
            .where(among(conn, DUE.c.id, ids))
            .values(status=DueStatus.DONE.value, outcome=outcome, done_at=now, lease_until=None)
        )
    if held:
        await conn.execute(
            sa.update(DUE)
            .where(among(conn, DUE.c.id, held))
            .values(status=DueStatus.HELD.value, outcome="held", lease_until=None)
        )
    # In id order, so two batches at once lock shared pairings in the same order.
    changed = sorted((p for p in context.pairs.values() if p.changed), key=lambda p: p.id)
    if changed:
        await conn.execute(
            sa.update(PAIRING)
            .where(PAIRING.c.id == sa.bindparam("pid"))
            .values(
                missed_checkins=sa.bindparam("missed"),
                at_risk_since=sa.bindparam("risk", type_=PAIRING.c.at_risk_since.type),
            ),
            [{"pid": p.id, "missed": p.missed, "risk": p.at_risk_since} for p in changed],
        )
    return report


async def _lock_in(
    session: AsyncSession, items: Sequence[Claimed], database_is_sqlite: bool
) -> list[Claimed]:
    """The items whose claim is still ours, locked until the transaction ends.

    SQLite already holds the write lock (BEGIN IMMEDIATE); PostgreSQL locks the rows, so
    a tick that re-claims them after our lease ran out waits, then finds them done.
    """
    conn = await session.connection()
    by_lease: dict[datetime, list[Claimed]] = defaultdict(list)
    mine: list[Claimed] = []
    for item in items:
        if item.lease_until is None:
            mine.append(item)  # chosen in this transaction: ours until it ends
        else:
            by_lease[item.lease_until].append(item)
    for lease, group in by_lease.items():
        query = sa.select(DUE.c.id).where(
            among(conn, DUE.c.id, [i.id for i in group]),
            DUE.c.status == DueStatus.CLAIMED.value,
            DUE.c.lease_until == lease,
        )
        if not database_is_sqlite:
            query = query.with_for_update()
        kept = set((await conn.execute(query)).scalars())
        mine += [i for i in group if i.id in kept]
    return mine


async def _later_activity(conn: AsyncConnection, pairs: dict[int, _Pair], ids: list[int]) -> None:
    """Move each pair's last activity to its latest survey answer or plan change.

    A pairing that answers surveys or works on its plan is not silent, even with no
    session logged, so these count as activity when inactivity is judged.
    """
    feedback = Feedback.__table__  # type: ignore[attr-defined]
    milestone = Milestone.__table__  # type: ignore[attr-defined]
    for query in (
        sa.select(feedback.c.pairing_id, sa.func.max(feedback.c.answered_at))
        .where(among(conn, feedback.c.pairing_id, ids))
        .group_by(feedback.c.pairing_id),
        sa.select(milestone.c.pairing_id, sa.func.max(milestone.c.updated_at))
        .where(among(conn, milestone.c.pairing_id, ids))
        .group_by(milestone.c.pairing_id),
        sa.select(PAIRING.c.id, PAIRING.c.plan_confirmed_at).where(among(conn, PAIRING.c.id, ids)),
    ):
        for pairing_id, at in (await conn.execute(query)).all():
            pair = pairs.get(pairing_id)
            if pair is not None and at is not None and at > pair.last_activity:
                pair.last_activity = at


async def _load(
    session: AsyncSession, program: Program, pairing_ids: list[int], now: datetime
) -> _Context:
    conn = await session.connection()
    ids = sorted(set(pairing_ids))
    mentee, mentor = PERSON.alias("mentee"), PERSON.alias("mentor")
    rows = await conn.execute(
        sa.select(
            PAIRING.c.id,
            PAIRING.c.status,
            PAIRING.c.cycle,
            PAIRING.c.cycle_started_at,
            PAIRING.c.activated_at,
            PAIRING.c.last_activity_at,
            PAIRING.c.missed_checkins,
            PAIRING.c.at_risk_since,
            PAIRING.c.mentee_id,
            PAIRING.c.mentor_id,
            mentee.c.name,
            mentee.c.timezone,
            mentor.c.name,
            mentor.c.timezone,
        )
        .join(mentee, mentee.c.id == PAIRING.c.mentee_id)
        .join(mentor, mentor.c.id == PAIRING.c.mentor_id)
        .where(among(conn, PAIRING.c.id, ids))
    )
    fallback = program.default_timezone
    pairs: dict[int, _Pair] = {}
    for row in rows.all():
        activated = row[4] or row[3] or now
        pairs[row[0]] = _Pair(
            id=row[0],
            status=row[1],
            cycle=row[2],
            start=row[3] or activated,
            activated=activated,
            last_activity=row[5] or activated,
            missed=row[6],
            at_risk_since=row[7],
            mentee_id=row[8],
            mentor_id=row[9],
            mentee=row[10],
            mentee_zone=row[11] or fallback,
            mentor=row[12],
            mentor_zone=row[13] or fallback,
        )
    await _later_activity(conn, pairs, ids)
    people = {p.mentee_id for p in pairs.values()} | {p.mentor_id for p in pairs.values()}
    paused = await conn.execute(
        sa.select(ENROLLMENT.c.person_id).where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.status == EnrollmentStatus.PAUSED.value,
            # A mentor the bot paused for letting proposals lapse gets no new proposals,
            # but their pairings carry on (handlers.matching.lapses).
            ENROLLMENT.c.paused_reason.is_(None),
            among(conn, ENROLLMENT.c.person_id, sorted(people)),
        )
    )
    log = SessionLog.__table__  # type: ignore[attr-defined]
    sessions = await conn.execute(
        sa.select(log.c.pairing_id, sa.func.max(log.c.held_on), sa.func.count())
        .where(among(conn, log.c.pairing_id, ids))
        .group_by(log.c.pairing_id)
    )
    last_session: dict[int, date] = {}
    counts: dict[int, int] = {}
    for pairing_id, held_on, count in sessions.all():
        last_session[pairing_id] = held_on
        counts[pairing_id] = int(count)
    table = Milestone.__table__  # type: ignore[attr-defined]
    found = await conn.execute(
        sa.select(
            table.c.pairing_id,
            table.c.cycle,
            table.c.position,
            table.c.objective,
            table.c.target_date,
            table.c.status,
        )
        .where(among(conn, table.c.pairing_id, ids))
        .order_by(table.c.pairing_id, table.c.position)
    )
    milestones: dict[int, list[tuple[int, str, date, str]]] = defaultdict(list)
    for pairing_id, cycle, position, objective, target, status in found.all():
        pair = pairs.get(pairing_id)
        if pair is not None and cycle == pair.cycle:
            milestones[pairing_id].append((position, objective, target, status))
    return _Context(
        program=program,
        now=now,
        pairs=pairs,
        paused=set(paused.scalars()),
        last_session=last_session,
        sessions=counts,
        milestones=milestones,
        action_items=await action_items_for(session, ids) if counts else {},
    )


def _plan_fields(context: _Context, pair: _Pair) -> tuple[tuple[str, str], ...]:
    # Judged on the day the review is queued: it goes out within working hours.
    today = local_date(context.now, pair.mentee_zone)
    return tuple(
        (
            f"{position}. {objective}",
            f"by {day_label(target)} · {milestone_progress(status, target, today=today)}",
        )
        for position, objective, target, status in context.milestones.get(pair.id, [])
    )


def _action_item_fields(context: _Context, pair: _Pair) -> tuple[tuple[str, str], ...]:
    """The last summary's action items, brought back in the check-in reminder."""
    items = context.action_items.get(pair.id)
    if not items:
        return ()
    return (("Action items from your last session", "\n".join(f"• {i}" for i in items)),)


def _to_both(pair: _Pair, item: Claimed, build: Any, produced: list[_Message]) -> None:
    """A message to each side; ``build(other_name, role)`` words it for one reader."""
    for person_id, zone, other, role in (
        (pair.mentee_id, pair.mentee_zone, pair.mentor, Role.MENTEE),
        (pair.mentor_id, pair.mentor_zone, pair.mentee, Role.MENTOR),
    ):
        produced.append(
            _Message(
                person_id, zone, build(other, role), f"due:{item.id}:{person_id}", False, item.id
            )
        )


async def _to_leads(
    session: AsyncSession,
    context: _Context,
    item: Claimed,
    build: Callable[[str], Reply],
    produced: list[_Message],
) -> None:
    """A message to each program lead; ``build(zone)`` words it for a lead in that zone."""
    if context.leads is None:
        context.leads = await program_leads(session, context.program, now=context.now)
    for lead in context.leads:
        assert lead.id is not None
        zone = lead.timezone or context.program.default_timezone
        produced.append(
            _Message(lead.id, zone, build(zone), f"due:{item.id}:lead:{lead.id}", False, item.id)
        )


def _checkin_readers(pair: _Pair, item: Claimed) -> list[tuple[int, str, str]]:
    """Who a check-in nudges, as (person, zone, the other's name).

    A check-in nudges both sides: either may book the meeting or log it. A snoozed or
    rescheduled reminder goes to whoever asked for it (the mentor, for reminders set before
    it was recorded who asked).
    """
    mentee = (pair.mentee_id, pair.mentee_zone, pair.mentor)
    mentor = (pair.mentor_id, pair.mentor_zone, pair.mentee)
    if item.kind == DueKind.CHECKIN:
        return [mentee, mentor]
    return [mentee] if item.answers.get("by") == pair.mentee_id else [mentor]


def _checkin_nudge(
    context: _Context, pair: _Pair, item: Claimed, *, zone: str, other: str
) -> Reply:
    """The check-in nudge as one side reads it, counting the days since they last met."""
    last = context.last_session.get(pair.id)
    if item.answers.get("why") == "rescheduled":
        text: Pieces = (
            f"Today's the day you planned to meet {_first(other)}. Once you have, log the "
            "session so your check-ins stay on track.",
        )
    else:
        if last is not None:
            since = DaysSince(last, zone)
            gap = f" since your last session with {_first(other)}"
        else:
            since = DaysSince(local_date(pair.activated, zone), zone)
            gap = f" since you were paired with {_first(other)}, and no session is logged yet"
        text = (
            "It's been ",
            since,
            f"{gap}. A short conversation keeps the momentum going: book a time, or log a "
            "session you've had.",
        )
    return counting(
        text,
        now=context.now,
        title=f"Check-in with {other}",
        fields=_action_item_fields(context, pair),
        actions=nudge_actions(pair.id),
    )


def _survey_check(context: _Context, pair: _Pair) -> list[dict[str, Any]]:
    """The look at the surveys a checkpoint just asked, to remind whoever leaves one open."""
    return reminder_check(
        context.program,
        pairing_id=pair.id,
        kind=DueKind.SURVEY_REMINDER,
        owed_since=context.now,
        now=context.now,
    )


async def _handle(
    session: AsyncSession,
    context: _Context,
    item: Claimed,
    pair: _Pair,
    produced: list[_Message],
    follow_ups: list[dict[str, Any]],
    report: CycleReport,
) -> str:
    """Handle one due item; returns its outcome (``sent`` or ``suppressed``)."""
    cadence = context.program.cadence
    now = context.now
    every = timedelta(days=cadence.checkin_every_days)
    last = context.last_session.get(pair.id)
    sessions = context.sessions.get(pair.id, 0)
    logged = f"{plural(sessions, 'session')} logged so far."
    kind = item.kind
    if kind in (DueKind.CHECKIN, DueKind.REMINDER):
        if kind == DueKind.CHECKIN:
            # The window is the days since the previous check-in fell due: a session on
            # that day already reset the cadence that led here.
            since = (item.due_at - every).date() + timedelta(days=1)
        else:
            since = date.fromisoformat(item.answers.get("since", item.due_at.date().isoformat()))
        if kind == DueKind.CHECKIN:
            upcoming = item.due_at + every
            if last is not None and last >= since:
                upcoming = max(upcoming, start_of(last, item.due_at) + every)
            while upcoming <= now:
                upcoming += every
            end = pair.start + timedelta(days=cadence.cycle_days)
            if upcoming < end:
                follow_ups.append(due_row(pair.id, DueKind.CHECKIN, upcoming, now))
        if last is not None and last >= since:
            if kind == DueKind.CHECKIN and pair.missed:
                pair.missed, pair.changed = 0, True
            return "suppressed"
        for person_id, zone, other in _checkin_readers(pair, item):
            produced.append(
                _Message(
                    person_id,
                    zone,
                    _checkin_nudge(context, pair, item, zone=zone, other=other),
                    f"due:{item.id}:{person_id}",
                    False,
                    item.id,
                )
            )
        if kind == DueKind.CHECKIN:
            pair.missed += 1
            pair.changed = True
            if pair.missed == cadence.escalate_after_missed:
                pair.at_risk_since = now
                report.at_risk.append(pair.id)
                when = day_label(last) if last is not None else "none yet"
                at_risk = Reply(
                    f"{pair.mentee} and {pair.mentor} are at risk: "
                    f"{plural(pair.missed, 'check-in')} in a row passed with no session "
                    f"logged (last session: {when}). I've nudged both of them each time; a "
                    "word from you may help, or a re-match if it isn't working.",
                    title="A pairing at risk",
                )
                await _to_leads(session, context, item, lambda zone: at_risk, produced)
        return "sent"
    if kind == DueKind.CALIBRATION:

        def calibration(other: str, role: Role) -> Reply:
            return Reply(
                f"You've been paired with {other} for a month now. Is this pairing working "
                "for you? Your answer goes to the program lead only if it isn't.",
                title="One month in",
                actions=(
                    Option(f"calibrate {pair.id} yes", "Yes"),
                    Option(f"calibrate {pair.id} no", "Not really"),
                    give_feedback(pair.id, CHECKPOINTS[kind]),
                ),
            )

        _to_both(pair, item, calibration, produced)
        context.surveys += checkpoint_rows(
            pair.id,
            cycle=pair.cycle,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            kind=kind,
            now=now,
        )
        follow_ups.extend(_survey_check(context, pair))
        return "sent"
    if kind in (DueKind.MIDPOINT, DueKind.QUARTERLY_REVIEW, DueKind.END_REVIEW):
        fields = _plan_fields(context, pair)
        plan_note = "" if fields else " You haven't written a plan yet: type plan."
        actions: tuple[Option, ...]
        if kind == DueKind.MIDPOINT:
            title = "Halfway there"
            opening = "You're halfway through your {days} days with {other}. " + logged
            actions = (
                Option(f"log {pair.id}", "Log session"),
                Option("plan", "See the plan"),
                give_feedback(pair.id, CHECKPOINTS[kind]),
            )
        elif kind == DueKind.QUARTERLY_REVIEW:
            title = "Quarterly review"
            opening = (
                "It's quarterly review time: a good moment to look back with {other} at "
                "what has changed and to agree what's next. " + logged
            )
            actions = (Option(f"log {pair.id}", "Log session"), Option("plan", "See the plan"))
        else:
            title = "Your cycle is complete"
            opening = (
                "Your {days} days with {other} are up. " + logged + " Would you like to "
                "continue for another cycle, or close the pairing?"
            )
            actions = (
                Option(f"continue {pair.id}", "Continue another cycle"),
                Option(f"close {pair.id}", "Close the pairing"),
                give_feedback(pair.id, CHECKPOINTS[kind]),
            )

        def review(other: str, role: Role) -> Reply:
            text = opening.format(days=cadence.cycle_days, other=other)
            return Reply(
                text + (plan_note if role is Role.MENTEE else ""),
                title=title,
                fields=fields,
                actions=actions,
            )

        _to_both(pair, item, review, produced)
        if kind in CHECKPOINTS:
            context.surveys += checkpoint_rows(
                pair.id,
                cycle=pair.cycle,
                mentee_id=pair.mentee_id,
                mentor_id=pair.mentor_id,
                kind=kind,
                now=now,
            )
            follow_ups.extend(_survey_check(context, pair))
        return "sent"
    if kind == DueKind.INACTIVITY:
        quiet = timedelta(days=cadence.auto_close_after_days)
        if now - pair.last_activity < quiet:
            follow_ups.append(due_row(pair.id, DueKind.INACTIVITY, pair.last_activity + quiet, now))
            return "suppressed"
        follow_ups.append(due_row(pair.id, DueKind.INACTIVITY, now + quiet, now))

        def silent(zone: str) -> DaysSince:
            return DaysSince(local_date(pair.last_activity, zone), zone)

        def closing(other: str, role: Role) -> Reply:
            zone = pair.mentee_zone if role is Role.MENTEE else pair.mentor_zone
            return counting(
                (
                    f"There's been no session or other activity between you and {other} for ",
                    silent(zone),
                    ". Shall we close the pairing? If you're still meeting, keep going and "
                    "log your next session.",
                ),
                now=now,
                title="Close this pairing?",
                actions=(
                    Option(f"close {pair.id}", "Close it"),
                    Option(f"keep {pair.id}", "Keep going"),
                ),
            )

        def to_lead(zone: str) -> Reply:
            return counting(
                (
                    f"{pair.mentee} and {pair.mentor} have shown no activity for ",
                    silent(zone),
                    ". I've suggested to both that they close the pairing.",
                ),
                now=now,
                title="A silent pairing",
            )

        _to_both(pair, item, closing, produced)
        report.close_proposed.append(pair.id)
        await _to_leads(session, context, item, to_lead, produced)
        return "sent"
    look = LOOKS.get(kind)
    if look is not None:
        looked = await look(session, context.program, pair.sides(), now)
        for reminder in looked.reminders:
            to = reminder.to
            produced.append(
                _Message(to.person_id, to.zone, reminder.reply, reminder.key, False, item.id)
            )
        if looked.again is not None:
            follow_ups.append(due_row(pair.id, kind, looked.again, now))
        return "sent" if looked.reminders else "suppressed"
    return "suppressed"  # a kind this version does not know: nothing to send


async def _queue(
    session: AsyncSession, program: Program, messages: list[_Message], now: datetime
) -> int:
    """Queue the batch's messages in one statement, folding late ones into catch-ups."""
    hours = program.cadence.working_hours
    late: dict[int, list[_Message]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    when: dict[str, datetime] = {}

    def deliver_at(zone: str) -> datetime:
        if zone not in when:
            when[zone] = next_delivery(now, zone=zone, hours=hours)
        return when[zone]

    def row(
        person_id: int, zone: str, replies: list[Reply], key: str, pairing_id: int | None
    ) -> dict[str, Any]:
        return outbox_row(
            person_id=person_id,
            replies=replies,
            dedupe_key=key,
            now=now,
            not_before=deliver_at(zone),
            pairing_id=pairing_id,
        )

    for message in messages:
        if message.stale:
            late[message.person_id].append(message)
        else:
            rows.append(
                row(
                    message.person_id,
                    message.zone,
                    [message.reply],
                    message.key,
                    message.pairing_id,
                )
            )
    for person_id, folded in late.items():
        if len(folded) == 1:
            only = folded[0]
            rows.append(row(person_id, only.zone, [only.reply], only.key, only.pairing_id))
            continue
        lines: list[str | DaysSince] = [
            "Some things fell due while I was offline; here they are in one go:"
        ]
        actions: list[Option] = []
        for message in folded:
            # Day counts stay counted at delivery, in the catch-up as in the message itself.
            said = message.reply.counted or (message.reply.text,)
            lines += [f"\n• {message.reply.title or 'Reminder'}: ", *first_sentence(said), "."]
            for action in message.reply.actions:
                if action not in actions and len(actions) < CATCH_UP_ACTIONS:
                    actions.append(action)
        reply = counting(lines, now=now, title="While I was away", actions=tuple(actions))
        key = f"catch-up:{person_id}:{min(m.item_id for m in folded)}"
        # About one pairing only when everything folded into it is: one that speaks of
        # several is not withdrawn when one of them ends.
        about = {m.pairing_id for m in folded}
        one = about.pop() if len(about) == 1 else None
        rows.append(row(person_id, folded[0].zone, [reply], key, one))
    if not rows:
        return 0
    conn = await session.connection()
    table = Outbox.__table__  # type: ignore[attr-defined]
    # RETURNING counts what was new on both backends (asyncpg reports no row count for
    # an executemany).
    result = await conn.execute(
        insert_for(conn)(table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id),
        rows,
    )
    return len(result.all())


# --- ending a pairing ----------------------------------------------------------------------


async def end_pairing(
    session: AsyncSession,
    program: Program,
    pairing: Pairing,
    now: datetime,
    *,
    reason: str,
    rematch: bool = False,
) -> bool:
    """End an open pairing: cancel what it owes, free the mentor's place, settle the mentee.

    What it owes is cancelled twice over: its due items (so no new nudge or review is
    queued) and the messages about it that have not gone out (a "continue?" question, a
    nudge, a survey invitation), so the other side hears only the notice queued after.

    Args:
        reason: ``completed``, ``closed``, ``rematch`` or ``left``, kept on the pairing.
        rematch: Put the mentee back on the waitlist; their wait still counts from when they
            first joined it, so they come before everyone who joined later.

    Returns:
        False when the pairing was no longer open (someone else ended it first).
    """
    assert pairing.id is not None
    open_statuses = [s.value for s in OPEN_PAIRING]
    conn = await session.connection()
    result = await conn.execute(
        sa.update(PAIRING)
        .where(PAIRING.c.id == pairing.id, PAIRING.c.status.in_(open_statuses))
        .values(status=PairingStatus.ENDED.value, closed_at=now, end_reason=reason)
    )
    if not result.rowcount:
        return False
    await session.refresh(pairing)
    await cancel_due(session, [pairing.id], now)
    await withdraw(session, pairing_id=pairing.id, reason=f"pairing ended ({reason})", now=now)
    status = EnrollmentStatus.WAITING if rematch else EnrollmentStatus.COMPLETED
    values: dict[str, Any] = {"status": status.value, "updated_at": now}
    await conn.execute(
        sa.update(ENROLLMENT)
        .where(
            ENROLLMENT.c.person_id == pairing.mentee_id,
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == Role.MENTEE.value,
            ENROLLMENT.c.status.in_(
                [EnrollmentStatus.MATCHED.value, EnrollmentStatus.WAITING.value]
            ),
        )
        .values(**values)
    )
    return True


async def _tell(
    session: AsyncSession,
    person_id: int,
    text: str,
    key: str,
    now: datetime,
    program: Program,
    *,
    pairing_id: int | None = None,
    **extra: Any,
) -> None:
    await enqueue(
        session,
        person_id=person_id,
        replies=[Reply(text, **extra)],
        dedupe_key=key,
        now=now,
        program=program,
        pairing_id=pairing_id,
    )


async def _tell_leads(
    session: AsyncSession, program: Program, text: str, key: str, now: datetime
) -> None:
    for lead in await program_leads(session, program, now=now):
        assert lead.id is not None
        await _tell(session, lead.id, text, f"{key}:lead:{lead.id}", now, program)


async def _pair_and_people(
    turn: Turn, args: list[str], verb: str
) -> tuple[Pairing, Person, Person] | Reply:
    found = await my_pairing(turn, args[:1], verb=verb)
    if isinstance(found, Reply):
        return found
    if found.status != PairingStatus.ACTIVE:
        return Reply("That pairing isn't active any more; nothing changed.")
    people = await people_by_id(turn.session, [found.mentee_id, found.mentor_id])
    return found, people[found.mentee_id], people[found.mentor_id]


def _other(pairing: Pairing, me: Person, mentee: Person, mentor: Person) -> Person:
    return mentor if role_in(pairing, me) is Role.MENTEE else mentee


async def _latest_item(session: AsyncSession, pairing: Pairing, kind: DueKind) -> DueItem | None:
    result = await session.exec(
        select(DueItem)
        .where(DueItem.pairing_id == pairing.id, DueItem.kind == kind.value)
        .order_by(sa.desc(DUE.c.due_at))
    )
    return result.first()


async def _record_answer(
    session: AsyncSession, pairing: Pairing, kind: DueKind, role: Role, answer: str
) -> DueItem | None:
    item = await _latest_item(session, pairing, kind)
    if item is not None:
        item.answers = {**item.answers, role.value: answer}
        session.add(item)
    return item


# --- the answers to what fell due ----------------------------------------------------------


async def _calibrate(turn: Turn, args: list[str]) -> Outcome:
    found = await _pair_and_people(turn, args, "calibrate")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    answer = (args[1] if len(args) > 1 else "").lower()
    if answer not in ("yes", "no"):
        return Outcome(
            [Reply(f"Type calibrate {pairing.id} yes, or calibrate {pairing.id} no.")],
            None,
            changed=False,
        )
    role = role_in(pairing, turn.person)
    await _record_answer(turn.session, pairing, DueKind.CALIBRATION, role, answer)
    other = _other(pairing, turn.person, mentee, mentor)
    if answer == "yes":
        return Outcome([Reply("Glad to hear it! Keep going; I'll check in as usual.")], None)
    await _tell_leads(
        turn.session,
        turn.program,
        f"{turn.person.name} ({role.value}) says the pairing {mentee.name} → {mentor.name} "
        "isn't working (one-month calibration). They were offered a re-match.",
        f"pairing:{pairing.id}:calibration-no:{turn.person.id}",
        turn.now,
    )
    return Outcome(
        [
            Reply(
                f"Thanks for being honest; that's what this check is for. I've let the "
                f"program lead know. Would you like a different match, or keep trying with "
                f"{_first(other.name)} for now?",
                actions=(
                    Option(f"rematch {pairing.id}", "Find a new match"),
                    Option(f"keep {pairing.id}", "Keep trying"),
                ),
            )
        ],
        None,
    )


async def _rematch(turn: Turn, args: list[str]) -> Outcome:
    found = await _pair_and_people(turn, args, "rematch")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    if not await end_pairing(
        turn.session, turn.program, pairing, turn.now, reason="rematch", rematch=True
    ):
        return Outcome([Reply("That pairing has already ended.")], None, changed=False)
    mentee_is_me = role_in(pairing, turn.person) is Role.MENTEE
    if mentee_is_me:
        await _tell(
            turn.session,
            mentor.id or 0,
            f"{mentee.name} asked for a different match, so your pairing has ended. Thank "
            "you for the time you gave; your place is free for someone new.",
            f"pairing:{pairing.id}:rematch:other",
            turn.now,
            turn.program,
        )
        text = (
            "Done: your pairing has ended and you're back on the waitlist, keeping your place "
            "from when you first joined it. "
            f"The next match round will look for someone other than {mentor.name}."
        )
    else:
        await _tell(
            turn.session,
            mentee.id or 0,
            f"{mentor.name} felt a different mentor would serve you better, so your pairing "
            "has ended. You're back on the waitlist with the place you had before; the next "
            "match round will "
            "find you someone new.",
            f"pairing:{pairing.id}:rematch:other",
            turn.now,
            turn.program,
        )
        text = (
            f"Done: your pairing with {mentee.name} has ended and they're back on the waitlist, "
            "keeping their place "
            "of the waitlist. Thank you for saying so."
        )
    await _tell_leads(
        turn.session,
        turn.program,
        f"{turn.person.name} asked for a re-match: {mentee.name} → {mentor.name} has ended "
        f"and {mentee.name} is back on the waitlist.",
        f"pairing:{pairing.id}:rematch",
        turn.now,
    )
    return Outcome([Reply(text)], None)


async def _continue(turn: Turn, args: list[str]) -> Outcome:
    found = await _pair_and_people(turn, args, "continue")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    review = await _latest_item(turn.session, pairing, DueKind.END_REVIEW)
    end = cycle_end(pairing, turn.program.cadence)
    if review is None or review.status != DueStatus.DONE or review.due_at < cycle_start(pairing):
        zone = zone_of(turn.person, turn.program.default_timezone)
        return Outcome(
            [
                Reply(
                    f"Your cycle runs until {day_label(local_date(end, zone))}; I'll ask "
                    "then whether you'd like to continue."
                )
            ],
            None,
            changed=False,
        )
    role = role_in(pairing, turn.person)
    review.answers = {**review.answers, role.value: "continue"}
    turn.session.add(review)
    other = _other(pairing, turn.person, mentee, mentor)
    other_role = Role.MENTOR if role is Role.MENTEE else Role.MENTEE
    if review.answers.get(other_role.value) != "continue":
        await _tell(
            turn.session,
            other.id or 0,
            f"{turn.person.name} would like to continue for another cycle. Would you?",
            f"pairing:{pairing.id}:continue-asked:{pairing.cycle}",
            turn.now,
            turn.program,
            pairing_id=pairing.id,
            actions=(
                Option(f"continue {pairing.id}", "Continue another cycle"),
                Option(f"close {pairing.id}", "Close the pairing"),
            ),
        )
        return Outcome(
            [Reply(f"Noted! I'll start another cycle as soon as {_first(other.name)} agrees.")],
            None,
        )
    pairing.cycle += 1
    pairing.cycle_started_at = turn.now
    pairing.last_activity_at = turn.now
    pairing.missed_checkins = 0
    pairing.at_risk_since = None
    pairing.plan_confirmed_at = None
    turn.session.add(pairing)
    await turn.session.flush()
    await cancel_due(turn.session, [pairing.id or 0], turn.now)
    await schedule_cycle(turn.session, turn.program, pairing, turn.now)
    days = turn.program.cadence.cycle_days
    await _tell(
        turn.session,
        other.id or 0,
        f"You're both in for another {days} days, cycle {pairing.cycle}. "
        + (
            "Type plan to set fresh milestones."
            if other.id == mentee.id
            else f"{_first(mentee.name)} will set fresh milestones."
        ),
        f"pairing:{pairing.id}:cycle:{pairing.cycle}",
        turn.now,
        turn.program,
        pairing_id=pairing.id,
    )
    mine = "Type plan to set fresh milestones." if turn.person.id == mentee.id else ""
    return Outcome(
        [Reply(f"Wonderful: another {days} days together, starting today. {mine}".strip())], None
    )


async def _close(turn: Turn, args: list[str]) -> Outcome:
    found = await _pair_and_people(turn, args, "close")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing, mentee, mentor = found
    review = await _latest_item(turn.session, pairing, DueKind.END_REVIEW)
    finished = (
        review is not None
        and review.status == DueStatus.DONE
        and review.due_at >= cycle_start(pairing)
    )
    reason = "completed" if finished or pairing.cycle > 1 else "closed"
    if not await end_pairing(turn.session, turn.program, pairing, turn.now, reason=reason):
        return Outcome([Reply("That pairing has already ended.")], None, changed=False)
    other = _other(pairing, turn.person, mentee, mentor)
    follow = (
        " Type join whenever you'd like a new mentor."
        if other.id == mentee.id
        else " Your place is free for a new mentee."
    )
    await _tell(
        turn.session,
        other.id or 0,
        f"{turn.person.name} closed your mentoring pairing. Thank you both for the time "
        f"and care you put into it.{follow}",
        f"pairing:{pairing.id}:closed:other",
        turn.now,
        turn.program,
    )
    await _tell_leads(
        turn.session,
        turn.program,
        f"{turn.person.name} closed the pairing {mentee.name} → {mentor.name} ({reason}).",
        f"pairing:{pairing.id}:closed",
        turn.now,
    )
    mine = (
        " Type join whenever you'd like a new mentor."
        if turn.person.id == mentee.id
        else " Your place is free for a new mentee."
    )
    return Outcome(
        [Reply(f"Closed. Thank you for taking part, and I hope it was worth it.{mine}")], None
    )


async def _keep(turn: Turn, args: list[str]) -> Outcome:
    found = await _pair_and_people(turn, args, "keep")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found[0]
    pairing.last_activity_at = turn.now
    turn.session.add(pairing)
    quiet = timedelta(days=turn.program.cadence.auto_close_after_days)
    assert pairing.id is not None
    await insert_due(
        turn.session, [due_row(pairing.id, DueKind.INACTIVITY, turn.now + quiet, turn.now)]
    )
    return Outcome(
        [Reply("Great, keep going! Log your next session so I know how it's going.")], None
    )


async def _nudge_unanswered(session: AsyncSession, pairing_id: int) -> bool:
    """Whether a check-in reminder went out for the pairing and no session was logged since."""
    nudged = await session.scalar(
        sa.select(DUE.c.done_at)
        .where(
            DUE.c.pairing_id == pairing_id,
            DUE.c.kind.in_((DueKind.CHECKIN.value, DueKind.REMINDER.value)),
            DUE.c.outcome == "sent",
            DUE.c.done_at.is_not(None),
        )
        .order_by(DUE.c.done_at.desc())
        .limit(1)
    )
    if nudged is None:
        return False
    log = SessionLog.__table__  # type: ignore[attr-defined]
    logged = await session.scalar(
        sa.select(log.c.created_at)
        .where(log.c.pairing_id == pairing_id)
        .order_by(log.c.created_at.desc())
        .limit(1)
    )
    return logged is None or logged < nudged


async def _snooze(turn: Turn, args: list[str]) -> Outcome:
    found = await _pair_and_people(turn, args, "snooze")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found[0]
    zone = zone_of(turn.person, turn.program.default_timezone)
    at = turn.now + SNOOZE
    assert pairing.id is not None
    if not await _nudge_unanswered(turn.session, pairing.id):
        return Outcome(
            [
                Reply(
                    f"There's no check-in reminder waiting for pairing {pairing.id}, so there's "
                    "nothing to snooze. I'll remind you when the next check-in falls due."
                )
            ],
            None,
            changed=False,
        )
    await insert_due(
        turn.session,
        [
            due_row(
                pairing.id,
                DueKind.REMINDER,
                at,
                turn.now,
                {
                    "why": "snoozed",
                    "since": local_date(turn.now, zone).isoformat(),
                    "by": turn.person.id,
                },
            )
        ],
    )
    return Outcome(
        [
            Reply(
                f"Snoozed: I'll remind you on {day_label(local_date(at, zone))} "
                "unless a session is logged before then."
            )
        ],
        None,
    )


class RescheduleFlow(Flow):
    """Pick the day of the next meeting; the reminder moves to that day."""

    name = "reschedule"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``reschedule`` command (and a nudge's Reschedule button)."""
        found = await _pair_and_people(turn, args[:1], "reschedule")
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        pairing = found[0]
        state = FlowState(self.name, "day", {"pairing": pairing.id})
        if len(args) > 1:
            turn_text = " ".join(args[1:])
            return await self._pick(turn, state, turn_text)
        return Outcome(self.ask(turn, state), state)

    def _days(self, turn: Turn) -> list[date]:
        zone = zone_of(turn.person, turn.program.default_timezone)
        day = local_date(turn.now, zone)
        working = turn.program.cadence.working_hours.days
        found: list[date] = []
        while len(found) < 5:
            day += timedelta(days=1)
            if WEEKDAYS[day.weekday()] in working:
                found.append(day)
        return found

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        options = tuple(Option(d.isoformat(), day_label(d)) for d in self._days(turn))
        return [
            Reply(
                "When will you meet? I'll check in with you that day.",
                prompt=Prompt(PromptKind.SINGLE, options),
                hint="Or type a date, e.g. 2026-12-10 or next friday.",
            )
        ]

    def describe(self, state: FlowState) -> str:
        return "rescheduling your check-in"

    def cancelled(self, state: FlowState) -> str:
        return "Cancelled; your check-ins stay as they were."

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        action = turn.inbound.action
        text = action.values[0] if action and action.values else turn.text
        return await self._pick(turn, state, text)

    async def _pick(self, turn: Turn, state: FlowState, text: str) -> Outcome:
        zone = zone_of(turn.person, turn.program.default_timezone)
        today = local_date(turn.now, zone)
        pairing = await turn.session.get(Pairing, state.data["pairing"])
        if pairing is None or pairing.status != PairingStatus.ACTIVE:
            return Outcome([Reply("That pairing has ended; nothing changed.")], None)
        end = local_date(cycle_end(pairing, turn.program.cadence), zone)
        day = parse_day(text, today)
        trouble = None
        if day is None:
            trouble = f"I can't read {text!r} as a date; try 2026-12-10, tuesday or in 3 days."
        elif day <= today:
            trouble = "Pick a day after today."
        elif day > end:
            trouble = f"Pick a day inside this cycle, by {day_label(end)}."
        if trouble is not None:
            return Outcome([Reply(trouble), *self.ask(turn, state)], state, False)
        assert day is not None
        assert pairing.id is not None
        at = next_delivery(
            datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone)),
            zone=zone,
            hours=turn.program.cadence.working_hours,
        )
        await insert_due(
            turn.session,
            [
                due_row(
                    pairing.id,
                    DueKind.REMINDER,
                    at,
                    turn.now,
                    {"why": "rescheduled", "since": today.isoformat(), "by": turn.person.id},
                )
            ],
        )
        return Outcome([Reply(f"Got it: I'll check in with you on {day_label(day)}.")], None)


# --- pause, resume, leave ------------------------------------------------------------------


def _pause_until(args: list[str], today: date) -> date | str | None:
    """The end of a pause from ``pause [until DATE | for N days|weeks]``; a str is a problem."""
    words = [w for w in args if w.lower() not in ("until", "till", "til")]
    if not words:
        return None
    text = " ".join(words).lower()
    if words[0].lower() == "for":
        text = "in " + " ".join(words[1:])
    day = parse_day(text, today)
    if day is None:
        return (
            f"I can't read {' '.join(args)!r} as a date. Type pause, pause until 2027-01-10, "
            "or pause for 2 weeks."
        )
    if day <= today:
        return "A pause has to end after today. Type pause on its own to pause until resume."
    if day > today + timedelta(days=366):
        return "A pause can last a year at most; type pause on its own and resume later."
    return day


async def _enrollments(turn: Turn) -> list[Enrollment]:
    """The person's enrollments they have not left."""
    found = await enrollments_of(turn.session, turn.person.id or 0, turn.program.id)
    return [e for e in found if e.status != EnrollmentStatus.LEFT]


async def _pause(turn: Turn, args: list[str]) -> Outcome:
    enrollments = await _enrollments(turn)
    if not enrollments:
        return Outcome(
            [Reply("You're not enrolled, so there's nothing to pause.")], None, changed=False
        )
    zone = zone_of(turn.person, turn.program.default_timezone)
    until = _pause_until(args, local_date(turn.now, zone))
    if isinstance(until, str):
        return Outcome([Reply(until)], None, changed=False)
    paused_until = (
        datetime.combine(until, datetime.min.time(), tzinfo=ZoneInfo(zone)) if until else None
    )
    # A pause for lapsed proposals held no pairings, so pausing now is news to the other side.
    already = all(
        e.status == EnrollmentStatus.PAUSED and e.paused_reason is None for e in enrollments
    )
    moved = already and any(e.paused_until != paused_until for e in enrollments)
    for enrollment in enrollments:
        if enrollment.status != EnrollmentStatus.PAUSED:
            enrollment.status_before_pause = enrollment.status
            enrollment.status = EnrollmentStatus.PAUSED.value
        enrollment.paused_reason = None  # their own pause now, whatever paused them before
        enrollment.paused_until = paused_until
        enrollment.updated_at = turn.now
        turn.session.add(enrollment)
    when = f"until {day_label(until)}" if until else "until you type resume"
    if not already or moved:
        # A new pause, or one made shorter (or longer): the other side hears when to expect
        # them back.
        if already:
            told, key = (
                f"{turn.person.name}'s break from mentoring now lasts {when}",
                "pause-change",
            )
        else:
            told, key = f"{turn.person.name} is taking a break from mentoring {when}", "pause"
        for pairing in await active_pairings(turn):
            other = pairing.mentor_id if pairing.mentee_id == turn.person.id else pairing.mentee_id
            await _tell(
                turn.session,
                other,
                f"{told}. Check-ins for your pairing are on hold; I'll let you know when "
                "they're back.",
                f"{key}:{turn.person.id}:{turn.now.isoformat()}:{pairing.id}",
                turn.now,
                turn.program,
                pairing_id=pairing.id,
            )
    return Outcome(
        [
            Reply(
                f"Paused {when}: no check-ins, reminders or new matches for you meanwhile. "
                "Your pairings and answers stay as they are."
            )
        ],
        None,
    )


async def resume_person(
    session: AsyncSession, program: Program, person: Person, now: datetime
) -> bool:
    """End a person's pause: restore their standing and restart their pairings' cadence.

    Check-ins start again ``checkin_every_days`` from now; reviews held during the pause
    fall due now. A pairing whose other side is still paused stays on hold.

    Returns:
        False when the person was not paused (another tick or command resumed them).
    """
    result = await session.exec(
        select(Enrollment).where(
            Enrollment.person_id == person.id,
            Enrollment.program == program.id,
            Enrollment.status == EnrollmentStatus.PAUSED.value,
        )
    )
    enrollments = list(result.all())
    if not enrollments:
        return False
    # Only a pause the person asked for held their pairings; one for lapsed proposals
    # (handlers.matching.lapses) stopped new proposals only, so their pairings need no restart.
    held = any(e.paused_reason is None for e in enrollments)
    conn = await session.connection()
    for enrollment in enrollments:
        restored = await conn.execute(
            sa.update(ENROLLMENT)
            .where(
                ENROLLMENT.c.id == enrollment.id,
                ENROLLMENT.c.status == EnrollmentStatus.PAUSED.value,
            )
            .values(
                status=enrollment.status_before_pause or _unpaused(enrollment),
                status_before_pause=None,
                paused_until=None,
                paused_reason=None,
                updated_at=now,
            )
        )
        if not restored.rowcount:
            return False
    if not held:
        return True
    every = timedelta(days=program.cadence.checkin_every_days)
    quiet = timedelta(days=program.cadence.auto_close_after_days)
    for pairing in await pairings_of(
        session, program, person_id=person.id, statuses=[PairingStatus.ACTIVE]
    ):
        other = pairing.mentor_id if pairing.mentee_id == person.id else pairing.mentee_id
        still = await session.scalar(
            sa.select(sa.func.count())
            .select_from(ENROLLMENT)
            .where(
                ENROLLMENT.c.person_id == other,
                ENROLLMENT.c.program == program.id,
                ENROLLMENT.c.status == EnrollmentStatus.PAUSED.value,
            )
        )
        if still:
            continue
        assert pairing.id is not None
        pairing.last_activity_at = now
        pairing.missed_checkins = 0
        session.add(pairing)
        await release_held(session, pairing.id, now)
        await move_checkin(session, program, pairing, now + every, now)
        await cancel_due(session, [pairing.id], now, kinds=[DueKind.INACTIVITY])
        await insert_due(session, [due_row(pairing.id, DueKind.INACTIVITY, now + quiet, now)])
        await _tell(
            session,
            other,
            f"{person.name} is back from their break, so check-ins for your pairing start again.",
            f"resume:{person.id}:{now.isoformat()}:{pairing.id}",
            now,
            program,
            pairing_id=pairing.id,
        )
    return True


def _unpaused(enrollment: Enrollment) -> str:
    if enrollment.role == Role.MENTOR.value:
        return EnrollmentStatus.AVAILABLE.value
    return EnrollmentStatus.WAITING.value


async def _resume(turn: Turn, args: list[str]) -> Outcome:
    paused = [e for e in await _enrollments(turn) if e.status == EnrollmentStatus.PAUSED]
    if not await resume_person(turn.session, turn.program, turn.person, turn.now):
        return Outcome([Reply("You're not paused; nothing to resume.")], None, changed=False)
    if all(e.paused_reason == LAPSES for e in paused):
        return Outcome(
            [Reply("Welcome back! The next match round can propose mentees to you again.")],
            None,
        )
    every = turn.program.cadence.checkin_every_days
    return Outcome(
        [Reply(f"Welcome back! Check-ins start again: the next one is in {every} days.")], None
    )


async def resume_due_pauses(session: AsyncSession, program: Program, now: datetime) -> list[int]:
    """Resume everyone whose pause has run out; tell them. Returns their person ids."""
    result = await session.exec(
        select(Enrollment.person_id)
        .where(
            Enrollment.program == program.id,
            Enrollment.status == EnrollmentStatus.PAUSED.value,
            Enrollment.paused_until <= now,  # type: ignore[operator]
        )
        .distinct()
    )
    resumed = []
    for person_id in result.all():
        person = await session.get(Person, person_id)
        if person is None or not await resume_person(session, program, person, now):
            continue
        resumed.append(person_id)
        await _tell(
            session,
            person_id,
            "Your break is over, so welcome back: check-ins and reminders start again. "
            "Type pause if you need more time.",
            f"resumed:{person_id}:{now.isoformat()}",
            now,
            program,
        )
    return resumed


#: What typed at the leave question confirms leaving: 1 is the "Yes, leave" option's number.
LEAVE_YES = frozenset({"yes", "y", "yes, leave", "yes leave", "1"})


class LeaveFlow(Flow):
    """Leave the program, after saying what it ends."""

    name = "leave"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``leave`` command: say what leaving ends, and ask to confirm."""
        if not await _enrollments(turn):
            return Outcome(
                [Reply("You're not enrolled, so there's nothing to leave.")], None, changed=False
            )
        state = FlowState(self.name, "confirm", {})
        return Outcome(await self._explain(turn) + self.ask(turn, state), state)

    async def _explain(self, turn: Turn) -> list[Reply]:
        pairings = await pairings_of(
            turn.session, turn.program, person_id=turn.person.id, statuses=OPEN_PAIRING
        )
        people = await people_by_id(
            turn.session, [p.mentee_id for p in pairings] + [p.mentor_id for p in pairings]
        )
        names = [
            people[p.mentor_id if p.mentee_id == turn.person.id else p.mentee_id].name
            for p in pairings
        ]
        ends = (
            f" It ends your pairing with {', '.join(names)}, and they'll be told kindly."
            if names
            else ""
        )
        return [
            Reply(
                f"Leaving takes you out of {turn.program.name}.{ends} "
                "Type pause instead if you only need a break."
            )
        ]

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        return [
            Reply(
                "Do you want to leave the program?",
                prompt=Prompt(
                    PromptKind.SINGLE,
                    (Option("leave", "Yes, leave"), Option("stay", "No, stay")),
                ),
            )
        ]

    def describe(self, state: FlowState) -> str:
        return "leaving the program"

    def cancelled(self, state: FlowState) -> str:
        return "You're staying; nothing changed."

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        action = turn.inbound.action
        # Only an explicit yes leaves: the button, its number, or a typed yes. The option's
        # value is not accepted as typed text, so typing ``leave`` again cannot confirm, and
        # anything else (no, a typo, another command) keeps the person in.
        if action is not None:
            confirmed = action.values == ("leave",)
        else:
            confirmed = turn.text.casefold() in LEAVE_YES
        if not confirmed:
            return Outcome(
                [
                    Reply(
                        f"OK, you're staying in {turn.program.name}; nothing changed. "
                        "Type leave if you change your mind."
                    )
                ],
                None,
            )
        ended = await leave_program(turn.session, turn.program, turn.person, turn.now)
        tail = (
            f" Your {plural(ended, 'pairing')} ended and the other side was told." if ended else ""
        )
        return Outcome(
            [
                Reply(
                    f"You've left {turn.program.name}. Thank you for taking part.{tail} "
                    "Type join if you ever want to come back."
                )
            ],
            None,
        )


async def leave_program(
    session: AsyncSession, program: Program, person: Person, now: datetime
) -> int:
    """Take a person out of the program: end their pairings kindly, free their places.

    A mentor's mentees go back to the waitlist with their old place; a mentee's mentor gets their
    place back. Returns how many pairings ended.
    """
    ended = 0
    for pairing in await pairings_of(session, program, person_id=person.id, statuses=OPEN_PAIRING):
        was_active = pairing.status == PairingStatus.ACTIVE
        leaver_is_mentor = pairing.mentor_id == person.id
        if not await end_pairing(
            session, program, pairing, now, reason="left", rematch=leaver_is_mentor
        ):
            continue
        ended += 1
        if leaver_is_mentor:
            text = (
                f"{person.name} has left the mentoring program, so your pairing has ended. "
                "It's no reflection on you: you're back on the waitlist with the place you had "
                "before, and "
                "the next match round will find you someone new."
                if was_active
                else f"{person.name} has left the mentoring program, so their proposal to "
                "you is withdrawn. You keep your place on the waitlist."
            )
            other = pairing.mentee_id
        else:
            text = (
                f"{person.name} has left the mentoring program, so your pairing has ended. "
                "Thank you for everything you gave them; your place is free for a new mentee."
            )
            other = pairing.mentor_id
        await _tell(session, other, text, f"pairing:{pairing.id}:left", now, program)
    conn = await session.connection()
    await conn.execute(
        sa.update(ENROLLMENT)
        .where(ENROLLMENT.c.person_id == person.id, ENROLLMENT.c.program == program.id)
        .values(
            status=EnrollmentStatus.LEFT.value,
            status_before_pause=None,
            paused_until=None,
            updated_at=now,
        )
    )
    return ended


def commands(reschedule: RescheduleFlow, leave: LeaveFlow) -> list[Command]:
    """The cycle's commands: pause, resume, leave, and the answers behind buttons."""

    def button(name: str, summary: str, run: Any, usage: str = "PAIRING") -> Command:
        return Command(
            name,
            summary,
            run,
            usage=usage,
            listed=False,
            mid_flow=rf"(?i)^{name}\s+\d+(\s+\w+)?$",
        )

    return [
        Command(
            "pause",
            "take a break: no check-ins or new matches",
            _pause,
            usage="[until DATE | for N weeks]",
        ),
        Command("resume", "come back from a break", _resume),
        Command("leave", "leave the program (ends your pairings kindly)", leave.start),
        button("calibrate", "say whether the pairing is working", _calibrate, "PAIRING yes|no"),
        button("rematch", "end the pairing and look for a new match", _rematch),
        button("continue", "continue for another cycle", _continue),
        button("close", "close the pairing", _close),
        button("keep", "keep the pairing going", _keep),
        button("snooze", "remind me in 3 days", _snooze),
        Command(
            "reschedule",
            "pick the day of your next meeting",
            reschedule.start,
            usage="PAIRING [DATE]",
            listed=False,
        ),
    ]


async def cycle_lines(turn: Turn) -> list[str]:
    """Where each of the person's active pairings is in its cycle, for ``status``."""
    lines: list[str] = []
    zone = zone_of(turn.person, turn.program.default_timezone)
    cadence = turn.program.cadence
    for pairing in await active_pairings(turn):
        assert pairing.id is not None
        day = min(cycle_day(pairing, turn.now), cadence.cycle_days)
        parts = [f"Pairing {pairing.id}: day {day} of {cadence.cycle_days}"]
        if pairing.cycle > 1:
            parts[0] += f" of cycle {pairing.cycle}"
        checkin = await turn.session.scalar(
            sa.select(sa.func.min(DUE.c.due_at)).where(
                DUE.c.pairing_id == pairing.id,
                DUE.c.kind == DueKind.CHECKIN.value,
                DUE.c.status == DueStatus.PENDING.value,
            )
        )
        if checkin is not None:
            parts.append(f"next check-in {day_label(local_date(checkin, zone))}")
        conn = await turn.session.connection()
        planned = await conn.execute(
            sa.select(DUE.c.due_at, DUE.c.answers)
            .where(
                DUE.c.pairing_id == pairing.id,
                DUE.c.kind == DueKind.REMINDER.value,
                DUE.c.status == DueStatus.PENDING.value,
            )
            .order_by(DUE.c.due_at)
        )
        for due_at, answers in planned.all():
            # A rescheduled meeting is a check-in the person chose, so status names its day.
            if (answers or {}).get("why") == "rescheduled":
                parts.append(f"meeting rescheduled to {day_label(local_date(due_at, zone))}")
                break
        milestones = await turn.session.scalar(
            sa.select(sa.func.count())
            .select_from(Milestone)
            .where(
                Milestone.pairing_id == pairing.id,  # type: ignore[arg-type]
                Milestone.cycle == pairing.cycle,  # type: ignore[arg-type]
            )
        )
        if not milestones:
            parts.append("no plan yet (type plan)")
        else:
            confirmed = "confirmed" if pairing.plan_confirmed_at else "not yet confirmed"
            version = f" (version {pairing.plan_version})" if pairing.plan_version else ""
            parts.append(f"plan of {plural(int(milestones), 'milestone')}{version}, {confirmed}")
        if pairing.at_risk_since is not None:
            parts.append("no session logged for a while: type log after you meet")
        lines.append("; ".join(parts) + ".")
    return lines
