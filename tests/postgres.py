"""Throwaway PostgreSQL databases for the tests and the benchmarks.

Each run creates its own database on the server in MENTORBOT_TEST_POSTGRES_URL and drops it
afterwards, so runs never see each other's rows and nothing is left behind. Within a run
the database is migrated once and emptied for each test (:func:`migrated_and_empty`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets

import asyncpg
from sqlalchemy.engine import make_url

from storage import Database
from storage.database import head_revision
from storage.models import METADATA

DEFAULT_TEST_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
#: What a failed connection to the server raises.
UNREACHABLE = (OSError, asyncpg.PostgresError, TimeoutError)


def server_url() -> str:
    """The PostgreSQL server (and database to connect through) that tests may use."""
    return os.environ.get("MENTORBOT_TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL


def shown(url: str) -> str:
    """The URL with its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


async def admin(url: str, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) outside a transaction."""
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


def admin_sync(url: str, statement: str) -> None:
    """:func:`admin` from sync code, even while an event loop is running."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, admin(url, statement)).result()


def scratch_name(prefix: str) -> str:
    """A database name no other run uses."""
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


def url_of(server: str, database: str) -> str:
    """The URL of another database on the same server."""
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def create_statement(database: str) -> str:
    return f'CREATE DATABASE "{database}"'


def drop_statement(database: str) -> str:
    return f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'


#: Every table emptied and every id restarted, in one message to the server: the simple
#: query protocol runs several statements in one implicit transaction, where one
#: ``DELETE`` at a time through SQLAlchemy costs a prepare and an execute round trip per
#: table on the test's fresh connection (a tenth of a second for all of them).
_EMPTY_POSTGRES = "; ".join(
    [
        *(f'DELETE FROM "{table.name}"' for table in reversed(METADATA.sorted_tables)),
        "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'",
    ]
)


def _at_revision(revision: str) -> str:
    """A statement that fails unless the schema is at ``revision`` (it runs first)."""
    return (
        "DO $$ BEGIN IF (SELECT max(version_num) FROM alembic_version) IS DISTINCT FROM "
        f"'{revision}' THEN RAISE EXCEPTION 'not at revision {revision}'; END IF; END $$"
    )


async def _simple_query(database: Database, sql: str) -> None:
    """Run ``sql`` (several statements) on the driver's connection, in one round trip."""
    async with database.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(sql)  # type: ignore[union-attr]


async def empty(database: Database) -> None:
    """Delete every row and restart every id, as a freshly migrated database has them.

    PostgreSQL: ``DELETE`` and ``setval`` rather than ``TRUNCATE``, which costs a new file per
    table (most of a second for all of them) where a test leaves a few rows.
    """
    if not database.is_sqlite:
        await _simple_query(database, _EMPTY_POSTGRES)
        return
    # SQLite numbers a row max(id) + 1: empty tables start again at 1 by themselves.
    async with database.engine.begin() as conn:
        for table in reversed(METADATA.sorted_tables):
            await conn.execute(table.delete())


#: The PostgreSQL databases this process migrated (one per run, or per xdist worker).
_migrated: set[str] = set()
#: The newest revision (storage.database reads the migration scripts once per process).
_head = head_revision


async def migrated_and_empty(url: str) -> Database:
    """The run's PostgreSQL database at the newest migration, emptied.

    Migrated on the first test only. The migration tests go down and up again; should one
    stop half way, the next test finds the revision is not the newest and migrates again:
    checking the revision and emptying the tables are one message to the server, which
    fails as a whole when the revision is not the newest.
    """
    db = Database(url)
    if url in _migrated:
        try:
            await _simple_query(db, f"{_at_revision(_head())}; {_EMPTY_POSTGRES}")
            return db
        except asyncpg.PostgresError:
            pass
    await db.upgrade()
    _migrated.add(url)
    await empty(db)
    return db
