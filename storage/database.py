"""The async engine, sessions, and schema upgrades.

SQLite (aiosqlite) is the default for one machine; PostgreSQL (asyncpg) for production.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import UTCDateTime

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./mentorbot.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# aiosqlite logs every statement with its parameters at DEBUG, session notes included;
# notes are never logged, whatever level the operator chooses.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


class StorageError(Exception):
    """The database cannot be used; the message says why and what to do."""


class SchemaOutOfDate(StorageError):
    """The database schema is older than this version of mentorbot."""


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration this version of mentorbot ships (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


def redact_url(url: str) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class Database:
    """One database: an async engine and a session factory over it.

    Args:
        url: A SQLAlchemy async URL (``sqlite+aiosqlite:///...`` or
            ``postgresql+asyncpg://...``).
        echo: Log every statement (debugging only).
    """

    def __init__(self, url: str = DEFAULT_DATABASE_URL, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StorageError(
                f"MENTORBOT_DATABASE_URL is not a database URL ({exc}); "
                f"use e.g. {DEFAULT_DATABASE_URL} or postgresql+asyncpg://user@host/db"
            ) from None
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.drivername != "sqlite+aiosqlite":
            parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+asyncpg":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise StorageError(
                f"unsupported database {parsed.get_backend_name()!r}: "
                "mentorbot runs on SQLite (sqlite+aiosqlite:///file.db) or "
                "PostgreSQL (postgresql+asyncpg://user@host/db)"
            )
        # A statement's values are what people wrote (notes, answers): a database error
        # must not carry them into the log as "[parameters: ...]", nor echo show them.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                folder = Path(database).expanduser().resolve().parent
                if not folder.is_dir():
                    raise StorageError(
                        f"the folder for the SQLite file {database!r} does not exist; "
                        "create it or point MENTORBOT_DATABASE_URL elsewhere"
                    )
            # SQLite takes one writer at a time: one connection per process serialises our
            # own writes, and BEGIN IMMEDIATE plus a busy timeout lets a second process
            # (say `mentorbot shell` beside `mentorbot serve`) wait its turn instead of
            # failing with "database is locked".
            kwargs.update(pool_size=1, max_overflow=0, connect_args={"timeout": 15})
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(parsed, **kwargs)
        #: The engine health probes use. On SQLite each probe opens its own connection: a
        #: pooled one answers from its page cache, so it would not notice a corrupted file.
        self.probe = self.engine
        if self.is_sqlite:
            _sqlite_pragmas(self.engine)
            pooled = ("pool_size", "max_overflow")
            unpooled = {key: value for key, value in kwargs.items() if key not in pooled}
            self.probe = create_async_engine(parsed, poolclass=NullPool, **unpooled)
            _sqlite_pragmas(self.probe)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._upgrade_lock = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def upgrade(self) -> tuple[str | None, str]:
        """Bring the schema to the newest migration; safe to run any number of times.

        Returns:
            The revision before and after.
        """
        async with self._upgrade_lock:
            try:
                async with self.engine.begin() as conn:
                    if not self.is_sqlite:
                        # Two replicas starting together must not both migrate.
                        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(74657)"))
                    before = await conn.run_sync(_current_revision)
                    await conn.run_sync(_upgrade)
                    after = await conn.run_sync(_current_revision)
            except (OSError, OperationalError, DBAPIError) as exc:
                raise StorageError(self._unreachable(exc)) from exc
        assert after is not None
        return before, after

    async def current_revision(self) -> str | None:
        """The schema revision the database is at, or None for an empty database."""
        try:
            async with self.engine.connect() as conn:
                return await conn.run_sync(_current_revision)
        except (OSError, OperationalError, DBAPIError) as exc:
            raise StorageError(self._unreachable(exc)) from exc

    async def ensure_schema(self) -> None:
        """Make sure the schema is current before a command uses it.

        A SQLite file belongs to this one machine, so it is upgraded in place. A PostgreSQL
        database is shared by replicas and upgraded by the operator on purpose, so an old
        schema is refused with the command to run.

        Raises:
            SchemaOutOfDate: PostgreSQL is not at the newest migration.
            StorageError: the database cannot be reached.
        """
        current = await self.current_revision()
        head = head_revision()
        if self.is_sqlite:
            if current != head:  # most commands find it current: no migration run to start
                await self.upgrade()
            return
        if current != head:
            state = "empty" if current is None else f"at revision {current}"
            raise SchemaOutOfDate(
                f"the database {redact_url(self.url)} is {state}; this mentorbot needs "
                f"revision {head}. Run `mentorbot db upgrade` first."
            )

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except (OSError, OperationalError, DBAPIError):
            return False
        return True

    async def health(self) -> str | None:
        """Why the database cannot serve a turn now, or None when it can.

        ``SELECT 1`` answers from a corrupted SQLite file, a full disk or a read-only
        replica. So this reads real pages (the schema version and the first row of the
        tables every turn touches) and commits a real write: a row inserted into
        ``processed_event`` and deleted again in one transaction, which still writes the
        changed pages to the log, as a turn's commit would.
        """
        marker = f"health-{secrets.token_hex(8)}"
        try:
            async with self.probe.connect() as conn, conn.begin():
                await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                for table in _TURN_TABLES:
                    await conn.execute(sa.text(f"SELECT id FROM {table} LIMIT 1"))
                values = {"platform": "health", "event_id": marker, "at": datetime.now(UTC)}
                await conn.execute(
                    sa.text(
                        "INSERT INTO processed_event (platform, event_id, received_at) "
                        "VALUES (:platform, :event_id, :at)"
                    ).bindparams(sa.bindparam("at", type_=UTCDateTime)),
                    values,
                )
                await conn.execute(
                    sa.text("DELETE FROM processed_event WHERE event_id = :marker"),
                    {"marker": marker},
                )
        except Exception as exc:  # any failure is the answer; the caller says 503
            return _first_line(exc)
        return None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.probe is not self.engine:
            await self.probe.dispose()

    def _unreachable(self, exc: BaseException) -> str:
        return f"cannot use the database {redact_url(self.url)}: {_first_line(exc)}"


#: The tables every turn reads or writes; health reads a row of each.
_TURN_TABLES = ("person", "platform_account", "conversation_state", "enrollment", "outbox")


def _first_line(exc: BaseException) -> str:
    """The driver's own first line of a database error (never the statement's parameters)."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    return (reason.splitlines()[0] if reason else type(exc).__name__)[:300]


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (below) rather than the driver's implicit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        # A larger page cache (64 MB) and rarer WAL checkpoints: a tick writes in batches,
        # and checkpointing every 1,000 pages made each of its commits wait on an fsync.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction never
        # fails half-way with SQLITE_BUSY when another process wrote in between.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
