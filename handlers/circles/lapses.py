"""Circle proposals nobody finished answering: a reminder before they lapse, and the leads'
word when a proposed circle lapses or can't go ahead.

As for pairs (handlers.matching.lapses):

* everyone still invited to a proposed circle is **reminded** a day before it lapses
  (:func:`remind_lapsing_circles`, the pairs' :func:`reminder_moment` in their own
  timezone and working hours), once each, by the outbox's dedupe key; a reminder that
  could only arrive after the lapse is not sent;
* the program leads **hear** when a proposed circle is dissolved (its facilitator
  declined or didn't answer, or too few members can join: :func:`tell_leads_dissolved`) and
  when some of a circle's people let it lapse but it starts without them
  (:func:`tell_leads_lapsed`), with who answered what and what happens next.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.lifecycle import circle_people
from handlers.circles.proposals import answer_by
from handlers.core.calendar import next_delivery
from handlers.core.messages import Reply, plural
from handlers.core.outbox import enqueue
from handlers.core.program import Program
from handlers.core.refs import circle_label
from handlers.cycle.ending import tell_leads
from handlers.matching.lapses import MIN_WAIT, local_moment, reminder_moment, reminder_reach
from handlers.people.lookups import people_by_id
from storage import Circle, CircleMember, CircleMemberStatus, CircleRole, CircleStatus, Person
from storage.tables import CIRCLE, CIRCLE_MEMBER, OUTBOX


def reminder_key(circle_id: int | None, person_id: int) -> str:
    """The outbox key of the reminder one person gets before a circle proposal lapses."""
    return f"circle:{circle_id}:lapse-reminder:{person_id}"


async def remind_lapsing_circles(
    session: AsyncSession, program: Program, *, now: datetime
) -> list[int]:
    """Remind everyone still invited to a circle proposal that lapses soon; once each.

    Returns:
        The ids of the circles whose people were reminded now.
    """
    conn = await session.connection()
    found = (
        await conn.execute(
            sa.select(
                CIRCLE.c.id,
                CIRCLE.c.expires_at,
                CIRCLE.c.proposed_at,
                CIRCLE_MEMBER.c.person_id,
                CIRCLE_MEMBER.c.role,
            )
            .join(CIRCLE_MEMBER, CIRCLE_MEMBER.c.circle_id == CIRCLE.c.id)
            .where(
                CIRCLE.c.program == program.id,
                CIRCLE.c.status == CircleStatus.PROPOSED.value,
                CIRCLE.c.expires_at > now,
                CIRCLE.c.expires_at <= now + reminder_reach(program),
                CIRCLE_MEMBER.c.status == CircleMemberStatus.INVITED.value,
            )
        )
    ).all()
    if not found:
        return []
    keys = {(row.id, row.person_id): reminder_key(row.id, row.person_id) for row in found}
    sent = set(
        (
            await conn.execute(
                sa.select(OUTBOX.c.dedupe_key).where(OUTBOX.c.dedupe_key.in_(keys.values()))
            )
        ).scalars()
    )
    due = [row for row in found if keys[(row.id, row.person_id)] not in sent]
    people = await people_by_id(session, [row.person_id for row in due])
    hours = program.cadence.working_hours
    reminded: set[int] = set()
    for row in due:
        reader = people[row.person_id]
        zone = reader.timezone or program.default_timezone
        moment = reminder_moment(row.expires_at, zone=zone, program=program)
        if moment > now or moment < row.proposed_at + MIN_WAIT:
            continue
        arrives = next_delivery(now, zone=zone, hours=hours)
        if arrives >= row.expires_at:
            continue
        label = circle_label(row.id)
        when = local_moment(row.expires_at, zone)
        if row.role == CircleRole.FACILITATOR.value:
            text = (
                f"Would you facilitate circle {label}? The proposal lapses on {when} (your "
                "time) if you don't answer, and the circle can't start without you. If you "
                "can't take it on now, Decline lets its members find another circle sooner."
            )
        else:
            text = (
                f"Would you join circle {label}? The proposal lapses on {when} (your time) if "
                "you don't answer; either way you keep your place on the waitlist."
            )
        await enqueue(
            session,
            person_id=row.person_id,
            replies=[
                Reply(
                    text,
                    title="Reminder: a circle waits for your answer",
                    actions=answer_by(row.id),
                    hint=f"Or type accept {label} or decline {label}.",
                )
            ],
            dedupe_key=keys[(row.id, row.person_id)],
            now=now,
            not_before=arrives,
            program=program,
        )
        reminded.add(row.id)
    return sorted(reminded)


def _answers(places: Sequence[CircleMember], people: dict[int, Person]) -> str:
    """Who declined and who let the proposal lapse, in a sentence (or nothing)."""
    declined = [
        people[p.person_id].name
        for p in places
        if p.status == CircleMemberStatus.DECLINED and p.answered_at is not None
    ]
    silent = [
        people[p.person_id].name
        for p in places
        if p.status == CircleMemberStatus.DECLINED and p.answered_at is None
    ]
    parts = []
    if declined:
        parts.append(f"{_names(declined)} declined")
    if silent:
        parts.append(f"{_names(silent)} didn't answer in time")
    return f" ({'; '.join(parts)})" if parts else ""


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


async def _roster(
    session: AsyncSession, circle: Circle
) -> tuple[list[CircleMember], dict[int, Person], str]:
    """Everyone the circle was proposed to, their names, and ``Ana Lima with Lee, Mo``."""
    assert circle.id is not None
    places = await circle_people(session, circle.id, statuses=tuple(CircleMemberStatus))
    people = await people_by_id(session, [p.person_id for p in places])
    facilitator = next(
        (people[p.person_id].name for p in places if p.role == CircleRole.FACILITATOR), "nobody"
    )
    members = [people[p.person_id].name for p in places if p.role == CircleRole.MEMBER]
    return places, people, f"{facilitator} with {_names(members)}"


async def tell_leads_dissolved(
    session: AsyncSession, program: Program, circle: Circle, *, why: str, now: datetime
) -> None:
    """Tell the program leads a proposed circle won't go ahead, and why, once.

    Args:
        why: Why, as the end of a sentence (``its facilitator can't take it on``).
    """
    places, people, roster = await _roster(session, circle)
    text = (
        f"Circle {circle_label(circle.id)} ({roster}) won't go ahead: {why}"
        f"{_answers(places, people)}. Its members keep their place on the waitlist; the next "
        "match round will look again."
    )
    await tell_leads(session, program, text=text, key=f"circle:{circle.id}:dissolved", now=now)


async def tell_leads_lapsed(
    session: AsyncSession, program: Program, circle: Circle, *, now: datetime
) -> None:
    """Tell the program leads that some people let a circle proposal lapse and it started
    without them, once."""
    places, people, roster = await _roster(session, circle)
    started = [
        people[p.person_id].name
        for p in places
        if p.role == CircleRole.MEMBER and p.status == CircleMemberStatus.ACCEPTED
    ]
    text = (
        f"The proposal of circle {circle_label(circle.id)} ({roster}) lapsed"
        f"{_answers(places, people)}. The circle started with "
        f"{plural(len(started), 'member')} ({_names(started)}); those who didn't join keep "
        "their place on the waitlist."
    )
    await tell_leads(session, program, text=text, key=f"circle:{circle.id}:lapsed", now=now)
