"""Walking through the shell as someone who is a mentee in one program and a mentor in another.

Kim Ito (see several_world.py) opens ``mentorbot shell`` (in-process, as
tests/bot/test_shell.py does) on the day both pairings start, a week later, and again when
Sam has confirmed the plan: what waits names its program, ``log`` and ``plan`` ask which
pairing with numbered choices, and ``status`` has a heading per program. Both databases.
"""

from __future__ import annotations

import io
from datetime import timedelta

from bot.shell import run_shell
from handlers.core.programs import Programs
from scheduler.due import run_due
from storage import Database
from tests.handlers.cycle.several_world import LEADERSHIP_NAME, REVERSE_NAME, TwoPrograms


async def shell(two: TwoPrograms, lines: list[str]) -> str:
    """One shell session as Kim: the lines typed, then what the terminal showed."""
    world = two.world
    stdout = io.StringIO()
    await run_shell(
        engine=world.engine,
        database=world.database,
        email="kim@x.com",
        stdin=io.StringIO("".join(f"{line}\n" for line in lines)),
        stdout=stdout,
    )
    return stdout.getvalue()


async def days_pass(two: TwoPrograms, days: int) -> None:
    """Time passes an hour at a time, the due pass running as the tick would (no delivery:
    what falls due waits in the outbox for the shell)."""
    world = two.world
    end = world.clock.now() + timedelta(days=days)
    while world.clock.now() < end:
        world.clock.advance(hours=1)
        await run_due(world.database, world.programs, now=world.clock.now())


async def test_a_mentee_in_one_program_and_mentor_in_another_across_time(
    database: Database, programs: Programs
) -> None:
    two = TwoPrograms(database, programs)
    await two.start()
    lead_id, reverse_id = two.leadership.id, two.reverse.id

    # Day 0: the introductions wait, each naming its program; Kim logs a first chat with
    # Dana by picking the pairing from the numbered choices.
    first = await shell(two, ["log", "2", "today", "30", "1", "1", "skip"])
    assert f"In {LEADERSHIP_NAME}: Kim Ito, meet Sam Okafor" in first
    assert f"In {REVERSE_NAME}: Dana Lee, meet Kim Ito" in first
    assert (
        f"You're in 2 pairings: {lead_id} with Sam Okafor ({LEADERSHIP_NAME}), {reverse_id} "
        f"with Dana Lee ({REVERSE_NAME}); type log and its number.\n"
        f"  1. Sam Okafor ({LEADERSHIP_NAME})\n"
        f"  2. Dana Lee ({REVERSE_NAME})" in first
    )
    assert "Your session with Dana Lee." in first
    assert "Logged: 30 minutes on" in first

    # Eight days on (read a day late): the reverse pairing's 7-day check-in and the
    # leadership plan reminder wait.
    await days_pass(two, 8)
    week = await shell(
        two, ["plan", "1", "Run my first team retrospective", "in 3 weeks", "2", "status"]
    )
    assert f"In {REVERSE_NAME}: It's been 8 days since your last session with Dana" in week
    assert f"In {LEADERSHIP_NAME}: It's been 8 days since your cycle with Sam began" in week
    assert "Check-in with Sam Okafor" not in week  # the leadership program checks in at 14
    assert f"type plan and its number.\n  1. Sam Okafor ({LEADERSHIP_NAME})" in week
    assert "Let's write your plan" in week
    assert "Saved as version 1 of your plan." in week
    status = week[week.index(f"In {LEADERSHIP_NAME}:\nYou're enrolled") :]
    assert status.index(LEADERSHIP_NAME) < status.index(f"In {REVERSE_NAME}:\n")
    assert f"Pairing {lead_id}: day 9 of 90; next check-in Mon 7 Dec; plan of 1 milestone" in status
    assert f"Pairing {reverse_id}: day 9 of 90; next check-in Mon 7 Dec; no plan yet" in status

    # Sam, in one program, confirms the plan; Kim reads which program's plan it was.
    sam = two.world.chat(two.sam)
    await sam.expect(f"confirm-plan {lead_id} 1", "Confirmed")
    await days_pass(two, 1)
    later = await shell(two, ["status"])
    assert f"In {LEADERSHIP_NAME}: Sam Okafor confirmed your plan. Off you go!" in later
