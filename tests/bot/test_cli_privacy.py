"""``mentorbot privacy forget``, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.bot.cli_helpers import ROOT, clean_env, mentorbot
from tests.helpers import MENTEE_ANSWERS

LEAD = "priya.shah@example.com"


def enroll_nia(database_url: str) -> None:
    """Nia enrolls as a mentee through a real shell."""
    joined = mentorbot(
        "shell",
        "--as",
        "nia.achebe@example.com",
        database_url=database_url,
        stdin="\n".join(["join mentee", *MENTEE_ANSWERS]) + "\n",
    )
    assert joined.returncode == 0, joined.stderr


def test_privacy_forget_erases_a_person_and_export_then_finds_no_one(database_url: str) -> None:
    enroll_nia(database_url)
    forget = mentorbot(
        "privacy", "forget", "nia.achebe@example.com", "--as", LEAD, database_url=database_url
    )
    assert forget.returncode == 0, forget.stderr
    assert forget.stdout.startswith("erased nia.achebe@example.com: now person:")
    export = mentorbot("privacy", "export", "nia.achebe@example.com", database_url=database_url)
    assert export.returncode == 1
    again = mentorbot("privacy", "forget", "nia.achebe@example.com", database_url=database_url)
    assert (again.returncode, again.stderr) == (
        1,
        "mentorbot: no one with the email nia.achebe@example.com is in the directory\n",
    )


def test_privacy_forget_asked_by_someone_not_a_lead_is_refused(database_url: str) -> None:
    result = mentorbot(
        "privacy",
        "forget",
        "ghost@example.com",
        "--as",
        "sam@example.com",
        database_url=database_url,
    )
    assert result.returncode == 1
    assert "sam@example.com is not a lead of" in result.stderr


def test_privacy_export_into_a_closed_pipe_ends_quietly(database_url: str) -> None:
    """``mentorbot privacy export X | head``: the reader goes away, and nothing is said."""
    enroll_nia(database_url)
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
