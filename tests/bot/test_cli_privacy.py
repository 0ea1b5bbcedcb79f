"""``mentorbot privacy forget`` and ``export``: in this process, and a closed pipe in a real one."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.bot.cli_helpers import ROOT, Cli, clean_env
from tests.helpers import MENTEE_ANSWERS

LEAD = "priya.shah@example.com"


def test_privacy_forget_erases_a_person_and_export_then_finds_no_one(cli: Cli) -> None:
    cli.shell("nia.achebe@example.com", "join mentee", *MENTEE_ANSWERS)
    code, out, err = cli.run("privacy", "forget", "nia.achebe@example.com", "--as", LEAD)
    assert code == 0, err
    assert out.startswith("erased nia.achebe@example.com: now person:")
    assert cli.run("privacy", "export", "nia.achebe@example.com")[0] == 1
    code, _, err = cli.run("privacy", "forget", "nia.achebe@example.com")
    assert (code, err) == (
        1,
        "mentorbot: no one with the email nia.achebe@example.com is in the directory\n",
    )


def test_privacy_forget_asked_by_someone_not_a_lead_is_refused(cli: Cli) -> None:
    code, _, err = cli.run("privacy", "forget", "ghost@example.com", "--as", "sam@example.com")
    assert code == 1
    assert "sam@example.com is not a program lead" in err


def test_privacy_export_into_a_closed_pipe_ends_quietly(cli: Cli, database_url: str) -> None:
    """``mentorbot privacy export X | head``: the reader goes away, and nothing is said."""
    cli.shell("nia.achebe@example.com", "join mentee", *MENTEE_ANSWERS)
    env = clean_env(database_url=database_url)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte is written
    try:
        process = subprocess.run(
            [sys.executable, "-m", "bot", "privacy", "export", "nia.achebe@example.com"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert process.stderr == ""
    assert process.returncode == 141
