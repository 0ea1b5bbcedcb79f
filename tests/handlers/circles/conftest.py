"""A world running the circles program, for every test of running circles."""

from __future__ import annotations

import pytest

from handlers.core.programs import Programs
from storage import Database
from tests.handlers.circles.running_world import circle_world
from tests.handlers.cycle_world import World


@pytest.fixture
async def world(database: Database, circle_programs: Programs) -> World:
    return circle_world(database, circle_programs)
