"""A circle proposal goes out: the circle is stored and each of its people is asked.

Approving a round (handlers.circles.review) stores each circle ``proposed`` with a
:class:`CircleMember` row for its facilitator and one for each member, all ``invited``, and
asks each of them at once, in their working hours, with Accept / Decline. The facilitator
reads who the members are and why; a member reads the circle's theme, its facilitator, how
many others are asked and why they fit. Circles are numbered ``C7`` in everything people
read and type, so a circle's number never reads as a pairing's. What the answers do is
handlers.circles.answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import deadline
from handlers.core.messages import Option, Reply, plural
from handlers.core.naming import in_several
from handlers.core.naming import opening as program_opening
from handlers.core.outbox import enqueue
from handlers.core.program import Circles, Meaning, Program
from handlers.core.refs import circle_label
from handlers.core.words import zone_in_words
from handlers.people.lookups import enrollment_of, people_by_id, person_profile
from handlers.plans.chat import zone_of
from storage import (
    OPEN_CIRCLE,
    Circle,
    CircleMember,
    CircleMemberStatus,
    CircleRole,
    CircleStatus,
    Person,
    Role,
)
from storage.tables import CIRCLE, CIRCLE_MEMBER, ENROLLMENT

#: How many competencies a circle's theme names.
THEME_SIZE = 2


def answer_by(circle_id: int | None) -> tuple[Option, ...]:
    """The Accept / Decline buttons of a circle proposal: ``accept C7`` / ``decline C7``."""
    label = circle_label(circle_id)
    return (Option(f"accept {label}", "Accept"), Option(f"decline {label}", "Decline"))


def ask_key(circle_id: int | None, person_id: int) -> str:
    """The outbox key of the question a circle proposal asks one person (to withdraw it)."""
    return f"circle:{circle_id}:ask:{person_id}"


def day_of(moment: datetime, zone: str) -> str:
    """A proposal's deadline on the reader's clock: ``Mon 30 Nov at 10:00 (your time)``."""
    return deadline(moment, zone)


def least_members(program: Program) -> int:
    """The fewest members a circle of the program starts with (``circles.size.min``)."""
    return (program.circles or Circles()).size.min


async def facilitating(session: AsyncSession, program: Program, *, person_id: int) -> int:
    """How many open circles (proposed or active) the person facilitates in the program,
    not counting those they declined."""
    conn = await session.connection()
    count = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(CIRCLE_MEMBER.join(CIRCLE, CIRCLE.c.id == CIRCLE_MEMBER.c.circle_id))
        .where(
            CIRCLE.c.program == program.id,
            CIRCLE.c.status.in_([s.value for s in OPEN_CIRCLE]),
            CIRCLE_MEMBER.c.person_id == person_id,
            CIRCLE_MEMBER.c.role == CircleRole.FACILITATOR.value,
            CIRCLE_MEMBER.c.status.in_(
                [CircleMemberStatus.INVITED.value, CircleMemberStatus.ACCEPTED.value]
            ),
        )
    )
    return int(count or 0)


def circle_theme(program: Program, answers: Iterable[Mapping[str, Any]]) -> str:
    """What a circle is about, from its members' intake: the competencies most of them
    want (``Coaching and Influence``), or the program's name when they share none."""
    asked = [
        q.id for q in program.intake.for_role(Role.MENTEE) if q.meaning is Meaning.COMPETENCIES
    ]
    wanted: Counter[str] = Counter()
    for each in answers:
        for key in asked:
            value = each.get(key)
            keys = value if isinstance(value, list | tuple) else [value] if value else []
            wanted.update(list(dict.fromkeys(str(k) for k in keys)))
    shared = [key for key, count in wanted.most_common() if count > 1][:THEME_SIZE]
    names = [c.name for key in shared if (c := program.competency(key)) is not None]
    return " and ".join(names) if names else program.name


async def member_answers(
    session: AsyncSession, program: Program, person_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The members' intake answers in the program, by person id."""
    if not person_ids:
        return {}
    conn = await session.connection()
    found = await conn.execute(
        sa.select(ENROLLMENT.c.person_id, ENROLLMENT.c.answers).where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.role == Role.MENTEE.value,
            ENROLLMENT.c.person_id.in_(sorted(set(person_ids))),
        )
    )
    return {int(pid): dict(answers or {}) for pid, answers in found.all()}


async def propose_circle(
    session: AsyncSession,
    *,
    program: Program,
    facilitator: Person,
    members: Sequence[Person],
    score: float,
    reasons: Sequence[str],
    member_reasons: Mapping[int, Sequence[str]],
    batch: str,
    lead_id: int | None,
    now: datetime,
) -> Circle:
    """Store a circle as proposed and ask its facilitator and each member, at once.

    The caller has checked that everyone is still free to be in it.

    Args:
        reasons: Why these people, in words (the lead's review shows them too).
        member_reasons: Why each member fits, by person id, in words they read.
        batch: The round's id.
        lead_id: The program lead who approved it (None: the command line).
    """
    assert facilitator.id is not None
    circle = Circle(
        program=program.id,
        status=CircleStatus.PROPOSED.value,
        score=score,
        reasons=[{"part": "circle", "text": text} for text in reasons],
        batch=batch,
        proposed_by=lead_id,
        proposed_at=now,
        expires_at=now + timedelta(days=program.matching.proposal_expiry_days),
    )
    session.add(circle)
    await session.flush()
    assert circle.id is not None
    session.add(
        CircleMember(
            circle_id=circle.id,
            person_id=facilitator.id,
            role=CircleRole.FACILITATOR.value,
            status=CircleMemberStatus.INVITED.value,
            reasons=list(reasons),
        )
    )
    for member in members:
        assert member.id is not None
        session.add(
            CircleMember(
                circle_id=circle.id,
                person_id=member.id,
                role=CircleRole.MEMBER.value,
                status=CircleMemberStatus.INVITED.value,
                reasons=list(member_reasons.get(member.id, ())),
            )
        )
    await session.flush()
    await ask_everyone(session, program=program, circle=circle, now=now)
    return circle


async def ask_everyone(
    session: AsyncSession, *, program: Program, circle: Circle, now: datetime
) -> None:
    """Queue the proposal for each invited person of the circle, once per person."""
    assert circle.id is not None
    conn = await session.connection()
    found = await conn.execute(
        sa.select(CIRCLE_MEMBER).where(CIRCLE_MEMBER.c.circle_id == circle.id)
    )
    places = [CircleMember.model_validate(dict(row._mapping)) for row in found]
    facilitator = next(p for p in places if p.role == CircleRole.FACILITATOR)
    members = [p for p in places if p.role == CircleRole.MEMBER]
    people = await people_by_id(session, [p.person_id for p in places])
    answers = await member_answers(session, program, [m.person_id for m in members])
    theme = circle_theme(program, answers.values())
    several = await in_several(session, [p.person_id for p in places])
    for place in places:
        if place.status != CircleMemberStatus.INVITED:
            continue
        reader = people[place.person_id]
        where = program_opening(program) if place.person_id in several else ""
        if place.role == CircleRole.FACILITATOR:
            reply = _facilitator_ask(
                program,
                circle,
                members=[(people[m.person_id], answers.get(m.person_id, {})) for m in members],
                where=where,
                zone=zone_of(reader, program.default_timezone),
            )
        else:
            reply = await _member_ask(
                session,
                program,
                circle,
                reader=reader,
                place=place,
                facilitator=people[facilitator.person_id],
                others=len(members) - 1,
                theme=theme,
                where=where,
                now=now,
            )
        await enqueue(
            session,
            person_id=place.person_id,
            replies=[reply],
            dedupe_key=ask_key(circle.id, place.person_id),
            now=now,
            program=program,
        )


def _wanted(program: Program, answers: Mapping[str, Any]) -> str:
    """The competencies a member wants to develop, by name: ``Coaching and Influence``."""
    asked = [
        q.id for q in program.intake.for_role(Role.MENTEE) if q.meaning is Meaning.COMPETENCIES
    ]
    names = []
    for key in asked:
        value = answers.get(key)
        for each in value if isinstance(value, list | tuple) else [value] if value else []:
            found = program.competency(str(each))
            if found is not None and found.name not in names:
                names.append(found.name)
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines if line)


def _facilitator_ask(
    program: Program,
    circle: Circle,
    *,
    members: Sequence[tuple[Person, Mapping[str, Any]]],
    where: str,
    zone: str,
) -> Reply:
    """The facilitator's proposal: who the members are and what each wants to develop.

    (A member's own reasons are written to them, "you share ..."; the facilitator reads
    the circle's reasons instead.)
    """
    label = circle_label(circle.id)
    least = least_members(program)
    who = [
        f"{person.name}{f' ({person.department})' if person.department else ''}"
        + (f": wants {wants}" if (wants := _wanted(program, answers)) else "")
        for person, answers in members
    ]
    why = [str(r.get("text", "")) for r in circle.reasons]
    text = (
        f"{where}Would you facilitate a circle of {plural(len(members), 'member')}? "
        f"The members:\n{_bullets(who)}\n"
        + (f"Why this circle:\n{_bullets(why)}\n" if why else "")
        + f"It starts once you and at least {least} of them accept. Please answer by "
        f"{day_of(circle.expires_at, zone)}; after that the proposal lapses."
    )
    return Reply(
        text,
        title=f"A circle for you to facilitate ({label})",
        actions=answer_by(circle.id),
        hint=f"Or type accept {label} or decline {label}.",
    )


async def _member_ask(
    session: AsyncSession,
    program: Program,
    circle: Circle,
    *,
    reader: Person,
    place: CircleMember,
    facilitator: Person,
    others: int,
    theme: str,
    where: str,
    now: datetime,
) -> Reply:
    """A member's proposal: the theme, the facilitator (their profile), how many others
    are asked and why this member fits. Other members' names wait for the kickoff."""
    label = circle_label(circle.id)
    enrollment = await enrollment_of(session, program, person_id=facilitator.id, role=Role.MENTOR)
    fallback = program.default_timezone
    time_zone = zone_in_words(
        zone_of(facilitator, fallback), reader_zone=zone_of(reader, fallback), at=now
    )
    first = facilitator.name.split()[0] if facilitator.name else facilitator.email
    why = f" Why you fit:\n{_bullets(place.reasons)}\n" if place.reasons else "\n"
    text = (
        f"{where}Would you join a circle on {theme}, facilitated by {facilitator.name}, "
        f"with {plural(others, 'other member')}?{why}"
        f"It starts once {first} and at least {plural(least_members(program), 'member')} accept. "
        f"Please answer by {day_of(circle.expires_at, zone_of(reader, fallback))}; after that "
        "the proposal lapses and "
        "you keep your place on the waitlist."
    )
    return Reply(
        text,
        title=f"A circle for you: {theme} ({label})",
        profiles=(
            person_profile(
                program,
                facilitator,
                role=Role.MENTOR,
                answers=enrollment.answers if enrollment else {},
                time_zone=time_zone,
            ),
        ),
        actions=answer_by(circle.id),
        hint=f"Or type accept {label} or decline {label}.",
    )
