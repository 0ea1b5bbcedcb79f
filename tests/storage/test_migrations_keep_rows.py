"""Going back a migration and forward again loses no row of any table.

On SQLite, alembic's batch mode rebuilds a table to drop a column: it drops the old table,
and with foreign keys on, every row that points at it goes too (a pairing's sessions,
surveys and milestones). Downgrades drop columns in place instead; this walks a lived-in
database down to the revision before this work and back, on both databases.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from handlers.core.program import Program
from storage.database import Database
from tests.handlers.cycle_world import World, log_session
from tests.helpers import make_person
from tests.storage.migrating import migrate

#: The revision before plan versions, session sides and lapses (0010–0012).
BEFORE = "0009"


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def _counts(database: Database) -> dict[str, int]:
    async with database.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        return {
            name: (await conn.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"'))).scalar_one()
            for name in sorted(names)
            if name != "alembic_version"
        }


async def test_a_downgrade_and_upgrade_keep_every_row(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    chat = world.chat(lee)
    await chat.send("plan")
    await chat.send("Shadow a leadership meeting")
    await chat.send("in 3 weeks")
    await chat.send("2")
    world.clock.advance(days=1)
    await log_session(world.chat(ana), minutes="50", notes="Talked it through", progress="2")
    await make_person(world.database, "someone.else@example.com")
    before = await _counts(world.database)
    assert before["session_log"] and before["feedback"] and before["milestone"]

    await migrate(world.database, "downgrade", BEFORE)
    between = await _counts(world.database)
    await world.database.upgrade()
    after = await _counts(world.database)

    kept = {name: count for name, count in before.items() if name in between}
    assert {name: between[name] for name in kept} == kept
    # Tables the newer revisions made come back empty; only plan_version takes its rows
    # back from the plans (each plan becomes its version 1).
    assert {name: after[name] for name in kept} == kept
    assert after["plan_version"] == before["plan_version"]
