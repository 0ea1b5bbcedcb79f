"""``serve`` re-reads the program file: a good one takes effect at once, a bad one is refused."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from pathlib import Path

import pytest

from bot.config import load_programs
from bot.reload import ProgramWatcher
from bot.runtime import Runtime, build_runtime
from storage import Database
from tests.bot.cli_helpers import ROOT, clean_env, start_serve
from tests.helpers import Chat, make_person

REMOVED_LEAD = "marcus.lee@example.com"


def program_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text((ROOT / "app.yaml").read_text())
    return path


def without_marcus(path: Path) -> None:
    """Rewrite the file with Marcus no longer a lead, and a new modification time."""
    text = path.read_text()
    path.write_text(text.replace(f"    - {REMOVED_LEAD}\n", ""))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def runtime_for(path: Path, database: Database) -> Runtime:
    return build_runtime(programs=load_programs(path), database=database, slack=None)


async def test_a_removed_lead_loses_reports_as_soon_as_the_file_changes(
    tmp_path: Path, database: Database
) -> None:
    path = program_file(tmp_path)
    runtime = runtime_for(path, database)
    watcher = ProgramWatcher(runtime, path)
    marcus = await make_person(database, REMOVED_LEAD, name="Marcus Lee")
    chat = Chat(runtime.engine, marcus)
    assert "for the program leads only" not in await chat.send("report overview")

    assert watcher.poll() is False  # nothing changed yet
    without_marcus(path)
    assert watcher.poll() is True

    assert not runtime.programs.is_lead(REMOVED_LEAD)
    assert runtime.engine.programs is runtime.programs
    assert "for the program leads only" in await chat.send("report overview")


async def test_an_invalid_file_is_refused_with_its_located_errors_and_the_last_good_one_stays(
    tmp_path: Path, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    path = program_file(tmp_path)
    runtime = runtime_for(path, database)
    before = runtime.programs
    watcher = ProgramWatcher(runtime, path)
    good = path.read_text()

    path.write_text(good.replace("\nmin_group_size: 5", "\nmin_group_size: five"))
    assert watcher.reload() is False
    assert runtime.programs is before
    [refused] = [r for r in caplog.records if "refused" in r.getMessage()]
    assert refused.levelno == logging.ERROR
    assert re.search(r"app\.yaml:\d+: min_group_size", refused.getMessage())
    assert "min_group_size" in refused.getMessage()

    caplog.clear()
    assert watcher.reload() is False  # the same bad content: said once, not again
    assert not caplog.records

    path.write_text("program: [unclosed\n")
    assert watcher.reload() is False
    assert "not valid YAML" in caplog.records[-1].getMessage()
    assert runtime.programs is before

    path.write_text(good.replace(f"    - {REMOVED_LEAD}\n", ""))
    assert watcher.reload() is True
    assert not runtime.programs.is_lead(REMOVED_LEAD)


async def test_a_missing_file_keeps_the_last_good_program(
    tmp_path: Path, database: Database
) -> None:
    path = program_file(tmp_path)
    runtime = runtime_for(path, database)
    before = runtime.programs
    watcher = ProgramWatcher(runtime, path)
    path.unlink()
    assert watcher.poll() is False
    assert runtime.programs is before


async def test_serve_reloads_the_program_file_on_sighup(tmp_path: Path) -> None:
    """A change the size and time cannot show (same length, old time): SIGHUP reads it."""
    path = program_file(tmp_path)
    env = clean_env(database_url=f"sqlite+aiosqlite:///{tmp_path}/serve.db", config=path)
    process = await start_serve(env)
    try:
        assert process.stdout is not None and process.stderr is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert "mentorbot serving on" in line
        stat = path.stat()
        text = path.read_text()
        # The same length: one lead's address for another of the same size.
        path.write_text(text.replace(REMOVED_LEAD, "marcus.lea@example.com"))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert path.stat().st_size == stat.st_size
        process.send_signal(signal.SIGHUP)
        said = ""
        while "reloaded" not in said:
            said = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
            assert said, "serve ended without saying it reloaded the program file"
        assert "1 added, 1 removed" in said
        assert "marcus" not in said  # counts, not addresses
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0


async def test_an_edit_made_before_the_watch_began_is_applied_at_the_first_look(
    tmp_path: Path, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """serve loads the file, then opens the database: an edit in between still counts."""
    path = program_file(tmp_path)
    runtime = runtime_for(path, database)
    path.write_text(path.read_text().replace(f"    - {REMOVED_LEAD}\n", ""))
    watcher = ProgramWatcher(runtime, path)
    assert watcher.poll() is True
    assert not runtime.programs.is_lead(REMOVED_LEAD)


async def test_a_first_look_at_an_unchanged_file_changes_nothing_and_says_nothing(
    tmp_path: Path, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    path = program_file(tmp_path)
    runtime = runtime_for(path, database)
    before = runtime.programs
    path.write_text(path.read_text() + "# a comment changes no setting\n")
    watcher = ProgramWatcher(runtime, path)
    assert watcher.poll() is False
    assert runtime.programs is before
    assert not [r for r in caplog.records if r.name == "bot.reload"]
