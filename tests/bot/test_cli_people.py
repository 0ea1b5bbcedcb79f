"""`mentorbot people import` on each backend: the real command line, in this process (the
last test runs it as a real process, as the operator does)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from storage import Database, Person
from tests.helpers import make_person

ROOT = Path(__file__).resolve().parents[2]
HEADER = "email,name,department,title,level,manager_email,timezone,location"
ANA = "ana@example.com,Ana Lopez,Engineering,VP Engineering,9,,Europe/Madrid,Madrid"
BOB = "bob@example.com,Bob Chen,Engineering,Manager,7,ana@example.com,Asia/Tokyo,Tokyo"
CY = "cy@example.com,Cy Diaz,Engineering,Engineer,4,bob@example.com,America/New_York,NYC"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


Run = Callable[..., Awaitable[Result]]


def environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MENTORBOT_DATABASE_URL"] = database_url
    env["MENTORBOT_CONFIG"] = str(ROOT / "app.yaml")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


async def people_import(env: dict[str, str], *args: str | Path) -> Result:
    """Run ``python -m bot people import ARGS``; never a traceback, whatever happens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "people",
        "import",
        *map(str, args),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    result = Result(process.returncode, out.decode(), err.decode())
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit:  # argparse, as a process would exit
        return exit.code if isinstance(exit.code, int) else 1


@pytest.fixture
def run(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """``mentorbot people import ARGS`` against the test database, in this process."""
    for name in list(os.environ):
        if name.startswith("MENTORBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MENTORBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("MENTORBOT_CONFIG", str(ROOT / "app.yaml"))

    async def _run(*args: str | Path) -> Result:
        capsys.readouterr()
        # The command runs its own event loop, so it runs beside this test's, on a thread.
        code = await asyncio.to_thread(_main, ["people", "import", *map(str, args)])
        captured = capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return _run


def write_csv(tmp_path: Path, *rows: str, name: str = "people.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


async def emails(database: Database) -> set[str]:
    async with database.session() as session:
        return {p.email for p in (await session.exec(select(Person))).all()}


async def test_import_prints_the_counts(run: Run, tmp_path: Path, database: Database) -> None:
    path = write_csv(tmp_path, ANA, BOB, CY)

    result = await run(path)

    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == "created 3, updated 0, unchanged 0, rejected 0\n"
    assert await emails(database) == {"ana@example.com", "bob@example.com", "cy@example.com"}


async def test_a_second_import_of_the_same_file_changes_nothing(run: Run, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ANA, BOB, CY)
    await run(path)

    result = await run(path)

    assert result.code == 0
    assert result.stdout == "created 0, updated 0, unchanged 3, rejected 0\n"


async def test_a_changed_file_reports_updates(run: Run, tmp_path: Path, database: Database) -> None:
    await make_person(database, "ana@example.com", name="A. Lopez")

    result = await run(write_csv(tmp_path, ANA, BOB))

    assert result.code == 0
    assert result.stdout == "created 1, updated 1, unchanged 0, rejected 0\n"


async def test_bad_rows_are_listed_by_line_and_nothing_is_imported(
    run: Run, tmp_path: Path, database: Database
) -> None:
    path = write_csv(
        tmp_path,
        ANA,
        BOB.replace("Asia/Tokyo", "Mars/Olympus"),
        "not-an-email,Nobody,,,,,,",
        CY,
    )

    result = await run(path)

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:3 (bob@example.com): unknown timezone 'Mars/Olympus'; use an IANA name such "
        "as Europe/Berlin, America/New_York or Asia/Kolkata",
        f"{path}:4 (not-an-email): 'not-an-email' is not a valid email address",
        f"{path}:5 (cy@example.com): manager bob@example.com is on line 3, which was "
        "rejected; fix that line first",
        "nothing imported: 3 rows rejected, 1 would have been created",
        "Nothing was imported because 3 rows are invalid. Fix them, or re-run with "
        "--skip-invalid to import the rest.",
    ]
    assert await emails(database) == set()


async def test_one_bad_row_is_named_in_the_singular(run: Run, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ANA, BOB, ANA)

    result = await run(path)

    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{path}:4 (ana@example.com): duplicate email; first seen on line 2",
        "nothing imported: 1 row rejected, 2 would have been created",
        "Nothing was imported because 1 row is invalid. Fix it, or re-run with "
        "--skip-invalid to import the rest.",
    ]


async def test_a_stopped_import_never_says_it_created_anyone(
    run: Run, tmp_path: Path, database: Database
) -> None:
    await make_person(database, "ana@example.com", name="A. Lopez")
    path = write_csv(tmp_path, ANA, BOB, "not-an-email,Nobody,,,,,,")

    result = await run(path)

    assert result.code == 1
    summary = result.stderr.splitlines()[-2]
    assert summary == (
        "nothing imported: 1 row rejected, 1 would have been created, 1 would have been updated"
    )
    assert await emails(database) == {"ana@example.com"}


async def test_a_row_without_an_email_is_listed_without_one(run: Run, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ANA, ",Nobody,,,,,,")

    result = await run(path)

    assert result.code == 1
    assert result.stderr.splitlines()[0] == f"{path}:3: email is empty"


async def test_skip_invalid_imports_the_rest(run: Run, tmp_path: Path, database: Database) -> None:
    path = write_csv(
        tmp_path,
        ANA,
        BOB.replace(",7,", ",senior,"),
        CY,
        "dee@example.com,Dee,,,,ana@example.com,,",
    )

    result = await run(path, "--skip-invalid")

    assert result.code == 0
    assert result.stdout == "created 2, updated 0, unchanged 0, rejected 2\n"
    assert result.stderr.splitlines() == [
        f"{path}:3 (bob@example.com): level 'senior' must be a whole number from 0 to 30",
        f"{path}:4 (cy@example.com): manager bob@example.com is on line 3, which was "
        "rejected; fix that line first",
    ]
    assert await emails(database) == {"ana@example.com", "dee@example.com"}


async def test_a_utf8_bom_from_excel_is_fine(run: Run, tmp_path: Path, database: Database) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        ("\ufeff" + HEADER + "\r\n" + ANA.replace("Ana Lopez", "Ana López") + "\r\n\r\n").encode()
    )

    result = await run(path)

    assert (result.code, result.stdout) == (0, "created 1, updated 0, unchanged 0, rejected 0\n")
    assert await emails(database) == {"ana@example.com"}


async def test_a_missing_file_is_one_clear_line(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"

    result = await run(path)

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr == f"mentorbot: {path}: no such file\n"


async def test_a_directory_is_not_a_file(run: Run, tmp_path: Path) -> None:
    result = await run(tmp_path)

    assert result.code == 1
    assert result.stderr.startswith(f"mentorbot: {tmp_path}: cannot read the file (")


async def test_a_file_that_is_not_utf8_is_refused(
    run: Run, tmp_path: Path, database: Database
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (HEADER + "\n" + ANA.replace("Ana Lopez", "Ana López") + "\n").encode("latin-1")
    )

    result = await run(path)

    assert result.code == 1
    assert result.stderr == (
        f"mentorbot: {path}: not UTF-8 text; save the CSV as UTF-8 and try again\n"
    )
    assert await emails(database) == set()


async def test_a_utf16_file_is_refused(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + "\n" + ANA + "\n").encode("utf-16"))

    result = await run(path)

    assert result.code == 1
    assert "not UTF-8 text" in result.stderr


async def test_an_empty_file_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    result = await run(path)

    assert result.code == 1
    assert result.stderr == (
        f"mentorbot: {path}: the file is empty; the first line must be the header ({HEADER})\n"
    )


async def test_a_header_without_email_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Ana Lopez,Sales", header="name,department")

    result = await run(path)

    assert result.code == 1
    assert result.stderr.startswith(f"mentorbot: {path}: line 1: the header has no email column")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            ANA.replace("Europe/Madrid", "America"),
            "unknown timezone 'America'; use an IANA name",
        ),
        (ANA.replace(",9,", ",²,"), "level '²' must be a whole number from 0 to 30"),
        (ANA.replace("Ana Lopez", "A" * 201), "name is longer than 200 characters"),
        (ANA.replace("Ana Lopez", "Ana\x00"), "the line contains a NUL character"),
    ],
    ids=["region-not-zone", "superscript-level", "long-name", "nul"],
)
async def test_odd_values_are_rejected_not_crashed_on(
    run: Run, tmp_path: Path, database: Database, row: str, reason: str
) -> None:
    path = write_csv(tmp_path, row, BOB.replace("ana@example.com", ""))

    result = await run(path, "--skip-invalid")

    assert result.code == 0
    assert result.stdout == "created 1, updated 0, unchanged 0, rejected 1\n"
    assert result.stderr.startswith(f"{path}:2 (ana@example.com): {reason}")
    assert await emails(database) == {"bob@example.com"}


async def test_a_database_folder_that_does_not_exist_is_one_clear_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ANA)
    env = environment(f"sqlite+aiosqlite:///{tmp_path}/missing/mentorbot.db")

    result = await people_import(env, path)

    assert result.code == 1
    assert result.stderr.startswith("mentorbot: the folder for the SQLite file")
    assert result.stderr.count("\n") == 1
