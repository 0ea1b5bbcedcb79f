"""processed_event keeps each record only as long as it can still stop a repeat.

Slack request signatures: Slack refuses a request more than five minutes old, so a
signature's record is done after that window (twice it, to be safe). Platform event ids
(Slack's, Teams') and Teams file-consent keys: retries come within the hour; two days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.slack.http import SIGNATURES
from handlers.core.program import Program
from storage import Database, ProcessedEvent, queries
from storage.queries import prune_processed_events
from tests.handlers.cycle_world import World
from tests.helpers import rows

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


async def _record(database: Database, platform: str, event_id: str, *, ago: timedelta) -> None:
    async with database.session() as session:
        session.add(ProcessedEvent(platform=platform, event_id=event_id, received_at=NOW - ago))


async def _kept(database: Database) -> set[str]:
    return {event.event_id for event in await rows(database, ProcessedEvent)}


async def _prune(database: Database) -> int:
    async with database.session() as session:
        return await prune_processed_events(session, now=NOW)


async def test_each_kind_of_record_goes_once_it_can_no_longer_stop_a_repeat(
    database: Database,
) -> None:
    await _record(database, SIGNATURES, "signature-old", ago=timedelta(minutes=11))
    await _record(database, SIGNATURES, "signature-fresh", ago=timedelta(minutes=9))
    for platform in ("slack", "teams", "teams-consent"):
        await _record(database, platform, f"{platform}-old", ago=timedelta(days=2, minutes=1))
        await _record(database, platform, f"{platform}-day", ago=timedelta(days=1))

    assert await _prune(database) == 4

    assert await _kept(database) == {
        "signature-fresh",
        "slack-day",
        "teams-day",
        "teams-consent-day",
    }
    assert await _prune(database) == 0


async def test_a_long_table_is_pruned_a_batch_a_call(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "PRUNE_AT_ONCE", 2)
    for number in range(3):
        await _record(database, "slack", f"old-{number}", ago=timedelta(days=30))

    assert await _prune(database) == 2
    assert await _prune(database) == 1
    assert await _kept(database) == set()


async def test_the_due_pass_prunes_old_records(database: Database, program: Program) -> None:
    world = World(database, program, start=NOW)
    await _record(database, "slack", "old", ago=timedelta(days=3))
    await _record(database, SIGNATURES, "signature-old", ago=timedelta(hours=1))
    await _record(database, "slack", "recent", ago=timedelta(hours=1))

    await world.tick()

    assert await _kept(database) == {"recent"}
