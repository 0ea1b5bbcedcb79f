"""Fixtures for any test of tests/bot: the real HTTP server with Slack or Teams on, and the
real command line run in this process.

A module that needs a different server (an engine with extra forms) defines its own
``slack`` or ``teams`` fixture, which takes precedence.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from handlers.core.program import Program
from storage import Database
from tests.bot.cli_helpers import ONE_PROGRAM, Cli
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


@pytest.fixture
def bare_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The real command line, in this process, without mentorbot's settings from outside.

    Its program file is the one-program fixture (see ``ONE_PROGRAM``).
    """
    for name in list(os.environ):
        if name.startswith(("MENTORBOT_", "SLACK_", "Microsoft", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MENTORBOT_CONFIG", str(ONE_PROGRAM))
    return Cli(monkeypatch, capsys)


@pytest.fixture
def cli(bare_cli: Cli, database_url: str) -> Cli:
    """The real command line, in this process, against the test's database."""
    bare_cli.monkeypatch.setenv("MENTORBOT_DATABASE_URL", database_url)
    return bare_cli
