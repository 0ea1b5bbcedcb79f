"""The Teams app manifest's command list (bot.teams.manifest): the ten commands Teams
suggests as a person types."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.teams.manifest import ManifestError, suggested, teams_manifest
from handlers import build_engine
from handlers.core.programs import Programs
from storage import Database

APP_ID = "00000000-1111-2222-3333-444444444444"


def _titles(programs: Programs, tmp_path: Path) -> list[str]:
    engine = build_engine(
        programs=programs, database=Database(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    )
    manifest = teams_manifest(
        bot_id=APP_ID,
        name="mentorbot",
        program_name="Mentoring",
        commands=suggested((c.name, c.summary) for c in engine.commands),
        website="https://mentorbot.example.com",
    )
    [bot] = manifest["bots"]
    return [c["title"] for c in bot["commandLists"][0]["commands"]]


def test_teams_suggests_schedule_among_ten_everyday_commands(
    programs: Programs, tmp_path: Path
) -> None:
    titles = _titles(programs, tmp_path)
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


def test_a_suggested_command_the_bot_no_longer_has_is_refused() -> None:
    with pytest.raises(ManifestError, match="unknown commands: schedule"):
        suggested([("help", "what I can do")] + [(n, "x") for n in ("join", "status")])
