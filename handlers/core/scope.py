"""Which program a lead's command is about.

A program lead's ``match``, ``pair``, ``invite`` and ``report`` work on the programs they
lead; a global lead leads them all. The program is named as the command's first word
(``match reverse-2027``) or, for someone who leads only one, understood.
"""

from __future__ import annotations

from handlers.core.engine import Turn
from handlers.core.messages import Option, Reply
from handlers.core.program import Program


def led_program(turn: Turn, args: list[str], *, verb: str) -> tuple[Program, list[str]] | Reply:
    """The program a lead's command names (or the only one they lead), and the other words.

    Returns:
        The program and the words after its id, or the reply that says why not (a program
        they do not lead, or several to choose from).
    """
    email = turn.person.email
    named = turn.programs.get(args[0].lower()) if args else None
    if named is not None:
        if not named.is_lead(email):
            return Reply(f"You don't lead {named.name}, so you can't {verb} for it.")
        return named, args[1:]
    led = turn.programs.led_by(email)
    if len(led) == 1:
        return led[0], args
    choices = ", ".join(f"{p.id} ({p.name})" for p in led)
    # A button per program when the command took nothing else (``match``, ``report KIND``);
    # ``pair A B`` would lose its people in a button, so it is told in words only.
    buttons = tuple(Option(f"{verb} {p.id}", p.name) for p in led) if not args else ()
    return Reply(f"Which program? Type {verb} and the program's id: {choices}.", actions=buttons)
