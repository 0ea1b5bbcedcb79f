"""`calendar` hands out a private feed URL, and `serve` answers it (and nothing else)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import icalendar
import pytest
import recurring_ical_events

from bot.runtime import build_runtime
from bot.server import running
from handlers import build_engine
from handlers.core.program import Program
from handlers.meetings.ics import problems
from handlers.people.erasure import forget_person
from storage import CalendarFeed, Database, Person
from tests.bot.cli_helpers import ROOT, start_serve
from tests.handlers.cycle_world import World
from tests.handlers.meetings.meeting_world import book, change
from tests.handlers.meetings.test_invites import SECRET_GOAL, SECRET_NOTE, seed_private_text
from tests.helpers import Chat, rows

PUBLIC = "https://mentorbot.example.com"
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
URL = re.compile(re.escape(PUBLIC) + r"/calendar/([A-Za-z0-9_-]+)\.ics")


def chat(world: World, person: Person, *, public_url: str | None = PUBLIC) -> Chat:
    """A chat with an engine that knows the bot's public URL (MENTORBOT_PUBLIC_URL)."""
    engine = build_engine(
        programs=world.programs, database=world.database, clock=world.clock, public_url=public_url
    )
    return Chat(engine, person)


async def token_from(chat: Chat, command: str = "calendar") -> str:
    answer = await chat.send(command)
    found = URL.search(answer)
    assert found, answer
    return found.group(1)


@asynccontextmanager
async def serving(world: World) -> AsyncIterator[Any]:
    """The real server in-process; yields a function that GETs a path: (status, headers, body)."""
    runtime = build_runtime(
        programs=world.programs, database=world.database, slack=None, clock=world.clock
    )
    async with (
        running(runtime, host="127.0.0.1", port=0, tick_seconds=3600) as runner,
        aiohttp.ClientSession() as http,
    ):
        host, port = runner.addresses[0][:2]

        async def get(path: str) -> tuple[int, Any, str]:
            async with http.get(f"http://{host}:{port}{path}") as response:
                return response.status, response.headers, await response.text()

        yield get


async def paired_with_meetings(world: World) -> tuple[Person, Person, Any]:
    """A pair with a booked series (one occurrence cancelled, one moved), a cancelled
    one-off, and private text (a note, a goal) that no calendar may show."""
    lee, ana, pairing = await world.pair(mentee_zone="America/New_York")
    await seed_private_text(world, pairing.id, lee)
    series = await book(
        world,
        pairing,
        starts_at=TUESDAY,
        every_days=14,
        until=TUESDAY + timedelta(days=42),
        exceptions=[
            {"original": (TUESDAY + timedelta(days=14)).isoformat(), "moved_to": None},
            {
                "original": (TUESDAY + timedelta(days=28)).isoformat(),
                "moved_to": (TUESDAY + timedelta(days=29)).isoformat(),
            },
        ],
    )
    gone = await book(world, pairing, starts_at=TUESDAY + timedelta(days=3))
    await change(world, gone, status="cancelled")
    return lee, ana, series


async def test_the_feed_url_opens_the_persons_meetings_and_dates_and_nothing_private(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, series = await paired_with_meetings(world)
    token = await token_from(chat(world, lee))
    assert len(token) >= 43
    [stored] = await rows(database, CalendarFeed)
    assert stored.person_id == lee.id
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    async with serving(world) as get:
        status, headers, body = await get(f"/calendar/{token}.ics")
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Cache-Control"] == "private, max-age=3600"
    assert problems(body) == []
    calendar = icalendar.Calendar.from_ical(body)
    assert "METHOD" not in calendar
    meetings = [e for e in calendar.events if e["UID"] == series.uid]
    assert len(meetings) == 2  # the series, and its moved occurrence
    assert all(e["SUMMARY"] == "Mentoring: Ana Lima and Lee Park" for e in meetings)
    assert not any("ORGANIZER" in e or "ATTENDEE" in e for e in calendar.events)
    starts = [
        e.decoded("DTSTART")
        for e in recurring_ical_events.of(calendar).between(TUESDAY, TUESDAY + timedelta(days=43))
        if e["UID"] == series.uid
    ]
    assert starts == [TUESDAY, TUESDAY + timedelta(days=29), TUESDAY + timedelta(days=42)]
    # The cancelled one-off is not in it.
    assert {e["UID"] for e in calendar.events if "Mentoring:" in e["SUMMARY"]} == {series.uid}
    days = [e for e in calendar.events if e["UID"].startswith("due-")]
    assert days, "the check-ins and reviews of the pairing"
    assert all(not isinstance(e.decoded("DTSTART"), datetime) for e in days)  # all-day
    titles = {str(e["SUMMARY"]) for e in days}
    assert "Mentoring check-in with Ana Lima" in titles
    for private in (SECRET_NOTE, SECRET_GOAL, "reorg", "promoted"):
        assert private not in body


async def test_calendar_again_says_a_feed_exists_and_reset_replaces_the_old_url(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, _series = await paired_with_meetings(world)
    lees = chat(world, lee)
    old = await token_from(lees)
    again = await lees.send("calendar")
    assert "You already have a calendar feed" in again and "calendar reset" in again
    assert old not in again and URL.search(again) is None
    new = await token_from(lees, "calendar reset")
    assert "The old link no longer works." in lees.last[0].text
    assert new != old
    async with serving(world) as get:
        assert (await get(f"/calendar/{old}.ics"))[::2] == (404, "")
        assert (await get(f"/calendar/{new}.ics"))[0] == 200
    assert len(await rows(database, CalendarFeed)) == 1


async def test_an_unknown_or_malformed_token_is_404_with_nothing_said_or_logged(
    database: Database, program: Program, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(database, program)
    lee, _ana, _series = await paired_with_meetings(world)
    real = await token_from(chat(world, lee))
    unknown = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    caplog.set_level(logging.DEBUG)
    async with serving(world) as get:
        for path in (
            f"/calendar/{unknown}.ics",
            "/calendar/short.ics",
            f"/calendar/{real}",  # no .ics
            f"/calendar/{real}.ics.bak",
            "/calendar/%27%20OR%201=1--.ics",
        ):
            status, headers, body = await get(path)
            assert (status, body) == (404, ""), path
            assert headers["Cache-Control"] == "no-store"
    assert real not in caplog.text and unknown not in caplog.text


async def test_an_erased_persons_feed_url_is_404_like_an_unknown_token(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, ana, _series = await paired_with_meetings(world)
    lees = await token_from(chat(world, lee))
    anas = await token_from(chat(world, ana))
    await forget_person(database, world.programs, email=lee.email, now=world.clock.now())
    # Only the erased person's feed goes; the other side keeps theirs.
    assert [f.person_id for f in await rows(database, CalendarFeed)] == [ana.id]
    unknown = lees[:-4] + ("AAAA" if not lees.endswith("AAAA") else "BBBB")
    async with serving(world) as get:
        erased = await get(f"/calendar/{lees}.ics")
        never = await get(f"/calendar/{unknown}.ics")
        assert (await get(f"/calendar/{anas}.ics"))[0] == 200
    assert erased[::2] == never[::2] == (404, "")
    assert dict(erased[1]).keys() == dict(never[1]).keys()


async def test_calendar_without_a_public_url_says_how_to_set_it(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, _pairing = await world.pair()
    answer = await chat(world, lee, public_url=None).send("calendar")
    assert "MENTORBOT_PUBLIC_URL" in answer and "https://mentorbot.example.com" in answer
    assert await rows(database, CalendarFeed) == []


async def test_mentorbot_serve_answers_a_feed_its_reset_and_an_unknown_token(
    database: Database, database_url: str, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, series = await paired_with_meetings(world)
    lees = chat(world, lee)
    old = await token_from(lees)
    env = {
        **os.environ,
        "MENTORBOT_DATABASE_URL": database_url,
        "MENTORBOT_CONFIG": str(ROOT / "app.yaml"),
        "MENTORBOT_PUBLIC_URL": PUBLIC,
    }
    process = await start_serve(env)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert found, line
        base = f"http://127.0.0.1:{found.group(1)}"
        async with aiohttp.ClientSession() as http:

            async def get(token: str) -> tuple[int, str]:
                async with http.get(f"{base}/calendar/{token}.ics") as response:
                    return response.status, await response.text()

            status, body = await get(old)
            assert status == 200 and series.uid in body and problems(body) == []
            new = await token_from(lees, "calendar reset")
            assert await get(old) == (404, "")
            status, body = await get(new)
            assert status == 200 and series.uid in body
            assert await get("x" * 43) == (404, "")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        assert process.stderr is not None
        stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert old not in stderr and new not in stderr and "Traceback" not in stderr
