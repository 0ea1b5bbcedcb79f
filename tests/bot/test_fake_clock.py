"""``MENTORBOT_NOW``: every command runs at the instant it names; ``serve`` only on request."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.bot.cli_helpers import Cli, mentorbot
from tests.helpers import MENTEE_ANSWERS, MENTOR_ANSWERS

LEAD = "priya.shah@example.com"
MENTEE = "lee.park@example.com"
MENTOR = "ana.lima@example.com"


def enroll_both(cli: Cli) -> None:
    cli.shell(MENTEE, "join mentee", *MENTEE_ANSWERS, "yes")
    cli.shell(MENTOR, "join mentor", *MENTOR_ANSWERS, "yes")


def test_the_shell_dates_a_pairing_on_mentorbot_now(cli: Cli) -> None:
    cli.at("2031-03-14T09:00")
    enroll_both(cli)
    cli.shell(LEAD, "match", "1")
    cli.shell(MENTOR, "accept 1")
    status = cli.shell(MENTEE, "accept 1", "status")
    assert "You're paired with Ana Lima, your mentor, since Fri 14 Mar 2031." in status


def test_the_shell_counts_a_nudges_days_on_the_day_it_shows_it(cli: Cli) -> None:
    cli.at("2031-03-14T09:00")
    enroll_both(cli)
    cli.shell(LEAD, "match", "1")
    cli.shell(MENTOR, "accept 1")
    cli.shell(MENTEE, "accept 1")
    code, _out, err = cli.at("2031-03-28T09:00").run("run-due")  # the check-in is queued
    assert code == 0, err
    shown = cli.at("2031-03-31T09:00").shell(MENTOR, "status")  # and read three days later
    assert "It's been 17 days since you were paired with Lee" in shown
    assert "It's been 14 days" not in shown


def test_run_due_runs_at_mentorbot_now_when_no_now_is_given(cli: Cli) -> None:
    cli.at("2031-03-14T09:00")
    enroll_both(cli)
    assert cli.run("match")[0] == 0
    code, out, err = cli.at("2031-04-14T09:00").run("run-due")
    assert code == 0, err
    assert out.startswith("run-due at 2031-04-14T09:00:00+00:00:\n")
    assert "1 unanswered proposal lapsed (1)" in out
    # --now, when given, still wins.
    code, out, err = cli.run("run-due", "--now", "2031-05-01T08:00")
    assert code == 0, err
    assert out.startswith("run-due at 2031-05-01T08:00:00+00:00:\n")


def test_a_malformed_mentorbot_now_is_one_clear_line(bare_cli: Cli) -> None:
    code, out, err = bare_cli.at("next tuesday").run("run-due")
    assert (code, out) == (1, "")
    assert err == (
        "mentorbot: MENTORBOT_NOW='next tuesday' is not an ISO-8601 time; write e.g. "
        "2026-12-01T09:30 or 2026-12-01T09:30+01:00, or unset it for the real clock\n"
    )


def test_serve_refuses_mentorbot_now_without_allow_fake_clock(tmp_path: Path) -> None:
    result = mentorbot(
        "serve",
        "--port",
        "0",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/serve.db",
        extra_env={"MENTORBOT_NOW": "2031-03-14T09:00"},
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "mentorbot: MENTORBOT_NOW is set (2031-03-14T09:00:00+00:00), and serving on a clock "
        "that stands still is for demos only; unset it, or pass --allow-fake-clock\n"
    )


def test_serve_help_says_a_fake_clock_stands_still(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--allow-fake-clock serve even though MENTORBOT_NOW is set" in help_text
    assert "time then stands still at that instant" in help_text
