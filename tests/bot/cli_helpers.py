"""Running the real ``mentorbot`` command line: in this process (fast), or as a process.

A Python process costs about a second to start and import mentorbot, so behaviour tests run
the command line in this process (:func:`mentorbot`, or the :class:`Cli` fixtures), with
its own environment, working directory and standard streams, exactly as ``python -m bot``
would see them. A few tests of the entry point itself (exit codes, a piped shell, logs,
signals) pass ``real=True`` and run a true subprocess.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
#: A program file with one program (the shipped leadership program): the command line
#: tests run on it, since one program is what they are about (`join` goes straight to the
#: role question, a lead names no program). Tests of the shipped two-program sample pass
#: ``config=ROOT / "app.yaml"``.
ONE_PROGRAM = ROOT / "tests" / "fixtures" / "one_program.yaml"


def mentorbot(
    *args: str,
    database_url: str | None = None,
    config: Path | str | None = None,
    stdin: str = "",
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
    real: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``mentorbot ARGS`` and capture its output (``real``: as ``python -m bot``)."""
    env = clean_env(database_url=database_url, config=config)
    env.update(extra_env or {})
    if not real:
        return _in_process(list(args), env=env, stdin=stdin, cwd=cwd or ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
    )


def _in_process(
    args: list[str], *, env: dict[str, str], stdin: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """``main(args)`` as a process would run it: this environment, folder and streams only.

    The command runs its own event loop (``asyncio.run``), so from inside a running loop (an
    async test) it runs on a thread of its own while the test waits, as it would wait for a
    subprocess.
    """
    out, err = io.StringIO(), io.StringIO()
    result: list[int] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            with redirect_stdout(out), redirect_stderr(err):
                result.append(main(args))
        except SystemExit as exit:  # argparse: --help, usage errors
            code = exit.code
            result.append(code if isinstance(code, int) else 0 if code is None else 1)
        except BaseException as exc:  # a bug: the test sees the traceback, not a code
            failed.append(exc)

    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.stdin = io.StringIO(stdin)
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            run()
        else:
            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    if failed:
        raise failed[0]
    return subprocess.CompletedProcess(
        ["mentorbot", *args], result[0] if result else 1, out.getvalue(), err.getvalue()
    )


def clean_env(
    *, database_url: str | None = None, config: Path | str | None = None
) -> dict[str, str]:
    """This process's environment without mentorbot's, Slack's, Teams' or OpenAI's settings.

    Args:
        database_url: MENTORBOT_DATABASE_URL, if given.
        config: MENTORBOT_CONFIG (default: :data:`ONE_PROGRAM`).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORBOT_", "SLACK_", "Microsoft", "OPENAI_"))
    }
    if database_url is not None:
        env["MENTORBOT_DATABASE_URL"] = database_url
    env["MENTORBOT_CONFIG"] = str(config or ONE_PROGRAM)
    return env


async def start_serve(env: dict[str, str]) -> asyncio.subprocess.Process:
    """Start ``mentorbot serve --port 0`` with ``env``; its first line names the address."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--port",
        "0",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


class Cli:
    """Runs ``mentorbot`` commands in-process at a chosen ``MENTORBOT_NOW``.

    The ``cli`` and ``bare_cli`` fixtures (tests/bot/conftest.py) hand one out.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def at(self, instant: str) -> Cli:
        """Set ``MENTORBOT_NOW`` for the commands that follow."""
        self.monkeypatch.setenv("MENTORBOT_NOW", instant)
        return self

    def run(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        """Run one command; returns its exit code, standard output and standard error."""
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(args))
        except SystemExit as exit:  # argparse's --help and usage errors, as a process exits
            code = exit.code if isinstance(exit.code, int) else 1
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def shell(self, email: str, *lines: str) -> str:
        """Type ``lines`` into ``mentorbot shell --as EMAIL``; returns what it printed."""
        code, out, err = self.run("shell", "--as", email, stdin="\n".join(lines) + "\n")
        assert code == 0, err
        return out
