"""Leaving the program: ``leave`` says what it ends and asks to confirm (:class:`LeaveFlow`).

:func:`leave_program` ends the person's pairings kindly (a mentor's mentees go back to the
waitlist with their old place) and marks their enrollments left.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.engine import Command, Flow, FlowState, Outcome, Turn
from handlers.core.messages import Option, Prompt, PromptKind, Reply, plural
from handlers.core.program import Program
from handlers.cycle.ending import end_pairing, tell
from handlers.cycle.pause import enrollments_kept
from handlers.people.lookups import pairings_of, people_by_id
from storage import OPEN_PAIRING, Enrollment, EnrollmentStatus, PairingStatus, Person

ENROLLMENT = Enrollment.__table__  # type: ignore[attr-defined]

#: What typed at the leave question confirms leaving: 1 is the "Yes, leave" option's number.
LEAVE_YES = frozenset({"yes", "y", "yes, leave", "yes leave", "1"})


class LeaveFlow(Flow):
    """Leave the program, after saying what it ends."""

    name = "leave"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``leave [PROGRAM]`` command: say what leaving ends, and ask to confirm.

        Someone in several programs names the one to leave; the others go on.
        """
        kept = await enrollments_kept(turn)
        if not kept:
            return Outcome(
                [Reply("You're not enrolled, so there's nothing to leave.")], None, changed=False
            )
        mine = turn.programs.with_ids({e.program for e in kept})
        named = [p for p in mine if args and p.id == args[0].lower()]
        if args and not named:
            return Outcome(
                [Reply(f"You're not in a program called {args[0]!r}. {_which(mine)}")],
                None,
                changed=False,
            )
        if not named and len(mine) > 1:
            return Outcome([Reply(f"You're in several programs. {_which(mine)}")], None, False)
        program = (named or mine)[0]
        state = FlowState(self.name, "confirm", {"program": program.id})
        return Outcome(await self._explain(turn, program) + self.ask(turn, state), state)

    async def _explain(self, turn: Turn, program: Program) -> list[Reply]:
        pairings = await pairings_of(
            turn.session, program, person_id=turn.person.id, statuses=OPEN_PAIRING
        )
        people = await people_by_id(
            turn.session, [p.mentee_id for p in pairings] + [p.mentor_id for p in pairings]
        )
        names = [
            people[p.mentor_id if p.mentee_id == turn.person.id else p.mentee_id].name
            for p in pairings
        ]
        ends = (
            f" It ends your pairing with {', '.join(names)}, and they'll be told kindly."
            if names
            else ""
        )
        return [
            Reply(
                f"Leaving takes you out of {program.name}.{ends} "
                "Type pause instead if you only need a break."
            )
        ]

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        return [
            Reply(
                "Do you want to leave the program?",
                prompt=Prompt(
                    PromptKind.SINGLE,
                    (Option("leave", "Yes, leave"), Option("stay", "No, stay")),
                ),
            )
        ]

    def describe(self, state: FlowState) -> str:
        return "leaving the program"

    def cancelled(self, state: FlowState) -> str:
        return "You're staying; nothing changed."

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        action = turn.inbound.action
        # Only an explicit yes leaves: the button, its number, or a typed yes. The option's
        # value is not accepted as typed text, so typing ``leave`` again cannot confirm, and
        # anything else (no, a typo, another command) keeps the person in.
        if action is not None:
            confirmed = action.values == ("leave",)
        else:
            confirmed = turn.text.casefold() in LEAVE_YES
        program = _program(turn, state)
        if not confirmed:
            return Outcome(
                [
                    Reply(
                        f"OK, you're staying in {program.name}; nothing changed. "
                        "Type leave if you change your mind."
                    )
                ],
                None,
            )
        ended = await leave_program(turn.session, program, person=turn.person, now=turn.now)
        tail = (
            f" Your {plural(ended, 'pairing')} ended and the other side was told." if ended else ""
        )
        return Outcome(
            [
                Reply(
                    f"You've left {program.name}. Thank you for taking part.{tail} "
                    "Type join if you ever want to come back."
                )
            ],
            None,
        )


def _program(turn: Turn, state: FlowState) -> Program:
    """The program being left (a flow saved before programs were named: the first)."""
    named = state.data.get("program")
    return turn.programs.of(named) if named else turn.programs.first


def _which(programs: list[Program]) -> str:
    names = " or ".join(f"leave {p.id}" for p in programs)
    return f"Type {names} ({', '.join(p.name for p in programs)})."


async def leave_program(
    session: AsyncSession, program: Program, *, person: Person, now: datetime
) -> int:
    """Take a person out of the program: end their pairings kindly, free their places.

    A mentor's mentees go back to the waitlist with their old place; a mentee's mentor gets their
    place back. Returns how many pairings ended.
    """
    ended = 0
    for pairing in await pairings_of(session, program, person_id=person.id, statuses=OPEN_PAIRING):
        was_active = pairing.status == PairingStatus.ACTIVE
        leaver_is_mentor = pairing.mentor_id == person.id
        if not await end_pairing(
            session, program, pairing=pairing, now=now, reason="left", rematch=leaver_is_mentor
        ):
            continue
        ended += 1
        if leaver_is_mentor:
            text = (
                f"{person.name} has left the mentoring program, so your pairing has ended. "
                "It's no reflection on you: you're back on the waitlist with the place you had "
                "before, and "
                "the next match round will find you someone new."
                if was_active
                else f"{person.name} has left the mentoring program, so their proposal to "
                "you is withdrawn. You keep your place on the waitlist."
            )
            other = pairing.mentee_id
        else:
            text = (
                f"{person.name} has left the mentoring program, so your pairing has ended. "
                "Thank you for everything you gave them; your place is free for a new mentee."
            )
            other = pairing.mentor_id
        await tell(
            session, program, person_id=other, text=text, key=f"pairing:{pairing.id}:left", now=now
        )
    conn = await session.connection()
    await conn.execute(
        sa.update(ENROLLMENT)
        .where(ENROLLMENT.c.person_id == person.id, ENROLLMENT.c.program == program.id)
        .values(
            status=EnrollmentStatus.LEFT.value,
            status_before_pause=None,
            paused_until=None,
            updated_at=now,
        )
    )
    return ended


def commands(leave: LeaveFlow) -> list[Command]:
    """``leave``."""
    return [
        Command(
            "leave",
            "leave a program (ends your pairings in it kindly)",
            leave.start,
            usage="[PROGRAM]",
        )
    ]
