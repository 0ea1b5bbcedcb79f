"""Messages that must be true: leaving needs a real yes, consent says when summaries are off,
and someone enrolled is greeted with where they stand."""

from __future__ import annotations

import io

from bot.shell import run_shell
from handlers import build_engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database, Enrollment, Pairing
from tests.handlers.cycle_world import World
from tests.helpers import FakeClock, mentee, rows


async def test_only_an_explicit_yes_leaves_the_program(
    database: Database, program: Program
) -> None:
    world = World(database, program)
    lee, _ana, pairing = await world.pair()
    chat = world.chat(lee)
    name = program.name
    # "no" is an answer, not a mistake; typing the command again is not a yes.
    for refusal in ("no", "leave", "maybe later"):
        await chat.expect("leave", "Do you want to leave the program?")
        await chat.expect(refusal, f"OK, you're staying in {name}")
    await chat.expect("leave", "Do you want to leave the program?")
    await chat.click("stay")
    assert f"OK, you're staying in {name}" in chat.last[0].text
    statuses = {e.status for e in await rows(database, Enrollment) if e.person_id == lee.id}
    assert statuses == {"matched"}
    assert next(p for p in await rows(database, Pairing) if p.id == pairing.id).status == "active"
    # The button, and a typed yes, leave.
    await chat.expect("leave", "Do you want to leave the program?")
    await chat.click("leave")
    assert f"You've left {name}" in chat.last[0].text


async def test_a_typed_yes_leaves(database: Database, program: Program) -> None:
    world = World(database, program)
    lee, _ana, _pairing = await world.pair()
    chat = world.chat(lee)
    await chat.send("leave")
    await chat.expect("yes", "You've left")


async def test_consent_says_summaries_are_off_without_a_model(
    database: Database, program: Program
) -> None:
    world = World(database, program, summaries=False)
    lee, ana, pairing = await world.pair()
    n = pairing.id
    await world.tick()
    asked = [m.text for m in world.take() if "Summaries of your session notes" in m.text]
    assert len(asked) == 2  # the question the new pair is sent says what is true too
    assert all("Summaries are off in this program for now" in text for text in asked)
    first = await world.chat(lee).send(f"consent {n} yes")
    second = await world.chat(ana).send(f"consent {n} yes")
    for reply in (first, second):
        assert "Summaries are off in this program for now" in reply
        assert "I've kept your answer" in reply
        assert "will be summarised" not in reply
    stored = next(p for p in await rows(database, Pairing) if p.id == n)
    assert (stored.mentee_consent, stored.mentor_consent) == (True, True)


async def test_consent_with_a_model_promises_summaries(
    database: Database, program: Program
) -> None:
    world = World(database, program, summaries=True)
    lee, ana, pairing = await world.pair()
    await world.tick()
    asked = [m.text for m in world.take() if "Summaries of your session notes" in m.text]
    assert asked
    assert all("If you both agree, a language model" in text for text in asked)
    await world.chat(lee).expect(f"consent {pairing.id} yes", "only once both of you agree")
    await world.chat(ana).expect(f"consent {pairing.id} yes", "will be summarised")


async def test_someone_enrolled_is_greeted_with_where_they_stand(
    database: Database, program: Program
) -> None:
    await mentee(database, "ana@example.com", name="Ana López")
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    stdout = io.StringIO()
    await run_shell(
        engine=engine,
        database=database,
        email="ana@example.com",
        stdin=io.StringIO("hi\n"),
        stdout=stdout,
    )
    opening, hello = stdout.getvalue().split("\n\n")[:2]
    for text in (opening, hello):
        assert text.startswith("Hi Ana! I'm mentorbot")
        assert "on the waitlist" in text
        assert "Type join to enroll" not in text
