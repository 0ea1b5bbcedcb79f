"""Moving a check-in: ``snooze PAIRING`` (3 days) and ``reschedule PAIRING [DATE]``.

Both are a nudge's buttons. Either sets a ``reminder`` due item for the person who asked
(handlers.cycle.checkins words and sends it), which a session logged from today on
suppresses; the check-ins themselves keep their cadence.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import WEEKDAYS, day_label, local_date, next_delivery, parse_day
from handlers.core.engine import Command, Flow, FlowState, Outcome, Turn
from handlers.core.messages import Option, Prompt, PromptKind, Reply
from handlers.cycle.answers import active_pairing_named, button
from handlers.cycle.schedule import cycle_end, due_row, insert_due
from handlers.cycle.status import next_meeting
from handlers.plans.chat import zone_of
from storage import DueKind, Pairing, PairingStatus, SessionLog
from storage.tables import DUE

SNOOZE = timedelta(days=3)


async def _remind_on(turn: Turn, pairing_id: int, *, at: datetime, why: str) -> None:
    """Remind the person of the check-in at ``at`` unless a session is logged from today on.

    Args:
        why: ``snoozed`` or ``rescheduled``, which words the reminder.
    """
    today = local_date(turn.now, zone_of(turn.person, turn.programs.default_timezone))
    answers = {"why": why, "since": today.isoformat(), "by": turn.person.id}
    await insert_due(
        turn.session,
        [due_row(pairing_id, kind=DueKind.REMINDER, due_at=at, now=turn.now, answers=answers)],
    )


async def _nudge_unanswered(session: AsyncSession, pairing_id: int) -> bool:
    """Whether a check-in reminder went out for the pairing and no session was logged since."""
    nudged = await session.scalar(
        sa.select(DUE.c.done_at)
        .where(
            DUE.c.pairing_id == pairing_id,
            DUE.c.kind.in_((DueKind.CHECKIN.value, DueKind.REMINDER.value)),
            DUE.c.outcome == "sent",
            DUE.c.done_at.is_not(None),
        )
        .order_by(DUE.c.done_at.desc())
        .limit(1)
    )
    if nudged is None:
        return False
    log = SessionLog.__table__  # type: ignore[attr-defined]
    logged = await session.scalar(
        sa.select(log.c.created_at)
        .where(log.c.pairing_id == pairing_id)
        .order_by(log.c.created_at.desc())
        .limit(1)
    )
    return logged is None or logged < nudged


async def _snooze(turn: Turn, args: list[str]) -> Outcome:
    found = await active_pairing_named(turn, args, verb="snooze")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found[0]
    zone = zone_of(turn.person, turn.programs.default_timezone)
    at = turn.now + SNOOZE
    assert pairing.id is not None
    if not await _nudge_unanswered(turn.session, pairing.id):
        return Outcome(
            [
                Reply(
                    f"There's no check-in reminder waiting for pairing {pairing.id}, so there's "
                    "nothing to snooze. I'll remind you when the next check-in falls due."
                )
            ],
            None,
            changed=False,
        )
    await _remind_on(turn, pairing.id, at=at, why="snoozed")
    return Outcome(
        [
            Reply(
                f"Snoozed: I'll remind you on {day_label(local_date(at, zone))} "
                "unless a session is logged before then."
            )
        ],
        None,
    )


class RescheduleFlow(Flow):
    """Pick the day of the next meeting; the reminder moves to that day."""

    name = "reschedule"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``reschedule`` command (and a nudge's Reschedule button)."""
        found = await active_pairing_named(turn, args[:1], verb="reschedule")
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        pairing = found[0]
        state = FlowState(self.name, "day", {"pairing": pairing.id, "program": pairing.program})
        if len(args) > 1:
            turn_text = " ".join(args[1:])
            return await self._pick(turn, state, turn_text)
        # With a meeting in the calendar, moving it may be what is meant: say how.
        meeting = await next_meeting(turn, pairing)
        first = (
            [
                Reply(
                    f"Your next meeting is {meeting}. To move it (or the whole series), "
                    f"type move-meeting {pairing.id}; to be reminded about the check-in on "
                    "another day instead, pick the day below.",
                    actions=(Option(f"move-meeting {pairing.id}", "Move the meeting"),),
                )
            ]
            if meeting is not None
            else []
        )
        return Outcome(first + self.ask(turn, state), state)

    def _days(self, turn: Turn, state: FlowState) -> list[date]:
        zone = zone_of(turn.person, turn.programs.default_timezone)
        day = local_date(turn.now, zone)
        named = state.data.get("program")
        program = turn.programs.of(named) if named else turn.programs.first
        working = program.cadence.working_hours.days
        found: list[date] = []
        while len(found) < 5:
            day += timedelta(days=1)
            if WEEKDAYS[day.weekday()] in working:
                found.append(day)
        return found

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        options = tuple(Option(d.isoformat(), day_label(d)) for d in self._days(turn, state))
        return [
            Reply(
                "When will you meet? I'll check in with you that day.",
                prompt=Prompt(PromptKind.SINGLE, options),
                hint="Or type a date, e.g. 2026-12-10 or next friday.",
            )
        ]

    def describe(self, state: FlowState) -> str:
        return "rescheduling your check-in"

    def cancelled(self, state: FlowState) -> str:
        return "Cancelled; your check-ins stay as they were."

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        action = turn.inbound.action
        text = action.values[0] if action and action.values else turn.text
        return await self._pick(turn, state, text)

    async def _pick(self, turn: Turn, state: FlowState, text: str) -> Outcome:
        zone = zone_of(turn.person, turn.programs.default_timezone)
        today = local_date(turn.now, zone)
        pairing = await turn.session.get(Pairing, state.data["pairing"])
        if pairing is None or pairing.status != PairingStatus.ACTIVE:
            return Outcome([Reply("That pairing has ended; nothing changed.")], None)
        program = turn.programs.of(pairing.program)
        end = local_date(cycle_end(pairing, program.cadence), zone)
        day = parse_day(text, today)
        trouble = None
        if day is None:
            trouble = f"I can't read {text!r} as a date; try 2026-12-10, tuesday or in 3 days."
        elif day <= today:
            trouble = "Pick a day after today."
        elif day > end:
            trouble = f"Pick a day inside this cycle, by {day_label(end)}."
        if trouble is not None:
            return Outcome([Reply(trouble), *self.ask(turn, state)], state, False)
        assert day is not None
        assert pairing.id is not None
        at = next_delivery(
            datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone)),
            zone=zone,
            hours=program.cadence.working_hours,
        )
        await _remind_on(turn, pairing.id, at=at, why="rescheduled")
        return Outcome([Reply(f"Got it: I'll check in with you on {day_label(day)}.")], None)


def commands(reschedule: RescheduleFlow) -> list[Command]:
    """``snooze`` and ``reschedule``, the buttons of a check-in nudge."""
    return [
        button("snooze", "remind me in 3 days", run=_snooze),
        Command(
            "reschedule",
            "pick the day of your next meeting",
            reschedule.start,
            usage="PAIRING [DATE]",
            listed=False,
        ),
    ]
