"""The plan versions migration: plans written before it become versions, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from storage import Database, Pairing, PlanVersion
from storage.types import JSONType, UTCDateTime
from tests.helpers import rows
from tests.storage.migrating import migrate, migration_named

#: When the old plans were written, and when the first was confirmed.
WRITTEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CONFIRMED = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)

PERSON = sa.table(
    "person",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("name", sa.String),
    sa.column("attributes", JSONType),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)
#: The pairing table as it was before plans had versions.
PAIRING = sa.table(
    "pairing",
    sa.column("id", sa.Integer),
    sa.column("program", sa.String),
    sa.column("mentee_id", sa.Integer),
    sa.column("mentor_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("score", sa.Float),
    sa.column("reasons", JSONType),
    sa.column("batch", sa.String),
    sa.column("proposed_at", UTCDateTime),
    sa.column("expires_at", UTCDateTime),
    sa.column("cycle", sa.Integer),
    sa.column("plan_confirmed_at", UTCDateTime),
)
MILESTONE = sa.table(
    "milestone",
    sa.column("pairing_id", sa.Integer),
    sa.column("cycle", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("objective", sa.String),
    sa.column("target_date", sa.Date),
    sa.column("status", sa.String),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)


def people(count: int, *, at: datetime) -> list[dict[str, Any]]:
    """``count`` bare directory rows (ids 1..count), as an older schema takes them."""
    return [
        {
            "id": n,
            "email": f"p{n}@x.com",
            "name": f"Person {n}",
            "attributes": {},
            "created_at": at,
            "updated_at": at,
        }
        for n in range(1, count + 1)
    ]


def pairing(pairing_id: int, *, cycle: int, confirmed: datetime | None) -> dict[str, Any]:
    return {
        "id": pairing_id,
        "program": "leadership-2027",
        "mentee_id": 2 * pairing_id - 1,
        "mentor_id": 2 * pairing_id,
        "status": "active",
        "score": 0.8,
        "reasons": [],
        "batch": "b1",
        "proposed_at": WRITTEN,
        "expires_at": WRITTEN,
        "cycle": cycle,
        "plan_confirmed_at": confirmed,
    }


def milestone(pairing_id: int, cycle: int, position: int, objective: str) -> dict[str, Any]:
    return {
        "pairing_id": pairing_id,
        "cycle": cycle,
        "position": position,
        "objective": objective,
        "target_date": date(2027, 1, 15),
        "status": "on_track",
        "created_at": WRITTEN.replace(minute=position),
        "updated_at": CONFIRMED,
    }


async def test_plans_written_before_versions_become_versions(database: Database) -> None:
    script = migration_named("_plan_versions.py")
    assert isinstance(script.down_revision, str)
    await migrate(database, "downgrade", script.down_revision)
    async with database.engine.begin() as conn:
        await conn.execute(sa.insert(PERSON), people(6, at=WRITTEN))
        await conn.execute(
            sa.insert(PAIRING),
            [
                pairing(1, cycle=1, confirmed=CONFIRMED),  # one confirmed plan
                pairing(2, cycle=2, confirmed=None),  # a plan in each of two cycles
                pairing(3, cycle=1, confirmed=None),  # no plan yet
            ],
        )
        await conn.execute(
            sa.insert(MILESTONE),
            [
                milestone(1, 1, 1, "Run my first team retrospective"),
                milestone(1, 1, 2, "Give feedback to a peer"),
                milestone(2, 1, 1, "Shadow a leadership meeting"),
                milestone(2, 2, 1, "Lead the team offsite"),
            ],
        )
    await migrate(database, "upgrade", script.revision)
    await database.upgrade()

    numbers = {p.id: p.plan_version for p in await rows(database, Pairing)}
    assert numbers == {1: 1, 2: 2, 3: 0}
    found = sorted(await rows(database, PlanVersion), key=lambda v: (v.pairing_id, v.version))
    assert [
        (v.pairing_id, v.cycle, v.version, [m["objective"] for m in v.milestones]) for v in found
    ] == [
        (1, 1, 1, ["Run my first team retrospective", "Give feedback to a peer"]),
        (2, 1, 1, ["Shadow a leadership meeting"]),
        (2, 2, 2, ["Lead the team offsite"]),
    ]
    first = found[0]
    assert first.milestones[0] == {
        "objective": "Run my first team retrospective",
        "target": "2027-01-15",
    }
    # Written by the mentee when the first milestone was; confirmed by the mentor.
    assert (first.written_by, first.written_at) == (1, WRITTEN.replace(minute=1))
    assert (first.confirmed_by, first.confirmed_at) == (2, CONFIRMED)
    assert [(v.confirmed_by, v.confirmed_at) for v in found[1:]] == [(None, None), (None, None)]
    # Nothing says an old card reached the mentor: it shows the current version first.
    assert [v.shown_to_mentor_at for v in found] == [None, None, None]
