"""The real HTTP server with Slack or Teams on, for any test of tests/bot that asks for one.

A module that needs a different server (an engine with extra forms) defines its own
``slack`` or ``teams`` fixture, which takes precedence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from handlers.program import Program
from storage import Database
from tests.bot.slack_harness import SlackHarness, slack_server
from tests.bot.teams_harness import TeamsHarness, teams_server


@pytest.fixture
async def slack(database: Database, program: Program) -> AsyncIterator[SlackHarness]:
    async with slack_server(database, program) as harness:
        yield harness


@pytest.fixture
async def teams(database: Database, program: Program) -> AsyncIterator[TeamsHarness]:
    async with teams_server(database, program) as harness:
        yield harness
