"""Slack: random and malformed requests into the real server, signed and not.

Every answer is below 500 and carries no traceback, ``/healthz`` still answers, and a
rejected request (4xx) leaves the stored rows as they were.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.core.program import Program
from storage import Database
from tests import postgres
from tests.bot.slack_harness import SECRET, SlackHarness, fixture, slack_server
from tests.fuzz.payloads import json_values, mutations, stored_rows

#: Each example gets a world of its own (``worlds``): an emptied database and a server
#: started for it, so no example sees what an earlier one stored or cached.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = "application/x-www-form-urlencoded"


class Target:
    """The server under test; a short repr keeps hypothesis' failure reports readable."""

    def __init__(self, slack: SlackHarness, database: Database) -> None:
        self.slack, self.database = slack, database

    def __repr__(self) -> str:
        return "<the Slack server>"


Worlds = Callable[[], AbstractAsyncContextManager[Target]]


@pytest.fixture
def worlds(database: Database, program: Program) -> Worlds:
    """A fresh world per example: the database emptied, a server of its own."""

    @asynccontextmanager
    async def fresh() -> AsyncIterator[Target]:
        await postgres.empty(database)
        async with slack_server(database, program) as harness:
            yield Target(harness, database)

    return fresh


@pytest.fixture
async def target(worlds: Worlds) -> AsyncIterator[Target]:
    """One world, for the tests that are not fuzz tests."""
    async with worlds() as world:
        yield world


def is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def signed(body: bytes) -> str:
    """Slack's v0 signature over the raw bytes (the SDK's helper insists on UTF-8)."""
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


async def check(
    target: Target,
    body: str | bytes,
    *,
    content_type: str = "application/json",
    sign: bool = True,
    signature: str | None = None,
) -> int:
    """Send one request and check everything a bad request must not do; returns the status."""
    slack, database = target.slack, target.database
    raw = body.encode() if isinstance(body, str) else body
    before = await stored_rows(database)
    response = await slack.post(
        raw, content_type=content_type, sign=sign, signature=signature or signed(raw)
    )
    assert response.status < 500, response
    assert "Traceback" not in response.text
    await slack.idle()  # Bolt's listener runs after the response
    if 400 <= response.status < 500:
        assert await stored_rows(database) == before, f"a rejected request changed rows: {raw!r}"
    async with slack.http.get(slack.base + "/healthz") as health:
        assert health.status == 200
    return response.status


def form(fields: dict[str, str]) -> str:
    return urlencode(fields)


def payload_form(document: object) -> str:
    return urlencode({"payload": json.dumps(document)})


SLASH = {
    "token": "x",
    "team_id": "T0MENTOR",
    "channel_id": "C0GENERAL",
    "channel_name": "general",
    "user_id": "U0ANA",
    "command": "/mentor",
    "text": "status",
    "trigger_id": "1.2.3",
}


# -- anything at all --------------------------------------------------------------------


@FUZZ
@given(body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", FORM]))
async def test_random_bytes_are_refused_cleanly(
    worlds: Worlds, body: bytes, content_type: str
) -> None:
    async with worlds() as target:
        await check(target, body, content_type=content_type)


@FUZZ
@given(
    body=st.binary(max_size=200),
    how=st.sampled_from(["unsigned", "v0=bad", "v0=" + "0" * 64, "v1=abc", ""]),
)
async def test_unsigned_or_badly_signed_requests_are_401_and_change_nothing(
    worlds: Worlds, body: bytes, how: str
) -> None:
    async with worlds() as target:
        if how == "unsigned":
            status = await check(target, body, sign=False)
        else:
            status = await check(target, body, signature=how or " ")
        # Bytes that are not UTF-8 cannot be a Slack request whoever signed them.
        assert status == (401 if is_utf8(body) else 400)


@FUZZ
@given(fields=st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=6))
async def test_random_form_fields_are_handled_cleanly(
    worlds: Worlds, fields: dict[str, str]
) -> None:
    async with worlds() as target:
        await check(target, form(fields), content_type=FORM)


@FUZZ
@given(document=json_values)
async def test_random_json_and_random_payloads_are_handled_cleanly(
    worlds: Worlds, document: object
) -> None:
    async with worlds() as target:
        await check(target, json.dumps(document))
        await check(target, payload_form(document), content_type=FORM)


# -- real shapes with wrong types and missing keys ----------------------------------------

INTERACTIVE = ["block_actions.json", "view_submission.json"]
EVENTS = ["event_message_im.json", "event_app_mention.json", "event_app_home_opened.json"]


@FUZZ
@given(data=st.data(), name=st.sampled_from(INTERACTIVE))
async def test_broken_interactive_payloads_are_handled_cleanly(
    worlds: Worlds, data: st.DataObject, name: str
) -> None:
    async with worlds() as target:
        document = fixture(name)
        if name == "block_actions.json":
            document["actions"] = [
                {"type": "button", "action_id": action, "block_id": "mb_prompt", "value": value}
                for action, value in [("mb_choice:0", "t.1|0"), ("mb_cmd:1", "status")]
            ]
        payload = data.draw(mutations(document))
        await check(target, payload_form(payload), content_type=FORM)


@FUZZ
@given(data=st.data(), name=st.sampled_from(EVENTS), event_id=st.integers(0, 10**9))
async def test_broken_events_are_handled_cleanly(
    worlds: Worlds,
    data: st.DataObject,
    name: str,
    event_id: int,
) -> None:
    async with worlds() as target:
        document = fixture(name)
        document["event_id"] = f"Ev{event_id}"
        await check(target, json.dumps(data.draw(mutations(document))))


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=60),
        st.sampled_from(["join", "join mentors", "log 99999999999999999999", "report ../../etc"]),
    ),
    changes=st.dictionaries(st.sampled_from(sorted(SLASH)), st.text(max_size=20), max_size=3),
)
async def test_slash_commands_with_random_text_are_handled_cleanly(
    worlds: Worlds,
    text: str,
    changes: dict[str, str],
) -> None:
    async with worlds() as target:
        fields = {**SLASH, "text": text, **changes}
        await check(target, form(fields), content_type=FORM)


# -- regressions found by the fuzzing above -------------------------------------------------


async def test_a_signed_body_that_is_not_utf8_is_a_400_not_a_500(target: Target) -> None:
    response = await target.slack.post(b"\x80", signature=signed(b"\x80"))
    assert (response.status, response.json()["error"]) == (400, "the body is not a Slack request")
    response = await target.slack.post(b"\x80", sign=False)
    assert response.status == 400


async def test_authorizations_that_are_not_a_list_are_a_400_not_a_500(target: Target) -> None:
    event = fixture("event_app_home_opened.json")
    event["authorizations"] = {"": None}
    before = await stored_rows(target.database)
    response = await target.slack.post(json.dumps(event))
    assert (response.status, response.json()["error"]) == (400, "the body is not a Slack request")
    assert await stored_rows(target.database) == before
