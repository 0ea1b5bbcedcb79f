"""Which program to join: what ``join`` shows when the file has several, and who may join.

``join`` alone lists the programs the person may join, a line each (what it is, their
role in it, the cohort's dates, the command), with a button per program, and counts the
ones that are not open to them; ``join PROGRAM`` says why in one sentence
(:mod:`handlers.people.eligibility`). A program the person is already in is listed too:
joining it again updates their answers, whatever the rules say now.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.engine import Turn
from handlers.core.messages import Option, Reply
from handlers.core.program import OPTION_LABEL_LIMIT, Program
from handlers.intake.roles import circle_about, is_circles, role_name
from handlers.people.eligibility import Facts, Verdict, cohort_dates, facts_about, judge
from storage import EnrollmentStatus, Role
from storage.queries import enrollments_of

#: The most characters of a program's description in its line of the list.
DESCRIPTION_LENGTH = 160


@dataclass(frozen=True)
class Access:
    """What a person may do in one program.

    Attributes:
        program: The program.
        verdict: Whether the rules let them join, and in which roles.
        enrolled: The roles they are in already (not left): they may update those answers.
    """

    program: Program
    verdict: Verdict
    enrolled: tuple[Role, ...]

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles ``join`` may start for them: the ones they're in, and the ones open."""
        open_ = set(self.verdict.roles) | set(self.enrolled)
        return tuple(r for r in self.program.roles if r in open_)

    @property
    def new_roles(self) -> tuple[Role, ...]:
        """The roles open to them that they are not in yet."""
        return tuple(r for r in self.verdict.roles if r not in self.enrolled)

    def why_not(self, role: Role | None = None) -> str:
        """Why they may not join (in ``role``), in one sentence."""
        if role is not None and role in self.verdict.role_reasons:
            return self.verdict.role_reasons[role]
        return self.verdict.reason or f"You can't join {self.program.name} right now."


async def access_to(turn: Turn, program: Program, *, facts: Facts | None = None) -> Access:
    """What the person of ``turn`` may do in ``program`` now."""
    assert turn.person.id is not None
    if facts is None:
        facts = await facts_about(turn.session, turn.person, [program])
    verdict = judge(program, person=turn.person, facts=facts, now=turn.now)
    enrollments = await enrollments_of(turn.session, turn.person.id, program=program.id)
    enrolled = {Role(e.role) for e in enrollments if e.status != EnrollmentStatus.LEFT}
    return Access(program, verdict, tuple(r for r in program.roles if r in enrolled))


async def every_access(turn: Turn) -> list[Access]:
    """What the person may do in each program of the file (archived ones left out)."""
    facts = await facts_about(turn.session, turn.person, turn.programs)
    return [
        await access_to(turn, program, facts=facts)
        for program in turn.programs
        if not program.archived
    ]


def roles_phrase(roles: tuple[Role, ...], program: Program | None = None) -> str:
    """``a mentee``, ``a mentee or a mentor`` (in a circles program: ``a circle member``)."""
    return " or ".join(f"a {role_name(program, r)}" for r in roles)


def join_command(program: Program, roles: tuple[Role, ...]) -> str:
    """The command that joins ``program``: with the role when only one is open."""
    return f"join {program.id} {roles[0].value}" if len(roles) == 1 else f"join {program.id}"


async def program_choices(turn: Turn, *, role: Role | None = None) -> Reply:
    """``join`` with several programs and none named: the programs this person may join.

    Args:
        role: The role they typed (``join mentor``): only programs open to them in it.
    """
    accesses = await every_access(turn)
    shown = [a for a in accesses if a.roles and (role is None or role in a.roles)]
    others = [a for a in accesses if not a.roles]
    lines: list[str] = []
    actions: list[Option] = []
    if shown:
        lines.append("Which program would you like to join?")
    elif role is not None:
        lines.append(f"No program open to you takes {roles_phrase((role,))} right now.")
    else:
        lines.append("There's no program you can join right now.")
    for access in shown:
        line, action = _line(access, role=role)
        lines.append(line)
        actions.append(action)
    if others:
        ids = ", ".join(a.program.id for a in others)
        count = len(others)
        if shown:
            lines.append(
                f"{count} other program{'s are' if count > 1 else ' is'} not open to you "
                f"({ids}); type join and its id to see why."
            )
        else:
            lines.append(
                f"The program{'s' if count > 1 else ''} ({ids}) {'are' if count > 1 else 'is'} "
                "not open to you; type join and an id to see why."
            )
    return Reply("\n".join(lines), actions=tuple(actions))


async def unknown_program(turn: Turn, typed: str) -> Reply:
    """``join x`` for a program the file does not have: the ones they can join instead."""
    accesses = [a for a in await every_access(turn) if a.roles]
    named = repr(typed[:60])
    if not accesses:
        known = ", ".join(p.id for p in turn.programs if not p.archived)
        return Reply(
            f"There's no program {named}, and none is open to you right now. The programs: "
            f"{known}; type join and an id to see why."
        )
    listed = ", ".join(f"{a.program.id} ({a.program.name})" for a in accesses)
    actions = tuple(
        Option(join_command(a.program, a.roles), _label(a.program.name)) for a in accesses
    )
    return Reply(f"There's no program {named}. Programs you can join: {listed}.", actions=actions)


def _line(access: Access, *, role: Role | None) -> tuple[str, Option]:
    """One program's line in the list, and its button."""
    program = access.program
    about = " ".join(program.description.split())
    if len(about) > DESCRIPTION_LENGTH:
        about = about[: DESCRIPTION_LENGTH - 1].rstrip() + "…"
    if about and not about.endswith((".", "!", "?", "…")):
        about += "."
    head = f"• {program.name}" + (f": {about}" if about else "")
    cohort = f"; {cohort_dates(program.cohort)}" if program.cohort is not None else ""
    if access.enrolled and (role is None or role in access.enrolled):
        mine = tuple([role]) if role is not None else access.enrolled
        command = join_command(program, mine)
        rest = (
            f"You're in it as {roles_phrase(mine, program)}; type {command} to update your answers"
        )
        new = () if role is not None else access.new_roles
        if new:
            rest += f", or {join_command(program, new)} to join as {roles_phrase(new, program)} too"
        return f"{head} {rest}.", Option(command, _label(f"{program.name} (update)"))
    roles = (role,) if role is not None else access.new_roles
    command = join_command(program, roles)
    about = f" {circle_about(program)}" if is_circles(program) else ""
    text = f"{head}{about} You'd join as {roles_phrase(roles, program)}{cohort}. Type {command}."
    return text, Option(command, _label(program.name))


def _label(text: str) -> str:
    return text if len(text) <= OPTION_LABEL_LIMIT else text[: OPTION_LABEL_LIMIT - 1] + "…"
