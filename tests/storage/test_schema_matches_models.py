"""The migrations build the tables the models describe, on both databases.

A column, index or constraint added to a model without a migration (or the other way
round) is a database that differs between a fresh install and an upgraded one.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import ForeignKeyConstraint
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table on SQLModel.metadata)
from storage import Database

#: Indexes only the migrations declare: the scheduler's and the directory's lookups.
MIGRATION_ONLY_INDEXES = {"ix_outbox_due", "ix_person_manager_id", "session_log_summary_due"}


def _sqlite_key(connection: Connection, table: str, column: str) -> tuple[str, str, str] | None:
    """The foreign key SQLite enforces on ``table.column``: (table, column, ON DELETE).

    SQLAlchemy's SQLite reflection reads ``ON DELETE`` only from a table-level ``FOREIGN
    KEY`` clause; a column added in place with its own ``REFERENCES ... ON DELETE SET NULL``
    (``outbox.pairing_id``, ``session_log.second_by``) reflects without it, so alembic sees
    a difference that is not there. ``PRAGMA foreign_key_list`` says what is enforced, so a
    key that really lost its ``ON DELETE`` (a batch rebuild copies the reflected one) shows.
    """
    for row in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")'):
        if row[3] == column:
            return str(row[2]), str(row[4]), str(row[6])
    return None


def _model_key(table: str, column: str) -> tuple[str, str, str]:
    [key] = SQLModel.metadata.tables[table].c[column].foreign_keys
    return key.column.table.name, key.column.name, (key.ondelete or "NO ACTION").upper()


def _fk_column(key: ForeignKeyConstraint) -> tuple[str, str]:
    return key.table.name, key.column_keys[0]


def _differences(connection: Connection) -> list[str]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": False, "compare_server_default": False}
    )
    found = []
    for difference in compare_metadata(context, SQLModel.metadata):
        kind, thing = difference[0], difference[1]
        if kind == "remove_index" and thing.name in MIGRATION_ONLY_INDEXES:
            continue
        if (
            kind in ("remove_fk", "add_fk")
            and connection.dialect.name == "sqlite"
            and _sqlite_key(connection, *_fk_column(thing)) == _model_key(*_fk_column(thing))
        ):
            continue
        found.append(f"{kind}: {getattr(thing, 'name', thing)}")
    return found


async def test_migrated_schema_has_every_table_column_and_index_of_the_models(
    database: Database,
) -> None:
    async with database.engine.connect() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == []
