"""``mentorbot programs`` and ``mentorbot report`` with several programs (tests/fixtures/programs.yaml):
each program's state over time, and who may see which program's reports."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from storage import Database
from storage.tables import PAIRING
from tests.bot.cli_helpers import ROOT, Cli
from tests.handlers.reports.two_programs import ARCHIVED, COPY, GLOBAL, PRIYA, seed_two

SEVERAL = ROOT / "tests" / "fixtures" / "programs.yaml"


def several(cli: Cli) -> Cli:
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(SEVERAL))
    return cli


async def run(cli: Cli, *args: str) -> tuple[int, str, str]:
    """The command line on a thread: it runs its own event loop beside the test's."""
    return await asyncio.to_thread(cli.run, *args)


async def states(cli: Cli, instant: str) -> dict[str, str]:
    code, out, err = await run(cli.at(instant), "programs", "--json")
    assert code == 0, err
    return {program["id"]: program["state"] for program in json.loads(out)}


async def pair_in_sales_pilot(database: Database, status: str, activated: datetime) -> None:
    async with database.session() as session:
        await (await session.connection()).execute(
            sa.insert(PAIRING),
            {
                # The world's rows carry their own ids (PostgreSQL's sequence never saw them).
                "id": 900,
                "program": "sales-pilot",
                "mentee_id": 12,
                "mentor_id": 2,
                "status": status,
                "score": 0.5,
                "reasons": [],
                "batch": "test",
                "proposed_at": activated - timedelta(days=2),
                "expires_at": activated + timedelta(days=5),
                "activated_at": activated,
                "cycle": 1,
                "missed_checkins": 0,
            },
        )


async def test_programs_lists_each_programs_state_as_time_passes(
    cli: Cli, database: Database
) -> None:
    several(cli)
    assert await states(cli, "2026-12-01T09:00") == {
        "leadership-2027": "enrolling",
        "reverse-2027": "enrolling",
        "peer-circle": "enrolling",
        "sales-pilot": "announced",  # enrols from 4 January
    }
    assert (await states(cli, "2027-01-04T09:00"))["sales-pilot"] == "enrolling"
    assert (await states(cli, "2027-01-29T16:00"))["sales-pilot"] == "enrolling"
    assert (await states(cli, "2027-01-30T09:00"))["sales-pilot"] == "matching"

    await seed_two(database)  # leadership-2027 has active pairs
    await seed_two(database, copy=ARCHIVED)
    await pair_in_sales_pilot(database, "active", datetime(2027, 1, 30, 12, tzinfo=UTC))
    # Paired before the cohort starts on 1 February: still matching until then.
    assert await states(cli, "2027-01-31T09:00") == {
        "leadership-2027": "running",
        "reverse-2027": "enrolling",
        "peer-circle": "enrolling",
        "sales-pilot": "matching",
        "old-program": "archived",
    }
    assert (await states(cli, "2027-02-01T09:00"))["sales-pilot"] == "running"
    async with database.session() as session:
        await (await session.connection()).execute(
            sa.update(PAIRING).where(PAIRING.c.program == "sales-pilot").values(status="ended")
        )
    assert (await states(cli, "2027-06-01T09:00"))["sales-pilot"] == "ended"


async def test_programs_as_json_counts_people_pairs_and_the_waitlist(
    cli: Cli, database: Database
) -> None:
    await seed_two(database)
    code, out, err = await run(several(cli).at("2027-03-10T12:00"), "programs", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert listed[0] == {
        "id": "leadership-2027",
        "name": "Leadership Mentoring Program 2027",
        "type": "one_to_one",
        "state": "running",
        "participants": {"mentee": 14, "mentor": 4},
        "active_pairs": 6,
        "waiting": 4,
    }
    assert listed[2]["participants"] == {"peer": 0}
    code, out, err = await run(cli, "programs")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "leadership-2027  Leadership Mentoring Program 2027  (one-to-one, running): "
        "14 mentees, 4 mentors; 6 active pairs, 4 waiting"
    )
    # No names or emails: counts only.
    assert "@" not in out and "Lee Park" not in out


async def test_report_scopes_to_the_programs_a_lead_leads(cli: Cli, database: Database) -> None:
    await seed_two(database)
    await seed_two(database, copy=COPY)
    await seed_two(database, copy=ARCHIVED)
    several(cli).at("2027-03-10T12:00")
    code, out, err = await run(cli, "report", "programs", "--as", GLOBAL)
    assert code == 0, err
    assert "old-program (archived)" in out and "reverse-2027" in out
    code, out, err = await run(cli, "report", "programs", "--as", PRIYA, "--format", "json")
    assert code == 0, err
    shown = [row["program"] for row in json.loads(out)["tables"][0]["rows"]]
    assert shown == ["leadership-2027", "sales-pilot"]
    # Priya leads two programs: she names one; another's is refused.
    code, _, err = await run(cli, "report", "overview", "--as", PRIYA)
    assert (code, err) == (
        1,
        "mentorbot: several programs; add --program with one of: leadership-2027, sales-pilot\n",
    )
    code, out, err = await run(
        cli, "report", "at-risk", "--as", PRIYA, "--program", "leadership-2027"
    )
    assert code == 0, err
    assert "Mia Chen" in out and "Bee " not in out
    for program, name in (
        ("reverse-2027", "Reverse Mentoring 2027"),
        ("old-program", "old-program"),
    ):
        code, _, err = await run(cli, "report", "overview", "--as", PRIYA, "--program", program)
        assert (code, err) == (
            1,
            f"mentorbot: {PRIYA} is not a program lead of {name}; reports are for its leads "
            "and the global leads in app.yaml\n",
        )
    code, out, err = await run(
        cli, "report", "overview", "--as", GLOBAL, "--program", "old-program"
    )
    assert code == 0, err
    assert out.startswith("Program overview: old-program (archived)\n")
    code, _, err = await run(cli, "report", "overview", "--as", GLOBAL, "--program", "nope")
    assert code == 1 and "there is no program 'nope'" in err
    code, out, _ = await run(cli, "audit", "--json")
    refused = [(e["actor"], e["detail"]["program"]) for e in json.loads(out) if not e["allowed"]]
    assert refused == [(PRIYA, "reverse-2027"), (PRIYA, "old-program")]


async def test_programs_counts_one_of_a_kind_in_the_singular(cli: Cli, database: Database) -> None:
    await seed_two(database)
    await pair_in_sales_pilot(database, "active", datetime(2027, 2, 1, 12, tzinfo=UTC))
    code, out, err = await run(several(cli).at("2027-03-10T12:00"), "programs")
    assert code == 0, err
    [pilot] = [line for line in out.splitlines() if line.startswith("sales-pilot")]
    assert "; 1 active pair, " in pilot, pilot
