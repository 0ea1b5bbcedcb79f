"""``mentorbot pair`` and ``mentorbot unexclude`` through the real command line, in this process."""

from __future__ import annotations

import json

from tests.bot.cli_helpers import Cli
from tests.helpers import MENTEE_ANSWERS, MENTOR_ANSWERS

LEAD = "priya.shah@example.com"
MENTEE = "lee.park@example.com"
MENTOR = "ana.lima@example.com"


def enroll_both(cli: Cli) -> None:
    cli.at("2031-03-14T09:00")
    cli.shell(MENTEE, "join mentee", *MENTEE_ANSWERS, "yes")
    cli.shell(MENTOR, "join mentor", *MENTOR_ANSWERS, "yes")


def test_a_lead_pairs_on_the_command_line_and_the_mentor_gets_the_proposal(cli: Cli) -> None:
    enroll_both(cli)
    code, out, err = cli.run("pair", MENTEE, MENTOR, "--as", LEAD)
    assert (code, err) == (0, "")
    assert out.startswith("Proposed Lee Park → Ana Lima (fit 0.")
    assert "Would you mentor Lee Park? The program lead suggests you" in cli.shell(MENTOR, "status")
    [entry] = json.loads(cli.run("audit", "--json")[1])
    assert (entry["actor"], entry["action"], entry["allowed"]) == (LEAD, "pair", True)


def test_anyone_but_a_lead_gets_one_line_and_exit_1_and_is_audited(cli: Cli) -> None:
    enroll_both(cli)
    for command in ("pair", "unexclude"):
        code, out, err = cli.run(command, MENTEE, MENTOR, "--as", MENTOR)
        assert (code, out) == (1, "")
        assert err == (
            f"mentorbot: {MENTOR} is not a program lead; {command} is for the program's leads "
            "and the global leads in app.yaml\n"
        )
    refused = json.loads(cli.run("audit", "--json")[1])
    assert [(e["actor"], e["action"], e["allowed"]) for e in refused] == [
        (MENTOR, "pair", False),
        (MENTOR, "unexclude", False),
    ]
    assert "Would you mentor" not in cli.shell(MENTOR, "status")


def test_a_blocked_pair_is_one_line_naming_the_rule(cli: Cli) -> None:
    enroll_both(cli)
    code, out, err = cli.run("pair", MENTEE, MENTEE, "--as", LEAD)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "I can't propose Lee Park → Lee Park: Lee Park can't mentor themselves." in err
    code, _, err = cli.run("pair", "zoe@example.com", MENTOR, "--as", LEAD)
    assert (code, err) == (
        1,
        "mentorbot: I can't find 'zoe@example.com' in the directory. Use their email address.\n",
    )


def test_unexclude_on_the_command_line_lifts_a_decline(cli: Cli) -> None:
    enroll_both(cli)
    assert cli.run("pair", MENTEE, MENTOR, "--as", LEAD)[0] == 0
    cli.shell(MENTOR, "decline 1")
    code, _, err = cli.run("pair", MENTEE, MENTOR, "--as", LEAD)
    assert code == 1 and "declined a proposal before (pairing 1" in err
    code, out, err = cli.run("unexclude", MENTEE, MENTOR, "--as", LEAD)
    assert (code, err) == (0, "")
    assert out.startswith("Done: Lee Park and Ana Lima may be proposed to each other again.")
    assert cli.run("pair", MENTEE, MENTOR, "--as", LEAD)[0] == 0
