"""A claim takes at most its batch, whichever plan PostgreSQL chooses for it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from handlers.core.program import Program
from scheduler.claims import claim, lease_until
from scheduler.due import DUE_ITEMS, LEASE
from storage import Database
from tests.scheduler.test_due_workers import NOW, seed

#: Planner settings under which the chosen ids are joined to the table by a nested loop
#: that runs the choice again for each row, as PostgreSQL may pick with other statistics.
RESCANNING = (
    "SET LOCAL enable_hashagg = off",
    "SET LOCAL enable_hashjoin = off",
    "SET LOCAL enable_mergejoin = off",
    "SET LOCAL enable_material = off",
    "SET LOCAL enable_sort = off",
)


@pytest.mark.postgres
@pytest.mark.parametrize("plan", ["default", "rescanning"])
async def test_a_claim_takes_no_more_than_its_batch(
    pg: Database, program: Program, plan: str
) -> None:
    seeded = await seed(pg, program, 4)
    assert len(seeded.due_now) == 8
    async with pg.session() as session:
        conn = await session.connection()
        if plan == "rescanning":
            for setting in RESCANNING:
                await conn.execute(sa.text(setting))
        rows = await claim(
            conn,
            DUE_ITEMS,
            now=NOW,
            until=lease_until(NOW, LEASE),
            returning=(DUE_ITEMS.table.c.id,),
            batch=1,
        )
    assert len(rows) == 1
