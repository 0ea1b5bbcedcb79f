"""Someone in a circle is erased (``privacy forget``): the circles they were in go on
without them, and nobody is told who it was.

:func:`leave_circles` runs inside the erasure's transaction (handlers.people.erasure),
before their row becomes a tombstone; their place in each open circle becomes ``left``,
which no count of people still in a circle includes, so:

* a **proposed** circle settles as after any answer (handlers.circles.answers.settle): it
  starts without them, waits for the others, or is dissolved (its facilitator gone, or too
  few members left) with the usual kind word to everyone still in it;
* a **running** circle a member leaves carries on; its facilitator is told "a member has
  left", as for ``circle leave``, without the name;
* a **running** circle whose facilitator is erased ends (``facilitator_left``): a circle
  cannot meet, log or review without one, and there is no other facilitator to hand it to.
  Its members go back to the waitlist with the place they had (as a mentee does when their
  mentor is erased), each reads why without the name, and the program leads hear of it, so
  a lead can form the members into a new circle at the next round.

What the person stored in circle rows (reasons, written answers, notes, the Slack user a
group conversation remembers) is scrubbed by handlers.people.erasure, not here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.answers import settle
from handlers.circles.ending import cancel_circle_due
from handlers.circles.lifecycle import circle_people, is_member, tell_circle
from handlers.core.messages import Reply, plural
from handlers.core.naming import for_readers
from handlers.core.outbox import withdraw
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.core.refs import circle_label
from handlers.cycle.ending import tell, tell_leads
from handlers.matching.waitlist import remember_why
from storage import (
    OPEN_CIRCLE,
    Circle,
    CircleMember,
    CircleMemberStatus,
    CircleRole,
    CircleStatus,
    EnrollmentStatus,
    Role,
)
from storage.tables import CIRCLE, CIRCLE_MEMBER, ENROLLMENT, OUTBOX

#: Why a running circle ended when its facilitator was erased (``circle.end_reason``).
FACILITATOR_LEFT = "facilitator_left"


async def leave_circles(
    session: AsyncSession, programs: Programs, *, person_id: int, now: datetime
) -> int:
    """Take an erased person out of every open circle they are in; the others are told.

    Returns:
        How many circles they left.
    """
    conn = await session.connection()
    found = await conn.execute(
        sa.select(CIRCLE_MEMBER.c.id)
        .join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id)
        .where(
            CIRCLE_MEMBER.c.person_id == person_id,
            CIRCLE_MEMBER.c.status.in_(
                [CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value]
            ),
            CIRCLE.c.status.in_([s.value for s in OPEN_CIRCLE]),
        )
        .order_by(CIRCLE.c.id)
    )
    left = 0
    for place_id in found.scalars().all():
        place = await session.get(CircleMember, place_id)
        circle = await session.get(Circle, place.circle_id) if place is not None else None
        if place is None or circle is None:
            continue
        await session.refresh(circle, with_for_update=True)
        program = programs.of(circle.program)
        place.status = CircleMemberStatus.LEFT.value
        place.left_at = now
        # An answer, so a proposal reads "can't take it on", never "didn't answer in time".
        place.answered_at = place.answered_at or now
        session.add(place)
        await session.flush()
        left += 1
        if circle.status == CircleStatus.PROPOSED:
            await settle(session, program, circle, now=now)
        elif place.role == CircleRole.FACILITATOR:
            await _end_without_facilitator(session, programs, program, circle, now=now)
        else:
            await _tell_facilitator(session, program, circle, person_id=person_id, now=now)
    return left


async def _tell_facilitator(
    session: AsyncSession, program: Program, circle: Circle, *, person_id: int, now: datetime
) -> None:
    """A member of a running circle left: its facilitator reads so, without the name."""
    assert circle.id is not None
    people = await circle_people(session, circle.id)
    facilitator = next((p for p in people if not is_member(p)), None)
    if facilitator is None:
        return
    label = circle_label(circle.id)
    remaining = len([p for p in people if is_member(p)])
    text = (
        f"A member has left circle {label} and the mentoring program; the circle carries on "
        f"with {plural(remaining, 'member')}."
    )
    smallest = program.circles.size.min if program.circles else 0
    if remaining < smallest:
        text += (
            f" That's fewer than the program's smallest circle ({smallest}). It keeps running: "
            "carry on with those who are there, or ask the program lead about adding people."
        )
    await tell(
        session,
        program,
        person_id=facilitator.person_id,
        text=text,
        key=f"circle:{circle.id}:left:{person_id}",
        now=now,
    )


async def _end_without_facilitator(
    session: AsyncSession, programs: Programs, program: Program, circle: Circle, *, now: datetime
) -> None:
    """End a running circle whose facilitator is gone; its members wait for a new one."""
    assert circle.id is not None
    label = circle_label(circle.id)
    circle.status = CircleStatus.ENDED.value
    circle.closed_at = now
    circle.end_reason = FACILITATOR_LEFT
    session.add(circle)
    await session.flush()
    await cancel_circle_due(session, circle.id, now=now)
    conn = await session.connection()
    # What the circle was still to hear (a session logged, a goal) is no longer true for it.
    waiting = await conn.execute(
        sa.select(OUTBOX.c.dedupe_key).where(OUTBOX.c.dedupe_key.like(f"circle:{circle.id}:%"))
    )
    await withdraw(session, dedupe_keys=list(waiting.scalars()), reason="circle ended", now=now)
    members = [p for p in await circle_people(session, circle.id) if is_member(p)]
    member_ids = [m.person_id for m in members]
    if member_ids:
        # Back to waiting; ``waiting_since`` is untouched, so they keep their place.
        await conn.execute(
            sa.update(ENROLLMENT)
            .where(
                ENROLLMENT.c.program == program.id,
                ENROLLMENT.c.role == Role.MENTEE.value,
                ENROLLMENT.c.person_id.in_(member_ids),
                ENROLLMENT.c.status == EnrollmentStatus.MATCHED.value,
            )
            .values(status=EnrollmentStatus.WAITING.value, updated_at=now)
        )
        await remember_why(
            session,
            program,
            reasons={
                person_id: f"circle {label} ended because its facilitator left the program; "
                "you keep your place, and the next match round will look for a new circle"
                for person_id in member_ids
            },
            now=now,
        )
    await tell_circle(
        session,
        program=program,
        circle=circle,
        people=members,
        replies=await for_readers(
            session,
            program,
            person_ids=member_ids,
            replies=[
                Reply(
                    f"Circle {label} has ended: its facilitator has left the program. It's no "
                    "reflection on you or the circle. You're back on the waitlist with the "
                    "place you had, and the next match round will look for a new circle for "
                    "you. Thank you for the time and care you gave each other.",
                    title="Circle ended",
                )
            ],
        ),
        what="facilitator-left",
        now=now,
    )
    await tell_leads(
        session,
        program,
        text=(
            f"Circle {label} has ended: its facilitator left the program. Its "
            f"{plural(len(members), 'member')} {'is' if len(members) == 1 else 'are'} back "
            "on the waitlist with their places; the next match round will look for a new "
            "circle for them."
        ),
        key=f"circle:{circle.id}:facilitator-left",
        now=now,
        programs=programs,
    )
