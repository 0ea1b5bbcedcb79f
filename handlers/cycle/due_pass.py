"""The due pass: what falls due in a batch of pairings' cycles, done once.

:func:`process_due` turns claimed due items into messages. It is given a batch (the
scheduler claims them, see scheduler.due) and does everything for the batch in one
transaction with a handful of queries, so a tick keeps up with a large program: it loads
the batch's pairings once (:func:`_load`), hands each item to the handler of its kind
(handlers.cycle.registry: check-ins in handlers.cycle.checkins, reviews in
handlers.cycle.reviews, the inactivity check in handlers.cycle.inactivity, reminders of
owed steps in handlers.cycle.reminders), then writes what they produced.

Each message is delivered inside its recipient's working hours, in their timezone, and a
count of days in it is worked out when it is delivered (handlers.core.messages.DaysSince). A
paused pairing's items are held until the pause ends. Items more than ``stale_after_days``
late (the bot was down) are folded into one catch-up message per person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import zip_longest
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import next_delivery
from handlers.core.messages import DaysSince, Option, Reply, counting, first_sentence
from handlers.core.naming import in_program, in_several
from handlers.core.outbox import outbox_row
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.cycle.batch import Batch, CycleReport, Due, Message, Pair
from handlers.cycle.registry import handle
from handlers.cycle.schedule import DueWork, insert_due
from handlers.meetings.booking import booked_by_pairing
from handlers.sessions.feedback import insert_requests
from handlers.sessions.summaries import action_items_for
from storage import (
    DueStatus,
    EnrollmentStatus,
    Feedback,
    Milestone,
    Outbox,
    PairingStatus,
    SessionLog,
)
from storage.queries import among, insert_for
from storage.tables import DUE, ENROLLMENT, PAIRING, PERSON

#: How many actions a catch-up message offers at most.
CATCH_UP_ACTIONS = 6


# --- processing what fell due --------------------------------------------------------------


async def process_due(
    session: AsyncSession, programs: Programs, *, items: Sequence[DueWork], now: datetime
) -> CycleReport:
    """Turn due items into messages, follow-ups and pairing changes, once.

    The items are the caller's to act on until its transaction ends (the scheduler claimed
    and locked them in, see scheduler.claims). Everything happens in that transaction, so a
    crash undoes all of it and the scheduler hands the items to a later tick. Each item is
    handled with the settings of its pairing's program.
    """
    report = CycleReport()
    if not items:
        return report
    ids = sorted({i.pairing_id for i in items})
    conn = await session.connection()
    rows = await conn.execute(
        sa.select(PAIRING.c.id, PAIRING.c.program).where(among(conn, PAIRING.c.id, ids=ids))
    )
    program_of = {row.id: row.program for row in rows}
    groups: dict[str, list[DueWork]] = defaultdict(list)
    for item in items:
        groups[program_of.get(item.pairing_id, programs.first.id)].append(item)
    for program_id, group in groups.items():
        report.add(await _process(session, programs, programs.of(program_id), items=group, now=now))
    return report


async def _process(
    session: AsyncSession,
    programs: Programs,
    program: Program,
    *,
    items: Sequence[DueWork],
    now: datetime,
) -> CycleReport:
    """:func:`process_due` for the items of one program's pairings."""
    report = CycleReport()
    context = await _load(session, programs, program, [i.pairing_id for i in items], now)
    messages: list[Message] = []
    follow_ups: list[dict[str, Any]] = []
    outcomes: dict[str, list[int]] = defaultdict(list)
    held: list[int] = []
    stale_before = now - timedelta(days=program.cadence.stale_after_days)
    for item in sorted(items, key=lambda i: (i.due_at, i.id)):
        pair = context.pairs.get(item.pairing_id)
        if pair is None or pair.status != PairingStatus.ACTIVE:
            outcomes["closed"].append(item.id)
            report.closed += 1
            continue
        if pair.mentee_id in context.paused or pair.mentor_id in context.paused:
            held.append(item.id)
            report.held += 1
            continue
        due = Due(item, pair, context, follow_ups, report)
        outcome: str = await handle(session, due)
        produced = due.messages
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
    report.messages = await _queue(session, context, messages)
    await insert_due(session, follow_ups)
    await insert_requests(session, context.surveys)
    conn = await session.connection()
    # One write per item: its final status and outcome.
    for outcome, ids in outcomes.items():
        await conn.execute(
            sa.update(DUE)
            .where(among(conn, DUE.c.id, ids=ids))
            .values(status=DueStatus.DONE.value, outcome=outcome, done_at=now, lease_until=None)
        )
    if held:
        await conn.execute(
            sa.update(DUE)
            .where(among(conn, DUE.c.id, ids=held))
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


async def _later_activity(conn: AsyncConnection, pairs: dict[int, Pair], ids: list[int]) -> None:
    """Move each pair's last activity to its latest survey answer or plan change.

    A pairing that answers surveys or works on its plan is not silent, even with no
    session logged, so these count as activity when inactivity is judged.
    """
    feedback = Feedback.__table__  # type: ignore[attr-defined]
    milestone = Milestone.__table__  # type: ignore[attr-defined]
    for query in (
        sa.select(feedback.c.pairing_id, sa.func.max(feedback.c.answered_at))
        .where(among(conn, feedback.c.pairing_id, ids=ids))
        .group_by(feedback.c.pairing_id),
        sa.select(milestone.c.pairing_id, sa.func.max(milestone.c.updated_at))
        .where(among(conn, milestone.c.pairing_id, ids=ids))
        .group_by(milestone.c.pairing_id),
        sa.select(PAIRING.c.id, PAIRING.c.plan_confirmed_at).where(
            among(conn, PAIRING.c.id, ids=ids)
        ),
    ):
        for pairing_id, at in (await conn.execute(query)).all():
            pair = pairs.get(pairing_id)
            if pair is not None and at is not None and at > pair.last_activity:
                pair.last_activity = at


async def _load(
    session: AsyncSession,
    programs: Programs,
    program: Program,
    pairing_ids: list[int],
    now: datetime,
) -> Batch:
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
        .where(among(conn, PAIRING.c.id, ids=ids))
    )
    fallback = program.default_timezone
    pairs: dict[int, Pair] = {}
    for row in rows.all():
        activated = row[4] or row[3] or now
        pairs[row[0]] = Pair(
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
            among(conn, ENROLLMENT.c.person_id, ids=sorted(people)),
        )
    )
    log = SessionLog.__table__  # type: ignore[attr-defined]
    sessions = await conn.execute(
        sa.select(log.c.pairing_id, sa.func.max(log.c.held_on), sa.func.count())
        .where(among(conn, log.c.pairing_id, ids=ids))
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
        .where(among(conn, table.c.pairing_id, ids=ids))
        .order_by(table.c.pairing_id, table.c.position)
    )
    milestones: dict[int, list[tuple[int, str, date, str]]] = defaultdict(list)
    for pairing_id, cycle, position, objective, target, status in found.all():
        pair = pairs.get(pairing_id)
        if pair is not None and cycle == pair.cycle:
            milestones[pairing_id].append((position, objective, target, status))
    return Batch(
        program=program,
        programs=programs,
        now=now,
        # Who reads the program's name: people in several programs (handlers.core.naming).
        several=await in_several(session, people),
        pairs=pairs,
        paused=set(paused.scalars()),
        last_session=last_session,
        sessions=counts,
        milestones=milestones,
        action_items=await action_items_for(session, ids) if counts else {},
        meetings=await booked_by_pairing(conn, ids, default_zone=fallback),
    )


async def _queue(session: AsyncSession, batch: Batch, messages: list[Message]) -> int:
    """Queue the batch's messages in one statement, folding late ones into catch-ups.

    A reader in several programs reads each message opened with its program's name; a
    catch-up, which folds messages of this batch's one program, is named once, not each
    message folded into it.
    """
    program, now = batch.program, batch.now
    hours = program.cadence.working_hours
    late: dict[int, list[Message]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    when: dict[str, datetime] = {}

    def deliver_at(zone: str) -> datetime:
        if zone not in when:
            when[zone] = next_delivery(now, zone=zone, hours=hours)
        return when[zone]

    def row(
        person_id: int, zone: str, replies: list[Reply], key: str, pairing_id: int | None
    ) -> dict[str, Any]:
        if person_id in batch.several:
            replies = [in_program(reply, program) for reply in replies]
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
        # Each message's first buttons in turn, so a question's answers are not crowded out
        # by the buttons of a message folded before it.
        for in_turn in zip_longest(*(m.reply.actions for m in folded)):
            for action in in_turn:
                if action is None or action in actions or len(actions) >= CATCH_UP_ACTIONS:
                    continue
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
