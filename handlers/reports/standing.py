"""Where each program stands (``mentorbot programs``): its state and head counts.

An operator's list, not a lead's report: counts only (no names, no figures about a
person), so the small-group rule of reports does not apply.

States, on the program's calendar day:

* a cohort program is ``announced`` before ``enrol_from``, ``enrolling`` from then to
  ``enrol_until`` (both days included, as ``join`` allows), ``matching`` from the day
  after until its first pairing has started (active, and ``starts`` reached), then
  ``running``, and ``ended`` once it has had pairings and none is open any more;
* any other program is ``enrolling`` until a pairing first becomes active, then
  ``running``;
* a program stored on rows but no longer in the file is ``archived``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.archived import recall_archived_circles
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.queries import (
    ACTIVE,
    ENROLLMENT,
    OPEN,
    PAIRING,
    fetch_tally,
    program_today,
    stored_program_ids,
    waiting_list,
)
from storage import EnrollmentStatus

ANNOUNCED, ENROLLING, MATCHING, RUNNING, ENDED, ARCHIVED = (
    "announced",
    "enrolling",
    "matching",
    "running",
    "ended",
    "archived",
)


@dataclass(frozen=True)
class Pairings:
    """What a program's state depends on in its pairings."""

    #: Whether a pairing has ever become active.
    ever_active: bool = False
    #: Open pairings (proposed, accepted or active).
    open: int = 0


def program_state(program: Program, *, today: date, pairings: Pairings) -> str:
    """The program's state on ``today`` (see the module's docstring)."""
    if program.archived:
        return ARCHIVED
    cohort = program.cohort
    if cohort is None:
        return RUNNING if pairings.ever_active else ENROLLING
    if cohort.enrol_from is not None and today < cohort.enrol_from:
        return ANNOUNCED
    if today <= cohort.enrol_until:
        return ENROLLING
    if not pairings.ever_active or today < cohort.starts:
        return MATCHING
    return RUNNING if pairings.open else ENDED


@dataclass(frozen=True)
class Standing:
    """One program as ``mentorbot programs`` lists it."""

    id: str
    name: str
    type: str
    state: str
    participants: dict[str, int] = field(default_factory=dict)
    active_pairs: int = 0
    waiting: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON object ``mentorbot programs --json`` prints."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "state": self.state,
            "participants": dict(self.participants),
            "active_pairs": self.active_pairs,
            "waiting": self.waiting,
        }


async def _standing(session: AsyncSession, program: Program, now: datetime) -> Standing:
    conn = await session.connection()
    counted = await fetch_tally(
        conn,
        sa.select(ENROLLMENT.c.role, sa.func.count())
        .where(
            ENROLLMENT.c.program == program.id,
            ENROLLMENT.c.status != EnrollmentStatus.LEFT.value,
        )
        .group_by(ENROLLMENT.c.role),
    )
    roles = [role.value for role in program.roles] if not program.archived else []
    participants = {role: counted.get(role, 0) for role in roles}
    participants.update({role: n for role, n in sorted(counted.items()) if role not in roles})
    row = (
        await conn.execute(
            sa.select(
                sa.func.count().filter(PAIRING.c.status == ACTIVE),
                sa.func.count().filter(PAIRING.c.status.in_(OPEN)),
                sa.func.min(PAIRING.c.activated_at),
            ).where(PAIRING.c.program == program.id)
        )
    ).one()
    waiting = await conn.scalar(sa.select(sa.func.count()).where(waiting_list(program)))
    pairings = Pairings(ever_active=row[2] is not None, open=int(row[1] or 0))
    return Standing(
        id=program.id,
        name=program.name,
        type=program.type.value,
        state=program_state(program, today=program_today(program, now), pairings=pairings),
        participants=participants,
        active_pairs=int(row[0] or 0),
        waiting=int(waiting or 0),
    )


async def archived_programs(session: AsyncSession, programs: Programs) -> list[Program]:
    """The programs stored on rows that the file no longer has, by id (one whose rows are
    circles as a circles program: handlers.core.archived)."""
    await recall_archived_circles(session, programs)
    stored = await stored_program_ids(await session.connection())
    return [programs.of(i) for i in sorted(stored) if programs.get(i) is None]


async def standings(
    session: AsyncSession, programs: Programs, *, now: datetime
) -> Sequence[Standing]:
    """Every program of the file, then every archived one, with its state and counts."""
    every = [*programs, *await archived_programs(session, programs)]
    return [await _standing(session, program, now) for program in every]
