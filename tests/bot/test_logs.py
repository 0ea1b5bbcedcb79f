"""Structured logs: the JSON formatter, the redaction filter, and a real run's stderr.

The last test is the one that matters: it runs ``mentorbot shell`` and ``mentorbot serve``
as processes with every secret set, logs a session with distinctive notes, lets Slack fail
a call and the tick summarise the notes, then reads every stderr line as JSON and looks
for the secrets and the private text.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.cli import main
from bot.logs import JsonFormatter, RedactionFilter, Redactor, configure_logging
from handlers.core.program import Program
from storage import Database, SessionLog
from tests.bot.cli_helpers import ROOT
from tests.bot.slack_harness import SECRET, fixture
from tests.fakes.openai_api import DEFAULT_ANSWER, fake_openai
from tests.fakes.slack_api import fake_slack
from tests.handlers.cycle_world import World
from tests.helpers import rows

BOT_TOKEN = "xoxb-1111-2222-logsecretbot"
APP_PASSWORD = "teams~App.Password-0123456789"
OPENAI_KEY = "sk-test-logs-0123456789abcdef"
NOTES = "Confided that Quillon the director undermines the zebra-quartz reorg"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records go through the filter and the JSON formatter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter(Redactor([BOT_TOKEN, SECRET, APP_PASSWORD, OPENAI_KEY])))
    logger = logging.getLogger("tests.logs.captured")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# -- the formatter ------------------------------------------------------------------------


def test_a_json_line_has_timestamp_level_logger_message_and_extras(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("outbox: %d messages retried", 3, extra={"pairing_id": 7, "channel": "slack"})
    [line] = lines(stream)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line.pop("timestamp"))
    assert line == {
        "level": "WARNING",
        "logger": "tests.logs.captured",
        "message": "outbox: 3 messages retried",
        "pairing_id": 7,
        "channel": "slack",
    }


def test_an_exception_is_one_string_field_on_one_line(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("tick failed")
    assert len(stream.getvalue().splitlines()) == 1
    [line] = lines(stream)
    assert line["message"] == "tick failed"
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert line["exc_info"].endswith("RuntimeError: boom")


# -- the redaction filter -----------------------------------------------------------------


def test_configured_secrets_in_the_message_or_its_args_are_redacted(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning(f"token {BOT_TOKEN} refused")
    logger.warning("secret %s, password %r, key %s", SECRET, APP_PASSWORD, OPENAI_KEY)
    first, second = (line["message"] for line in lines(stream))
    assert first == "token *** refused"
    assert second == "secret ***, password '***', key ***"


def test_token_shaped_strings_are_redacted_even_when_not_configured(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning(
        "sent %s",
        {"Authorization": "Bearer eyJhbGciOi.abc-def_ghi", "token": "xoxb-9-8-other"},
        extra={"app_token": "xapp-1-A0-77-abc"},
    )
    [line] = lines(stream)
    assert line["message"] == "sent {'Authorization': '***', 'token': '***'}"
    assert line["app_token"] == "***"


def test_secrets_in_a_traceback_are_redacted(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise ValueError(f"the server said: invalid key {OPENAI_KEY}")
    except ValueError:
        logger.exception("summaries failed")
    [line] = lines(stream)
    assert "invalid key ***" in line["exc_info"]
    assert OPENAI_KEY not in stream.getvalue()


def test_short_or_empty_secrets_do_not_blank_out_ordinary_words() -> None:
    redact = Redactor(["", "ok", BOT_TOKEN])
    assert redact("ok: tick done") == "ok: tick done"


def test_configure_logging_reads_the_secrets_from_the_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = configure_logging(True, "json", environ={"SLACK_SIGNING_SECRET": SECRET})
    try:
        logging.getLogger("mentorbot.test").info("verifying with %s", SECRET)
        [line] = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
        assert line["message"] == "verifying with ***"
    finally:
        logging.getLogger().removeHandler(handler)


def test_an_unknown_log_format_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MENTORBOT_LOG_FORMAT", "xml")
    assert main(["check-config", str(ROOT / "app.yaml")]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "mentorbot: MENTORBOT_LOG_FORMAT='xml' is not a log format; use one of text, json\n"
    )
    assert captured.out == ""


# -- a real run ---------------------------------------------------------------------------


def _environment(**extra: str) -> dict[str, str]:
    """The process environment without the caller's own settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORBOT_", "SLACK_", "Microsoft", "OPENAI_"))
    }
    return {**env, "MENTORBOT_CONFIG": str(ROOT / "app.yaml"), **extra}


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    parsed = []
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
        assert isinstance(record, dict), line
        parsed.append(record)
    return parsed


async def _run_shell(env: dict[str, str], email: str, typed: list[str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "-v",
        "shell",
        "--as",
        email,
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate("\n".join(typed).encode() + b"\n"), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_a_real_run_logs_json_lines_without_secrets_or_private_text(
    tmp_path: Path, program: Program
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/mentorbot.db"
    database = Database(url)
    await database.upgrade()
    try:
        # The pairing starts two days ago, so "today" is a date inside it.
        world = World(database, program, start=datetime.now(UTC) - timedelta(days=2))
        _lee, _ana, pairing = await world.pair(mentee_email="lee@x.com", mentor_email="ana@x.com")
    finally:
        await database.dispose()

    async with fake_slack() as slack, fake_openai() as model:
        slack.add_user("U0LEE", email="lee@x.com", name="Lee Park")
        slack.add_user("U0ANA", email="ana@x.com", name="Ana Lima")
        env = _environment(
            MENTORBOT_DATABASE_URL=url,
            MENTORBOT_LOG_FORMAT="json",
            MENTORBOT_TICK_SECONDS="1",
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.url,
            MicrosoftAppId="00000000-1111-2222-3333-444444444444",
            MicrosoftAppPassword=APP_PASSWORD,
            MicrosoftAppTenantId="72f988bf-86f1-41af-91ab-2d7cd011db47",
            OPENAI_API_KEY=OPENAI_KEY,
            OPENAI_BASE_URL=model.url,
        )
        # Lee logs a session with private notes in the shell, one question at a time.
        # Both agree to summaries; then Lee logs a session with private notes in the shell.
        consent = f"consent {pairing.id} yes"
        code, out, ana_err = await _run_shell(env, "ana@x.com", [consent])
        assert code == 0, ana_err
        typed = [consent, "log", "today", "45", "1", "1", NOTES, *["2"] * 6]
        code, out, shell_err = await _run_shell(env, "lee@x.com", typed)
        assert code == 0, shell_err
        shell_err += ana_err
        [log] = [s for s in await _rows(url) if s.pairing_id == pairing.id]
        assert log.notes == NOTES, out

        # Slack fails every try of the first delivery; serve's tick summarises the notes.
        slack.fail("chat.postMessage", status=500, times=3)
        serve_err = await _serve_until_delivered(env, slack)
        assert model.requests, "the tick did not summarise the notes"

    # Every line is one JSON object, tracebacks included (as a string field).
    records = _json_lines(shell_err) + _json_lines(serve_err)
    assert all({"timestamp", "level", "logger", "message"} <= set(r) for r in records)
    assert all(isinstance(r.get("exc_info", ""), str) for r in records)
    assert any(r["message"].startswith("tick: summaries") for r in records), serve_err
    summary_texts = [DEFAULT_ANSWER["next_focus"], DEFAULT_ANSWER["action_items"][0]["text"]]
    for record in records:
        text = json.dumps(record, ensure_ascii=False)
        for secret in (BOT_TOKEN, SECRET, APP_PASSWORD, OPENAI_KEY, "Quillon", "zebra-quartz"):
            assert secret not in text, record
        for summary in summary_texts:
            assert summary not in text, record


async def _rows(url: str) -> list[SessionLog]:
    database = Database(url)
    try:
        return list(await rows(database, SessionLog))
    finally:
        await database.dispose()


async def _serve_until_delivered(env: dict[str, str], slack: Any) -> str:
    """Run ``serve``, send it a signed DM, wait for a delivery after the failures; stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "-v",
        "serve",
        "--port",
        "0",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        base = f"http://127.0.0.1:{match.group(1)}"
        payload = {**fixture("event_message_im.json"), "event_id": "Ev0LOGS"}
        payload["event"].update(text="help", user="U0LEE", channel="DU0LEE")
        body = json.dumps(payload).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
                timestamp=stamp, body=body
            ),
        }
        async with aiohttp.ClientSession() as http:
            assert (await http.get(base + "/healthz")).status == 200
            response = await http.post(base + "/slack/events", data=body, headers=headers)
            assert response.status == 200
        await slack.wait_for_attempts("chat.postMessage", 4, limit=60)
        await slack.wait_for("chat.postMessage", 1, limit=60)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        assert process.stderr is not None
        stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    return stderr
