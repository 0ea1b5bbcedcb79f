"""What falls due in a circle's cycle, done once: session nudges and the end review.

The scheduler claims :class:`storage.CircleDue` rows (scheduler.circles) and hands them to
:func:`process_circle_due`, which runs the handler of each kind (:data:`HANDLERS`) in the
claim's transaction:

* ``session``: no session logged since the last one fell due? The facilitator is nudged to
  hold and log one. Members who missed two sessions in a row or more get a gentle word of
  their own, once per run of misses.
* ``end_review``: the facilitator is asked whether the circle continues for another cycle
  or closes (handlers.circles.ending answers it).

Every message waits for its reader's working hours; each has a unique outbox key, so an
item processed twice sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.ending import ASKED
from handlers.circles.lifecycle import circle_people, is_member
from handlers.core.archived import recall_archived_circles
from handlers.core.calendar import day_label, local_date
from handlers.core.messages import Option, Reply, plural
from handlers.core.naming import for_reader
from handlers.core.outbox import enqueue
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.core.refs import circle_label
from handlers.people.lookups import people_by_id
from storage import Circle, CircleDueKind, CircleMember, CircleStatus, DueStatus
from storage.tables import CIRCLE_ATTENDANCE, CIRCLE_DUE, CIRCLE_SESSION

#: Missed sessions in a row that bring a member a word of their own.
MISSED_NUDGE = 2


@dataclass(frozen=True)
class CircleDueWork:
    """One claimed circle due row."""

    id: int
    circle_id: int
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class CircleDueContext:
    """What a handler works with: the item, its circle and program, the time."""

    session: AsyncSession
    item: CircleDueWork
    circle: Circle
    program: Program
    now: datetime


CircleDueHandler = Callable[[CircleDueContext], Awaitable[str]]


async def _say(due: CircleDueContext, person_id: int, key: str, reply: Reply) -> bool:
    """Queue a message for one person of the circle, in their working hours, once per key."""
    return await enqueue(
        due.session,
        person_id=person_id,
        replies=await for_reader(due.session, due.program, person_id=person_id, replies=[reply]),
        dedupe_key=key,
        now=due.now,
        program=due.program,
    )


async def session_due(due: CircleDueContext) -> str:
    """A session falls due: nudge the facilitator if none was logged lately, and each member
    who missed two or more in a row (once per run of misses)."""
    circle, program = due.circle, due.program
    assert circle.id is not None
    people = await circle_people(due.session, circle.id)
    conn = await due.session.connection()
    since = due.item.due_at - timedelta(days=program.cadence.checkin_every_days)
    held = await conn.scalar(
        sa.select(sa.func.count()).where(
            CIRCLE_SESSION.c.circle_id == circle.id,
            CIRCLE_SESSION.c.held_on >= local_date(since, program.default_timezone),
        )
    )
    outcome = "suppressed"
    label = circle_label(circle.id)
    facilitator = next((p for p in people if not is_member(p)), None)
    if not held and facilitator is not None:
        last = await conn.scalar(
            sa.select(sa.func.max(CIRCLE_SESSION.c.held_on)).where(
                CIRCLE_SESSION.c.circle_id == circle.id
            )
        )
        when = f"The last one logged was on {day_label(last)}." if last else "None is logged yet."
        every = program.cadence.checkin_every_days
        text = (
            f"It's time for circle {label} to meet: the circle meets every {plural(every, 'day')}. "
            f"{when} Once you've held the session, log it with who came."
        )
        reply = Reply(
            text,
            title="Circle session due",
            actions=(Option(f"circle log {label}", "Log a session"),),
        )
        key = f"circle:{circle.id}:session-due:{due.item.due_at.isoformat()}"
        if await _say(due, facilitator.person_id, key, reply):
            outcome = "sent"
    if await _nudge_missing(due, [p for p in people if is_member(p)], facilitator):
        outcome = "sent"
    return outcome


async def _nudge_missing(
    due: CircleDueContext, members: Sequence[CircleMember], facilitator: CircleMember | None
) -> bool:
    """A word for each member two or more sessions away, once per run of misses: the run is
    named by the last session they came to, so it changes once they come again."""
    away = [m for m in members if m.missed_in_a_row >= MISSED_NUDGE]
    if not away:
        return False
    circle = due.circle
    label = circle_label(circle.id)
    conn = await due.session.connection()
    last_came = await conn.execute(
        sa.select(CIRCLE_ATTENDANCE.c.person_id, sa.func.max(CIRCLE_ATTENDANCE.c.session_id))
        .join(CIRCLE_SESSION, CIRCLE_SESSION.c.id == CIRCLE_ATTENDANCE.c.session_id)
        .where(
            CIRCLE_SESSION.c.circle_id == circle.id,
            CIRCLE_ATTENDANCE.c.attended.is_(True),
            CIRCLE_ATTENDANCE.c.person_id.in_([m.person_id for m in away]),
        )
        .group_by(CIRCLE_ATTENDANCE.c.person_id)
    )
    run_of = {person_id: session_id for person_id, session_id in last_came.all()}
    names = await people_by_id(due.session, [facilitator.person_id] if facilitator else [])
    who = (
        names[facilitator.person_id].name.split()[0] if facilitator and names else "the facilitator"
    )
    sent = False
    for member in away:
        text = (
            "We've missed you at your circle's last "
            f"{plural(member.missed_in_a_row, 'session')}. No pressure: if the time doesn't "
            f"suit you, tell {who}, who can find another. And if the circle isn't for you any "
            "more, you can leave it kindly."
        )
        reply = Reply(
            text,
            title="Your circle",
            actions=(Option(f"circle leave {label}", "Leave the circle"),),
        )
        key = f"circle:{circle.id}:missed:{member.person_id}:{run_of.get(member.person_id, 0)}"
        sent = await _say(due, member.person_id, key, reply) or sent
    return sent


async def end_review_due(due: CircleDueContext) -> str:
    """The cycle ends: ask the facilitator whether the circle continues or closes."""
    circle, program = due.circle, due.program
    assert circle.id is not None
    facilitator = next(
        (p for p in await circle_people(due.session, circle.id) if not is_member(p)), None
    )
    if facilitator is None:
        return "suppressed"
    days = program.cadence.cycle_days
    label = circle_label(circle.id)
    reply = Reply(
        f"Circle {label}'s cycle of {plural(days, 'day')} (cycle {circle.cycle}) ends today. Would "
        "the circle like another cycle, or is this a good place to close it?",
        title="End of the cycle",
        actions=(
            Option(f"circle continue {label}", "Continue another cycle"),
            Option(f"circle close {label}", "Close the circle"),
        ),
    )
    await _say(due, facilitator.person_id, f"circle:{circle.id}:end-review:{circle.cycle}", reply)
    return ASKED


#: Each circle due kind's handler, by kind.
HANDLERS: Mapping[str, CircleDueHandler] = {
    CircleDueKind.SESSION.value: session_due,
    CircleDueKind.END_REVIEW.value: end_review_due,
}


async def process_circle_due(
    session: AsyncSession, programs: Programs, *, items: Sequence[CircleDueWork], now: datetime
) -> int:
    """Do what the items owe, once, in the caller's transaction; how many were done.

    An item of a circle that no longer runs is closed without a word; a session item with
    a later one of the same circle in the batch is folded into it. A circle of a program
    removed from the file runs on (handlers.core.archived).
    """
    done = 0
    conn = await session.connection()
    await recall_archived_circles(session, programs)
    # A pass that finds several sessions of one circle due at once (the bot was down, or
    # run-due ran late) nudges for the latest only: one word, not one per missed date.
    latest: dict[int, datetime] = {}
    for item in items:
        if item.kind == CircleDueKind.SESSION.value:
            latest[item.circle_id] = max(item.due_at, latest.get(item.circle_id, item.due_at))
    for item in sorted(items, key=lambda i: (i.due_at, i.id)):
        circle = await session.get(Circle, item.circle_id)
        handler = HANDLERS.get(item.kind)
        if item.kind == CircleDueKind.SESSION.value and item.due_at < latest[item.circle_id]:
            outcome = "folded"
        elif circle is None or circle.status != CircleStatus.ACTIVE.value or handler is None:
            outcome = "closed"
        else:
            context = CircleDueContext(session, item, circle, programs.of(circle.program), now)
            outcome = await handler(context)
        await conn.execute(
            sa.update(CIRCLE_DUE)
            .where(CIRCLE_DUE.c.id == item.id)
            .values(status=DueStatus.DONE.value, outcome=outcome, done_at=now, lease_until=None)
        )
        done += 1
    return done
