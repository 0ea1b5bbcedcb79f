"""A failed turn is logged by type, place and reference: never with what the person wrote.

A database error's text quotes the statement's values (SQLAlchemy's ``[parameters: ...]``,
PostgreSQL's ``DETAIL: Key (email)=(...)``), which may be a note or an answer (issue 15,
item 2). The shell is the edge used here; Slack and Teams call the same ``log_failure``.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import pytest

from bot.shell import run_shell
from handlers import build_engine
from handlers.core.engine import Engine, Turn
from handlers.core.errors import error_type, log_failure, safe_traceback
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database, Person
from tests.helpers import FakeClock

PRIVATE = "my private note about a difficult colleague"


def rendered(record: logging.LogRecord) -> str:
    """Everything a handler could write for the record: message, traceback, extras."""
    return logging.Formatter().format(record) + repr(record.__dict__)


async def test_a_database_error_in_a_turn_is_logged_without_what_was_typed(
    database: Database,
    program: Program,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def duplicate_what_was_typed(self: Engine, turn: Turn, row: Any) -> Any:
        # A real database error whose text would quote the typed line twice over: as a
        # statement parameter, and (on PostgreSQL) in the unique violation's DETAIL.
        for _ in range(2):
            turn.session.add(
                Person(
                    email=turn.text,
                    name="Someone",
                    attributes={},
                    created_at=turn.now,
                    updated_at=turn.now,
                )
            )
            await turn.session.flush()

    monkeypatch.setattr(Engine, "_dispatch", duplicate_what_was_typed)
    caplog.set_level(logging.INFO)
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    shown = io.StringIO()
    await run_shell(
        engine=engine,
        database=database,
        email="ana@example.com",
        stdin=io.StringIO(PRIVATE + "\n"),
        stdout=shown,
    )
    found = re.search(r"reference ([0-9a-f]{6})", shown.getvalue())
    assert found, shown.getvalue()
    reference = found.group(1)
    [failure] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert getattr(failure, "reference", None) == reference
    assert reference in failure.getMessage()
    assert "IntegrityError" in failure.getMessage()
    for record in caplog.records:
        assert PRIVATE not in rendered(record), record.getMessage()


def test_a_failure_is_described_by_its_types_and_frames_only() -> None:
    try:
        try:
            raise ValueError(PRIVATE)
        except ValueError as inner:
            raise RuntimeError(f"wrapped: {inner}") from inner
    except RuntimeError as error:
        caught = error
    described = safe_traceback(caught)
    assert PRIVATE not in described
    assert described.index("ValueError") < described.index("RuntimeError")
    assert "test_a_failure_is_described_by_its_types_and_frames_only" in described
    assert error_type(caught) == "RuntimeError"


def test_the_reference_is_logged_with_the_failure(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.errors")
    reference = log_failure(log, "turn failed", error=KeyError(PRIVATE), person=7)
    [record] = caplog.records
    assert re.fullmatch(r"[0-9a-f]{6}", reference)
    assert record.getMessage().startswith(f"turn failed (person=7 reference={reference}): KeyError")
    assert PRIVATE not in rendered(record)
