"""``mentorbot match`` for a circles program: the round printed, and approved as for pairs
(both databases)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from handlers.core.program import Programs
from storage import Circle, CircleMember, Database
from tests.bot.cli_helpers import Cli
from tests.conftest import CIRCLES_PROGRAMS
from tests.handlers.circles.circle_world import CIRCLES, LEAD, CircleWorld
from tests.helpers import rows

NOW = "2026-11-23T10:00:00+00:00"


@pytest.fixture
async def world(
    database: Database, circle_programs: Programs, monkeypatch: pytest.MonkeyPatch
) -> CircleWorld:
    monkeypatch.setenv("MENTORBOT_CONFIG", str(CIRCLES_PROGRAMS))
    world = CircleWorld(database, circle_programs, monkeypatch)
    ana = await world.facilitator("ana@x.com", "Ana Lima")
    members = [await world.member(f"m{n}@x.com", f"Member {n}") for n in range(3)]
    kai = await world.member("kai@x.com", "Kai Ono")
    world.forms((ana, members), left_over=[(kai, "no facilitator shares their hours")])
    return world


def stored(database_url: str, model: Any) -> list[Any]:
    """Every row of a table, read on a connection of its own (the command line ran its own
    event loop)."""

    async def read() -> list[Any]:
        database = Database(database_url)
        try:
            return await rows(database, model)
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_match_approves_every_circle_of_the_round(
    cli: Cli, world: CircleWorld, database_url: str
) -> None:
    code, out, err = cli.at(NOW).run("match", "--program", CIRCLES, "--as", LEAD)
    assert code == 0, err
    assert "1 circle(s); These circles are within 2% of the best possible." in out
    assert "1. Ana Lima facilitates Member 0, Member 1, Member 2 · fit 0.72" in out
    assert "  Kai Ono: no facilitator shares their hours" in out
    assert "Sent 1 circle proposal(s)." in out
    (circle,) = stored(database_url, Circle)
    assert circle.status == "proposed"
    assert len(stored(database_url, CircleMember)) == 4


def test_a_dry_run_prints_the_circles_as_json_and_sends_nothing(
    cli: Cli, world: CircleWorld, database_url: str
) -> None:
    code, out, err = cli.at(NOW).run(
        "match", "--program", CIRCLES, "--dry-run", "--json", "--as", LEAD
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["circles"] == [
        {
            "facilitator": "ana@x.com",
            "members": ["m0@x.com", "m1@x.com", "m2@x.com"],
            "score": 0.72,
            "reasons": [
                "shares Coaching and Influence with 2 others",
                "5 h of working hours in common with everyone",
            ],
        }
    ]
    assert report["optimality_gap"] == 0.013
    assert report["left_over"] == [
        {"member": "kai@x.com", "why": "no facilitator shares their hours"}
    ]
    assert stored(database_url, Circle) == []
