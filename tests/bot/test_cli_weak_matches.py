"""``mentorbot match`` flags weak proposals and says who matching.min_fit kept waiting."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from storage import Database
from tests.bot.cli_helpers import ONE_PROGRAM
from tests.helpers import mentee, mentor


def program_file(tmp_path: Path, *, min_fit: str) -> Path:
    """The one-program fixture with another matching.min_fit."""
    text = ONE_PROGRAM.read_text()
    assert "  min_fit: 0\n" in text
    path = tmp_path / "app.yaml"
    path.write_text(text.replace("  min_fit: 0\n", f"  min_fit: {min_fit}\n"))
    return path


async def match(
    monkeypatch: pytest.MonkeyPatch, database: Database, config: Path, *args: str
) -> int:
    """Run ``mentorbot match ARGS`` in this process (its own event loop, in a thread)."""
    from bot.cli import main

    monkeypatch.setenv("MENTORBOT_DATABASE_URL", database.url)
    monkeypatch.setenv("MENTORBOT_CONFIG", str(config))
    monkeypatch.setenv("MENTORBOT_NOW", "2026-11-23T10:00")
    return await asyncio.to_thread(main, ["match", *args])


async def test_match_json_gives_each_proposal_a_weak_field_with_the_reason(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await mentee(database, "lee@x.com", name="Lee Park", wants=("vision", "influence"))
    await mentee(database, "kim@x.com", name="Kim Chu", wants=("coaching",))
    await mentor(database, "ana@x.com", name="Ana Lima", strengths=("coaching",))
    await mentor(database, "bo@x.com", name="Bo Berg", strengths=("coaching", "execution"))

    config = program_file(tmp_path, min_fit="0")
    assert await match(monkeypatch, database, config, "--dry-run", "--json") == 0

    report = json.loads(capsys.readouterr().out)
    weak = {p["mentee"]: p["weak"] for p in report["proposals"]}
    assert weak == {
        "lee@x.com": (
            "the mentor offers none of Communicating a vision, Influence and stakeholder "
            "management, the competencies the mentee wants"
        ),
        "kim@x.com": None,
    }


async def test_match_says_which_mentees_min_fit_kept_on_the_waitlist(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await mentee(database, "lee@x.com", name="Lee Park", wants=("vision", "influence"))
    await mentee(database, "kim@x.com", name="Kim Chu", wants=("coaching",))
    await mentor(database, "ana@x.com", name="Ana Lima", strengths=("coaching",))
    await mentor(database, "bo@x.com", name="Bo Berg", strengths=("coaching", "execution"))
    config = program_file(tmp_path, min_fit="0.5")

    assert await match(monkeypatch, database, config, "--dry-run", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert [p["mentee"] for p in report["proposals"]] == ["kim@x.com"]
    [waiting] = report["waiting"]
    assert waiting["mentee"] == "lee@x.com"
    assert waiting["why"].startswith(
        "both mentors with a free place fit you less closely than this program asks of a proposal"
    )

    assert await match(monkeypatch, database, config, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "1 left on the waitlist:\n  #1 Lee Park: both mentors with a free place fit you" in out
