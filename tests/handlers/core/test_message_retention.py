"""privacy.retain_messages_days: messages the outbox is done with go after a while.

Never one still waiting or on its way, nor one about a pairing still open (its row and
key are what keep that pairing's steps from being repeated).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ProgramFileError, parse_programs
from handlers.core import outbox as outbox_module
from handlers.core.outbox import expire_messages
from handlers.core.program import PrivacySettings, Program
from handlers.core.programs import Programs
from storage import Database, Outbox, OutboxStatus, Pairing, Person
from tests.conftest import ROOT
from tests.handlers.cycle_world import World
from tests.helpers import make_person, rows

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
#: The default retention: 90 days.
KEPT = PrivacySettings()
LONG_AGO = NOW - timedelta(days=91)
LATELY = NOW - timedelta(days=89)


async def _person(database: Database) -> Person:
    return await make_person(database, "ana@example.com", name="Ana Lima")


async def _pairing(database: Database, status: str) -> int:
    mentee = await make_person(database, f"{status}.mentee@example.com")
    mentor = await make_person(database, f"{status}.mentor@example.com")
    async with database.session() as session:
        assert mentee.id is not None and mentor.id is not None
        pairing = Pairing(
            program="leadership-2027",
            mentee_id=mentee.id,
            mentor_id=mentor.id,
            status=status,
            batch="b",
            proposed_at=LONG_AGO,
            expires_at=LONG_AGO,
        )
        session.add(pairing)
        await session.flush()
        assert pairing.id is not None
        return pairing.id


async def _message(
    database: Database,
    person: Person,
    key: str,
    *,
    status: OutboxStatus,
    at: datetime,
    pairing_id: int | None = None,
) -> None:
    """A message queued (and, if sent, sent) at ``at``."""
    assert person.id is not None
    async with database.session() as session:
        session.add(
            Outbox(
                dedupe_key=key,
                person_id=person.id,
                payload=[{"text": "hello"}],
                status=status.value,
                next_attempt_at=at,
                created_at=at,
                sent_at=at if status is OutboxStatus.SENT else None,
                pairing_id=pairing_id,
            )
        )


async def _keys(database: Database) -> set[str]:
    return {message.dedupe_key for message in await rows(database, Outbox)}


async def _expire(database: Database, privacy: PrivacySettings = KEPT) -> int:
    async with database.session() as session:
        return await expire_messages(session, privacy, now=NOW)


async def test_messages_sent_failed_or_undeliverable_past_the_retention_are_deleted(
    database: Database,
) -> None:
    ana = await _person(database)
    for status in (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNDELIVERABLE):
        await _message(database, ana, f"old-{status.value}", status=status, at=LONG_AGO)
        await _message(database, ana, f"recent-{status.value}", status=status, at=LATELY)

    assert await _expire(database) == 3
    assert await _keys(database) == {"recent-sent", "recent-failed", "recent-undeliverable"}


async def test_the_log_counts_one_deleted_message_in_the_singular(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await _message(database, await _person(database), "old", status=OutboxStatus.SENT, at=LONG_AGO)

    with caplog.at_level(logging.INFO, logger=outbox_module.log.name):
        assert await _expire(database) == 1
    assert "outbox: deleted 1 message past privacy.retain_messages_days" in caplog.messages


async def test_a_message_queued_long_ago_counts_from_when_it_went_out(
    database: Database,
) -> None:
    ana = await _person(database)
    async with database.session() as session:
        assert ana.id is not None
        session.add(
            Outbox(
                dedupe_key="waited",
                person_id=ana.id,
                payload=[{"text": "hello"}],
                status=OutboxStatus.SENT.value,
                next_attempt_at=LONG_AGO,
                created_at=LONG_AGO,
                sent_at=LATELY,
            )
        )

    assert await _expire(database) == 0
    assert await _keys(database) == {"waited"}


async def test_messages_waiting_on_their_way_or_withdrawn_are_never_deleted(
    database: Database,
) -> None:
    ana = await _person(database)
    for status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.WITHDRAWN):
        await _message(database, ana, status.value, status=status, at=LONG_AGO)

    assert await _expire(database) == 0
    assert await _keys(database) == {"pending", "sending", "withdrawn"}


async def test_messages_about_an_open_pairing_stay_until_it_ends(database: Database) -> None:
    ana = await _person(database)
    active = await _pairing(database, "active")
    ended = await _pairing(database, "ended")
    for pairing_id in (active, ended):
        key = f"pairing:{pairing_id}:plan-card:v1"
        await _message(
            database, ana, key, status=OutboxStatus.SENT, at=LONG_AGO, pairing_id=pairing_id
        )

    assert await _expire(database) == 1
    assert await _keys(database) == {f"pairing:{active}:plan-card:v1"}


async def test_retention_null_keeps_every_message(database: Database) -> None:
    ana = await _person(database)
    await _message(database, ana, "ancient", status=OutboxStatus.SENT, at=NOW.replace(year=2000))

    assert await _expire(database, PrivacySettings(retain_messages_days=None)) == 0
    assert await _keys(database) == {"ancient"}


async def test_a_long_outbox_is_cleared_a_batch_a_tick(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "EXPIRE_AT_ONCE", 2)
    ana = await _person(database)
    for number in range(3):
        await _message(database, ana, f"old-{number}", status=OutboxStatus.SENT, at=LONG_AGO)

    assert await _expire(database) == 2
    assert await _expire(database) == 1
    assert await _keys(database) == set()


async def test_the_due_pass_deletes_old_messages(database: Database, program: Program) -> None:
    world = World(database, program, start=NOW)
    ana = await _person(database)
    await _message(database, ana, "old", status=OutboxStatus.SENT, at=LONG_AGO)
    await _message(database, ana, "recent", status=OutboxStatus.SENT, at=LATELY)

    report = await world.tick()

    assert await _keys(database) == {"recent"}
    assert (report.messages_expired, report.as_dict()["messages_expired"]) == (1, 1)


# -- the setting --------------------------------------------------------------------------


SAMPLE = (ROOT / "tests" / "fixtures" / "one_program.yaml").read_text()


def _with_retention(days: str) -> Programs:
    old = "  retain_notes_days: 365\n"
    assert old in SAMPLE
    text = SAMPLE.replace(old, f"{old}  retain_messages_days: {days}\n")
    return parse_programs(text, source="app.yaml")


def test_messages_are_kept_90_days_unless_the_file_says_otherwise() -> None:
    assert parse_programs(SAMPLE, source="app.yaml").privacy.retain_messages_days == 90
    assert _with_retention("400").privacy.retain_messages_days == 400
    assert _with_retention("null").privacy.retain_messages_days is None


@pytest.mark.parametrize("days", ["0", "-5", "29", "3651"])
def test_a_retention_outside_a_month_to_ten_years_is_refused_where_it_is(days: str) -> None:
    with pytest.raises(ProgramFileError) as raised:
        _with_retention(days)
    assert raised.value.lines == [
        "app.yaml:254: privacy.retain_messages_days: keep messages between 30 and 3650 "
        f"days; leave it out for 90, or write null to keep them all (got {days})"
    ]
