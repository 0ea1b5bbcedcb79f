"""How a program's roles read in ``join``: a pair's mentee and mentor, a circle's member and
facilitator.

A circles program stores its people with the pairs' roles (``mentee`` for a member,
``mentor`` for a facilitator), so ``join leader-circles mentee`` works as before; what a
person reads, and the words ``member`` and ``facilitator`` they may type, are the circle's.
"""

from __future__ import annotations

from handlers.core.messages import plural
from handlers.core.program import Circles, Program, ProgramType
from storage import Role

ROLE_LABELS = {
    Role.MENTEE: "Mentee: I'd like a mentor",
    Role.MENTOR: "Mentor: I'd like to mentor someone",
    Role.PEER: "Peer: I'd like to learn with a colleague at my level",
}
CIRCLE_ROLE_LABELS = {
    Role.MENTEE: "Member: I'd like to join a circle",
    Role.MENTOR: "Facilitator: I'd like to lead a circle",
}
#: What a circle's roles are called, by the role stored.
CIRCLE_ROLE_NAMES = {Role.MENTEE: "circle member", Role.MENTOR: "circle facilitator"}
#: Words people type for a role besides its name (``join leader-circles member``).
ROLE_WORDS = {"member": Role.MENTEE, "facilitator": Role.MENTOR}


def is_circles(program: Program | None) -> bool:
    """True for a ``type: circles`` program."""
    return program is not None and program.type is ProgramType.CIRCLES


def role_label(program: Program | None, role: Role) -> str:
    """The role's choice in the role question."""
    if is_circles(program) and role in CIRCLE_ROLE_LABELS:
        return CIRCLE_ROLE_LABELS[role]
    return ROLE_LABELS[role]


def role_name(program: Program | None, role: Role) -> str:
    """The role as a sentence names it: ``mentee``, ``circle member``."""
    if is_circles(program) and role in CIRCLE_ROLE_NAMES:
        return CIRCLE_ROLE_NAMES[role]
    return role.value


def role_named(word: str) -> Role | None:
    """The role a typed word names (``mentee``, ``mentors``, ``Peer``, ``member``), or None."""
    wanted = word.lower().rstrip("s")
    return next((r for r in Role if r.value == wanted), None) or ROLE_WORDS.get(wanted)


def circle_about(program: Program) -> str:
    """What a circle is, in a sentence: ``A circle is a facilitator and 3 to 5 members ...``."""
    circles = program.circles or Circles()
    cadence = program.cadence
    return (
        f"A circle is an experienced facilitator and {circles.size.min} to "
        f"{circles.size.max} members who want to grow the same skills; it meets every "
        f"{plural(cadence.checkin_every_days, 'day')} for {plural(cadence.cycle_days, 'day')}."
    )
