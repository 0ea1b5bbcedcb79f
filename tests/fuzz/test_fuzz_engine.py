"""The engine: any line from a paired mentee, their mentor or a program lead gets a reply."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.core.program import Program
from storage import Database
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import Chat, make_person

#: The database and world live for the whole test; examples run one after another in them,
#: so a run is replayed by its seed (see conftest.py), not by one saved example alone.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
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


async def paired_world(database: Database, program: Program) -> tuple[Chat, Chat, Chat]:
    world = World(database, program)
    lee, ana, _ = await world.pair()
    lead = world.chat(await make_person(database, LEAD, name="Priya Shah"))
    return world.chat(lee), world.chat(ana), lead


async def answered(chat: Chat, line: str) -> None:
    await chat.send(line)
    assert chat.last, f"no reply to {line!r}"
    assert all(reply.text.strip() or reply.prompt for reply in chat.last), chat.last


@FUZZ
@given(line=lines)
async def test_every_line_from_a_mentee_gets_a_reply(
    database: Database, program: Program, line: str
) -> None:
    mentee, _, _ = await world_of(database, program)
    await answered(mentee, line)


@FUZZ
@given(line=lines)
async def test_every_line_from_a_mentor_gets_a_reply(
    database: Database, program: Program, line: str
) -> None:
    _, mentor, _ = await world_of(database, program)
    await answered(mentor, line)


@FUZZ
@given(line=lines)
async def test_every_line_from_a_lead_gets_a_reply(
    database: Database, program: Program, line: str
) -> None:
    _, _, lead = await world_of(database, program)
    await answered(lead, line)


_worlds: dict[str, tuple[Chat, Chat, Chat]] = {}


async def world_of(database: Database, program: Program) -> tuple[Chat, Chat, Chat]:
    """The paired world of this database, set up on the test's first example."""
    key = database.url
    if key not in _worlds:
        _worlds.clear()
        _worlds[key] = await paired_world(database, program)
    return _worlds[key]
