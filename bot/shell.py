"""The shell channel: ``mentorbot shell --as EMAIL``.

Reads one line at a time from standard input (a terminal or a pipe) and prints the bot's
replies, through the same engine as Slack and Teams.

A meeting's invite (an ``.ics`` attachment) is written to a file under the files folder
(``MENTORBOT_FILES_DIR``), in a folder of the person's own, and its path is printed, so it
can be imported into a calendar; other attachments (a data export) are printed as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.render_text import buttons, render_all
from handlers import (
    TURN_FAILED,
    Engine,
    Inbound,
    Option,
    Reply,
    UserError,
    find_or_create_person,
    log_failure,
    parse_ref,
    plural,
    take_waiting,
    welcome,
)
from storage import Database

CHANNEL = "shell"
QUIT_WORDS = {"quit", "exit", ":q"}
#: Attachments written to a file rather than printed: calendar invites.
FILED_MEDIA_TYPES = {"text/calendar"}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
log = logging.getLogger(__name__)


async def run_shell(
    *,
    engine: Engine,
    database: Database,
    email: str,
    stdin: TextIO,
    stdout: TextIO,
    files_dir: Path | None = None,
) -> None:
    """Talk to the bot as ``email`` until end of input or ``quit``.

    Args:
        files_dir: Where invites are written (``MENTORBOT_FILES_DIR``); None: the default,
            ``./mentorbot-files``.
    """
    folder = (files_dir or Path("mentorbot-files")) / _safe_name(email)
    async with database.session() as session:
        person, created = await find_or_create_person(
            session,
            email=email,
            now=engine.clock.now(),
            timezone=engine.programs.default_timezone,
        )
    assert person.id is not None
    person_id = person.id
    interactive = stdin.isatty()
    menu: list[Option] = []

    def show(replies: list[Reply]) -> None:
        nonlocal menu
        if replies:
            replies = [file_attachment(reply, folder) for reply in replies]
            menu = buttons(replies)
            stdout.write(render_all(replies) + "\n\n")
            stdout.flush()

    async def delivered() -> list[Reply]:
        """Messages that reached this person while they were not typing, oldest first."""
        async with database.session() as session:
            waiting = await take_waiting(
                session, person_id=person_id, channel=CHANNEL, now=engine.clock.now()
            )
        if waiting:
            waiting.insert(0, Reply(f"You have {plural(len(waiting), 'new message')}:"))
        return waiting

    base = Inbound(channel=CHANNEL, user_key=person.email, person_id=person.id)
    opening = [Reply(await welcome(engine, base))]
    if created:
        opening.insert(0, Reply(f"(You weren't in the directory yet, so I added {person.email}.)"))
    resumed = await engine.resume(base)
    news = await delivered()
    show(news + (resumed or ([] if news else opening)))
    if interactive:
        stdout.write("(Type quit or press Ctrl-D to leave; your place is saved.)\n\n")
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            break
        pressed = parse_ref(text)
        if pressed is not None and pressed.id is not None and pressed.id <= len(menu):
            # A number presses one of the buttons shown last (Accept / Decline ...).
            text = menu[pressed.id - 1].value
        replies = await _turn(engine, Inbound(CHANNEL, person.email, person.id, text=text))
        show(replies + await delivered())


def _safe_name(text: str) -> str:
    """``text`` as one harmless file or folder name (no path, no dot-files)."""
    return _UNSAFE_NAME.sub("-", text).strip(".-") or "file"


def file_attachment(reply: Reply, folder: Path) -> Reply:
    """The reply with its invite written under ``folder`` and the path said instead.

    A file that cannot be written is said so, with the reason; the message itself stands.
    """
    attachment = reply.attachment
    if attachment is None or attachment.media_type not in FILED_MEDIA_TYPES:
        return reply
    path = folder / _safe_name(attachment.filename)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(attachment.content, encoding="utf-8", newline="")
    except OSError as exc:
        said = f"(I couldn't save {attachment.filename} in {folder}: {exc.strerror}.)"
    else:
        said = f"(Saved {attachment.filename}: {path.resolve()} — import it into your calendar.)"
    return replace(reply, text=f"{reply.text}\n{said}", attachment=None)


async def _turn(engine: Engine, inbound: Inbound) -> list[Reply]:
    """One turn behind the channel's error boundary."""
    try:
        return await engine.handle(inbound)
    except UserError as problem:
        return [Reply(str(problem))]
    except Exception as error:
        # Never the message text nor the error's: either may hold private answers.
        reference = log_failure(
            log, "shell turn failed", error=error, channel=inbound.channel, person=inbound.person_id
        )
        await engine.reset(inbound)
        return [Reply(TURN_FAILED.format(reference=reference))]
