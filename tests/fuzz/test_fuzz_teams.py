"""Teams: random and malformed activities into the real server, with a valid token and not.

Every answer is below 500 and carries no traceback, ``/healthz`` still answers, and a
rejected request (4xx) leaves the stored rows as they were.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.core.program import Program
from storage import Database
from tests import postgres
from tests.bot.teams_harness import TeamsHarness, teams_server
from tests.fuzz.payloads import json_values, mutations, stored_rows

#: Each example gets a world of its own (``worlds``): an emptied database and a server
#: started for it, so no example sees what an earlier one stored or cached.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Target:
    """The server under test; a short repr keeps hypothesis' failure reports readable."""

    def __init__(self, teams: TeamsHarness, database: Database) -> None:
        self.teams, self.database = teams, database

    def __repr__(self) -> str:
        return "<the Teams server>"


Worlds = Callable[[], AbstractAsyncContextManager[Target]]


@pytest.fixture
def worlds(database: Database, program: Program) -> Worlds:
    """A fresh world per example: the database emptied, a server of its own."""

    @asynccontextmanager
    async def fresh() -> AsyncIterator[Target]:
        await postgres.empty(database)
        async with teams_server(database, program) as harness:
            yield Target(harness, database)

    return fresh


@pytest.fixture
async def target(worlds: Worlds) -> AsyncIterator[Target]:
    """One world, for the tests that are not fuzz tests."""
    async with worlds() as world:
        yield world


async def check(
    target: Target,
    body: Any = None,
    *,
    raw: bytes | None = None,
    token: str | None = "valid",
    content_type: str = "application/json",
) -> int:
    """Send one request and check everything a bad request must not do; returns the status."""
    teams, database = target.teams, target.database
    before = await stored_rows(database)
    response = await teams.post(body, raw=raw, token=token, content_type=content_type)
    assert response.status < 500, response
    assert "Traceback" not in response.text
    if 400 <= response.status < 500:
        assert await stored_rows(database) == before, f"a rejected request changed rows: {body!r}"
    async with teams.http.get(teams.base + "/healthz") as health:
        assert health.status == 200
    return response.status


@FUZZ
@given(
    raw=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain"])
)
async def test_random_bytes_are_refused_cleanly(
    worlds: Worlds, raw: bytes, content_type: str
) -> None:
    async with worlds() as target:
        await check(target, raw=raw, content_type=content_type)


@FUZZ
@given(document=json_values)
async def test_random_json_is_handled_cleanly(worlds: Worlds, document: object) -> None:
    async with worlds() as target:
        await check(target, document)


@FUZZ
@given(
    data=st.data(),
    name=st.sampled_from(["message.json", "card_submit.json", "conversation_update.json"]),
)
async def test_broken_activities_are_handled_cleanly(
    worlds: Worlds, data: st.DataObject, name: str
) -> None:
    async with worlds() as target:
        activity = target.teams.activity(name)
        await check(target, data.draw(mutations(activity)))


FIELDS = ["type", "from", "conversation", "value", "text", "recipient", "channelData", "serviceUrl"]


@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from(FIELDS),
        st.one_of(json_values, st.text(min_size=1, max_size=5).map(lambda t: t * 20000)),
        min_size=1,
        max_size=3,
    )
)
async def test_wrong_types_and_huge_strings_are_handled_cleanly(
    worlds: Worlds, changes: dict[str, Any]
) -> None:
    async with worlds() as target:
        await check(target, target.teams.activity(**changes))


@FUZZ
@given(
    document=json_values,
    token=st.sampled_from(
        [None, "", "Bearer", "Bearer x.y.z", "Basic abc", "Bearer " + "a" * 5000]
    ),
)
async def test_activities_without_a_valid_token_are_refused_and_change_nothing(
    worlds: Worlds, document: object, token: str | None
) -> None:
    async with worlds() as target:
        body = document if isinstance(document, dict) and document else target.teams.activity()
        status = await check(target, body, token=token)
        assert 400 <= status < 500


async def test_a_plain_message_still_works_after_the_fuzzing(target: Target) -> None:
    assert (await target.teams.say("help")).status in (200, 201)
    assert json.dumps(target.teams.last_card())
