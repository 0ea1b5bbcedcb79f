"""Data rights: erasure leaves no trace but keeps the figures; my-data; notes retention."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from handlers.core.errors import NotALead
from handlers.core.messages import Inbound
from handlers.core.program import PrivacySettings, Program, Programs
from handlers.people.privacy import ERASED_NAME, expire_notes, forget_person
from handlers.reports.catalogue import CATALOGUE
from storage import AuditEntry, Database, Feedback, Outbox, Pairing, Person, SessionLog
from storage.models import METADATA
from tests.handlers.cycle_world import LEAD, World, log_session
from tests.helpers import rows

EMAIL, NAME = "zuzanna.quill@x.com", "Zuzanna Quill"


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def paired(world: World) -> tuple[Person, Person, Pairing]:
    """An active pairing whose mentee has a distinctive name, a logged session and feedback."""
    mentee, mentor, pairing = await world.pair(mentee_email=EMAIL, mentee_name=NAME)
    await log_session(world.chat(mentor), notes=f"Talked with {NAME} about delegation.")
    return mentee, mentor, pairing


async def every_value(database: Database) -> str:
    """Every row of every table, as one lower-case text."""
    found: list[str] = []
    async with database.engine.connect() as conn:
        for table in METADATA.sorted_tables:
            for row in (await conn.execute(sa.select(table))).all():
                found.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(found).lower()


async def test_forget_removes_every_trace_of_the_person(world: World) -> None:
    mentee, _, _ = await paired(world)
    assert EMAIL in await every_value(world.database)
    erasure = await forget_person(
        world.database,
        Programs.one(world.program),
        email=EMAIL,
        now=world.clock.now(),
        requested_by=LEAD,
    )
    assert erasure is not None
    text = await every_value(world.database)
    assert EMAIL not in text and NAME.lower() not in text
    [tombstone] = [p for p in await rows(world.database, Person) if p.id == mentee.id]
    assert tombstone.name == ERASED_NAME and tombstone.email.endswith("@erased.invalid")
    assert tombstone.attributes == {} and tombstone.timezone is None
    if world.database.is_sqlite:
        file = Path(world.database.url.split("///", 1)[1])
        for path in (file, Path(f"{file}-wal")):
            if path.exists():
                data = path.read_bytes().lower()
                assert EMAIL.encode() not in data and NAME.lower().encode() not in data


async def test_forget_keeps_pairings_sessions_and_feedback_for_the_figures(
    world: World,
) -> None:
    mentee, _, pairing = await paired(world)
    before = {m: len(await rows(world.database, m)) for m in (Pairing, SessionLog, Feedback)}
    await forget_person(
        world.database, Programs.one(world.program), email=EMAIL, now=world.clock.now()
    )
    after = {m: len(await rows(world.database, m)) for m in (Pairing, SessionLog, Feedback)}
    assert after == before
    [kept] = await rows(world.database, Pairing)
    assert (kept.id, kept.mentee_id, kept.status) == (pairing.id, mentee.id, "ended")
    [logged] = await rows(world.database, SessionLog)
    assert (logged.notes, logged.summary, logged.minutes) == (None, None, 45)
    async with world.database.session() as session:
        report = await CATALOGUE.kinds["overview"].build(
            session, world.program, now=world.clock.now()
        )
    # Small programs show counts below the privacy threshold as "fewer than N"; the point is
    # that the report still builds over the tombstone.
    assert report.kind == "overview" and "Active pairs" in dict(report.figures)


async def test_forget_tells_the_other_side_kindly_without_the_name(world: World) -> None:
    _, mentor, _ = await paired(world)
    result = await forget_person(
        world.database, Programs.one(world.program), email=EMAIL, now=world.clock.now()
    )
    assert result is not None and result.pairings_ended == 1
    told = [o for o in await rows(world.database, Outbox) if o.dedupe_key.endswith(":erased")]
    assert [o.person_id for o in told] == [mentor.id]
    text = told[0].payload[0]["text"]
    assert text.startswith("Your mentee has left the mentoring program") and NAME not in text
    assert "Your mentee has left" in await world.read_waiting(mentor)


async def test_forget_is_audited_without_the_email(world: World) -> None:
    mentee, _, _ = await paired(world)
    await forget_person(
        world.database,
        Programs.one(world.program),
        email=EMAIL,
        now=world.clock.now(),
        requested_by=LEAD,
    )
    [entry] = [e for e in await rows(world.database, AuditEntry) if e.action == "forget"]
    assert (entry.actor, entry.target, entry.allowed) == (LEAD, f"person:{mentee.id}", True)
    assert EMAIL not in json.dumps([entry.target, entry.detail])


async def test_forget_asked_by_someone_not_a_lead_is_refused_and_audited(world: World) -> None:
    await paired(world)
    with pytest.raises(NotALead):
        await forget_person(
            world.database,
            Programs.one(world.program),
            email=EMAIL,
            now=world.clock.now(),
            requested_by="x@x.com",
        )
    assert EMAIL in await every_value(world.database)
    [entry] = [e for e in await rows(world.database, AuditEntry) if e.action == "forget"]
    assert (entry.actor, entry.allowed) == ("x@x.com", False)


async def test_forget_of_someone_not_in_the_directory_finds_no_one(world: World) -> None:
    found = await forget_person(
        world.database, Programs.one(world.program), email="ghost@x.com", now=world.clock.now()
    )
    assert found is None


async def test_my_data_returns_the_export_of_the_person_asking_only(world: World) -> None:
    _, mentor, _ = await paired(world)
    assert mentor.id is not None
    [reply] = await world.engine.handle(Inbound("shell", mentor.email, mentor.id, text="my-data"))
    assert reply.attachment is not None
    assert (reply.attachment.filename, reply.attachment.media_type) == (
        "mentorbot-my-data.json",
        "application/json",
    )
    assert "mentorbot-my-data.json" in reply.text
    document = json.loads(reply.attachment.content)
    assert document["profile"]["email"] == "ana@x.com"
    assert [p["with"] for p in document["pairings"]] == [NAME]
    # The other side's email is not theirs to see.
    assert EMAIL not in reply.attachment.content


# --- retention -----------------------------------------------------------------------------


async def test_the_tick_deletes_notes_and_summaries_past_retention_only(
    world: World, program: Program
) -> None:
    _, _, pairing = await paired(world)
    today = world.clock.now().date()
    async with world.database.session() as session:
        [first] = (await session.exec(sa.select(SessionLog))).scalars().all()  # type: ignore[call-overload]
        first.summary = {"themes": ["delegation"]}
        session.add(first)
        session.add(
            SessionLog(
                pairing_id=pairing.id,
                held_on=today - timedelta(days=40),
                minutes=30,
                notes="Old words.",
                summary={"themes": ["old"]},
                created_at=world.clock.now(),
            )
        )
    world.programs = Programs.one(
        program.model_copy(update={"privacy": PrivacySettings(retain_notes_days=30)})
    )
    report = await world.tick()
    assert report.notes_expired == 1 and report.as_dict()["notes_expired"] == 1
    logs = {s.held_on: s for s in await rows(world.database, SessionLog)}
    assert len(logs) == 2
    old = logs[today - timedelta(days=40)]
    assert (old.notes, old.summary, old.minutes) == (None, None, 30)
    assert logs[today].notes is not None and logs[today].summary == {"themes": ["delegation"]}
    assert (await world.tick()).notes_expired == 0


async def test_retention_off_keeps_every_note(world: World, program: Program) -> None:
    assert program.privacy.retain_notes_days == 365
    off = program.model_copy(update={"privacy": PrivacySettings()})
    await paired(world)
    async with world.database.session() as session:
        assert await expire_notes(session, off, now=world.clock.now() + timedelta(days=9999)) == 0


def test_retention_must_be_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        PrivacySettings(retain_notes_days=0)
