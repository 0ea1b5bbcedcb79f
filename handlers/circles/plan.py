"""A circle's plan: up to three shared goals, set by its facilitator and shown to the circle.

``goals`` (or ``circle goals``) shows them; the facilitator types ``goals add TEXT`` and
``goals remove NUMBER``. Three is the most: a circle holds a few goals in mind together, and
a fourth is refused with that reason and the way to make room.
"""

from __future__ import annotations

import hashlib

from handlers.circles.lifecycle import tell_circle
from handlers.circles.mine import MyCircle, circle_named, circle_ref
from handlers.core.engine import Outcome, Turn
from handlers.core.messages import Reply, plural
from handlers.core.refs import parse_ref

#: The most shared goals a circle keeps.
MOST_GOALS = 3
#: The longest goal, in characters.
LONGEST_GOAL = 200


def goal_lines(found: MyCircle) -> list[str]:
    """The circle's goals, numbered, as everyone reads them."""
    return [f"{n}. {g.get('text', '')}" for n, g in enumerate(found.circle.goals, start=1)]


async def goals(turn: Turn, args: list[str]) -> Outcome:
    """``goals [CIRCLE] [add TEXT | remove NUMBER]``: show, add or remove a shared goal."""
    named = bool(args) and circle_ref(args[0]) is not None
    found = await circle_named(turn, args[:1] if named else [], command="circle goals")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    rest = args[1:] if named else args
    verb = rest[0].lower() if rest else ""
    if verb == "add":
        return await _add(turn, found, " ".join(rest[1:]).strip())
    if verb == "remove":
        return await _remove(turn, found, rest[1] if len(rest) > 1 else "")
    return Outcome([Reply(_shown(found), title="Circle goals")], None, changed=False)


def _shown(found: MyCircle) -> str:
    lines = goal_lines(found)
    text = (
        f"The goals of circle {found.label}:\n" + "\n".join(lines)
        if lines
        else f"Circle {found.label} has no shared goals yet."
    )
    if found.facilitating:
        room = MOST_GOALS - len(lines)
        if room > 0:
            text += f"\nType goals add and a goal to add one ({room} more at most)."
        text += "\nType goals remove and a goal's number to remove it." if lines else ""
    return text


async def _add(turn: Turn, found: MyCircle, text: str) -> Outcome:
    if not found.facilitating:
        return _refused("Only the circle's facilitator sets its goals; ask them to add it.")
    if not text:
        return _refused("Type goals add and the goal, e.g. goals add Give feedback that lands.")
    if len(text) > LONGEST_GOAL:
        return _refused(f"That goal is {len(text)} characters; keep it under {LONGEST_GOAL}.")
    circle = found.circle
    if len(circle.goals) >= MOST_GOALS:
        return _refused(
            f"Circle {found.label} already has {plural(MOST_GOALS, 'goal')}, the most a circle "
            "keeps so everyone can hold them in mind. Type goals remove and a goal's number to "
            "make room."
        )
    if any(g.get("text", "").casefold() == text.casefold() for g in circle.goals):
        return _refused("The circle has that goal already.")
    circle.goals = [*circle.goals, {"text": text, "status": "open"}]
    turn.session.add(circle)
    await _share(turn, found, f"{turn.person.name} added a goal for the circle: {text}")
    return Outcome([Reply(f"Added. {_shown(found)}", title="Circle goals")], None)


async def _remove(turn: Turn, found: MyCircle, typed: str) -> Outcome:
    if not found.facilitating:
        return _refused("Only the circle's facilitator changes its goals.")
    circle = found.circle
    ref = parse_ref(typed)
    if ref is None or ref.id is None or ref.id > len(circle.goals):
        count = len(circle.goals)
        which = f"a number from 1 to {count}" if count else "nothing: there are no goals yet"
        return _refused(f"Type goals remove and the goal's number ({which}).")
    removed = circle.goals[ref.id - 1]
    circle.goals = [g for n, g in enumerate(circle.goals, start=1) if n != ref.id]
    turn.session.add(circle)
    await _share(turn, found, f"{turn.person.name} removed a goal: {removed.get('text', '')}")
    return Outcome([Reply(f"Removed. {_shown(found)}", title="Circle goals")], None)


async def _share(turn: Turn, found: MyCircle, change: str) -> None:
    """Tell the circle what changed and where its goals stand now."""
    lines = goal_lines(found) or ["(no goals yet)"]
    await tell_circle(
        turn.session,
        program=found.program,
        circle=found.circle,
        replies=[Reply(f"{change}\nYour circle's goals:\n" + "\n".join(lines), title="Goals")],
        # Two changes at one instant (a demo's fixed clock) are two messages: the key names
        # the goals as they are now, not only the moment.
        what=f"goals:{turn.now.isoformat()}:{_digest(found)}",
        now=turn.now,
    )


def _digest(found: MyCircle) -> str:
    """A short fingerprint of the circle's goals as they are now."""
    texts = "\n".join(str(g.get("text", "")) for g in found.circle.goals)
    return hashlib.sha256(texts.encode()).hexdigest()[:12]


def _refused(text: str) -> Outcome:
    return Outcome([Reply(text)], None, changed=False)
