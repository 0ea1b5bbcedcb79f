"""The pairing lifecycle walked through the real ``mentorbot shell`` and ``mentorbot match``.

The command line runs in this process (``bot.cli.main``): tests/bot/test_cli.py keeps the
few true subprocess runs of the entry point itself.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import Database, Outbox
from tests.bot.cli_helpers import ONE_PROGRAM, Cli
from tests.helpers import MENTEE_ANSWERS, MENTOR_ANSWERS, mentee, mentor, rows

LEAD = "priya.shah@example.com"


async def outbox(database_url: str) -> list[Outbox]:
    database = Database(database_url)
    try:
        return await rows(database, Outbox)
    finally:
        await database.dispose()


@dataclass(frozen=True)
class Ran:
    """What one command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def mentorbot(cli: Cli, *args: str) -> Ran:
    return Ran(*cli.run(*args))


def shell(cli: Cli, email: str, *lines: str) -> str:
    out = cli.shell(email, *lines)
    assert "Traceback" not in out
    return out


def enroll_both(cli: Cli) -> None:
    shell(cli, "lee.park@example.com", "join mentee", *MENTEE_ANSWERS, "yes")
    shell(cli, "ana.lima@example.com", "join mentor", *MENTOR_ANSWERS, "yes")


def test_the_whole_lifecycle_in_the_shell(cli: Cli) -> None:
    enroll_both(cli)
    refused = shell(cli, "lee.park@example.com", "match")
    assert "Sorry, match is for the program leads only." in refused

    review = shell(cli, LEAD, "match", "1", "status")
    assert "1. Lee Park → Ana Lima · fit 0." in review
    assert "covers 1 of the 2 wanted competencies (People leadership)" in review
    assert "Sent 1 proposal to the mentors" in review

    mentor_view = shell(cli, "ana.lima@example.com", "1", "status")
    assert mentor_view.startswith("You have 1 new message:")
    assert "Would you mentor Lee Park?" in mentor_view
    assert (
        "you can help with 1 of the 2 competencies Lee wants to develop (People leadership)"
        in mentor_view
    )
    assert "  1. Accept\n  2. Decline" in mentor_view
    assert "I've asked Lee Park to confirm" in mentor_view
    assert "You accepted Lee Park; waiting for them to confirm." in mentor_view

    mentee_view = shell(cli, "lee.park@example.com", "1", "status")
    assert "Ana Lima would like to be your mentor" in mentee_view
    assert "covers 1 of the 2 competencies you want to develop (People leadership)" in mentee_view
    assert "Wonderful, you're paired with Ana Lima!" in mentee_view
    assert "You're paired with Ana Lima, your mentor, since" in mentee_view

    told = shell(cli, "ana.lima@example.com", "status")
    assert "Lee Park accepted: you're now paired as their mentor." in told
    assert "You're mentoring Lee Park since" in told
    # Messages are shown once.
    assert "new message" not in shell(cli, "ana.lima@example.com", "status")

    export = mentorbot(cli, "privacy", "export", "lee.park@example.com")
    [pairing] = json.loads(export.stdout)["pairings"]
    assert (pairing["role"], pairing["with"], pairing["status"]) == ("mentee", "Ana Lima", "active")
    assert pairing["reasons"][0].startswith("covers 1 of the 2 competencies you want to develop")


def test_match_dry_run_json_saves_nothing_then_match_sends(cli: Cli) -> None:
    enroll_both(cli)
    dry = mentorbot(cli, "match", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["sent"] == 0
    [proposal] = report["proposals"]
    assert proposal["mentee"] == "lee.park@example.com"
    assert proposal["mentor"] == "ana.lima@example.com"
    assert 0 < proposal["score"] <= 1
    assert "covers 1 of the 2 wanted competencies (People leadership)" in proposal["reasons"]
    assert report["waiting"] == []
    assert "new message" not in shell(cli, "ana.lima@example.com", "status")

    sent = mentorbot(cli, "match", "--as", LEAD)
    assert sent.returncode == 0, sent.stderr
    assert "1. Lee Park → Ana Lima" in sent.stdout
    assert "Sent 1 proposal to mentors." in sent.stdout
    assert "Would you mentor Lee Park?" in shell(cli, "ana.lima@example.com", "status")
    # The approval is in the audit log: who, which round, how many; the dry run is not.
    [entry] = json.loads(mentorbot(cli, "audit", "--json").stdout)
    assert (entry["actor"], entry["action"], entry["allowed"]) == (LEAD, "match-approve", True)
    assert entry["detail"] == {"approved": 1, "sent": 1, "skipped": 0, "held": 0}
    again = mentorbot(cli, "match")
    assert again.stdout == (
        "There are no mentees waiting for a match, so there is nothing to propose.\n"
    )


def test_match_on_the_command_line_refuses_a_non_lead_and_bad_numbers(cli: Cli) -> None:
    enroll_both(cli)
    not_lead = mentorbot(cli, "match", "--as", "ana.lima@example.com")
    assert not_lead.returncode == 1
    assert not_lead.stderr == (
        "mentorbot: ana.lima@example.com is not a program lead; match is for the leads "
        "listed in app.yaml\n"
    )
    bad = mentorbot(cli, "match", "--only", "3")
    assert bad.returncode == 1
    assert bad.stderr == "mentorbot: --only: there is no proposal 3; they go from 1 to 1\n"
    assert "Traceback" not in bad.stderr
    assert "new message" not in shell(cli, "ana.lima@example.com", "status")


def test_run_due_lapses_an_unanswered_proposal_once_and_tells_the_lead(
    cli: Cli, database_url: str
) -> None:
    enroll_both(cli)
    assert mentorbot(cli, "match").returncode == 0
    later = "2099-01-01T09:00"
    first = mentorbot(cli, "run-due", "--now", later)
    assert first.returncode == 0, first.stderr
    assert "1 unanswered proposal lapsed (1); the program leads were told" in first.stdout
    again = mentorbot(cli, "run-due", "--now", later)
    assert "0 unanswered proposals lapsed\n" in again.stdout
    # The lead's note waits in the outbox from that (future) instant on.
    notes = [o for o in asyncio.run(outbox(database_url)) if "expired:lead" in o.dedupe_key]
    assert len(notes) == 2  # one for each program lead
    for note in notes:
        assert note.payload[0]["text"].startswith(
            "The proposal Lee Park → Ana Lima lapsed: Ana Lima (mentor) didn't answer within "
            "7 days."
        )
    late = shell(cli, "ana.lima@example.com", "accept 1")
    assert "This proposal lapsed without an answer in time; nothing changed." in late


def test_run_due_with_a_bad_instant_says_how_to_write_one(cli: Cli) -> None:
    bad = mentorbot(cli, "run-due", "--now", "next tuesday")
    assert bad.returncode == 1
    assert bad.stderr == (
        "mentorbot: --now 'next tuesday' is not an ISO-8601 time; write e.g. "
        "2026-12-01T09:30 or 2026-12-01T09:30+01:00\n"
    )


def test_a_lead_can_match_the_demo_company(cli: Cli) -> None:
    assert mentorbot(cli, "demo").returncode == 0
    result = mentorbot(cli, "match", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mentees_waiting"] == 12
    assert len(report["proposals"]) + len(report["waiting"]) == 12
    assert len(report["proposals"]) >= 10
    for proposal in report["proposals"]:
        assert proposal["reasons"], proposal
        assert proposal["mentee"] != proposal["mentor"]


def test_run_due_sends_what_fell_due_once(cli: Cli, database_url: str) -> None:
    enroll_both(cli)
    shell(cli, LEAD, "match", "1")
    shell(cli, "ana.lima@example.com", "accept 1")
    assert "you're paired with" in shell(cli, "lee.park@example.com", "accept 1")
    later = (datetime.now(UTC) + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M")
    first = mentorbot(cli, "run-due", "--now", later)
    assert first.returncode == 0, first.stderr
    due = next(line for line in first.stdout.splitlines() if "due item" in line)
    assert not due.strip().startswith("0 due items"), first.stdout
    nudges = [o for o in asyncio.run(outbox(database_url)) if o.dedupe_key.startswith("due:")]
    assert any("It's been 1" in o.payload[0]["text"] for o in nudges)  # 14 or 15 days
    queued = len(asyncio.run(outbox(database_url)))
    again = mentorbot(cli, "run-due", "--now", later)
    assert "  0 due items: 0 sent" in again.stdout
    assert "  0 messages queued" in again.stdout
    assert len(asyncio.run(outbox(database_url))) == queued


async def test_a_blind_match_shows_a_waiting_mentee_behind_the_profile_chat_shows(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    text = ONE_PROGRAM.read_text(encoding="utf-8")
    assert "blind_review: false" in text
    blind = tmp_path / "app.yaml"
    blind.write_text(text.replace("blind_review: false", "blind_review: true"), encoding="utf-8")
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(blind))
    earlier = datetime(2026, 11, 1, tzinfo=UTC)
    await mentee(database, "lee@x.com", name="Lee Park", department="Sales", level=4, since=earlier)
    await mentee(
        database,
        "kim@x.com",
        name="Kim Chu",
        department="Finance",
        level=5,
        timezone="Asia/Tokyo",
        wants=("vision",),
    )
    await mentor(database, "ana@x.com", name="Ana Lima", timezone="Europe/London")

    code, out, err = await asyncio.to_thread(
        cli.at("2026-11-23T10:00:00Z").run, "match", "--dry-run"
    )

    assert code == 0, err
    assert "Kim" not in out and "Lee" not in out
    assert (
        "1 left on the waitlist:\n"
        "  #2 A mentee (Finance; level 5; Tokyo, UTC+9; wants Communicating a vision): "
    ) in out
