"""Migration 0014 (several programs): every due item and feedback row takes its pairing's
program, and nothing already stored is lost, on a database filled by the demo and a walked
cycle in both of the shipped programs.

The database is filled at head, taken down to 0013 (the schema before programs named their
due items and feedback) and up again: the upgrade must put back, from the pairings alone,
exactly the program every row had, and every other row and column must come through both
steps unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import load_programs
from bot.demo import load_demo
from handlers import build_engine
from handlers.core.programs import Programs
from scheduler.due import DueReport, run_due
from storage import Database, DueItem, Feedback, Pairing, Person
from tests.conftest import ROOT
from tests.handlers.cycle_world import World, log_session
from tests.helpers import rows
from tests.storage.migrating import migrate, migration_named

#: Monday 23 November 2026, 10:00 UTC: the demo is loaded, the leads match.
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
#: Who leads each shipped program (app.yaml), and so runs its match.
LEADS = {"leadership-2027": "priya.shah@example.com", "reverse-2027": "elena.petrova@example.com"}
#: The columns migration 0014 adds, which the downgrade takes away.
ADDED = {"due_item": "program", "feedback": "program"}


class ProgramsWorld(World):
    """cycle_world's World, over every program of a file instead of one."""

    def __init__(self, database: Database, programs: Programs) -> None:
        super().__init__(database, programs.first, START)
        self.programs = programs
        self.engine = build_engine(programs=programs, database=database, clock=self.clock)

    async def tick(self) -> DueReport:
        report = await run_due(self.database, self.programs, now=self.clock.now())
        while (await self.worker.run_once()).total:
            pass
        return report


async def _walk_a_cycle(world: ProgramsWorld) -> list[Pairing]:
    """The demo, then in each program: a match round, one pair accepted, a plan, a
    session logged and its pulse answered, a month of check-ins and the calibration."""
    async with world.database.session() as session:
        await load_demo(session, world.programs, now=world.clock.now())
    people = {p.id: p for p in await rows(world.database, Person)}
    busy: set[int] = set()
    active = []
    for program, lead in LEADS.items():
        chat = world.chat(next(p for p in people.values() if p.email == lead))
        await chat.expect("match", "Proposals to review")
        await chat.send("approve all")
        proposed = [p for p in await rows(world.database, Pairing) if p.program == program]
        pairing = next(p for p in proposed if p.mentee_id not in busy and p.mentor_id not in busy)
        busy |= {pairing.mentee_id, pairing.mentor_id}
        mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
        await world.chat(mentor).expect(f"accept {pairing.id}", "I've asked")
        await world.chat(mentee).expect(f"accept {pairing.id}", "you're paired with")
        plan = world.chat(mentee)
        await plan.expect("plan", "Milestone 1")
        await plan.send("Run my first team retrospective")
        await plan.send("in 3 weeks")
        await plan.send("2")
        await log_session(world.chat(mentor), notes="We talked it through.")
        pulse = world.chat(mentee)
        await pulse.send(f"feedback {pairing.id} pulse")
        await pulse.send("4")
        await pulse.send("yes")
        await pulse.expect("Worth the hour", "Thank you!")
        active.append(pairing)
    await world.walk(days=31)
    return active


async def _tables(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (but alembic's), in a stable order."""
    async with database.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        found = {}
        for name in sorted(set(names) - {"alembic_version"}):
            result = await conn.execute(sa.text(f'SELECT * FROM "{name}"'))
            found[name] = sorted(
                (dict(row._mapping) for row in result), key=lambda row: repr(sorted(row.items()))
            )
        return found


#: Tables later migrations add (circles, meetings): going down to 0013 takes them away too.
LATER_TABLES = {
    "circle",
    "circle_member",
    "circle_session",
    "circle_attendance",
    "circle_feedback",
    "circle_due",
    "meeting",
    "calendar_feed",
}


def _without_added(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The tables as 0013 has them: no invitations, no program on due items and feedback
    (nor the tables of later migrations)."""
    return {
        name: sorted(
            ({k: v for k, v in row.items() if ADDED.get(name) != k} for row in found),
            key=lambda row: repr(sorted(row.items())),
        )
        for name, found in tables.items()
        if name != "invitation" and name not in LATER_TABLES
    }


@pytest.fixture
def world(database: Database) -> ProgramsWorld:
    return ProgramsWorld(database, load_programs(ROOT / "app.yaml"))


async def test_due_items_and_feedback_take_their_pairings_program_and_nothing_is_lost(
    world: ProgramsWorld,
) -> None:
    active = await _walk_a_cycle(world)
    due = await rows(world.database, DueItem)
    feedback = await rows(world.database, Feedback)
    # The walk left something of each kind to carry through the migration.
    assert {d.status for d in due} >= {"pending", "done"}
    assert {f.status for f in feedback} >= {"asked", "answered"}
    assert {f.survey for f in feedback} >= {"pulse", "calibration"}
    assert {d.program for d in due} == {f.program for f in feedback} == set(LEADS)
    assert {p.program for p in active} == set(LEADS)
    before = await _tables(world.database)

    script = migration_named("_programs.py")
    assert isinstance(script.down_revision, str)
    await migrate(world.database, "downgrade", script.down_revision)
    between = await _tables(world.database)
    assert "invitation" not in between
    assert all("program" not in row for row in between["due_item"] + between["feedback"])
    assert between == _without_added(before)

    await migrate(world.database, "upgrade", "head")
    after = await _tables(world.database)
    assert after == before
    program_of = {p["id"]: p["program"] for p in after["pairing"]}
    for row in after["due_item"] + after["feedback"]:
        assert row["program"] == program_of[row["pairing_id"]], row
