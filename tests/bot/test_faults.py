"""Faults from outside: the database going away while serving, Slack that stops answering.

The database sits behind a small TCP proxy on loopback that the test stops and starts, as a
restart or a network cut would; PostgreSQL is the backend where this happens in practice.
Nothing here asserts on how long anything took: waits are bounded by counts, not clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.server import tick
from bot.slack.sender import SlackSender
from bot.slack.settings import SlackSettings, make_client
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.program import Program
from scheduler.outbox import OutboxWorker
from storage import Database, Outbox
from tests import postgres
from tests.bot.slack_harness import SlackHarness, slack_server
from tests.fakes.slack_api import fake_slack
from tests.helpers import FakeClock, make_person


class TcpProxy:
    """Forwards connections from a loopback port to a target; can be stopped and restarted.

    Stopping closes the listening socket and cuts every open connection, so clients see
    what they would see if the server went away: refused connections and dead sockets.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen (again) on the same port as before, or on a fresh one the first time."""
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._open -= {writer, upstream_writer}


@pytest.fixture
async def proxied(postgres_url: str) -> AsyncIterator[tuple[TcpProxy, Database]]:
    """A migrated, empty PostgreSQL database reached only through a proxy the test controls."""
    direct = await postgres.migrated_and_empty(postgres_url)
    await direct.dispose()
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    database = Database(url.set(port=proxy.port).render_as_string(hide_password=False))
    try:
        yield proxy, database
    finally:
        await database.dispose()
        await proxy.stop()


async def health(slack: SlackHarness) -> int:
    async with slack.http.get(slack.base + "/healthz") as response:
        return response.status


async def healthy_again(slack: SlackHarness, tries: int = 100) -> bool:
    """Whether /healthz turns 200 within ``tries`` polls (a count, not a deadline)."""
    for _ in range(tries):
        if await health(slack) == 200:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.postgres
async def test_the_database_going_away_fails_requests_cleanly_and_service_resumes(
    proxied: tuple[TcpProxy, Database], program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.server.HEALTH_SECONDS", 0)  # /healthz probes on every request
    proxy, database = proxied
    async with slack_server(database, program) as slack:
        await slack.dm("help")
        await slack.fake.wait_for("chat.postMessage")
        assert await health(slack) == 200

        await proxy.stop()
        assert await health(slack) == 503
        down_event = await slack.dm("help")
        down_command = await slack.command("status")
        await tick(slack.runtime)  # logs and waits for the next tick; never raises
        metrics = await slack.http.get(slack.base + "/metrics")
        await slack.idle()
        for response in (down_event, down_command):
            assert response.status < 500, response.text
            assert "Traceback" not in response.text
        assert metrics.status == 200
        told = [c.args.get("text", "") for c in slack.fake.posts()[1:]]
        assert all("Traceback" not in text and "asyncpg" not in text for text in told), told
        # The person who wrote during the outage hears an apology, in plain words.
        assert any("Sorry, something went wrong on my side" in text for text in told), told

        await proxy.start()
        assert await healthy_again(slack)
        before = len(slack.fake.posts())
        await slack.dm("help")
        [*_, answer] = await slack.fake.wait_for("chat.postMessage", before + 1)
        assert "Here's what I can do" in answer["text"]


async def test_a_slack_that_stops_answering_leaves_the_message_queued_for_later(
    database: Database,
) -> None:
    clock = FakeClock()

    async def no_wait(seconds: float) -> None:
        pass

    async with fake_slack() as fake:
        fake.add_user("U0ANA", email="ana@example.com", name="Ana Lopez")
        client = make_client(
            SlackSettings(bot_token="xoxb-t", signing_secret="s", api_url=fake.url),
            retry_interval=0.01,
        )
        client.timeout = 1  # seconds; Slack's own client waits 30
        sender = SlackSender(
            client=client, database=database, clock=clock, team="T0MENTOR", sleep=no_wait
        )
        worker = OutboxWorker(database=database, senders=[sender], clock=clock, max_attempts=3)
        ana = await make_person(database, "ana@example.com")
        assert ana.id is not None
        async with database.session() as session:
            await enqueue(
                session,
                person_id=ana.id,
                replies=[Reply("Your check-in is due")],
                dedupe_key="k",
                now=clock.now(),
            )

        fake.hang("chat.postMessage", times=3)  # the client may retry a timeout itself
        report = await worker.run_once()
        fake.hangs.clear()
        assert (report.sent, report.retried) == (0, 1)
        async with database.session() as session:
            [item] = (await session.exec(select(Outbox))).all()
        assert item.status == "pending"
        assert item.last_error is not None and "Timeout" in item.last_error
        assert fake.of("chat.postMessage") == []

        clock.advance(seconds=31)
        assert (await worker.run_once()).sent == 1
        [post] = fake.of("chat.postMessage")
        assert post["text"] == "Your check-in is due"
        clock.advance(hours=1)
        assert (await worker.run_once()).total == 0
