"""A lead's command picks its program: named, understood, or asked with a button each."""

from __future__ import annotations

from handlers import build_engine
from handlers.core.programs import Programs
from storage import Database
from tests.helpers import Chat, FakeClock, make_person


async def _lead(database: Database, programs: Programs, email: str) -> Chat:
    engine = build_engine(programs=programs, database=database, clock=FakeClock())
    return Chat(engine, await make_person(database, email))


async def test_a_lead_of_two_programs_is_asked_which_with_a_button_each(
    database: Database, programs: Programs
) -> None:
    marcus = await _lead(database, programs, "marcus.lee@example.com")
    reply = await marcus.send("match")
    assert reply.startswith(
        "Which program? Type match and the program's id: reverse-2027 (Reverse Mentoring "
        "2027), peer-circle (Peer Learning Pairs)."
    )
    [asked] = marcus.last
    assert [(o.value, o.label) for o in asked.actions] == [
        ("match reverse-2027", "Reverse Mentoring 2027"),
        ("match peer-circle", "Peer Learning Pairs"),
    ]
    await marcus.send("report overview")
    assert [o.value for o in marcus.last[0].actions] == [
        "report overview reverse-2027",
        "report overview peer-circle",
    ]
    # With more words than the program, a button would drop them: words only.
    await marcus.send("pair ana@x.com ben@x.com")
    assert marcus.last[0].actions == ()


async def test_a_lead_of_one_program_is_understood_and_another_program_refused(
    database: Database, programs: Programs
) -> None:
    priya = await _lead(database, programs, "priya.shah@example.com")
    await priya.expect("match reverse-2027", "You don't lead Reverse Mentoring 2027")
    assert "Which program?" in await priya.send("match")  # Priya leads two as well
    solo = Programs.one(programs.first)
    lead = await _lead(database, solo, "priya.shah@example.com")
    assert "Which program?" not in await lead.send("match")
