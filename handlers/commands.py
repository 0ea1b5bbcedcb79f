"""The words people type outside a flow: help, join, status, and a greeting."""

from __future__ import annotations

from handlers.engine import Command, Engine, Flow, Outcome, Turn
from handlers.intake import IntakeFlow, describe_enrollment
from handlers.messages import Reply
from handlers.ports import Clock, SystemClock
from handlers.program import Program
from storage import Database, EnrollmentStatus
from storage.queries import enrollments_of


def greeting(program: Program, first_name: str) -> str:
    """The first thing a person reads when they open the conversation."""
    return (
        f"Hi {first_name}! I'm mentorbot, the assistant for {program.program.name}. "
        "Type join to enroll as a mentee or a mentor, status to see where you stand, "
        "or help for everything I can do."
    )


async def _hello(turn: Turn, args: list[str]) -> Outcome:
    first = turn.person.name.split()[0] if turn.person.name else "there"
    return Outcome([Reply(greeting(turn.program, first))], None, changed=False)


async def _status(turn: Turn, args: list[str]) -> Outcome:
    assert turn.person.id is not None
    enrollments = await enrollments_of(turn.session, turn.person.id, turn.program.program.id)
    active = [e for e in enrollments if e.status != EnrollmentStatus.LEFT]
    name = turn.program.program.name
    if not active:
        text = f"You're not enrolled in {name} yet. Type join to start; it takes about two minutes."
        return Outcome([Reply(text)], None, changed=False)
    lines = []
    for enrollment in active:
        since = enrollment.enrolled_at.strftime("%-d %b %Y")
        phrase = describe_enrollment(enrollment.status, enrollment.role, enrollment.capacity)
        line = f"You're {phrase} (since {since})."
        if enrollment.status == EnrollmentStatus.WAITING:
            line += (
                " Matching runs when the program lead starts it; I'll message you when "
                "there's a proposal."
            )
        lines.append(line)
    lines.append("Type join to update your answers.")
    return Outcome([Reply("\n".join(lines))], None, changed=False)


def build_engine(
    *,
    program: Program,
    database: Database,
    clock: Clock | None = None,
) -> Engine:
    """An engine with every command and flow mentorbot offers."""
    intake = IntakeFlow()
    flows: dict[str, Flow] = {intake.name: intake}
    engine: Engine

    async def _help(turn: Turn, args: list[str]) -> Outcome:
        lines = [f"Here's what I can do in {turn.program.program.name}:"]
        for command in engine.commands_for(turn.person):
            usage = f"{command.name} {command.usage}".strip()
            lines.append(f"• {usage}: {command.summary}")
        lines.append(
            "Inside a question: back, skip (optional questions), cancel, help. "
            "Answer choices by number or by name."
        )
        return Outcome([Reply("\n".join(lines))], None, changed=False)

    commands = [
        Command("help", "what I can do", _help, aliases=("?", "commands")),
        Command(
            "join",
            "enroll, or update your answers",
            intake.start,
            usage="[mentee|mentor]",
            aliases=("enroll", "enrol", "signup"),
        ),
        Command("status", "where you stand in the program", _status),
        Command("hi", "say hello", _hello, aliases=("hello", "hey", "start")),
    ]
    engine = Engine(
        program=program,
        database=database,
        commands=commands,
        flows=flows,
        clock=clock or SystemClock(),
    )
    return engine
