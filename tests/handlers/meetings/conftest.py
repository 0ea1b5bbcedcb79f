"""The simulated program the meetings tests walk through (tests/handlers/cycle_world.py)."""

from __future__ import annotations

import pytest

from handlers.core.program import Program
from storage import Database
from tests.handlers.cycle_world import World


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)
