"""``mentorbot match --program leader-circles [--dry-run] [--json]``: the circles a round
forms, and (without --dry-run) proposed to their people as for pairs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from storage import Circle, CircleMember, Database, Outbox
from tests.bot.cli_helpers import Cli
from tests.conftest import CIRCLES_PROGRAMS
from tests.helpers import enroll_as, make_person, rows

AT = "2027-02-10T10:00:00Z"


async def _people(database_url: str, *, members: int) -> None:
    database = Database(database_url)
    try:
        for k in range(members):
            wants = ["coaching", "influence"] if k < 3 else ["vision"]
            person = await make_person(database, f"m{k}@x.com", name=f"Member {k}")
            await enroll_as(
                database,
                person,
                "mentee",
                program="leader-circles",
                answers={"goals": "Grow", "competencies": wants, "formats": ["Group"]},
            )
        for k, strengths in enumerate([["coaching", "influence"], ["vision"]]):
            person = await make_person(database, f"f{k}@x.com", name=f"Facilitator {k}")
            await enroll_as(
                database,
                person,
                "mentor",
                program="leader-circles",
                capacity=1,
                answers={"strengths": strengths, "capacity": 1, "bio": "Leads teams."},
            )
    finally:
        await database.dispose()


def test_a_circles_round_prints_its_circles_as_json(cli: Cli, database_url: str) -> None:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(CIRCLES_PROGRAMS))
    asyncio.run(_people(database_url, members=7))
    code, out, err = cli.at(AT).run("match", "--program", "leader-circles", "--dry-run", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["program"] == "leader-circles"
    assert report["optimality_gap"] == 0.0
    assert report["left_over"] == []
    assert report["members_placed"] == 7 and report["mentees_waiting"] == 7
    assert report["dry_run"] is True and report["sent"] == 0
    circles = {c["facilitator"]: c for c in report["circles"]}
    assert set(circles["f0@x.com"]["members"]) >= {"m0@x.com", "m1@x.com", "m2@x.com"}
    assert "Facilitator can help with Coaching" in " · ".join(circles["f0@x.com"]["reasons"])
    for circle in report["circles"]:
        assert 3 <= len(circle["members"]) <= 5
        assert 0 < circle["score"] <= 1
        assert "8 h of working hours in common with everyone" in circle["reasons"]
        assert set(circle["member_reasons"]) == set(circle["members"])
    assert "proposals" not in report  # never the pairs' solver


def test_the_plain_dry_run_lists_circles_and_who_is_left(cli: Cli, database_url: str) -> None:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(CIRCLES_PROGRAMS))
    asyncio.run(_people(database_url, members=11))
    code, out, err = cli.at(AT).run("match", "--program", "leader-circles", "--dry-run")
    assert code == 0, err
    assert "2 circles for 11 waiting members, the best possible:" in out
    assert "  1. Facilitator " in out and "  2. Facilitator " in out
    assert "1 left waiting:" in out
    assert "full (5 members)" in out
    assert out.rstrip().endswith("Dry run: nothing was saved or sent.")


def test_a_pool_too_small_says_so(cli: Cli, database_url: str) -> None:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(CIRCLES_PROGRAMS))
    asyncio.run(_people(database_url, members=2))
    code, out, err = cli.at(AT).run("match", "--program", "leader-circles", "--dry-run", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["circles"] == []
    assert report["problem"] == "3 members are needed for a circle and only 2 are waiting."
    assert [w["mentee"] for w in report["left_over"]] == ["m0@x.com", "m1@x.com"]


def stored(database_url: str, model: Any) -> list[Any]:
    """Every row of a table, read on a connection of its own (the command line ran its own
    event loop)."""

    async def read() -> list[Any]:
        database = Database(database_url)
        try:
            return await rows(database, model)
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_a_circles_round_is_proposed_from_the_command_line(cli: Cli, database_url: str) -> None:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(CIRCLES_PROGRAMS))
    asyncio.run(_people(database_url, members=3))
    code, out, err = cli.at(AT).run(
        "match", "--program", "leader-circles", "--as", "priya.shah@example.com"
    )
    assert code == 0, err
    assert "1 circle for 3 waiting members, the best possible:" in out
    assert "Sent 1 circle proposal to their facilitators and members." in out
    (circle,) = stored(database_url, Circle)
    assert (circle.status, circle.program) == ("proposed", "leader-circles")
    places = stored(database_url, CircleMember)
    assert sorted(p.role for p in places) == ["facilitator", "member", "member", "member"]
    asked = {o.dedupe_key for o in stored(database_url, Outbox)}
    assert {f"circle:{circle.id}:ask:{p.person_id}" for p in places} <= asked
    again = cli.at(AT).run("match", "--program", "leader-circles", "--json")
    assert json.loads(again[1])["circles"] == []  # they are in a circle now


def test_a_dry_run_sends_nothing(cli: Cli, database_url: str) -> None:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(CIRCLES_PROGRAMS))
    asyncio.run(_people(database_url, members=3))
    code, out, err = cli.at(AT).run("match", "--program", "leader-circles", "--dry-run")
    assert code == 0, err
    assert out.rstrip().endswith("Dry run: nothing was saved or sent.")
    assert stored(database_url, Circle) == []


def test_a_blind_review_prints_profiles_not_names_or_emails(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    blind = tmp_path / "circles.yaml"
    text = CIRCLES_PROGRAMS.read_text(encoding="utf-8")
    blind.write_text(text.replace("blind_review: false", "blind_review: true"), encoding="utf-8")
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(blind))
    asyncio.run(_people(database_url, members=11))
    code, out, err = cli.at(AT).run("match", "--program", "leader-circles", "--dry-run")
    assert code == 0, err
    code, as_json, err = cli.at(AT).run(
        "match", "--program", "leader-circles", "--dry-run", "--json"
    )
    assert code == 0, err
    for shown in (out, as_json):
        assert "Member " not in shown.replace("Member 1.", "").replace("Member 2.", "")
        assert "@x.com" not in shown
    assert "  1. Facilitator 1 (" in out and " facilitates Member 1.1 (" in out
    # A member left over is shown behind the same profile as in chat, not as "a mentee".
    assert "1 left waiting:\n  A member (department not given; London, UTC; wants " in out
    report = json.loads(as_json)
    assert [c["label"] for c in report["circles"]] == ["Facilitator 1 + 5", "Facilitator 2 + 5"]
    assert [set(w) for w in report["left_over"]] == [{"why"}]
