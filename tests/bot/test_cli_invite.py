"""``mentorbot invite PROGRAM EMAIL... --as LEAD`` through the real command line, in this process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.cli_helpers import ROOT, Cli

LEAD = "priya.shah@example.com"
PEOPLE = """email,name,department,title,level,manager_email,timezone,location
priya.shah@example.com,Priya Shah,People,Head of Talent,7,,Europe/London,London
ana.lopez@example.com,Ana Lopez,Sales,Account Executive,3,,Europe/London,London
ben.ng@example.com,Ben Ng,Engineering,Software Engineer,2,,Europe/London,Leeds
"""


@pytest.fixture
def several(cli: Cli, tmp_path: Path) -> Cli:
    """The command line over tests/fixtures/programs.yaml, with three people imported."""
    cli.monkeypatch.setenv("MENTORBOT_CONFIG", str(ROOT / "tests" / "fixtures" / "programs.yaml"))
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE)
    cli.at("2027-01-11T10:00")
    assert cli.run("people", "import", str(people))[0] == 0
    return cli


def test_a_lead_invites_on_the_command_line_and_the_invitee_can_join(several: Cli) -> None:
    code, out, err = several.run("invite", "sales-pilot", "ana.lopez@example.com", "--as", LEAD)
    assert (code, err) == (0, "")
    assert out == "Invited 1 to Sales Leadership Pilot: Ana Lopez <ana.lopez@example.com>.\n"
    shell = several.shell("ana.lopez@example.com", "join sales-pilot")
    assert "Priya Shah invited you to Sales Leadership Pilot." in shell
    assert "How would you like to take part in Sales Leadership Pilot?" in shell
    code, out, _ = several.run("invite", "sales-pilot", "ana.lopez@example.com", "--as", LEAD)
    assert code == 0 and "1 already invited: Ana Lopez" in out
    [entry] = json.loads(several.run("audit", "--json")[1])
    assert (entry["actor"], entry["action"], entry["allowed"]) == (LEAD, "invite", True)


def test_addresses_that_could_not_be_invited_exit_1_after_the_summary(several: Cli) -> None:
    code, out, err = several.run(
        "invite", "sales-pilot", "zed@example.com", "ben.ng@example.com", "--as", LEAD
    )
    assert code == 1
    assert out == (
        "Nobody new invited to Sales Leadership Pilot; 1 not invited, the program's rules keep "
        "them out: Ben Ng (This program is for the Sales department); 1 not in the directory: "
        "zed@example.com (people import adds them).\n"
    )
    assert err == "mentorbot: not everyone was invited; see above\n"


def test_anyone_but_the_programs_lead_is_refused_and_audited(several: Cli) -> None:
    code, out, err = several.run(
        "invite", "sales-pilot", "ana.lopez@example.com", "--as", "ben.ng@example.com"
    )
    assert (code, out) == (1, "")
    assert err == (
        "mentorbot: ben.ng@example.com is not a program lead; invite is for the program's "
        "leads and the global leads in app.yaml\n"
    )
    code, _, err = several.run(
        "invite", "sales-pilot", "ana.lopez@example.com", "--as", "marcus.lee@example.com"
    )
    assert code == 1 and "marcus.lee@example.com is not a lead of sales-pilot" in err
    code, _, err = several.run("invite", "nope", "ana.lopez@example.com", "--as", LEAD)
    assert code == 1 and "there is no program 'nope'" in err
    refused = json.loads(several.run("audit", "--json")[1])
    # A lead of another program is refused and audited like anyone else.
    assert [(e["actor"], e["action"], e["allowed"]) for e in refused] == [
        ("ben.ng@example.com", "invite", False),
        ("marcus.lee@example.com", "invite", False),
    ]
    assert "invited you" not in several.shell("ana.lopez@example.com", "status")
