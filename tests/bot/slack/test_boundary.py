"""Slack's one error boundary: a failed turn and a failed form are logged and told alike.

Signed requests into the real server; the probe form (tests/fixtures/probe_form.py) is made
to fail while building (a turn in the DM) or while saving (a submitted modal).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator

import pytest

from handlers.core.errors import FORM_FAILED, TURN_FAILED
from handlers.core.program import Program
from storage import Database
from tests.bot.slack.test_forms import good_values, open_probe, submission
from tests.bot.slack_harness import SlackHarness, slack_server
from tests.fixtures.probe_form import ProbeForm, with_probe

PRIVATE = "my secret goal is to leave"
#: What the boundary's log line says: the work, who it was for, the reference, the class.
FAILED = re.compile(
    r"slack (?P<work>turn|form probe) failed \((?P<fields>[^)]*)\): (?P<kind>\S+)\n"
)


@pytest.fixture
def probe() -> ProbeForm:
    return ProbeForm()


@pytest.fixture
async def slack(
    database: Database, program: Program, probe: ProbeForm
) -> AsyncIterator[SlackHarness]:
    async with slack_server(database, program, extend=with_probe(probe)) as harness:
        yield harness


def failure_of(records: list[logging.LogRecord]) -> tuple[logging.LogRecord, dict[str, str]]:
    """The one error the boundary logged, and the fields its line names."""
    [record] = [r for r in records if r.levelno >= logging.ERROR]
    line = record.getMessage()
    found = FAILED.match(line)
    assert found is not None, line
    assert PRIVATE not in line
    assert PRIVATE not in (record.exc_text or "")
    assert found["kind"] == "RuntimeError"
    assert re.search(r'File ".*test_boundary\.py", line \d+, in broken', line), line
    fields = dict(pair.split("=", 1) for pair in found["fields"].split())
    assert fields["reference"] == record.__dict__["reference"]
    return record, fields


async def test_a_failed_turn_and_a_failed_form_are_logged_alike_by_one_boundary(
    slack: SlackHarness,
    probe: ProbeForm,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"could not store {PRIVATE!r}")

    view = await open_probe(slack)
    monkeypatch.setattr(probe, "save", broken)
    with caplog.at_level(logging.ERROR):
        response = await slack.interactive(submission(view, good_values(view)))
    form_record, form_fields = failure_of(caplog.records)
    assert response.json()["response_action"] == "update"
    shown = json.dumps(response.json()["view"])
    assert FORM_FAILED.format(reference=form_fields["reference"]) in shown

    caplog.clear()
    before = len(slack.fake.posts())
    monkeypatch.setattr(probe, "build", broken)
    with caplog.at_level(logging.ERROR):
        await slack.dm("probe 7")
        [*_, told] = await slack.fake.wait_for("chat.postMessage", before + 1)
    turn_record, turn_fields = failure_of(caplog.records)
    assert told["text"] == TURN_FAILED.format(reference=turn_fields["reference"])

    # The same place logged both, with the same fields: who, and a reference of their own.
    assert turn_record.name == form_record.name
    assert list(turn_fields) == list(form_fields) == ["team", "user", "person", "reference"]
    assert {k: v for k, v in turn_fields.items() if k != "reference"} == {
        k: v for k, v in form_fields.items() if k != "reference"
    }
    assert turn_fields["reference"] != form_fields["reference"]
