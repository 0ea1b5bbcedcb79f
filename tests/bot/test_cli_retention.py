"""``mentorbot run-due`` says how many old messages ``privacy.retain_messages_days`` deleted."""

from __future__ import annotations

import asyncio

from storage import Database, OutboxStatus
from tests.bot.cli_helpers import Cli
from tests.handlers.core.test_message_retention import LATELY, LONG_AGO, NOW, _message, _person


async def test_run_due_says_how_many_old_messages_went(cli: Cli, database: Database) -> None:
    ana = await _person(database)
    await _message(database, ana, "old", status=OutboxStatus.SENT, at=LONG_AGO)
    await _message(database, ana, "older", status=OutboxStatus.FAILED, at=LONG_AGO)
    await _message(database, ana, "recent", status=OutboxStatus.SENT, at=LATELY)

    code, out, err = await asyncio.to_thread(cli.run, "run-due", "--now", NOW.isoformat())

    assert code == 0, err
    assert "2 messages that went out more than privacy.retain_messages_days ago deleted" in out
    code, out, err = await asyncio.to_thread(cli.run, "run-due", "--now", NOW.isoformat())
    assert "retain_messages_days" not in out
