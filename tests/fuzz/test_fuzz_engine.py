"""The engine: any line from a paired mentee, their mentor or a program lead gets a reply.

Every example starts in a world of its own: the same freshly paired rows (put back from a
snapshot taken once per test) and a new engine and clock, so an example's outcome depends
on its line alone, and a failing example replays by itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.core.program import Program
from storage import Database
from tests.fuzz import snapshot
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import Chat, make_person

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    # The ``paired`` fixture lives for the whole test: it only holds the snapshot.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

WORDS = [
    "help",
    "hi",
    "join",
    "join mentee",
    "join mentor",
    "status",
    "log",
    "feedback",
    "pause",
    "pause until",
    "pause for",
    "resume",
    "leave",
    "my-data",
    "match",
    "report",
    "plan",
    "accept",
    "decline",
    "approve",
    "approve all",
    "confirm-plan",
    "discuss-plan",
    "consent",
    "calibrate",
    "rematch",
    "continue",
    "close",
    "keep",
    "snooze",
    "reschedule",
    "back",
    "skip",
    "cancel",
    "yes",
    "no",
]
ARGUMENTS = [
    "1",
    "0",
    "-1",
    "99999999999999999999",
    "9223372036854775808",
    "1e9",
    "NaN",
    "0000-00-00",
    "9999-12-31",
    "2026-02-30",
    "31 Feb 2026",
    "tomorrow",
    "friday",
    "in 99999999 weeks",
    "in -3 weeks",
    "99999999 weeks",
    "../../etc",
    "overview",
    "export",
    "pulse",
    "yes",
    "no",
    "x",
    "١٢",
    "%s%n",
    "'; DROP TABLE person; --",
]
commands = st.builds(
    lambda word, args: " ".join([word, *args]),
    st.sampled_from(WORDS),
    st.lists(st.one_of(st.sampled_from(ARGUMENTS), st.text(max_size=12)), max_size=3),
)
lines = st.one_of(
    commands,
    commands,
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda t: t * 500),
    st.sampled_from(["", " ", "\x00", "\r\n", "\u202e", "\ufeff", "🙂" * 3000]),
)


Chats = dict[str, Chat]


@pytest.fixture
async def paired(database: Database, program: Program) -> Callable[[], Awaitable[Chats]]:
    """A fresh world on each call: a mentee paired with a mentor, and a program lead."""
    world = World(database, program)
    lee, ana, _ = await world.pair()
    lead = await make_person(database, LEAD, name="Priya Shah")
    people = {"mentee": lee, "mentor": ana, "lead": lead}
    taken = await snapshot.take(database)

    async def fresh() -> Chats:
        await snapshot.restore(database, taken)
        world = World(database, program)
        return {role: world.chat(person) for role, person in people.items()}

    return fresh


async def answered(chat: Chat, line: str) -> None:
    await chat.send(line)
    assert chat.last, f"no reply to {line!r}"
    assert all(reply.text.strip() or reply.prompt for reply in chat.last), chat.last


@pytest.mark.parametrize("role", ["mentee", "mentor", "lead"])
@FUZZ
@given(line=lines)
async def test_every_line_gets_a_reply(
    paired: Callable[[], Awaitable[Chats]], role: str, line: str
) -> None:
    chats = await paired()
    await answered(chats[role], line)
