"""The ``mentorbot`` command line.

Every command has ``--help``. A user mistake (bad file, unknown person, unreachable
database) is one clear message on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import os
import sys

from bot.cli.app import CliError
from bot.cli.parser import build_parser
from bot.config import Environment, ProgramFileError, SettingsError
from bot.logs import LogFormatError, configure_logging
from storage import StorageError


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        configure_logging(args.verbose, os.environ.get("MENTORBOT_LOG_FORMAT", ""))
    except LogFormatError as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        return 1
    try:
        env = Environment.from_environ()
        code: int = asyncio.run(args.handler(args, env))
        return code
    except ProgramFileError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 1
    except (CliError, StorageError, SettingsError) as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """The reader of our output went away (``mentorbot ... | head``): end quietly.

    As Unix tools do: no message, and the exit status of a process ended by SIGPIPE. What
    is still buffered for stdout goes to /dev/null, so the interpreter's own flush at exit
    does not fail and print a traceback after all.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to flush
        pass
    return 128 + 13  # 13 is SIGPIPE


if __name__ == "__main__":
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
