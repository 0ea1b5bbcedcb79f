"""A meeting's invite reaches both people as a file: uploaded to the Slack DM, offered on a
file-consent card in Teams, saved to a file by the shell.

Everything travels through the real outbox worker and senders to fakes on loopback.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
from aiohttp import web

from bot.shell import run_shell
from bot.slack.files import NO_INVITE
from bot.teams.app import ALREADY_SAVED
from bot.teams.files import FILE_CONSENT_TYPE, FILE_INFO_TYPE
from handlers import build_engine
from handlers.core.program import Program
from handlers.meetings.ics import problems
from storage import Database, Meeting
from tests.bot.slack_harness import SlackHarness
from tests.bot.teams_harness import TeamsHarness
from tests.bot.test_my_data_files import FileStore
from tests.fakes import serve_on_loopback
from tests.handlers.cycle_world import World
from tests.handlers.meetings.meeting_world import book

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
async def onedrive() -> AsyncIterator[FileStore]:
    """Where Teams opens upload sessions when a person allows a file."""
    store = FileStore()
    app = web.Application()
    app.router.add_put("/upload/{session}", store._put)
    async with serve_on_loopback(app) as url:
        store.url = url
        yield store


async def booked(database: Database, program: Program) -> Meeting:
    """Ana Lopez mentors Ben Kim (the platforms' fake people); a meeting is booked."""
    world = World(database, program)
    _ben, ana, pairing = await world.pair(
        mentee_email="ben.kim@example.com",
        mentee_name="Ben Kim",
        mentor_email="ana.lopez@example.com",
        mentor_name="Ana Lopez",
    )
    await world.read_waiting(ana)  # what the pairing itself sent is out of the way
    return await book(
        world, pairing, starts_at=TUESDAY, every_days=14, until=TUESDAY.replace(month=12, day=29)
    )


def parsed(data: bytes | str) -> icalendar.Calendar:
    text = data.decode() if isinstance(data, bytes) else data
    assert problems(text) == []
    return icalendar.Calendar.from_ical(text)


# -- Slack ----------------------------------------------------------------------------------


async def test_slack_uploads_the_invite_to_each_persons_dm_after_the_message(
    slack: SlackHarness, database: Database, program: Program
) -> None:
    meeting = await booked(database, program)
    while (await slack.runtime.worker.run_once()).total:
        pass
    uploads = [u for u in slack.fake.files() if u.filename.endswith(".ics")]
    assert sorted(u.channel or "" for u in uploads) == ["DU0ANA", "DU0BEN"]
    for upload in uploads:
        assert upload.filename == f"mentoring-invite-{meeting.id}-v0.ics"
        assert upload.data is not None
        calendar = parsed(upload.data)
        assert calendar["METHOD"] == "REQUEST"
        assert calendar.events[0]["UID"] == meeting.uid
    posts = [p.args for p in slack.fake.posts() if "Your mentoring meetings" in p.args["text"]]
    assert sorted(p["channel"] for p in posts) == ["DU0ANA", "DU0BEN"]


async def test_slack_an_invite_that_cannot_be_uploaded_is_said_to_be_missing(
    slack: SlackHarness, database: Database, program: Program
) -> None:
    await booked(database, program)
    slack.fake.fail("upload", status=403, error="forbidden", times=2)
    while (await slack.runtime.worker.run_once()).total:
        pass
    notices = [p.args["text"] for p in slack.fake.posts() if "couldn't attach" in p.args["text"]]
    assert len(notices) == 2
    assert notices[0] == NO_INVITE.format(filename=re.findall(r"mentoring-\S+\.ics", notices[0])[0])
    assert [u for u in slack.fake.files() if u.filename.endswith(".ics")] == []


# -- Teams ----------------------------------------------------------------------------------


async def test_teams_offers_the_invite_on_a_consent_card_that_uploads_it_when_allowed(
    teams: TeamsHarness, onedrive: FileStore, database: Database, program: Program
) -> None:
    await teams.say("help")  # Ana opens a chat with the bot: Teams keeps a reference
    meeting = await booked(database, program)
    while (await teams.runtime.worker.run_once()).total:
        pass
    assert "Your mentoring meetings with Ben Kim" in teams.last_text()
    offer = teams.last_attachment(FILE_CONSENT_TYPE)
    assert offer["name"] == f"mentoring-invite-{meeting.id}-v0.ics"
    context = offer["content"]["acceptContext"]
    # Another process (a restart, another replica) can upload it: the card carries it.
    teams.runtime.teams._offers.clear()  # type: ignore[union-attr]
    response = await teams.file_consent("accept", context, upload_info=onedrive.upload_info())
    assert response.status == 200
    [(_path, _headers, body)] = onedrive.puts
    assert parsed(body).events[0]["UID"] == meeting.uid
    assert len(body) == offer["content"]["sizeInBytes"]
    assert (
        teams.last_attachment(FILE_INFO_TYPE)["contentUrl"] == onedrive.upload_info()["contentUrl"]
    )


async def test_teams_allowing_an_invite_card_twice_uploads_it_once(
    teams: TeamsHarness, onedrive: FileStore, database: Database, program: Program
) -> None:
    await teams.say("help")
    await booked(database, program)
    while (await teams.runtime.worker.run_once()).total:
        pass
    context = teams.last_attachment(FILE_CONSENT_TYPE)["content"]["acceptContext"]
    await teams.file_consent("accept", context, upload_info=onedrive.upload_info())
    shown = teams.last_attachment(FILE_INFO_TYPE)
    again = await teams.file_consent("accept", context, upload_info=onedrive.upload_info("2"))
    assert again.status == 200
    assert len(onedrive.puts) == 1
    assert ALREADY_SAVED in teams.last_text()
    assert teams.last_attachment(FILE_INFO_TYPE) == shown  # no second file in the chat


async def test_teams_an_invite_card_whose_upload_failed_can_be_allowed_again(
    teams: TeamsHarness, onedrive: FileStore, database: Database, program: Program
) -> None:
    await teams.say("help")
    await booked(database, program)
    while (await teams.runtime.worker.run_once()).total:
        pass
    context = teams.last_attachment(FILE_CONSENT_TYPE)["content"]["acceptContext"]
    broken = {**onedrive.upload_info(), "uploadUrl": f"{onedrive.url}nowhere"}
    await teams.file_consent("accept", context, upload_info=broken)
    assert "couldn't save the file to your OneDrive" in teams.last_text()
    await teams.file_consent("accept", context, upload_info=onedrive.upload_info())
    assert len(onedrive.puts) == 1
    assert (
        teams.last_attachment(FILE_INFO_TYPE)["contentUrl"] == onedrive.upload_info()["contentUrl"]
    )


async def test_teams_a_forged_invite_context_uploads_nothing(
    teams: TeamsHarness, onedrive: FileStore
) -> None:
    forged = {
        "key": "x",
        "again": "calendar",
        "invite": {"filename": "../evil.exe", "content": "MZ"},
    }
    response = await teams.file_consent("accept", forged, upload_info=onedrive.upload_info())
    assert response.status == 200
    assert onedrive.puts == []
    assert "Type calendar to get a new one" in teams.last_text()


# -- shell ----------------------------------------------------------------------------------


async def test_the_shell_saves_the_invite_to_a_file_and_prints_its_path(
    database: Database, program: Program, tmp_path: Path
) -> None:
    meeting = await booked(database, program)
    engine = build_engine(programs=World(database, program).programs, database=database)
    stdout = io.StringIO()
    await run_shell(
        engine=engine,
        database=database,
        email="ben.kim@example.com",
        stdin=io.StringIO(""),
        stdout=stdout,
        files_dir=tmp_path / "files",
    )
    out = stdout.getvalue()
    found = re.search(r"\(Saved (\S+\.ics): (\S+\.ics) — import it", out)
    assert found, out
    path = Path(found.group(2))
    assert path == (tmp_path / "files" / "ben.kim-example.com" / found.group(1)).resolve()
    saved = await asyncio.to_thread(path.read_text, encoding="utf-8")
    assert parsed(saved).events[0]["UID"] == meeting.uid
    assert "BEGIN:VCALENDAR" not in out  # the file, not its text
