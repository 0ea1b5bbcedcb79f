"""The real command line. Most tests run it in this process (tests/bot/cli_helpers.py); the
entry point itself (``python -m bot``: exit codes, a shell fed through a pipe) runs as a true
subprocess (``real=True``)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

from storage.database import head_revision
from tests import postgres
from tests.bot.cli_helpers import ROOT, Cli, mentorbot
from tests.helpers import MENTEE_ANSWERS, MENTEE_STORED


def test_check_config_accepts_the_shipped_program() -> None:
    result = mentorbot("check-config", str(ROOT / "app.yaml"), real=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


def test_check_config_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (ROOT / "app.yaml").read_text()
    text = text.replace("cycle_days: 90", "cycle_days: -5").replace("- coaching", "- coachng")
    text = text.replace("      required: false", "      requierd: false", 1)
    broken.write_text(text)
    result = mentorbot("check-config", str(broken))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{broken}:")
    assert (
        "intake.mentee[5].requierd: unknown setting 'requierd'; did you mean 'required'?"
        in lines[0]
    )
    assert "cadence.cycle_days: Input should be greater than or equal to 7 (got -5)" in lines[1]
    assert "Traceback" not in result.stderr


def test_check_config_says_weights_that_do_not_add_up_are_normalised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    text = (ROOT / "app.yaml").read_text()
    assert "    seniority: 0.10\n" in text
    path = tmp_path / "app.yaml"
    path.write_text(text.replace("    seniority: 0.10\n", "    seniority: 0.90\n"))
    monkeypatch.delenv("MENTORBOT_CONFIG", raising=False)

    assert main(["check-config", str(path)]) == 0

    out = capsys.readouterr().out.splitlines()
    line = text.splitlines().index("  weights:") + 1
    assert out == [
        f"note: {path}:{line}: matching.weights: add up to 1.8, not 1; normalised, so each "
        "counts as its share of the total: competencies 19%, goals 8%, formats 6%, "
        "timezone 8%, cross_function 8%, seniority 50%",
        "ok",
    ]


def test_check_config_on_a_missing_file() -> None:
    result = mentorbot("check-config", "/nonexistent/app.yaml")
    assert result.returncode == 1
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def test_a_command_with_a_bad_program_file_says_what_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "app.yaml"
    broken.write_text("program: [\n")
    result = mentorbot(
        "demo",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        config=broken,
    )
    assert result.returncode == 1
    assert "not valid YAML" in result.stderr and "Traceback" not in result.stderr


def test_every_command_has_help(bare_cli: Cli) -> None:
    for command in (
        ["db", "upgrade"],
        ["check-config"],
        ["people", "import"],
        ["shell"],
        ["privacy", "export"],
        ["demo"],
    ):
        code, out, _ = bare_cli.run(*command, "--help")
        assert code == 0, command
        assert "usage: mentorbot" in out


def test_an_unknown_command_is_a_usage_error() -> None:
    result = mentorbot("frobnicate", real=True)
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    first = mentorbot("db", "upgrade", database_url=url)
    second = mentorbot("db", "upgrade", database_url=url)
    head = head_revision()
    assert first.stdout == f"database upgraded from empty to revision {head}\n"
    assert second.stdout == f"database already up to date (revision {head})\n"


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = mentorbot("db", "upgrade", database_url="postgresql+asyncpg://nobody@127.0.0.1:1/x")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "mentorbot: cannot use the database postgresql+asyncpg://nobody@127.0.0.1:1/x"
    )


def test_a_database_url_that_is_not_one() -> None:
    result = mentorbot("db", "upgrade", database_url="mysql://root@localhost/x")
    assert result.returncode == 1
    assert "unsupported database 'mysql'" in result.stderr


def test_a_missing_sqlite_folder_is_explained(tmp_path: Path) -> None:
    result = mentorbot("demo", database_url=f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db")
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_whole_intake_piped_into_the_shell_then_exported(database_url: str) -> None:
    lines = ["join mentee", *MENTEE_ANSWERS, "yes", "status"]
    result = mentorbot(
        "shell",
        "--as",
        "Nia.Achebe@Example.com",
        database_url=database_url,
        stdin="\n".join(lines) + "\n",
        real=True,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You weren't in the directory yet, so I added nia.achebe@example.com" in out
    assert "Hi Nia!" in out
    assert "Question 6 of 6" in out
    assert "You're enrolled as a mentee" in out
    assert "enrolled as a mentee, waiting for a match" in out
    assert result.stderr == ""

    export = mentorbot("privacy", "export", "nia.achebe@example.com", database_url=database_url)
    assert export.returncode == 0, export.stderr
    document = json.loads(export.stdout)
    assert document["profile"]["email"] == "nia.achebe@example.com"
    assert document["profile"]["name"] == "Nia Achebe"
    [enrollment] = document["enrollments"]
    assert enrollment["role"] == "mentee"
    assert enrollment["status"] == "waiting"
    assert enrollment["answers"] == MENTEE_STORED
    assert document["conversations_in_progress"] == []


def test_the_shell_resumes_an_unfinished_intake(database_url: str) -> None:
    first = mentorbot(
        "shell",
        "--as",
        "omar@example.com",
        database_url=database_url,
        stdin="join mentee\nLead a team\n",
    )
    assert "Question 2 of 6" in first.stdout
    second = mentorbot("shell", "--as", "omar@example.com", database_url=database_url, stdin="1\n")
    assert second.stdout.startswith(
        "Welcome back! You were on question 2 of 6 of your mentee intake."
    )
    assert "Question 3 of 6" in second.stdout
    export = json.loads(
        mentorbot("privacy", "export", "omar@example.com", database_url=database_url).stdout
    )
    [progress] = export["conversations_in_progress"]
    assert progress["answers_so_far"] == {
        "goals": "Lead a team",
        "competencies": ["strategic-judgment"],
    }


def test_the_shell_refuses_an_address_that_is_not_an_email(tmp_path: Path) -> None:
    result = mentorbot("shell", "--as", "sam", database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert result.returncode == 1
    assert "'sam' is not an email address" in result.stderr


def test_privacy_export_of_someone_unknown(database_url: str) -> None:
    result = mentorbot("privacy", "export", "ghost@example.com", database_url=database_url)
    assert result.returncode == 1
    assert (
        result.stderr == "mentorbot: no one with the email ghost@example.com is in the directory\n"
    )


def test_demo_loads_an_organisation_once(database_url: str) -> None:
    shipped = ROOT / "app.yaml"
    first = mentorbot("demo", database_url=database_url, config=shipped)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "Loaded a demo organisation: 53 people in 8 departments.",
        "  Leadership Mentoring Program 2027 (leadership-2027): 17 mentors; 12 mentees wait "
        "for a match",
        "  Reverse Mentoring 2027 - Technology and Culture (reverse-2027): 8 mentors; 6 "
        "mentees wait for a match",
        "Try: mentorbot shell --as sam.okafor@example.com",
    ]
    second = mentorbot("demo", database_url=database_url, config=shipped)
    assert "already has 53 people; demo data not loaded" in second.stdout
    shell = mentorbot(
        "shell",
        "--as",
        "sam.okafor@example.com",
        database_url=database_url,
        config=shipped,
        stdin="status\n",
    )
    assert "Hi Sam!" in shell.stdout
    assert "not enrolled" in shell.stdout


def test_make_run_offers_the_demo_employee_both_shipped_programs(database_url: str) -> None:
    # What `make run` does: the demo, then the shell as Sam, on the shipped app.yaml.
    shipped = ROOT / "app.yaml"
    assert mentorbot("demo", database_url=database_url, config=shipped).returncode == 0
    shell = mentorbot(
        "shell",
        "--as",
        "sam.okafor@example.com",
        database_url=database_url,
        config=shipped,
        stdin="join\n",
    )
    assert shell.returncode == 0, shell.stderr
    assert "leadership-2027" in shell.stdout
    assert "reverse-2027" in shell.stdout
    assert "Traceback" not in shell.stderr


def test_status_lists_both_programs_of_someone_in_two(database_url: str) -> None:
    # The demo enrols Lina Patel as a leadership mentee and a reverse-mentoring mentor.
    shipped = ROOT / "app.yaml"
    assert mentorbot("demo", database_url=database_url, config=shipped).returncode == 0
    shell = mentorbot(
        "shell",
        "--as",
        "lina.patel@example.com",
        database_url=database_url,
        config=shipped,
        stdin="status\n",
    )
    assert shell.returncode == 0, shell.stderr
    assert "Leadership Mentoring Program 2027" in shell.stdout
    assert "Reverse Mentoring 2027 - Technology and Culture" in shell.stdout


@pytest.mark.postgres
def test_postgresql_with_an_old_schema_names_the_command_to_run(postgres_url: str) -> None:
    # A name of its own: two test runs on one server (CI beside a developer's run) must
    # not drop each other's database.
    name = f"mentorbot_empty_schema_{os.getpid()}_{secrets.token_hex(3)}"
    base = postgres_url.rsplit("/", 1)[0]
    postgres.admin_sync(postgres_url, f'DROP DATABASE IF EXISTS "{name}"')
    postgres.admin_sync(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        result = mentorbot("demo", database_url=f"{base}/{name}")
        assert result.returncode == 1
        assert (
            f"is empty; this mentorbot needs revision {head_revision()}. Run `mentorbot db "
            "upgrade` first." in result.stderr
        )
        upgrade = mentorbot("db", "upgrade", database_url=f"{base}/{name}")
        assert upgrade.returncode == 0
        assert mentorbot("demo", database_url=f"{base}/{name}").returncode == 0
    finally:
        postgres.admin_sync(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_outbox_lists_who_cannot_be_reached(database_url: str) -> None:
    import asyncio
    from datetime import UTC, datetime

    from handlers.core.messages import Reply
    from handlers.core.outbox import enqueue
    from storage import Database
    from storage.models import Outbox, OutboxStatus
    from tests.helpers import make_person

    async def arrange() -> None:
        database = Database(database_url)
        try:
            ben = await make_person(database, "ben.kim@example.com", name="Ben Kim")
            now = datetime(2026, 11, 21, tzinfo=UTC)
            async with database.session() as session:
                for key in ("a", "b", "c"):
                    await enqueue(
                        session, person_id=ben.id, replies=[Reply("hi")], dedupe_key=key, now=now
                    )
            async with database.session() as session:
                conn = await session.connection()
                table = Outbox.__table__
                await conn.execute(
                    table.update()
                    .where(table.c.dedupe_key.in_(["a", "b"]))
                    .values(
                        status=OutboxStatus.UNDELIVERABLE.value,
                        last_error="teams: has never opened a chat with the bot in Teams; invite them to install the app",
                    )
                )
        finally:
            await database.dispose()

    asyncio.run(arrange())
    result = mentorbot("outbox", database_url=database_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "pending 1  sending 0  sent 0  failed 0  undeliverable 2  withdrawn 0"
    assert lines[-1] == (
        "  Ben Kim <ben.kim@example.com>: 2 messages; teams: has never opened a chat with the bot "
        "in Teams; invite them to install the app"
    )


def test_check_config_takes_a_one_program_file_without_comment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first format (one ``program:`` section) stays valid and needs no migration note."""
    from bot.cli import main

    monkeypatch.delenv("MENTORBOT_CONFIG", raising=False)
    path = ROOT / "tests" / "fixtures" / "one_program.yaml"
    assert "\nprogram:\n" in path.read_text()
    assert main(["check-config", str(path)]) == 0
    assert capsys.readouterr() == ("ok\n", "")
