"""`my-data` sends the export as a file: uploaded in Slack, offered for consent in Teams,
printed in the shell.

Everything travels through the real server to fakes on loopback: the Slack Web API (with
the three steps of ``files_upload_v2``), the Bot Connector, and a stand-in for the OneDrive
upload session Teams opens when a person allows a file.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.shell import run_shell
from bot.teams.app import ALREADY_SAVED, DECLINED, NO_OFFER
from bot.teams.files import FILE_CONSENT_TYPE, FILE_INFO_TYPE
from handlers import build_engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database
from tests.bot.slack_harness import SlackHarness
from tests.bot.teams_harness import LEAD, TeamsHarness
from tests.fakes import serve_on_loopback
from tests.helpers import FakeClock

FILENAME = "mentorbot-my-data.json"
ANA = "ana.lopez@example.com"


@dataclass
class FileStore:
    """Records PUTs to upload sessions, as OneDrive would receive them."""

    url: str = ""
    puts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    async def _put(self, request: web.Request) -> web.Response:
        self.puts.append((request.path, dict(request.headers), await request.read()))
        return web.json_response({"id": "onedrive-item-1", "name": FILENAME}, status=201)

    def upload_info(self, session: str = "session-1") -> dict[str, Any]:
        return {
            "name": FILENAME,
            "uploadUrl": f"{self.url}upload/{session}",
            "contentUrl": f"{self.url}files/{FILENAME}",
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": "json",
        }


@pytest.fixture
async def files() -> AsyncIterator[FileStore]:
    store = FileStore()
    app = web.Application()
    app.router.add_put("/upload/{session}", store._put)
    async with serve_on_loopback(app) as url:
        store.url = url
        yield store


# -- Slack ----------------------------------------------------------------------------------


async def test_slack_my_data_uploads_the_export_as_a_json_file_to_the_dm(
    slack: SlackHarness,
) -> None:
    await slack.dm("my-data")
    await slack.fake.wait_for("files.completeUploadExternal")
    [post] = slack.fake.posts()
    assert FILENAME in post.args["text"]
    assert '"profile"' not in post.args["text"]  # the data is in the file, not the message
    [upload] = slack.fake.files()
    assert (upload.channel, upload.filename) == ("DU0ANA", FILENAME)
    assert upload.data is not None
    document = json.loads(upload.data)
    assert document["profile"]["email"] == ANA


async def test_slack_an_upload_that_fails_says_the_file_could_not_be_attached(
    slack: SlackHarness,
) -> None:
    slack.fake.fail("upload", status=403, error="forbidden")
    await slack.dm("my-data")
    _, notice = await slack.fake.wait_for("chat.postMessage", 2)
    assert notice["text"].startswith(f"Sorry, I couldn't attach {FILENAME}.")
    assert slack.fake.files() == []


# -- Teams ----------------------------------------------------------------------------------


async def test_teams_my_data_offers_the_file_on_a_consent_card(teams: TeamsHarness) -> None:
    await teams.say("my-data")
    await teams.connector.wait_sent(2)
    assert FILENAME in teams.last_text()
    offer = teams.last_attachment(FILE_CONSENT_TYPE)
    assert offer["name"] == FILENAME
    content = offer["content"]
    assert content["acceptContext"] == content["declineContext"]
    assert content["sizeInBytes"] > 100
    # The card says what the file is; the data itself waits on the server.
    assert ANA not in json.dumps(offer)


async def test_teams_an_accepted_offer_is_uploaded_and_shown_as_a_file(
    teams: TeamsHarness, files: FileStore
) -> None:
    await teams.say("my-data")
    await teams.connector.wait_sent(2)
    content = teams.last_attachment(FILE_CONSENT_TYPE)["content"]
    info = files.upload_info()
    response = await teams.file_consent("accept", content["acceptContext"], upload_info=info)
    assert response.status == 200
    [(path, headers, body)] = files.puts
    assert path == "/upload/session-1"
    assert len(body) == content["sizeInBytes"]
    assert headers["Content-Range"] == f"bytes 0-{len(body) - 1}/{len(body)}"
    assert headers["Content-Length"] == str(len(body))
    assert json.loads(body)["profile"]["email"] == ANA
    shown = teams.last_attachment(FILE_INFO_TYPE)
    assert shown == {
        "contentType": FILE_INFO_TYPE,
        "contentUrl": info["contentUrl"],
        "name": FILENAME,
        "content": {"uniqueId": info["uniqueId"], "fileType": "json"},
    }


async def test_teams_an_offer_is_uploaded_once(teams: TeamsHarness, files: FileStore) -> None:
    await teams.say("my-data")
    await teams.connector.wait_sent(2)
    context = teams.last_attachment(FILE_CONSENT_TYPE)["content"]["acceptContext"]
    await teams.file_consent("accept", context, upload_info=files.upload_info())
    again = await teams.file_consent("accept", context, upload_info=files.upload_info("2"))
    assert again.status == 200
    assert len(files.puts) == 1
    assert ALREADY_SAVED in teams.last_text()


async def test_teams_a_declined_offer_uploads_nothing_and_says_so(
    teams: TeamsHarness, files: FileStore
) -> None:
    await teams.say("my-data")
    await teams.connector.wait_sent(2)
    context = teams.last_attachment(FILE_CONSENT_TYPE)["content"]["declineContext"]
    response = await teams.file_consent("decline", context)
    assert response.status == 200
    assert DECLINED in teams.last_text()
    assert files.puts == []


async def test_teams_an_unknown_offer_is_refused_clearly(
    teams: TeamsHarness, files: FileStore
) -> None:
    response = await teams.file_consent(
        "accept", {"key": "not-an-offer"}, upload_info=files.upload_info()
    )
    assert response.status == 200
    assert json.dumps(NO_OFFER)[1:-1] in teams.last_text()
    assert files.puts == []


async def test_teams_someone_else_cannot_accept_a_persons_offer(
    teams: TeamsHarness, files: FileStore
) -> None:
    await teams.say("my-data")
    await teams.connector.wait_sent(2)
    context = teams.last_attachment(FILE_CONSENT_TYPE)["content"]["acceptContext"]
    await teams.file_consent("accept", context, upload_info=files.upload_info(), sender=LEAD)
    assert files.puts == []
    assert json.dumps(NO_OFFER)[1:-1] in teams.last_text()


# -- shell ----------------------------------------------------------------------------------


async def test_shell_my_data_prints_the_export_after_the_reply(
    database: Database, program: Program
) -> None:
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    stdout = io.StringIO()
    await run_shell(
        engine=engine,
        database=database,
        email="ana@example.com",
        stdin=io.StringIO("my-data\n"),
        stdout=stdout,
    )
    out = stdout.getvalue()
    marker = f"--- {FILENAME} ---\n"
    assert marker in out
    document, _ = json.JSONDecoder().raw_decode(out.split(marker, 1)[1])
    assert document["profile"]["email"] == "ana@example.com"
