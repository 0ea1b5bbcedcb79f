"""Waiting reasons and lapse reminders through the real command line, in this process."""

from __future__ import annotations

from tests.bot.cli_helpers import Cli
from tests.helpers import MENTEE_ANSWERS, MENTOR_ANSWERS

LEAD = "priya.shah@example.com"
MENTEE = "lee.park@example.com"
MENTOR = "ana.lima@example.com"


def test_mentorbot_match_keeps_why_each_mentee_waits_and_a_dry_run_does_not(cli: Cli) -> None:
    cli.at("2031-03-14T09:00")  # a Friday
    cli.shell(MENTEE, "join mentee", *MENTEE_ANSWERS, "yes")
    assert cli.run("match", "--dry-run")[0] == 0
    status = cli.shell(MENTEE, "status")
    assert "No match round has run since you joined the waitlist on Fri 14 Mar" in status
    code, out, err = cli.run("match", "--as", LEAD)
    assert code == 0, err
    assert out.startswith("No mentors have enrolled yet")
    status = cli.shell(MENTEE, "status")
    assert (
        "On Fri 14 Mar, the match round found no mentor for you: no mentors have enrolled yet."
        in status
    )


def test_run_due_reminds_the_mentor_a_day_before_a_proposal_lapses(cli: Cli) -> None:
    cli.at("2031-03-14T09:00")
    cli.shell(MENTEE, "join mentee", *MENTEE_ANSWERS, "yes")
    cli.shell(MENTOR, "join mentor", *MENTOR_ANSWERS, "yes")
    assert cli.run("match", "--as", LEAD)[0] == 0
    cli.shell(MENTOR, "status")  # reads the proposal
    code, out, _ = cli.at("2031-03-20T08:00").run("run-due")
    assert code == 0 and "  0 reminders queued for proposals about to lapse" in out
    code, out, _ = cli.at("2031-03-20T09:30").run("run-due")
    assert "  1 reminder queued for proposals about to lapse" in out
    assert "  0 reminders" in cli.run("run-due")[1]  # once only
    shown = cli.shell(MENTOR, "status")
    assert "Would you mentor Lee Park? The proposal lapses on Fri 21 Mar at 09:00" in shown
