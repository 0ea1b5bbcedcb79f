"""Throwaway PostgreSQL databases for the tests and the benchmarks.

Each run creates its own database on the server in MENTORBOT_TEST_POSTGRES_URL and drops it
afterwards, so runs never see each other's rows and nothing is left behind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets

import asyncpg
from sqlalchemy.engine import make_url

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
