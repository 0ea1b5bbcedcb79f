"""``mentorbot report`` and ``mentorbot audit``: who may see reports, and the record of it."""

from __future__ import annotations

import asyncio
import csv
import io
import json

from handlers.reports.export import EXPORT_COLUMNS
from storage import Database, Person
from tests.bot.cli_helpers import Cli, mentorbot
from tests.handlers import export_world
from tests.handlers.export_world import seed_small_program
from tests.handlers.reports import pairs_world

LEAD = "priya.shah@example.com"


def test_a_lead_gets_a_report_as_a_table_csv_or_json(cli: Cli) -> None:
    code, table, err = cli.run("report", "ops", "--as", LEAD)
    assert code == 0, err
    assert table.startswith(
        "Operations: message delivery\n============================\nWaiting to go out  0\n"
    )
    code, as_json, err = cli.run("report", "ops", "--as", LEAD.upper(), "--format", "json")
    assert code == 0, err
    document = json.loads(as_json)
    assert document["kind"] == "ops"
    assert document["figures"]["Failed"] == "0"
    _, as_csv, _ = cli.run("report", "ops", "--as", LEAD, "--format", "csv")
    assert list(csv.reader(io.StringIO(as_csv)))[:2] == [
        ["figure", "value"],
        ["Waiting to go out", "0"],
    ]


def test_anyone_else_is_refused_and_every_attempt_is_audited(cli: Cli) -> None:
    assert cli.run("report", "ops", "--as", "lee.park@example.com") == (
        1,
        "",
        "mentorbot: lee.park@example.com is not a program lead of Leadership Mentoring "
        "Program 2027; reports are for its leads and the global leads in app.yaml\n",
    )
    assert cli.run("report", "ops", "--as", LEAD)[0] == 0
    code, _, err = cli.run("report", "gossip", "--as", LEAD)
    assert code == 1
    assert "there is no report 'gossip'; available: " in err
    assert "Traceback" not in err

    code, audit, err = cli.run("audit")
    assert code == 0, err
    lines = audit.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("UTC  lee.park@example.com  report ops  (refused)")
    assert lines[1].endswith(f"UTC  {LEAD}  report ops")
    entries = json.loads(cli.run("audit", "--json")[1])
    asked = {"kind": "ops", "channel": "cli", "format": "table"}
    assert [(e["actor"], e["allowed"], e["detail"]) for e in entries] == [
        ("lee.park@example.com", False, {**asked, "program": "leadership-2027"}),
        (LEAD, True, {**asked, "program": "leadership-2027"}),
    ]
    assert cli.run("audit", "--since", "2999-01-01")[1] == "no audit entries since 2999-01-01\n"
    code, _, err = cli.run("audit", "--since", "last tuesday")
    assert code == 1
    assert err == "mentorbot: --since 'last tuesday' is not a date; use YYYY-MM-DD\n"


async def test_the_export_as_csv_does_not_pick_out_a_lone_at_risk_pair(database: Database) -> None:
    """``report export --format csv``: rows k-anonymous, the note last, the csv module reads it."""
    small = await seed_small_program(database)

    result = mentorbot(
        "report", "export", "--as", LEAD, "--format", "csv",
        database_url=database.url,
        extra_env={"MENTORBOT_NOW": export_world.NOW.isoformat()},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "Legal" not in result.stdout
    records = list(csv.reader(io.StringIO(result.stdout)))
    header, *rows, empty, note = records
    assert header == list(EXPORT_COLUMNS)
    assert [tuple(row[2:6]) for row in rows] == [
        (department, level, mentor, str(mentor_level))
        for department, level, mentor, mentor_level in export_world.SHOWN
    ]
    assert [int(row[0]) for row in rows] == small.pairings[:10]
    assert {row[13] for row in rows} == {"no"}
    assert empty == [""] * len(EXPORT_COLUMNS)
    assert note == [f"Note: {export_world.NOTE}"] + [""] * (len(EXPORT_COLUMNS) - 1)


async def test_at_risk_says_when_a_proposal_lapses_on_the_leads_own_clock(
    cli: Cli, database: Database
) -> None:
    await pairs_world.seed(database)
    async with database.session() as session:
        lead = await session.get(Person, pairs_world.LEAD_ID)
        assert lead is not None
        lead.timezone = "Pacific/Auckland"
        session.add(lead)
    at = cli.at(pairs_world.NOW.isoformat())

    code, out, err = await asyncio.to_thread(at.run, "report", "at-risk", "--as", LEAD)

    assert code == 0, err
    # 12:00 UTC on Thu 11 Mar is 01:00 on Friday in Auckland (UTC+13).
    assert "it lapses on Fri 12 Mar at 01:00 (your time)" in out
