"""The circles a person is in, and the one a command is about.

Circle commands name a circle by its number as everything shows it (``circle log C12``, or
``circle log 12``) or, for someone in one running circle, need no number at all. Someone
else's circle reads exactly like no circle, so nothing leaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from handlers.core.engine import Turn
from handlers.core.messages import Option, Reply
from handlers.core.program import Program
from handlers.core.refs import Ref, circle_label, parse_circle_ref, parse_ref
from storage import Circle, CircleMember, CircleMemberStatus, CircleRole, CircleStatus
from storage.tables import CIRCLE, CIRCLE_MEMBER


@dataclass(frozen=True)
class MyCircle:
    """A running circle and the person's place in it."""

    circle: Circle
    me: CircleMember
    program: Program

    @property
    def facilitating(self) -> bool:
        """Whether the person facilitates it."""
        return self.me.role == CircleRole.FACILITATOR.value

    @property
    def number(self) -> int:
        """The circle's number, as commands name it."""
        assert self.circle.id is not None
        return self.circle.id

    @property
    def label(self) -> str:
        """The circle's number as people read and type it: ``C7``."""
        return circle_label(self.circle.id)


def circle_ref(word: str) -> Ref | None:
    """A circle named in a command: ``C7`` as everything shows it, or a plain ``7``."""
    return parse_circle_ref(word) or parse_ref(word)


async def my_circles(
    turn: Turn, *, statuses: tuple[CircleStatus, ...] = (CircleStatus.ACTIVE,)
) -> list[MyCircle]:
    """The person's circles in these statuses where they are in (accepted), oldest first."""
    conn = await turn.session.connection()
    found = await conn.execute(
        sa.select(CIRCLE_MEMBER.c.id, CIRCLE_MEMBER.c.circle_id)
        .join(CIRCLE, CIRCLE_MEMBER.c.circle_id == CIRCLE.c.id)
        .where(
            CIRCLE_MEMBER.c.person_id == turn.person.id,
            CIRCLE_MEMBER.c.status == CircleMemberStatus.ACCEPTED.value,
            CIRCLE.c.status.in_([s.value for s in statuses]),
        )
        .order_by(CIRCLE.c.id)
    )
    mine = []
    for member_id, circle_id in found.all():
        circle = await turn.session.get(Circle, circle_id)
        member = await turn.session.get(CircleMember, member_id)
        # A program removed from the file is archived as circles (handlers.core.archived):
        # its circles run on, so its people still find theirs.
        if circle is None or member is None:
            continue
        mine.append(MyCircle(circle, member, turn.programs.of(circle.program)))
    return mine


async def circle_named(
    turn: Turn, args: list[str], *, command: str, facilitating: bool = False
) -> MyCircle | Reply:
    """The running circle ``args`` names by number (or the person's only one), else why not.

    Args:
        command: The words that run the command for a circle (``circle log``), to offer a
            button per circle when the person is in several.
        facilitating: Only a circle the person facilitates will do.
    """
    mine = await my_circles(turn)
    if facilitating:
        mine = [m for m in mine if m.facilitating]
    ref = circle_ref(args[0]) if args else None
    if ref is not None:
        for m in mine:
            if m.circle.id == ref.id:
                return m
        whose = "you facilitate" if facilitating else "you're in"
        return Reply(f"There's no running circle {ref.shown} {whose}. Type status to see yours.")
    if not mine:
        if facilitating:
            return Reply("Only a circle's facilitator can do that, and you facilitate none.")
        return Reply("You're not in a running circle. Type status to see where you stand.")
    if len(mine) > 1:
        actions = tuple(
            Option(f"{command} {m.label}", f"Circle {m.label} ({m.program.name})") for m in mine[:6]
        )
        numbers = ", ".join(m.label for m in mine)
        return Reply(
            f"You're in several circles ({numbers}). Which one? Type {command} and its number.",
            actions=actions,
        )
    return mine[0]
