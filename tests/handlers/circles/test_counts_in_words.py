"""A count of one meets its noun in the singular in what circles say: never "1 members".

The reports keep this rule (tests/handlers/reports/test_counts_in_words.py); here the
world holds one of each thing a circle counts: a circle of one member who came to its
session, a circle that meets every day, a program that allows one hour between timezones.
"""

from __future__ import annotations

import re

from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database
from tests.handlers.circles.running_world import PROGRAM, circle_world, running_circle
from tests.handlers.circles.test_formation import facilitator, member, plan
from tests.handlers.cycle_world import World

#: A count of one followed by a noun in the plural.
ONE_PLURAL = re.compile(
    r"(?<!fewer than )\b1 (members|minutes|days|hours|sessions|others|goals|circles|"
    r"surveys|people|facilitators|weeks)\b"
)


def one_at_a_time(programs: Programs) -> Programs:
    """The circles program meeting every day, with one hour allowed between timezones."""

    def changed(program: Program) -> Program:
        if program.id != PROGRAM:
            return program
        cadence = program.cadence.model_copy(update={"checkin_every_days": 1, "cycle_days": 7})
        matching = program.matching.model_copy(update={"max_timezone_gap_hours": 1})
        return program.model_copy(update={"cadence": cadence, "matching": matching})

    return Programs([changed(p) for p in programs], leads=programs.leads)


def plural_ones(texts: list[str]) -> list[str]:
    return [line for text in texts for line in text.splitlines() if ONE_PLURAL.search(line)]


async def test_a_circle_of_one_member_speaks_of_one_in_the_singular(
    database: Database, circle_programs: Programs
) -> None:
    world: World = circle_world(database, one_at_a_time(circle_programs))
    running = await running_circle(world, size=1)
    [ana] = running.members
    fran = world.chat(running.facilitator)
    said = [await fran.send("log")]
    said.append(await fran.send("today"))
    said.append(await fran.send("60"))
    said.append(await fran.send("1"))
    said.append(await fran.send("skip"))
    assert "1 of 1 member there" in said[-1]
    said.append(await world.read_waiting(ana))
    await world.walk(8)
    received = [r.text for r in world.take()]
    assert any("the circle meets every 1 day." in text for text in received), received
    assert plural_ones(said + received) == []


async def test_a_member_too_far_away_hears_of_one_hour_in_the_singular(
    database: Database, circle_programs: Programs
) -> None:
    for k in range(3):
        await member(database, f"m{k}@x.com", timezone="Europe/London")
    far = await member(database, "far@x.com", timezone="Asia/Tokyo")
    await facilitator(database, "fa@x.com", timezone="Europe/London")
    found = await plan(database, one_at_a_time(circle_programs))
    assert far.id is not None
    assert found.left_over[far.id] == (
        "no facilitator with room works within 1 hour of your timezone"
    )
