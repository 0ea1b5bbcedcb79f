"""Rows that only mention a pairing or a person outlive it, with the mention emptied.

``outbox.pairing_id`` and ``session_log.second_by`` are ``ON DELETE SET NULL``. On SQLite
the migrations add both columns in place with their own ``REFERENCES ... ON DELETE SET
NULL`` (0011, 0013); these tests hold that true on both databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from storage import Database, Outbox, Pairing, Person, SessionLog
from tests.helpers import make_person, rows

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _pairing(database: Database, mentee: Person, mentor: Person) -> int:
    async with database.session() as session:
        assert mentee.id is not None and mentor.id is not None
        pairing = Pairing(
            program="leadership-2027",
            mentee_id=mentee.id,
            mentor_id=mentor.id,
            status="active",
            batch="b",
            proposed_at=NOW,
            expires_at=NOW,
        )
        session.add(pairing)
        await session.flush()
        assert pairing.id is not None
        return pairing.id


async def test_deleting_a_pairing_keeps_its_messages_without_the_pairing(
    database: Database,
) -> None:
    ana = await make_person(database, "ana@example.com")
    lee = await make_person(database, "lee@example.com")
    pairing_id = await _pairing(database, ana, lee)
    async with database.session() as session:
        assert ana.id is not None
        session.add(
            Outbox(
                dedupe_key=f"pairing:{pairing_id}:hello",
                person_id=ana.id,
                payload=[{"text": "hello"}],
                status="sent",
                next_attempt_at=NOW,
                created_at=NOW,
                pairing_id=pairing_id,
            )
        )
    async with database.engine.begin() as conn:
        table = Pairing.__table__  # type: ignore[attr-defined]
        await conn.execute(sa.delete(table).where(table.c.id == pairing_id))

    [message] = await rows(database, Outbox)
    assert message.dedupe_key == f"pairing:{pairing_id}:hello"
    assert message.pairing_id is None


async def test_deleting_a_person_empties_the_second_side_of_their_sessions(
    database: Database,
) -> None:
    ana = await make_person(database, "ana@example.com")
    lee = await make_person(database, "lee@example.com")
    sam = await make_person(database, "sam@example.com")
    pairing_id = await _pairing(database, ana, lee)
    async with database.session() as session:
        session.add(
            SessionLog(
                pairing_id=pairing_id,
                held_on=date(2026, 11, 20),
                minutes=45,
                logged_by=ana.id,
                created_at=NOW,
                second_by=sam.id,
                second_at=NOW,
                second_minutes=40,
            )
        )
    async with database.engine.begin() as conn:
        table = Person.__table__  # type: ignore[attr-defined]
        await conn.execute(sa.delete(table).where(table.c.id == sam.id))

    [log] = await rows(database, SessionLog)
    assert log.logged_by == ana.id
    assert log.second_by is None
    assert log.second_minutes == 40
