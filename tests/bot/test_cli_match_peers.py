"""``mentorbot match --program peer-circle --dry-run --json``: peers in today's JSON shape."""

from __future__ import annotations

import asyncio
import json

from storage import Database
from tests.bot.cli_helpers import Cli
from tests.conftest import SEVERAL_PROGRAMS
from tests.helpers import enroll_as, make_person


async def _peers(database_url: str) -> None:
    database = Database(database_url)
    try:
        for email, level, wants, offers in [
            ("ana@x.com", 3, ["coaching"], ["influence"]),
            ("ben@x.com", 3, ["influence"], ["coaching"]),
            ("cy@x.com", 3, ["vision"], ["vision"]),
        ]:
            person = await make_person(database, email, name=email[:-6].title(), level=level)
            await enroll_as(
                database,
                person,
                "peer",
                program="peer-circle",
                answers={"wants": wants, "offers": offers, "goals": "Grow"},
            )
    finally:
        await database.dispose()


def test_a_peer_round_prints_each_pair_under_mentee_and_mentor(cli: Cli, database_url: str) -> None:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(SEVERAL_PROGRAMS))
    asyncio.run(_peers(database_url))
    code, out, err = cli.at("2027-02-10T10:00:00Z").run(
        "match", "--program", "peer-circle", "--dry-run", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    (proposal,) = report["proposals"]
    assert {proposal["mentee"], proposal["mentor"]} == {"ana@x.com", "ben@x.com"}
    assert "Ben can help Ana with Coaching" in " · ".join(proposal["reasons"])
    (waiting,) = report["waiting"]
    assert waiting["mentee"] == "cy@x.com"
    assert waiting["position"] == 3  # a dry run sends nothing: all three still wait
    assert report["dry_run"] is True and report["sent"] == 0
