"""Shared fixtures: loopback-only network, the program, and a database on each backend.

Storage and flow tests take the ``database`` fixture and so run twice: on a SQLite file and
on PostgreSQL. PostgreSQL comes from MENTORBOT_TEST_POSTGRES_URL (default: the local
server); each test run creates a throwaway database there and drops it at the end. When the
server cannot be reached the PostgreSQL cases skip with the reason, except under CI
(CI=true), where they fail: CI must prove both backends.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_programs
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database
from tests import postgres

ROOT = Path(__file__).resolve().parent.parent

#: Fuzz tests share one seed per run, printed at the end (see tests/fuzz/seed.py).
pytest_plugins = ["tests.fuzz.seed"]


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
    return load_programs(ROOT / "app.yaml").first


#: A file with several programs: one-to-one, reverse, peer, and an invite-only cohort pilot.
SEVERAL_PROGRAMS = ROOT / "tests" / "fixtures" / "programs.yaml"


@pytest.fixture(scope="session")
def programs() -> Programs:
    """Several programs at once (tests/fixtures/programs.yaml), with a global lead."""
    return load_programs(SEVERAL_PROGRAMS)


#: A circles program (leader-circles, 3 to 5 members) beside a one-to-one program.
CIRCLES_PROGRAMS = ROOT / "tests" / "fixtures" / "circles.yaml"


@pytest.fixture(scope="session")
def circle_programs() -> Programs:
    """A circles program and a one-to-one one (tests/fixtures/circles.yaml)."""
    return load_programs(CIRCLES_PROGRAMS)


# -- databases ------------------------------------------------------------------------------


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    server = postgres.server_url()
    name = postgres.scratch_name("mentorbot_test")
    try:
        postgres.admin_sync(server, postgres.create_statement(name))
    except postgres.UNREACHABLE as exc:
        reason = (
            f"PostgreSQL at {postgres.shown(server)} is not usable "
            f"({exc.__class__.__name__}: {exc}); set MENTORBOT_TEST_POSTGRES_URL"
        )
        if _under_ci():
            pytest.fail(f"CI=true requires the PostgreSQL tests to run: {reason}")
        pytest.skip(reason)
    try:
        yield postgres.url_of(server, name)
    finally:
        postgres.admin_sync(server, postgres.drop_statement(name))


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """An empty, migrated database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        db = await _sqlite_database(tmp_path, tmp_path_factory.getbasetemp())
    else:
        db = await postgres.migrated_and_empty(request.getfixturevalue("postgres_url"))
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def database_url(database: Database) -> str:
    """The URL of the ``database`` fixture, for subprocesses."""
    return database.url
