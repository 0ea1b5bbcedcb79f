"""Logging a mentoring session: when it was and how long.

Either side of a pair can log. A session logged twice for the same day (both sides
logging one meeting) counts once. A logged session is the pair's sign of life: it resets
the missed check-ins, clears an at-risk flag, and moves the next check-in to
``checkin_every_days`` after it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.calendar import day_label, local_date, parse_day
from handlers.engine import Command, Flow, FlowState, Outcome, Turn
from handlers.errors import InvalidAnswer
from handlers.messages import Option, Prompt, PromptKind, Reply
from handlers.people import people_by_id
from handlers.plans import active_pairings, my_pairing, zone_of
from handlers.program import Program
from handlers.schedule import move_checkin, start_of
from storage import Pairing, PairingStatus, SessionLog
from storage.queries import insert_for

#: Longest session that can be logged, in minutes.
MAX_MINUTES = 480


async def record_session(
    session: AsyncSession,
    program: Program,
    pairing: Pairing,
    *,
    held_on: date,
    minutes: int,
    logged_by: int | None,
    now: datetime,
) -> bool:
    """Save a session and reset the pair's cadence.

    Returns:
        False when a session on that day was logged already (it counts once).
    """
    conn = await session.connection()
    table = SessionLog.__table__  # type: ignore[attr-defined]
    result = await conn.execute(
        insert_for(conn)(table)
        .values(
            pairing_id=pairing.id,
            held_on=held_on,
            minutes=minutes,
            topics=[],
            logged_by=logged_by,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["pairing_id", "held_on"])
    )
    latest = await conn.scalar(
        sa.select(sa.func.max(table.c.held_on)).where(table.c.pairing_id == pairing.id)
    )
    pairing.last_activity_at = now
    pairing.missed_checkins = 0
    pairing.at_risk_since = None
    session.add(pairing)
    if latest == held_on:
        due = start_of(held_on, now) + timedelta(days=program.cadence.checkin_every_days)
        await move_checkin(session, program, pairing, max(due, now + timedelta(days=1)), now)
    return bool(result.rowcount)


class LogFlow(Flow):
    """Log a session: which pairing (when several), the day, and how long it was."""

    name = "log"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``log`` command (and a nudge's Log session button)."""
        if not args:
            mine = await active_pairings(turn)
            if len(mine) > 1:
                people = await people_by_id(
                    turn.session, [p.mentee_id for p in mine] + [p.mentor_id for p in mine]
                )
                options = tuple(
                    Option(
                        str(p.id),
                        people[p.mentor_id if p.mentee_id == turn.person.id else p.mentee_id].name,
                    )
                    for p in mine
                )
                state = FlowState(self.name, "pairing", {"options": [o.value for o in options]})
                reply = Reply(
                    "Which pairing was the session with?",
                    prompt=Prompt(PromptKind.SINGLE, options),
                )
                return Outcome([reply], state)
        found = await my_pairing(turn, args, "log a session for")
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        state = FlowState(self.name, "date", {"pairing": found.id})
        return Outcome(self.ask(turn, state), state)

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        if state.step == "minutes":
            return [
                Reply(
                    "How long was it, in minutes?",
                    prompt=Prompt(PromptKind.NUMBER, min=5, max=MAX_MINUTES),
                )
            ]
        if state.step == "pairing":
            return [Reply("Which pairing was the session with? Type its number.")]
        return [
            Reply(
                "When did you meet?",
                prompt=Prompt(
                    PromptKind.SINGLE,
                    (Option("today", "Today"), Option("yesterday", "Yesterday")),
                ),
                hint="Or type the date, e.g. 2026-12-03 or tuesday.",
            )
        ]

    def describe(self, state: FlowState) -> str:
        return "logging a session"

    def cancelled(self, state: FlowState) -> str:
        return "Cancelled; no session was logged."

    async def back(self, turn: Turn, state: FlowState) -> Outcome:
        if state.step == "minutes":
            previous = FlowState(self.name, "date", state.data)
            return Outcome(self.ask(turn, previous), previous)
        return await super().back(turn, state)

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        data: dict[str, Any] = dict(state.data)
        action = turn.inbound.action
        if state.step == "pairing":
            picked = action.values[0] if action and action.values else turn.text
            if picked not in data["options"]:
                return await self.start(turn, [])
            step = FlowState(self.name, "date", {"pairing": int(picked)})
            return Outcome(self.ask(turn, step), step)
        pairing = await turn.session.get(Pairing, data["pairing"])
        if pairing is None or pairing.status != PairingStatus.ACTIVE:
            return Outcome([Reply("This pairing has ended; nothing was logged.")], None)
        if state.step == "date":
            zone = zone_of(turn.person, turn.program.program.default_timezone)
            today = local_date(turn.now, zone)
            picked = action.values[0] if action and action.values else turn.text
            day = parse_day(picked, today)
            assert pairing.activated_at is not None
            started = local_date(pairing.activated_at, zone)
            trouble = None
            if day is None:
                trouble = f"I can't read {picked!r} as a date; try 2026-12-03, today or tuesday."
            elif day > today:
                trouble = "That date is in the future; log a session once it has happened."
            elif day < started:
                trouble = (
                    f"That's before your pairing started ({day_label(started)}); pick a later date."
                )
            if trouble is not None:
                return Outcome([Reply(trouble), *self.ask(turn, state)], state, False)
            assert day is not None
            step = FlowState(self.name, "minutes", {**data, "held_on": day.isoformat()})
            return Outcome(self.ask(turn, step), step)
        try:
            minutes = _minutes(turn.text, action.values if action else None)
        except InvalidAnswer as problem:
            return Outcome([Reply(str(problem)), *self.ask(turn, state)], state, False)
        held_on = date.fromisoformat(data["held_on"])
        fresh = await record_session(
            turn.session,
            turn.program,
            pairing,
            held_on=held_on,
            minutes=minutes,
            logged_by=turn.person.id,
            now=turn.now,
        )
        if not fresh:
            text = (
                f"A session on {day_label(held_on)} was already logged for this pairing, "
                "so it counts once."
            )
        else:
            text = f"Logged: {minutes} minutes on {day_label(held_on)}. Thank you!"
        return Outcome([Reply(text)], None)


def _minutes(text: str, values: tuple[str, ...] | None) -> int:
    raw = (values[0] if values else text).strip().lower().removesuffix("minutes").strip()
    raw = raw.removesuffix("min").strip()
    if not raw.isdigit():
        raise InvalidAnswer("Please type the length in minutes, e.g. 45.")
    minutes = int(raw)
    if not 5 <= minutes <= MAX_MINUTES:
        raise InvalidAnswer(
            f"A session is between 5 and {MAX_MINUTES} minutes (8 hours); please check it."
        )
    return minutes


def commands(flow: LogFlow) -> list[Command]:
    """The session commands."""
    return [
        Command(
            "log",
            "log a mentoring session",
            flow.start,
            usage="[PAIRING]",
        )
    ]
