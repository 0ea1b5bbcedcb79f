"""The database layer on both backends: migrations, timestamps, constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from storage import Database, Person, StorageError
from storage.database import head_revision, redact_url
from storage.models import METADATA


def person(email: str, **fields: object) -> Person:
    now = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    return Person(
        email=email, name="Test Person", attributes={}, created_at=now, updated_at=now, **fields
    )


async def test_upgrade_is_idempotent(database: Database) -> None:
    assert await database.upgrade() == (head_revision(), head_revision())
    assert await database.current_revision() == head_revision()


async def test_migrations_create_every_table_the_models_declare(database: Database) -> None:
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    assert {t.name for t in METADATA.sorted_tables} <= tables


async def test_timestamps_come_back_aware_and_in_utc(database: Database) -> None:
    berlin = timezone(timedelta(hours=1))
    async with database.session() as session:
        row = person("tz@example.com")
        row.created_at = datetime(2026, 11, 21, 10, 30, tzinfo=berlin)
        session.add(row)
    async with database.session() as session:
        stored = (await session.exec(select(Person))).one()
    assert stored.created_at == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert stored.created_at.tzinfo is not None


async def test_naive_timestamps_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetimes are not stored"):
        async with database.session() as session:
            row = person("naive@example.com")
            row.updated_at = datetime(2026, 11, 21, 10, 30)
            session.add(row)


async def test_emails_are_unique(database: Database) -> None:
    async with database.session() as session:
        session.add(person("dup@example.com"))
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            session.add(person("dup@example.com"))


async def test_a_failed_transaction_leaves_nothing_behind(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            session.add(person("half@example.com"))
            await session.flush()
            raise RuntimeError("boom")
    async with database.session() as session:
        count = (await session.exec(select(func.count()).select_from(Person))).one()
    assert count == 0


async def test_ping_answers_when_the_database_does(database: Database) -> None:
    assert await database.ping() is True


async def test_ping_is_false_when_the_database_is_gone() -> None:
    gone = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert await gone.ping() is False
        with pytest.raises(StorageError, match="cannot use the database"):
            await gone.upgrade()
    finally:
        await gone.dispose()


def test_passwords_are_hidden_in_messages() -> None:
    assert "s3cret" not in redact_url("postgresql+asyncpg://bot:s3cret@db/prod")


def test_an_unsupported_database_is_refused_with_the_supported_ones() -> None:
    with pytest.raises(StorageError, match=r"runs on SQLite .* or PostgreSQL"):
        Database("mysql+aiomysql://root@localhost/x")


async def test_a_failed_statement_does_not_carry_its_values(database: Database) -> None:
    # What people write (notes, answers) is a statement's values: a database error must
    # not repeat them as "[parameters: ...]", and neither may the engine's echo.
    assert database.engine.sync_engine.hide_parameters
    private = "my private session note"
    with pytest.raises(IntegrityError) as raised:
        async with database.session() as session:
            session.add(person("dup@example.com", title=private))
            session.add(person("dup@example.com", title=private))
    assert private not in str(raised.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(raised.value)
