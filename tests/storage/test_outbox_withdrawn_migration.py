"""The withdrawn-messages migration: messages waiting at upgrade learn their pairing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage import Database, Outbox
from storage.types import JSONType, UTCDateTime
from tests.helpers import rows
from tests.storage.migrating import migrate, migration_named
from tests.storage.test_plan_versions_migration import PAIRING, PERSON, pairing, people

QUEUED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

#: The outbox as it was before messages named their pairing.
OUTBOX = sa.table(
    "outbox",
    sa.column("dedupe_key", sa.String),
    sa.column("person_id", sa.Integer),
    sa.column("payload", JSONType),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", UTCDateTime),
    sa.column("created_at", UTCDateTime),
)
DUE_ITEM = sa.table(
    "due_item",
    sa.column("id", sa.Integer),
    sa.column("pairing_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("due_at", UTCDateTime),
    sa.column("status", sa.String),
    sa.column("answers", JSONType),
    sa.column("created_at", UTCDateTime),
)


def message(key: str, status: str = "pending") -> dict[str, Any]:
    return {
        "dedupe_key": key,
        "person_id": 2,
        "payload": [{"text": "hello"}],
        "status": status,
        "attempts": 0,
        "next_attempt_at": QUEUED,
        "created_at": QUEUED,
    }


async def test_waiting_messages_learn_their_pairing_from_their_key(database: Database) -> None:
    script = migration_named("_outbox_withdrawn.py")
    assert isinstance(script.down_revision, str)
    await migrate(database, "downgrade", script.down_revision)
    async with database.engine.begin() as conn:
        await conn.execute(sa.insert(PERSON), people(4, at=QUEUED))
        await conn.execute(
            sa.insert(PAIRING),
            [pairing(1, cycle=1, confirmed=None), pairing(2, cycle=1, confirmed=None)],
        )
        await conn.execute(
            sa.insert(DUE_ITEM).values(
                id=7,
                pairing_id=2,
                kind="end_review",
                due_at=QUEUED,
                status="done",
                answers={},
                created_at=QUEUED,
            )
        )
        await conn.execute(
            sa.insert(OUTBOX),
            [
                message("pairing:1:continue-asked:1"),
                message("due:7:2"),
                message(f"pause:1:{QUEUED.isoformat()}:2", status="undeliverable"),
                message("pairing:1:kickoff:2", status="sent"),  # gone: nothing to withdraw
                message("catch-up:2:7"),  # may speak of several pairings
                message("waitlist:round-1:2"),
            ],
        )
    await migrate(database, "upgrade", script.revision)
    await database.upgrade()

    found = {o.dedupe_key: o for o in await rows(database, Outbox)}
    assert {key: o.pairing_id for key, o in found.items()} == {
        "pairing:1:continue-asked:1": 1,
        "due:7:2": 2,
        f"pause:1:{QUEUED.isoformat()}:2": 2,
        "pairing:1:kickoff:2": None,
        "catch-up:2:7": None,
        "waitlist:round-1:2": None,
    }
    # Nothing is withdrawn by the upgrade itself.
    assert all(o.withdrawn_at is None and o.status != "withdrawn" for o in found.values())
