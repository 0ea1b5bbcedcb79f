"""Where a person's pairings are in their cycle, as ``status`` tells it."""

from __future__ import annotations

import sqlalchemy as sa

from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Turn
from handlers.core.messages import plural
from handlers.core.program import Program
from handlers.cycle.schedule import cycle_day
from handlers.meetings.booking import pairing_meetings, sides, upcoming
from handlers.meetings.slots import slot_words
from handlers.people.lookups import pairings_of
from handlers.plans.chat import zone_of
from storage import DueKind, DueStatus, Milestone, Pairing, PairingStatus
from storage.tables import DUE


async def next_meeting(turn: Turn, pairing: Pairing) -> str | None:
    """The pairing's next booked meeting in the reader's time, the other side's beside it."""
    program = turn.programs.of(pairing.program)
    booked = await pairing_meetings(turn.session, pairing, default_zone=program.default_timezone)
    coming = upcoming(booked, now=turn.now)
    if not coming:
        return None
    me, other = (await sides(turn.session, program, pairing)).of(turn.person.id)
    return slot_words(coming[0][1].slot, reader=me, other=other)


async def cycle_lines(turn: Turn, program: Program | None = None) -> list[str]:
    """Where each of the person's active pairings is in its cycle, for ``status``.

    Each pairing is told on its own program's cadence (its cycle's length, its check-ins).

    Args:
        program: Only that program's pairings (``status`` under its heading); None: all.
    """
    lines: list[str] = []
    zone = zone_of(turn.person, turn.programs.default_timezone)
    pairings = await pairings_of(
        turn.session, program, person_id=turn.person.id, statuses=[PairingStatus.ACTIVE]
    )
    for pairing in pairings:
        assert pairing.id is not None
        cadence = turn.programs.of(pairing.program).cadence
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
        meeting = await next_meeting(turn, pairing)
        if meeting is not None:
            parts.append(f"next meeting {meeting}")
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
