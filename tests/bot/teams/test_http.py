"""The Teams HTTP edge: junk is a 4xx before any work, with no traceback."""

from __future__ import annotations

import logging

import pytest

from handlers.core.program import Program
from storage import Database, Person
from tests.bot.teams_harness import TeamsHarness, teams_server
from tests.helpers import rows

DEEP = 1000


def nested(depth: int) -> bytes:
    """An activity whose ``value`` is ``depth`` arrays deep."""
    return (
        b'{"type": "message", "serviceUrl": "http://127.0.0.1:1", '
        b'"conversation": {"id": "a"}, "from": {"id": "b"}, "value": '
        + b"[" * depth
        + b"]" * depth
        + b"}"
    )


def noisy(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("depth", [DEEP, 100_000])
async def test_json_nested_deep_without_a_token_is_401_before_it_is_read(
    teams: TeamsHarness, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    response = await teams.post(None, token=None, raw=nested(depth))
    assert response.status == 401
    assert "Traceback" not in response.text
    assert noisy(caplog) == []


@pytest.mark.parametrize("token", ["Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "x" * 5000])
async def test_an_authorization_that_is_not_a_bearer_jwt_is_401(
    teams: TeamsHarness, database: Database, token: str
) -> None:
    response = await teams.post(teams.activity(text="help"), token=token)
    assert response.status == 401
    assert teams.connector.calls == []
    assert await rows(database, Person) == []


@pytest.mark.parametrize("depth", [65, DEEP, 100_000])
async def test_json_nested_deep_with_a_token_is_400(
    teams: TeamsHarness, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    response = await teams.post(None, raw=nested(depth))
    assert response.status == 400
    assert "Traceback" not in response.text
    assert noisy(caplog) == []


async def test_json_nested_deep_in_emulator_mode_is_400(
    database: Database, program: Program, caplog: pytest.LogCaptureFixture
) -> None:
    async with teams_server(database, program, app_id=None, allow_unauthenticated=True) as teams:
        response = await teams.post(None, token=None, raw=nested(DEEP))
        assert response.status == 400
        assert noisy(caplog) == []
        # An ordinary activity is nested well under the limit, and answered.
        answered = await teams.post(teams.activity(text="help"), token=None)
        assert answered.status < 300


@pytest.mark.parametrize("answer", ["²", "9" * 5000, "1,²", "١"])
def test_a_card_answer_that_is_not_a_plain_option_number_is_read_as_text(answer: str) -> None:
    from bot.teams import cards, forms

    value = {
        cards.TOKEN: "t",
        cards.KIND: "single",
        cards.OPTIONS: [["a", "Apple"], ["b", "Banana"]],
        cards.ANSWER: answer,
    }
    _command, action, _labels = cards.read_submission(value)
    assert action is not None  # no crash: what is not an option is passed on as typed
    form = {
        forms.FORM: "log",
        forms.REF: "1",
        forms.CHOICES: {"format": ["video", "phone"]},
        forms.INPUT_PREFIX + "format": answer,
    }
    submission = forms.read_form(form)
    assert submission is not None
    assert "video" not in submission.values["format"]


def test_only_with_a_number_that_is_no_proposal_is_one_clear_line() -> None:
    from bot.cli.app import CliError
    from bot.cli.leads import numbers as _numbers

    for text in ("²", "9" * 5000, "1-99999999999999999999"):
        with pytest.raises(CliError, match="--only"):
            _numbers(text, 3)
