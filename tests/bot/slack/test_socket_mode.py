"""`mentorbot serve` in Slack Socket Mode, end to end against the fake Slack.

The real process opens a Socket Mode connection (apps.connections.open with the app-level
token, then a websocket on the fake), receives envelopes, acknowledges them over the socket
and answers through the Web API, exactly as it would against Slack.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from typing import Any
from urllib.parse import parse_qsl

from tests.bot.cli_helpers import ROOT, start_serve
from tests.bot.slack_harness import FIXTURES, SECRET, fixture
from tests.fakes.slack_api import fake_slack

APP_TOKEN = "xapp-1-A0MENTORBOT-1234-socketmodetestsecret"
BOT_TOKEN = "xoxb-socket-mode-test"
#: The proxy variables slack_sdk honours: the websocket must go straight to the fake.
PROXIES = ("http_proxy", "https_proxy", "all_proxy")


async def _serve(api_url: str, database_url: str) -> asyncio.subprocess.Process:
    """``mentorbot serve --port 0`` with Slack in Socket Mode against the fake."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXIES}
    env.update(
        MENTORBOT_DATABASE_URL=database_url,
        MENTORBOT_CONFIG=str(ROOT / "app.yaml"),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=api_url,
    )
    return await start_serve(env)


async def _stop(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """SIGTERM, then the exit code and what is left on stdout and stderr.

    A process that ignores SIGTERM is killed (so no test leaves one behind) and fails.
    """
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        code = -1
    assert process.stdout is not None and process.stderr is not None
    stdout = (await process.stdout.read()).decode()
    stderr = (await process.stderr.read()).decode()
    assert code != -1, f"mentorbot serve ignored SIGTERM; stderr:\n{stderr}"
    return code, stdout, stderr


def _slash_command(text: str) -> dict[str, Any]:
    """A /mentor command as a Socket Mode payload: the form fields, as a JSON object."""
    fields = dict(parse_qsl((FIXTURES / "slash_command.txt").read_text().strip()))
    fields["text"] = text
    return fields


async def test_serve_in_socket_mode_acks_envelopes_and_answers_in_the_dm(
    database_url: str,
) -> None:
    async with fake_slack() as fake:
        fake.add_user("U0ANA", email="ana.lopez@example.com", name="Ana Lopez")
        process = await _serve(fake.url, database_url)
        try:
            assert process.stdout is not None
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            assert re.search(r"mentorbot serving on http://127\.0\.0\.1:\d+ ", line), line
            assert "(Slack: socket mode; Teams: off)" in line
            await fake.wait_for_socket()
            # The URL was asked for with the app-level token, not the bot token.
            [opened] = fake.attempts("apps.connections.open")
            assert opened.token == APP_TOKEN
            assert opened.result["url"].startswith(
                fake.url.removesuffix("api/").replace("http", "ws")
            )

            # A DM saying "help", as an events_api envelope.
            body = {**fixture("event_message_im.json"), "event_id": "Ev0SOCKET0001"}
            envelope = await fake.push("events_api", body)
            assert await fake.wait_for_ack(envelope) == {"envelope_id": envelope}
            [post] = await fake.wait_for("chat.postMessage")
            assert post["channel"] == "D0ANA"
            assert "Here's what I can do" in post["text"]
            assert fake.posts()[0].token == BOT_TOKEN

            # /mentor status in a channel: acked with a pointer to the DM, answered there.
            command = await fake.push("slash_commands", _slash_command("status"))
            ack = await fake.wait_for_ack(command)
            assert ack == {
                "envelope_id": command,
                "payload": {"text": "I've answered in our direct messages."},
            }
            _, status = await fake.wait_for("chat.postMessage", count=2)
            assert status["channel"] == "D0ANA"  # remembered from the DM above
            assert "You're not enrolled in" in status["text"]
            assert fake.of("conversations.open") == []
            assert [c.method for c in fake.calls].count("apps.connections.open") == 1
        finally:
            code, _, stderr = await _stop(process)
        assert code == 0, stderr
        assert "Traceback" not in stderr, stderr
        for secret in (APP_TOKEN, BOT_TOKEN, SECRET):
            assert secret not in stderr
        # Every envelope was acknowledged exactly once, and nothing else was sent.
        assert sorted(a["envelope_id"] for a in fake.received) == sorted([envelope, command])


async def test_serve_stops_on_sigterm_while_slack_refuses_the_socket_connection(
    database_url: str,
) -> None:
    """A revoked app token: slack_sdk retries forever, but SIGTERM still stops mentorbot."""
    async with fake_slack() as fake:
        fake.fail("apps.connections.open", status=200, error="invalid_auth", times=100)
        process = await _serve(fake.url, database_url)
        refused = ""
        try:
            await fake.wait_for_attempts("apps.connections.open", limit=60)
            # The refusal is logged (the operator sees why); then slack_sdk waits to retry.
            assert process.stderr is not None
            while "invalid_auth" not in refused:
                line = await asyncio.wait_for(process.stderr.readline(), 60)
                assert line, "mentorbot serve exited before logging the refusal"
                refused += line.decode()
        finally:
            code, stdout, stderr = await _stop(process)
        assert code == 0, stderr
        assert "mentorbot serving on" not in stdout  # it never got to serve Slack
        assert "Failed to retrieve WSS URL" in refused
        assert fake.sockets == []
        for secret in (APP_TOKEN, BOT_TOKEN, SECRET):
            assert secret not in refused + stderr
