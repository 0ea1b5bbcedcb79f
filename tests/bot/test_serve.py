"""`mentorbot serve` and `mentorbot slack-manifest` as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time

import aiohttp
import yaml
from slack_sdk.signature import SignatureVerifier

from tests.bot.cli_helpers import ROOT, mentorbot, start_serve
from tests.bot.slack_harness import SECRET, fixture
from tests.fakes.slack_api import fake_slack


async def test_serve_answers_a_signed_dm_through_slack_and_stops_cleanly(database_url: str) -> None:
    async with fake_slack() as fake:
        fake.add_user("U0ANA", email="ana.lopez@example.com", name="Ana Lopez")
        env = {
            **os.environ,
            "MENTORBOT_DATABASE_URL": database_url,
            "MENTORBOT_CONFIG": str(ROOT / "app.yaml"),
            "SLACK_BOT_TOKEN": "xoxb-serve-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url,
        }
        process = await start_serve(env)
        try:
            assert process.stdout is not None
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            assert match, line
            assert "(Slack: on; Teams: off)" in line
            base = f"http://127.0.0.1:{match.group(1)}"
            body = json.dumps({**fixture("event_message_im.json"), "event_id": "Ev0SERVE"}).encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
                    timestamp=stamp, body=body
                ),
            }
            async with aiohttp.ClientSession() as http:
                health = await http.get(base + "/healthz")
                assert health.status == 200
                response = await http.post(base + "/slack/events", data=body, headers=headers)
                assert response.status == 200
            [post] = await fake.wait_for("chat.postMessage")
            assert "Here's what I can do" in post["text"]
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
            assert process.stderr is not None
            stderr = (await process.stderr.read()).decode()
        assert code == 0, stderr
        assert "Traceback" not in stderr
        assert "xoxb-serve-test" not in stderr and SECRET not in stderr


def test_serve_refuses_half_configured_slack(tmp_path: object) -> None:
    env_url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    result = mentorbot("serve", database_url=env_url, extra_env={"SLACK_BOT_TOKEN": "xoxb-only"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "mentorbot: Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; SLACK_SIGNING_SECRET is unset"
    )


def test_serve_on_a_port_in_use_says_so(tmp_path: object) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = mentorbot(
            "serve", "--port", str(port), database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Pass --port" in result.stderr and "Traceback" not in result.stderr


def test_slack_manifest_points_everything_at_the_events_url() -> None:
    result = mentorbot("slack-manifest", "--url", "https://mentorbot.example.com/")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    url = "https://mentorbot.example.com/slack/events"
    assert manifest["features"]["slash_commands"][0] == {
        "command": "/mentor",
        "description": "The mentorship program: join, status, help",
        "usage_hint": "[help | join | status]",
        "should_escape": False,
        "url": url,
    }
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {
        "bot_events": ["app_home_opened", "app_mention", "message.im"],
        "request_url": url,
    }
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert {"users:read.email", "im:history", "commands", "chat:write", "files:write"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )


def test_slack_manifest_for_socket_mode_needs_no_url() -> None:
    manifest = yaml.safe_load(mentorbot("slack-manifest", "--socket-mode").stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]


def test_slack_manifest_refuses_a_plain_http_url() -> None:
    result = mentorbot("slack-manifest", "--url", "http://mentorbot.example.com")
    assert result.returncode == 1
    assert "is not an https URL" in result.stderr


async def test_serve_stops_at_once_when_slack_refuses_the_token(tmp_path: object) -> None:
    async with fake_slack() as fake:
        fake.fail("auth.test", status=200, error="invalid_auth")
        env = {
            "SLACK_BOT_TOKEN": "xoxb-revoked",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url,
        }
        result = await asyncio.to_thread(
            mentorbot,
            "serve",
            "--port",
            "0",
            database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
            extra_env=env,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "mentorbot: Slack refused SLACK_BOT_TOKEN (invalid_auth); copy the Bot User OAuth Token "
        "(xoxb-...) from the app's OAuth & Permissions page"
    )
    assert "Traceback" not in result.stderr and "xoxb-revoked" not in result.stderr


def test_teams_manifest_writes_a_valid_app_package(tmp_path: object) -> None:
    import struct
    import zipfile
    from pathlib import Path

    out = Path(str(tmp_path)) / "mentorbot.zip"
    app_id = "00000000-1111-2222-3333-444444444444"
    result = mentorbot("teams-manifest", "--out", str(out), extra_env={"MicrosoftAppId": app_id})
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        sizes = {}
        for name in ("color.png", "outline.png"):
            data = package.read(name)
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            sizes[name] = struct.unpack(">II", data[16:24])
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}
    assert manifest["id"] == app_id
    [bot] = manifest["bots"]
    assert bot["botId"] == app_id
    assert bot["scopes"] == ["personal"]
    assert bot["supportsFiles"] is True  # my-data is sent as a file
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == [
        "help",
        "join",
        "status",
        "schedule",
        "plan",
        "log",
        "feedback",
        "move-meeting",
        "pause",
        "leave",
    ]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["manifestVersion"] == "1.16"


def test_teams_manifest_needs_a_real_app_id(tmp_path: object) -> None:
    result = mentorbot("teams-manifest", "--out", f"{tmp_path}/x.zip", "--bot-id", "my-bot")
    assert result.returncode == 1
    assert "'my-bot' is not an app id" in result.stderr
    missing = mentorbot("teams-manifest", "--out", f"{tmp_path}/x.zip")
    assert "give --bot-id" in missing.stderr


def test_serve_refuses_unauthenticated_teams_on_a_public_address(tmp_path: object) -> None:
    result = mentorbot(
        "serve",
        "--host",
        "0.0.0.0",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        extra_env={"MENTORBOT_TEAMS_ALLOW_UNAUTHENTICATED": "1"},
    )
    assert result.returncode == 1
    assert "only safe on a loopback address; refusing to listen on 0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_half_configured_teams(tmp_path: object) -> None:
    result = mentorbot(
        "serve",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        extra_env={"MicrosoftAppId": "00000000-1111-2222-3333-444444444444"},
    )
    assert result.returncode == 1
    assert "MicrosoftAppPassword is unset" in result.stderr


def test_the_readme_says_what_the_teams_command_list_holds(tmp_path: object) -> None:
    import zipfile
    from pathlib import Path

    out = Path(str(tmp_path)) / "mentorbot.zip"
    result = mentorbot(
        "teams-manifest", "--out", str(out), "--bot-id", "00000000-1111-2222-3333-444444444444"
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    readme = " ".join((ROOT / "README.md").read_text().split())
    said = re.search(
        r"The command list holds (\d+) commands, the most Teams takes: ([^.]+)\.", readme
    )
    assert said is not None
    assert int(said.group(1)) == len(titles)
    assert re.findall(r"`([^`]+)`", said.group(2)) == titles
