"""Data rights: erasure leaves no trace but keeps the figures; my-data; notes retention."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from handlers.core.errors import NotALead
from handlers.core.messages import Attachment, Inbound, Reply
from handlers.core.outbox import enqueue
from handlers.core.program import PrivacySettings, Program
from handlers.core.programs import Programs
from handlers.meetings.ics import name_forms, problems
from handlers.people.erasure import ERASED_NAME, forget_person
from handlers.people.retention import expire_notes
from handlers.reports.catalogue import CATALOGUE
from storage import AuditEntry, Database, Feedback, Outbox, Pairing, Person, SessionLog
from storage.models import METADATA
from tests.handlers.cycle_world import LEAD, World, log_session
from tests.handlers.meetings.meeting_world import book
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


def unfolded(value: object) -> str:
    """The value as text with iCalendar's folded lines joined again (RFC 5545 3.1).

    A line break followed by a space or tab is a fold, inside a file or as an escape in the
    JSON a payload quotes it in; so a name split by a fold shows whole.
    """
    text = str(value)
    for fold in ("\r\n ", "\r\n\t", "\n ", "\n\t"):
        text = text.replace(fold, "")
        text = text.replace(json.dumps(fold)[1:-1], "")
    return text


async def every_value(database: Database) -> str:
    """Every row of every table, as one lower-case text, folded lines joined."""
    found: list[str] = []
    async with database.engine.connect() as conn:
        for table in METADATA.sorted_tables:
            for row in (await conn.execute(sa.select(table))).all():
                found.append(json.dumps([unfolded(v) for v in row], ensure_ascii=False))
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


#: Names and emails longer than an invite's line (75 octets), so every line that holds
#: them folds inside them; the second with what a file escapes (``,`` ``;`` ``\\`` ``^``).
LONG_PEOPLE = [
    (
        "Zuzanna Quill-Brzeczyszczykiewicz Wolanska de la Fontaine y Montmorency-Laval",
        "zuzanna.quill-brzeczyszczykiewicz.wolanska@mentoring-programme.example.co.uk",
    ),
    (
        "Łucja Żółtowska-Brzęczyszczykiewicz, de la Fontaine; Mañana\\Jr ^III, Montmorency",
        "lucja.zoltowska-brzeczyszczykiewicz.de-la-fontaine@mentoring-programme.example.co.uk",
    ),
]


@pytest.mark.parametrize(("name", "email"), LONG_PEOPLE, ids=["folded", "folded-escaped"])
async def test_forget_removes_the_person_from_calendar_invites_folded_or_not(
    world: World, name: str, email: str
) -> None:
    mentee, mentor, pairing = await world.pair(mentee_email=email, mentee_name=name)
    await book(world, pairing, starts_at=world.clock.now() + timedelta(days=3))
    invites = [o for o in await rows(world.database, Outbox) if o.dedupe_key.startswith("invite:")]
    [content] = {o.payload[0]["attachment"]["content"] for o in invites}
    # The invite does fold inside them: matching the text as stored would miss these.
    assert email not in content and name not in content
    assert email in unfolded(content) and "Brz" in unfolded(content)
    await forget_person(
        world.database, Programs.one(world.program), email=email, now=world.clock.now()
    )
    text = await every_value(world.database)
    assert email.lower() not in text
    for form in name_forms(name):
        assert form.lower() not in text
    assert "brzeczyszczykiewicz" not in text and "brzęczyszczykiewicz" not in text
    # The mentor still holds the invite and the cancel the ending sent: whole files, which
    # a calendar still reads, that name no one.
    kept = [o for o in await rows(world.database, Outbox) if o.person_id == mentor.id]
    files = [o.payload[0]["attachment"]["content"] for o in kept if "invite:" in o.dedupe_key]
    assert len(files) == 2
    for file in files:
        assert problems(file) == []
        assert all(len(line.encode()) <= 75 for line in file.split("\r\n"))
        assert f"mailto:erased-{mentee.id}@erased.invalid" in unfolded(file)
        assert "Mentoring: Ana Lima and a former participant" in unfolded(file)


async def test_forget_finds_a_file_that_names_the_person_only_across_folds(
    world: World,
) -> None:
    name, email = LONG_PEOPLE[0]
    _, mentor, pairing = await world.pair(mentee_email=email, mentee_name=name)
    await book(world, pairing, starts_at=world.clock.now() + timedelta(days=3))
    [content] = {
        o.payload[0]["attachment"]["content"]
        for o in await rows(world.database, Outbox)
        if o.dedupe_key.startswith("invite:")
    }
    assert mentor.id is not None
    async with world.database.session() as session:
        await enqueue(
            session,
            person_id=mentor.id,
            replies=[
                Reply("Your file.", attachment=Attachment("meeting.ics", content, "text/calendar"))
            ],
            dedupe_key="file-only",
            now=world.clock.now(),
        )
    await forget_person(
        world.database, Programs.one(world.program), email=email, now=world.clock.now()
    )
    [kept] = [o for o in await rows(world.database, Outbox) if o.dedupe_key == "file-only"]
    file = unfolded(kept.payload[0]["attachment"]["content"])
    assert email not in file and name not in file and "a former participant" in file


async def test_forget_finds_a_name_with_capital_letters_beyond_ascii(world: World) -> None:
    # JSON escapes "É" as \u00c9 and SQL's lower() may leave it as is: the search must
    # not lower-case the name before it escapes it.
    name, email = "Émile Ørsted-Łukasiewicz", "emile@x.com"
    await world.pair(mentee_email=email, mentee_name=name)
    await forget_person(
        world.database, Programs.one(world.program), email=email, now=world.clock.now()
    )
    text = await every_value(world.database)
    assert "ørsted" not in text and "łukasiewicz" not in text


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
    with pytest.raises(ValueError, match="keep notes between 1 and 3650 days"):
        PrivacySettings(retain_notes_days=0)
