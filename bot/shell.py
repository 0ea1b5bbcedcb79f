"""The shell channel: ``mentorbot shell --as EMAIL``.

Reads one line at a time from standard input (a terminal or a pipe) and prints the bot's
replies, through the same engine as Slack and Teams.
"""

from __future__ import annotations

import asyncio
import logging
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
    take_waiting,
    welcome,
)
from storage import Database

CHANNEL = "shell"
QUIT_WORDS = {"quit", "exit", ":q"}
log = logging.getLogger(__name__)


async def run_shell(
    *,
    engine: Engine,
    database: Database,
    email: str,
    stdin: TextIO,
    stdout: TextIO,
) -> None:
    """Talk to the bot as ``email`` until end of input or ``quit``."""
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
            waiting.insert(0, Reply(f"You have {len(waiting)} new message(s):"))
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
