"""The migrations build the tables the models describe, on both databases.

A column, index or constraint added to a model without a migration (or the other way
round) is a database that differs between a fresh install and an upgraded one.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table on SQLModel.metadata)
from storage import Database

#: Indexes only the migrations declare: the scheduler's and the directory's lookups.
MIGRATION_ONLY_INDEXES = {"ix_outbox_due", "ix_person_manager_id", "session_log_summary_due"}
#: Foreign keys whose ``ON DELETE`` an earlier migration's table rebuild on SQLite
#: dropped; the code deletes the rows that point at a pairing or person itself.
SQLITE_REBUILT_KEYS = {("outbox", "pairing_id"), ("session_log", "second_by")}


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
            and (thing.table.name, thing.column_keys[0]) in SQLITE_REBUILT_KEYS
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
