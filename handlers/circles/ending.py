"""A circle's end and the people who leave it.

* ``circle continue CIRCLE`` answers the end review: a new cycle starts (its sessions and
  its next end review scheduled again);
* ``circle close CIRCLE`` ends the circle for everyone, who are told;
* ``circle leave [CIRCLE]`` (or ``leave circle``) takes a member out of a running circle
  without ending it; the facilitator is told, and told too when the circle has fallen under
  the program's smallest circle (a running circle is never dissolved for it).

Every answer is checked against the circle as it is now, so a stale or repeated click (a
second continue, a close after the close) changes nothing and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.lifecycle import circle_people, is_member, schedule_circle, tell_circle
from handlers.circles.mine import MyCircle, circle_named
from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Outcome, Turn
from handlers.core.messages import Option, Reply, plural
from handlers.cycle.ending import first_name, tell, tell_leads
from handlers.people.lookups import people_by_id
from storage import (
    CircleDue,
    CircleDueKind,
    CircleMemberStatus,
    CircleStatus,
    DueStatus,
    EnrollmentStatus,
    Role,
)
from storage.tables import CIRCLE_DUE, ENROLLMENT

#: The end review's outcome while it waits for the facilitator's answer, and after it.
ASKED = "asked"
CONTINUED = "continued"


async def _review(turn: Turn, found: MyCircle) -> CircleDue | None:
    """The current cycle's end review, when it has been asked and not answered yet."""
    circle = found.circle
    started = circle.cycle_started_at or circle.activated_at
    query = select(CircleDue).where(
        CircleDue.circle_id == found.number,
        CircleDue.kind == CircleDueKind.END_REVIEW.value,
        CircleDue.status == DueStatus.DONE.value,
        CircleDue.outcome == ASKED,
    )
    if started is not None:
        query = query.where(CircleDue.due_at >= started)
    result = await turn.session.exec(query.order_by(sa.desc(CIRCLE_DUE.c.due_at)))
    return result.first()


def _cycle_end(turn: Turn, found: MyCircle) -> str:
    circle = found.circle
    started = circle.cycle_started_at or circle.activated_at or turn.now
    end = started + timedelta(days=found.program.cadence.cycle_days)
    zone = turn.person.timezone or found.program.default_timezone
    return day_label(local_date(end, zone))


async def cancel_circle_due(session: AsyncSession, circle_id: int, *, now: datetime) -> None:
    """Cancel what the circle still has pending (a new cycle schedules its own)."""
    conn = await session.connection()
    await conn.execute(
        sa.update(CIRCLE_DUE)
        .where(
            CIRCLE_DUE.c.circle_id == circle_id,
            CIRCLE_DUE.c.status.in_([DueStatus.PENDING.value, DueStatus.CLAIMED.value]),
        )
        .values(status=DueStatus.CANCELLED.value, outcome="cancelled", done_at=now)
    )


async def continue_circle(turn: Turn, args: list[str]) -> Outcome:
    """``circle continue CIRCLE``: another cycle, once its end review has asked."""
    found = await circle_named(turn, args[:1], command="circle continue", facilitating=True)
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    review = await _review(turn, found)
    circle = found.circle
    if review is None:
        text = (
            f"Circle {found.label} is in cycle {circle.cycle}, which runs until "
            f"{_cycle_end(turn, found)}; I'll ask then whether to continue. Nothing changed."
        )
        return Outcome([Reply(text)], None, changed=False)
    review.outcome = CONTINUED
    turn.session.add(review)
    circle.cycle += 1
    circle.cycle_started_at = turn.now
    turn.session.add(circle)
    await turn.session.flush()
    await cancel_circle_due(turn.session, found.number, now=turn.now)
    await schedule_circle(
        turn.session, program=found.program, circle=circle, start=turn.now, now=turn.now
    )
    days = found.program.cadence.cycle_days
    await tell_circle(
        turn.session,
        program=found.program,
        circle=circle,
        replies=[
            Reply(
                f"Circle {found.label} continues for another {plural(days, 'day')} (cycle "
                f"{circle.cycle}), with {first_name(turn.person.name)} facilitating. Type goals "
                "to see the circle's goals.",
                title="Another cycle",
            )
        ],
        what=f"cycle:{circle.cycle}",
        now=turn.now,
    )
    return Outcome(
        [Reply(f"Wonderful: circle {found.label} starts cycle {circle.cycle} today.")], None
    )


async def close_circle(turn: Turn, args: list[str]) -> Outcome:
    """``circle close CIRCLE``: end the circle; everyone in it is told."""
    found = await circle_named(turn, args[:1], command="circle close", facilitating=True)
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    circle = found.circle
    review = await _review(turn, found)
    reason = "completed" if review is not None or circle.cycle > 1 else "closed"
    conn = await turn.session.connection()
    people = await circle_people(turn.session, found.number)
    await tell_circle(
        turn.session,
        program=found.program,
        circle=circle,
        people=people,
        replies=[
            Reply(
                f"{turn.person.name} closed circle {found.label}. Thank you all for the time "
                "and care you gave each other.",
                title="Circle closed",
            )
        ],
        what="closed",
        now=turn.now,
    )
    circle.status = CircleStatus.ENDED.value
    circle.closed_at = turn.now
    circle.end_reason = reason
    turn.session.add(circle)
    if review is not None:
        review.outcome = "closed"
        turn.session.add(review)
    await turn.session.flush()
    await cancel_circle_due(turn.session, found.number, now=turn.now)
    members = [m.person_id for m in people if is_member(m)]
    if members:
        await conn.execute(
            sa.update(ENROLLMENT)
            .where(
                ENROLLMENT.c.program == found.program.id,
                ENROLLMENT.c.role == Role.MENTEE.value,
                ENROLLMENT.c.person_id.in_(members),
                ENROLLMENT.c.status == EnrollmentStatus.MATCHED.value,
            )
            .values(status=EnrollmentStatus.COMPLETED.value, updated_at=turn.now)
        )
    await tell_leads(
        turn.session,
        found.program,
        text=f"{turn.person.name} closed circle {found.label} ({reason}).",
        key=f"circle:{found.number}:closed",
        now=turn.now,
        programs=turn.programs,
    )
    return Outcome([Reply(f"Closed circle {found.label}; everyone in it has been told.")], None)


async def leave_circle(turn: Turn, args: list[str]) -> Outcome:
    """``circle leave [CIRCLE] [yes]``: say what leaving does and ask; with yes, leave."""
    confirmed = bool(args) and args[-1].lower() == "yes"
    named = args[:-1] if confirmed else args
    found = await circle_named(turn, named[:1], command="circle leave")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    people = await circle_people(turn.session, found.number)
    facilitator = next((p for p in people if not is_member(p)), None)
    if found.facilitating:
        text = (
            f"You facilitate circle {found.label}, so it can't run on without you. To end it "
            f"for everyone, type circle close {found.label}."
        )
        return Outcome([Reply(text)], None, changed=False)
    names = await people_by_id(turn.session, [facilitator.person_id] if facilitator else [])
    who = names[facilitator.person_id].name if facilitator and names else "the facilitator"
    if not confirmed:
        text = (
            f"Leaving takes you out of circle {found.label}; the circle keeps meeting without "
            f"you, and {first_name(who)} will be told. Leave it?"
        )
        actions = (
            Option(f"circle leave {found.label} yes", "Yes, leave"),
            Option("circle stay", "No, stay"),
        )
        return Outcome([Reply(text, actions=actions)], None, changed=False)
    me = found.me
    me.status = CircleMemberStatus.LEFT.value
    me.left_at = turn.now
    turn.session.add(me)
    conn = await turn.session.connection()
    await conn.execute(
        sa.update(ENROLLMENT)
        .where(
            ENROLLMENT.c.program == found.program.id,
            ENROLLMENT.c.person_id == turn.person.id,
            ENROLLMENT.c.status.in_(
                [EnrollmentStatus.MATCHED.value, EnrollmentStatus.WAITING.value]
            ),
        )
        .values(status=EnrollmentStatus.LEFT.value, updated_at=turn.now)
    )
    remaining = len([p for p in people if is_member(p) and p.person_id != turn.person.id])
    if facilitator is not None:
        text = (
            f"{turn.person.name} has left circle {found.label}; the circle carries on with "
            f"{plural(remaining, 'member')}."
        )
        smallest = found.program.circles.size.min if found.program.circles else 0
        if remaining < smallest:
            text += (
                f" That's fewer than the program's smallest circle ({smallest}). It keeps "
                "running: carry on with those who are there, or ask the program lead about "
                "adding people."
            )
        await tell(
            turn.session,
            found.program,
            person_id=facilitator.person_id,
            text=text,
            key=f"circle:{found.number}:left:{turn.person.id}",
            now=turn.now,
        )
    return Outcome(
        [
            Reply(
                f"You've left circle {found.label}. Thank you for taking part; the circle "
                "carries on. Type join if you'd like to come back to the program later."
            )
        ],
        None,
    )


async def stay(turn: Turn, args: list[str]) -> Outcome:
    """``circle stay``: the answer to the leave question that keeps everything."""
    return Outcome([Reply("Good: you're staying in your circle; nothing changed.")], None, False)
