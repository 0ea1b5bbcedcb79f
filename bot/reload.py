"""Re-reading the program file while ``mentorbot serve`` runs.

A lead removed from ``program.leads`` must lose lead commands at once, not at the next
restart. ``serve`` looks at the file every few seconds and on SIGHUP: a valid new file takes
effect for the next turn and tick, and the change is logged; an invalid one is refused, its
located errors are logged once, and the last good program stays in force.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ProgramFileError, load_programs
from bot.runtime import Runtime
from handlers import Programs

log = logging.getLogger(__name__)
#: How often ``serve`` looks at the program file's size and modification time.
POLL_SECONDS = 2.0


def use_programs(runtime: Runtime, programs: Programs) -> None:
    """Put ``programs`` in force: the next turn, tick and report read them."""
    runtime.programs = programs
    runtime.engine.programs = programs


@dataclass
class ProgramWatcher:
    """Reloads the program file into a running bot when its content changes.

    Args:
        runtime: The running bot.
        path: The program file (MENTORBOT_CONFIG).
    """

    runtime: Runtime
    path: Path
    #: (modification time in ns, size) when last looked at; None before the first look,
    #: so the first poll reads the file: it may have changed since the program was loaded.
    _seen: tuple[int, int] | None = field(default=None, init=False)
    #: The digest of the content last read, valid or not.
    _digest: str | None = field(default=None, init=False)

    def poll(self) -> bool:
        """Reload if the file's size or modification time changed; whether it reloaded."""
        seen = self._stat()
        if seen == self._seen:
            return False
        self._seen = seen
        return self.reload()

    def reload(self) -> bool:
        """Read the file now (SIGHUP) and put it in force if it is new and valid.

        Returns:
            Whether a new program took effect.
        """
        self._seen = self._stat()
        content = self._read()
        if content is None:
            return False
        digest = _digest(content)
        if digest == self._digest:
            return False
        self._digest = digest
        try:
            programs = load_programs(self.path)
        except ProgramFileError as exc:
            log.error(
                "program file %s refused; the last good program stays in force:\n%s",
                self.path,
                "\n".join(exc.lines),
            )
            return False
        before = self.runtime.programs
        if programs == before:
            # The first look, or an edit that changed nothing (a comment, a reformat): the
            # program in force already says this.
            return False
        use_programs(self.runtime, programs)
        # A warning, so it shows at the default level: who may run lead commands changed.
        log.warning(
            "program file %s reloaded: %s (%d leads%s)",
            self.path,
            ", ".join(program.name for program in programs),
            len(_leads(programs)),
            _lead_change(before, programs),
        )
        return True

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            log.error(
                "program file %s cannot be read (%s); the last good program stays in force",
                self.path,
                exc.strerror or type(exc).__name__,
            )
            return None


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _leads(programs: Programs) -> set[str]:
    return {lead for program in programs for lead in program.leads}


def _lead_change(before: Programs, after: Programs) -> str:
    """How many leads came and went, for the log (counts, not addresses)."""
    old, new = _leads(before), _leads(after)
    added, removed = len(new - old), len(old - new)
    if not added and not removed:
        return ""
    return f"; {added} added, {removed} removed"
