"""``/healthz`` tells the truth: a real read and a real write, 503 with the reason otherwise."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.runtime import build_runtime
from bot.server import running
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database, ProcessedEvent
from tests.helpers import rows


@asynccontextmanager
async def healthz(database: Database, program: Program) -> AsyncIterator[Any]:
    """A function that asks the real server's /healthz: (status, JSON body)."""
    runtime = build_runtime(programs=Programs.one(program), database=database, slack=None)
    async with (
        running(runtime, host="127.0.0.1", port=0, tick_seconds=3600) as runner,
        aiohttp.ClientSession() as http,
    ):
        host, port = runner.addresses[0][:2]

        async def ask() -> tuple[int, dict[str, Any]]:
            async with http.get(f"http://{host}:{port}/healthz") as response:
                return response.status, await response.json()

        yield ask


async def test_a_working_database_is_healthy_and_the_probe_leaves_nothing_behind(
    database: Database, program: Program
) -> None:
    async with healthz(database, program) as ask:
        assert await ask() == (
            200,
            {"status": "ok", "database": "ok", "slack": "off", "teams": "off"},
        )
        assert (await ask())[0] == 200
    assert await rows(database, ProcessedEvent) == []


async def test_a_database_that_refuses_writes_is_503_with_the_reason(
    database: Database, program: Program
) -> None:
    """Reads work (``SELECT 1`` answers) but no turn could save anything."""

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if database.is_sqlite:
            cursor.execute("PRAGMA query_only=ON")
        else:
            # In a transaction of its own: asyncpg's adapter opens one for any statement.
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    for engine in {database.engine, database.probe}:
        sa.event.listen(engine.sync_engine, "connect", read_only)
    await database.engine.dispose()  # new connections, each read-only
    if not database.is_sqlite:  # (SQLite's BEGIN IMMEDIATE already fails a plain ping)
        assert await database.ping()
    async with healthz(database, program) as ask:
        status, body = await ask()
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "unavailable"
    assert "read-only" in body["reason"] or "readonly" in body["reason"]


async def test_a_corrupted_sqlite_file_is_503_with_the_reason(
    tmp_path: Path, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.server.HEALTH_SECONDS", 0)  # every request probes again
    path = tmp_path / "mentorbot.db"
    seed = Database(f"sqlite+aiosqlite:///{path}")
    await seed.upgrade()
    await seed.dispose()
    with sqlite3.connect(path) as conn:  # everything into the main file, nothing in the WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with healthz(database, program) as ask:
            assert (await ask())[0] == 200
            assert await database.ping()
            size = path.stat().st_size
            with path.open("r+b") as file:  # every page past the first: garbage
                file.seek(4096)
                file.write(os.urandom(size - 4096))
            assert await database.ping()  # what /healthz used to ask: its pages are cached
            status, body = await ask()
        assert status == 503
        assert "malformed" in body["reason"]
        assert str(path) not in body["reason"]
    finally:
        await database.dispose()


async def test_many_requests_at_once_share_one_probe(
    database: Database, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/healthz needs no credentials: a flood of it must not become a flood of writes."""
    probes = 0
    probe = database.health

    async def counted() -> str | None:
        nonlocal probes
        probes += 1
        return await probe()

    monkeypatch.setattr(database, "health", counted)
    async with healthz(database, program) as ask:
        answers = await asyncio.gather(*(ask() for _ in range(20)))
        assert {status for status, _ in answers} == {200}
        assert probes == 1
        monkeypatch.setattr("bot.server.HEALTH_SECONDS", 0)
        assert (await ask())[0] == 200
        assert probes == 2
