"""Shared fixtures: loopback-only network, the program, and a database on each backend.

Storage and flow tests take the ``database`` fixture and so run twice: on a SQLite file and
on PostgreSQL. PostgreSQL comes from MENTORBOT_TEST_POSTGRES_URL (default: the local
server); each test run creates a throwaway database there and drops it at the end. When the
server cannot be reached the PostgreSQL cases skip with the reason, except under CI
(CI=true), where they fail: CI must prove both backends.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.config import load_program
from handlers.program import Program
from storage import Database
from storage.models import METADATA

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEST_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


# -- nothing leaves the machine -------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


class OfflineError(OSError):
    """Raised when a test tries to reach beyond loopback."""


def _guard(address: Any, family: int) -> None:
    if family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise OfflineError(f"tests may only reach loopback, not {address[0]!r}")


def _connect(self: socket.socket, address: Any) -> None:
    _guard(address, self.family)
    _real_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _guard(address, self.family)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, bytes):
        host = host.decode()
    if not _is_loopback(host):
        raise OfflineError(f"tests may only resolve loopback names, not {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any connection or name lookup beyond loopback fail (like PTB's OfflineRequest)."""
    monkeypatch.setattr(socket.socket, "connect", _connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _getaddrinfo)


# -- the program ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def program() -> Program:
    """The shipped sample program (app.yaml)."""
    return load_program(ROOT / "app.yaml")


# -- databases ------------------------------------------------------------------------------


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_sync(url: str, statement: str) -> None:
    """Run an admin statement from sync code, even while an event loop is running."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _admin(url, statement)).result()


async def _admin(url: str, statement: str) -> None:
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
        timeout=5,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    admin_url = os.environ.get("MENTORBOT_TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL
    name = f"mentorbot_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        _admin_sync(admin_url, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = (
            f"PostgreSQL at {make_url(admin_url).render_as_string(hide_password=True)} "
            f"is not usable ({exc.__class__.__name__}: {exc}); set MENTORBOT_TEST_POSTGRES_URL"
        )
        if _under_ci():
            pytest.fail(f"CI=true requires the PostgreSQL tests to run: {reason}")
        pytest.skip(reason)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin_sync(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_sqlite_template: dict[str, Path] = {}


async def _sqlite_database(tmp_path: Path, tmp_root: Path) -> Database:
    """A migrated SQLite file: migrated once per run, then copied for each test."""
    template = _sqlite_template.get("path")
    if template is None:
        template = tmp_root / "template.db"
        seed = Database(f"sqlite+aiosqlite:///{template}")
        await seed.upgrade()
        await seed.dispose()
        _sqlite_template["path"] = template
    target = tmp_path / "mentorbot.db"
    target.write_bytes(template.read_bytes())
    return Database(f"sqlite+aiosqlite:///{target}")


async def _truncate(database: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in METADATA.sorted_tables)
    async with database.engine.begin() as conn:
        await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """An empty, migrated database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        db = await _sqlite_database(tmp_path, tmp_path_factory.getbasetemp())
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        await db.upgrade()
        await _truncate(db)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def database_url(database: Database) -> str:
    """The URL of the ``database`` fixture, for subprocesses."""
    return database.url
