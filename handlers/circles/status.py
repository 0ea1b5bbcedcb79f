"""Where a person stands in their circles, as ``status`` tells it.

A proposed circle says who it still waits for (a member reads how many others, names only
once the circle starts); an active one says who facilitates it, who is in it and when its
next session is due.
"""

from __future__ import annotations

import sqlalchemy as sa

from handlers.circles.lifecycle import circle_people
from handlers.circles.proposals import circle_theme, day_of, member_answers
from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Turn
from handlers.core.messages import plural
from handlers.core.naming import in_several
from handlers.core.naming import opening as program_opening
from handlers.core.program import Program
from handlers.core.refs import circle_label
from handlers.people.lookups import people_by_id
from handlers.plans.chat import zone_of
from storage import (
    OPEN_CIRCLE,
    Circle,
    CircleDueKind,
    CircleMember,
    CircleMemberStatus,
    CircleRole,
    CircleStatus,
    DueStatus,
    Person,
)
from storage.tables import CIRCLE, CIRCLE_DUE, CIRCLE_MEMBER


async def circle_lines(turn: Turn, program: Program | None = None) -> list[str]:
    """A line for each open circle the person is in (invited to, or in), for ``status``.

    Args:
        program: Only that program's circles (``status`` under its heading); None: all,
            each opened with its program's name for someone in several programs.
    """
    me = turn.person.id
    conn = await turn.session.connection()
    query = (
        sa.select(CIRCLE, CIRCLE_MEMBER.c.role, CIRCLE_MEMBER.c.status.label("answer"))
        .join(CIRCLE_MEMBER, CIRCLE_MEMBER.c.circle_id == CIRCLE.c.id)
        .where(
            CIRCLE_MEMBER.c.person_id == me,
            CIRCLE_MEMBER.c.status.in_(
                [CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value]
            ),
            CIRCLE.c.status.in_([s.value for s in OPEN_CIRCLE]),
        )
        .order_by(CIRCLE.c.id)
    )
    if program is not None:
        query = query.where(CIRCLE.c.program == program.id)
    found = (await conn.execute(query)).all()
    if not found:
        return []
    several = program is None and (me or 0) in await in_several(turn.session, [me or 0])
    lines = []
    for row in found:
        values = dict(row._mapping)
        role, answer = values.pop("role"), values.pop("answer")
        circle = Circle.model_validate(values)
        of = turn.programs.of(circle.program)
        where = program_opening(of) if several else ""
        line = await _circle_line(
            turn, of, circle, facilitating=role == CircleRole.FACILITATOR, answer=answer
        )
        lines.append(where + line)
    return lines


async def proposed_circle_programs(turn: Turn) -> set[str]:
    """The programs in which a circle proposal waits for the person or their circle: there,
    ``status`` doesn't say a match round is still to come."""
    conn = await turn.session.connection()
    found = await conn.execute(
        sa.select(CIRCLE.c.program)
        .join(CIRCLE_MEMBER, CIRCLE_MEMBER.c.circle_id == CIRCLE.c.id)
        .where(
            CIRCLE_MEMBER.c.person_id == turn.person.id,
            CIRCLE_MEMBER.c.status.in_(
                [CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value]
            ),
            CIRCLE.c.status == CircleStatus.PROPOSED.value,
        )
        .distinct()
    )
    return set(found.scalars())


async def _circle_line(
    turn: Turn, program: Program, circle: Circle, *, facilitating: bool, answer: str
) -> str:
    assert circle.id is not None
    label = circle_label(circle.id)
    places = await circle_people(
        turn.session,
        circle.id,
        statuses=(CircleMemberStatus.INVITED, CircleMemberStatus.ACCEPTED),
    )
    people = await people_by_id(turn.session, [p.person_id for p in places])
    facilitator = next(
        (people[p.person_id] for p in places if p.role == CircleRole.FACILITATOR), None
    )
    members = [p for p in places if p.role == CircleRole.MEMBER]
    answers = await member_answers(turn.session, program, [m.person_id for m in members])
    theme = circle_theme(program, answers.values())
    led = "you" if facilitating else (facilitator.name if facilitator else "its facilitator")
    if circle.status == CircleStatus.ACTIVE:
        return await _active_line(
            turn, circle, theme=theme, led=led, members=members, people=people
        )
    if answer == CircleMemberStatus.INVITED:
        by = day_of(circle.expires_at, zone_of(turn.person, program.default_timezone))
        ask = f"type accept {label} or decline {label} by {by}."
        if facilitating:
            names = ", ".join(people[m.person_id].name for m in members)
            return f"You're asked to facilitate circle {label} ({names}): {ask}"
        return (
            f"Circle {label} on {theme}, facilitated by {led}, is proposed to you with "
            f"{plural(len(members) - 1, 'other member')}: {ask}"
        )
    waiting = [p for p in places if p.status == CircleMemberStatus.INVITED]
    return f"You accepted circle {label} on {theme}; {_waiting_for(waiting, people, facilitating)}."


def _waiting_for(waiting: list[CircleMember], people: dict[int, Person], facilitating: bool) -> str:
    """Who a proposed circle still waits for, as its reader may know them."""
    if not waiting:
        return "it starts as soon as the last answers are in"
    if facilitating:
        names = [people[p.person_id].name for p in waiting]
        return "waiting for " + _and(names) + " to answer"
    parts = []
    if any(p.role == CircleRole.FACILITATOR for p in waiting):
        facilitator = next(people[p.person_id] for p in waiting if p.role == CircleRole.FACILITATOR)
        parts.append(facilitator.name)
    others = sum(1 for p in waiting if p.role == CircleRole.MEMBER)
    if others:
        parts.append(plural(others, "other member"))
    return "waiting for " + _and(parts) + " to answer"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


async def _active_line(
    turn: Turn,
    circle: Circle,
    *,
    theme: str,
    led: str,
    members: list[CircleMember],
    people: dict[int, Person],
) -> str:
    """An active circle: its facilitator, its members, its next session."""
    zone = zone_of(turn.person, turn.programs.default_timezone)
    names = ["you" if m.person_id == turn.person.id else people[m.person_id].name for m in members]
    line = f"Circle {circle_label(circle.id)} on {theme}: facilitated by {led}, with {_and(names)}"
    due = await turn.session.scalar(
        sa.select(sa.func.min(CIRCLE_DUE.c.due_at)).where(
            CIRCLE_DUE.c.circle_id == circle.id,
            CIRCLE_DUE.c.kind == CircleDueKind.SESSION.value,
            CIRCLE_DUE.c.status == DueStatus.PENDING.value,
        )
    )
    if due is not None:
        line += f"; next session due {day_label(local_date(due, zone))}"
    return line + "."
