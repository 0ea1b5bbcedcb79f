"""The shell channel in-process: greeting, resume, quitting, and its error boundary."""

from __future__ import annotations

import io
import logging

import pytest
from sqlmodel import select

from bot.shell import run_shell
from handlers import build_engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import ConversationState, Database
from tests.helpers import FakeClock, make_person


class Terminal(io.StringIO):
    """Standard input that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


async def shell(database: Database, program: Program, lines: str, *, tty: bool = False) -> str:
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    stdin = Terminal(lines) if tty else io.StringIO(lines)
    stdout = io.StringIO()
    await run_shell(
        engine=engine, database=database, email="ana@example.com", stdin=stdin, stdout=stdout
    )
    return stdout.getvalue()


async def test_a_terminal_gets_a_prompt_and_the_way_out(
    database: Database, program: Program
) -> None:
    out = await shell(database, program, "help\nquit\nstatus\n", tty=True)
    assert "(Type quit or press Ctrl-D to leave; your place is saved.)" in out
    assert "> " in out
    assert "Here's what I can do" in out
    assert "not enrolled" not in out  # nothing after quit is read


async def test_blank_lines_are_ignored(database: Database, program: Program) -> None:
    out = await shell(database, program, "\n\n   \nstatus\n")
    assert out.count("not enrolled") == 1
    assert "I don't know" not in out


async def test_a_known_person_is_greeted_by_first_name(
    database: Database, program: Program
) -> None:
    await make_person(database, "ana@example.com", name="Ana María López")
    out = await shell(database, program, "")
    assert out.startswith("Hi Ana! I'm mentorbot")
    assert "weren't in the directory" not in out


async def test_an_unexpected_failure_apologises_and_resets_the_flow(
    database: Database,
    program: Program,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from handlers.intake.chat import IntakeFlow

    async def broken(self: IntakeFlow, turn: object, state: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(IntakeFlow, "answer", broken)
    with caplog.at_level(logging.ERROR):
        out = await shell(database, program, "join mentee\nMy secret goal\n")
    assert "Sorry, something went wrong on my side, so I've reset this conversation" in out
    assert "Traceback" not in out
    assert "shell turn failed" in caplog.text
    assert "My secret goal" not in caplog.text
    async with database.session() as session:
        assert (await session.exec(select(ConversationState))).all() == []
