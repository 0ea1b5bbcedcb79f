"""Every row of a database, taken once and put back before each fuzz example.

Building a world (people, a match, a proposal both sides accept) takes hundreds of
statements; putting its rows back takes a few dozen. So a fuzz test builds its world once,
takes a :class:`Snapshot`, and restores it before every example: each example starts from
the same freshly built state, whatever the examples before it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storage import Database
from storage.models import METADATA


@dataclass(frozen=True)
class Snapshot:
    """The rows of every table and, on PostgreSQL, where each id sequence stood."""

    rows: dict[str, list[dict[str, Any]]]
    sequences: list[tuple[str, int | None]]


async def take(database: Database) -> Snapshot:
    async with database.engine.connect() as conn:
        rows = {
            table.name: [dict(row) for row in (await conn.execute(table.select())).mappings()]
            for table in METADATA.sorted_tables
        }
        sequences: list[tuple[str, int | None]] = []
        if not database.is_sqlite:
            found = await conn.execute(
                sa.text("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences")
            )
            sequences = [(name, last) for name, last in found]
    return Snapshot(rows, sequences)


async def restore(database: Database, snapshot: Snapshot) -> None:
    """Put the database back as it was when ``snapshot`` was taken.

    SQLite numbers a new row max(id) + 1, so the same rows give the same next ids; a
    PostgreSQL sequence is set back to where it stood.
    """
    async with database.engine.begin() as conn:
        for table in reversed(METADATA.sorted_tables):
            await conn.execute(table.delete())
        for table in METADATA.sorted_tables:
            if snapshot.rows[table.name]:
                await conn.execute(table.insert(), snapshot.rows[table.name])
        for name, last in snapshot.sequences:
            await conn.execute(
                sa.text("SELECT setval(:name, :value, :called)"),
                {"name": name, "value": last or 1, "called": last is not None},
            )
