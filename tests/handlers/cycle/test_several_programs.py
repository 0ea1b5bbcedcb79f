"""A person in two programs: what they read names the program, each pairing keeps its rhythm.

Kim Ito is a mentee in the leadership program and a mentor in reverse mentoring (see
several_world.py); Sam and Dana, each in one program, read what they read before there
were several programs. Both databases.
"""

from __future__ import annotations

import re

import pytest

from handlers.core.programs import Programs
from storage import Database
from tests.handlers.cycle.several_world import (
    GLOBAL_LEAD,
    LEADERSHIP_NAME,
    REVERSE,
    REVERSE_NAME,
    TwoPrograms,
)
from tests.handlers.cycle_world import log_session


@pytest.fixture
async def two(database: Database, programs: Programs) -> TwoPrograms:
    found = TwoPrograms(database, programs)
    await found.start()
    return found


def check_ins(texts: list[str], other: str) -> list[str]:
    return [t for t in texts if f"== Check-in with {other} ==" in t]


async def test_the_introduction_names_the_program_for_someone_in_two(two: TwoPrograms) -> None:
    world = two.world
    await world.tick()
    kim = [r.text for r in world.inbox("kim@x.com")]
    assert any(f"In {LEADERSHIP_NAME}: Kim Ito, meet Sam Okafor" in t for t in kim)
    assert any(f"In {REVERSE_NAME}: Dana Lee, meet Kim Ito" in t for t in kim)
    # The plan request goes to Kim for the pairing where Kim is the mentee only.
    assert any(f"In {LEADERSHIP_NAME}: Let's set your plan" in t for t in kim)
    assert not any(f"In {REVERSE_NAME}: Let's set your plan" in t for t in kim)
    # Sam is in one program: the same introduction reads as it always did for one reader,
    # but it is one message both read, so it names the program too.
    sam = [r.text for r in world.inbox("sam@x.com")]
    assert any(f"In {LEADERSHIP_NAME}: Kim Ito, meet Sam Okafor" in t for t in sam)
    # What only Sam reads does not name it.
    assert any(t.startswith("== Summaries of your session notes ==\nWhen") for t in sam)


async def test_each_pairing_checks_in_at_its_own_programs_rhythm(two: TwoPrograms) -> None:
    world = two.world
    await world.walk(15)
    kim = [r.text for r in world.inbox("kim@x.com")]
    dana = [r.text for r in world.inbox("dana@x.com")]
    sam = [r.text for r in world.inbox("sam@x.com")]
    # Reverse mentoring checks in every 7 days, the leadership program every 14.
    assert len(check_ins(dana, "Kim Ito")) == 2
    assert len(check_ins(kim, "Dana Lee")) == 2
    assert len(check_ins(kim, "Sam Okafor")) == 1
    assert len(check_ins(sam, "Kim Ito")) == 1
    when = [r.local.date().isoformat() for r in world.inbox("dana@x.com") if "Check-in" in r.text]
    assert when == ["2026-11-30", "2026-12-07"]
    # Kim reads which program each nudge is about; Dana and Sam, in one each, do not.
    for text in check_ins(kim, "Dana Lee"):
        assert f"\nIn {REVERSE_NAME}: It's been " in text
    assert f"\nIn {LEADERSHIP_NAME}: It's been 14 days" in check_ins(kim, "Sam Okafor")[0]
    assert all(
        "\nIt's been " in t and "In " not in t.split("\n")[1] for t in check_ins(dana, "Kim Ito")
    )
    assert "\nIt's been 14 days" in check_ins(sam, "Kim Ito")[0]


async def test_the_plan_reminder_names_the_program(two: TwoPrograms) -> None:
    world = two.world
    # Five days in is a Saturday: the reminders wait for Monday, a week in.
    await world.walk(8)
    kim = [r.text for r in world.inbox("kim@x.com")]
    dana = [r.text for r in world.inbox("dana@x.com")]
    [reminder] = [t for t in kim if "== Your plan is still to write ==" in t]
    assert f"In {LEADERSHIP_NAME}: It's been 7 days since your cycle with Sam began" in reminder
    [theirs] = [t for t in dana if "== Your plan is still to write ==" in t]
    assert "\nIt's been 7 days since your cycle with Kim began" in theirs


async def test_leads_of_several_programs_read_which_one_a_pairing_at_risk_is_in(
    two: TwoPrograms,
) -> None:
    world = two.world
    await world.walk(15)
    lead = [r.text for r in world.inbox(GLOBAL_LEAD)]
    [at_risk] = [t for t in lead if "== A pairing at risk ==" in t]
    assert f"In {REVERSE_NAME}: Dana Lee and Kim Ito are at risk" in at_risk


async def test_a_command_without_a_number_asks_which_pairing_naming_person_and_program(
    two: TwoPrograms,
) -> None:
    chat = two.world.chat(two.kim)
    lead_id, reverse_id = two.leadership.id, two.reverse.id
    reply = await chat.send("log")
    assert (
        f"You're in 2 pairings: {lead_id} with Sam Okafor ({LEADERSHIP_NAME}), {reverse_id} "
        f"with Dana Lee ({REVERSE_NAME}); type log and its number." in reply
    )
    assert [(o.value, o.label) for o in chat.last[0].actions] == [
        (f"log {lead_id}", f"Sam Okafor ({LEADERSHIP_NAME})"),
        (f"log {reverse_id}", f"Dana Lee ({REVERSE_NAME})"),
    ]
    # The button runs the command for that pairing: the session form with Dana.
    await chat.expect(chat.last[0].actions[1].value, "When did you meet?")
    await chat.send("cancel")
    await chat.expect("plan", "type plan and its number", f"Dana Lee ({REVERSE_NAME})")
    # With a number, commands work as always: Kim is Dana's mentor, so plan shows hers.
    await chat.expect(f"plan {reverse_id}", "Dana Lee hasn't written your plan yet")
    # Closing a pairing is not one click away.
    await chat.expect("close", "type close and its number")
    assert chat.last[0].actions == ()


async def test_status_has_a_heading_per_program_in_the_files_order(two: TwoPrograms) -> None:
    world = two.world
    world.clock.advance(days=2)
    status = await world.chat(two.kim).send("status")
    lead_id, reverse_id = two.leadership.id, two.reverse.id
    leadership, reverse, end = status.split("\n\n")
    assert leadership.splitlines() == [
        f"In {LEADERSHIP_NAME}:",
        "You're enrolled as a mentee, paired with a mentor (since 2 Nov 2026).",
        "You're paired with Sam Okafor, your mentor, since Mon 23 Nov 2026.",
        f"Pairing {lead_id}: day 3 of 90; next check-in Mon 7 Dec; no plan yet (type plan).",
    ]
    assert reverse.splitlines() == [
        f"In {REVERSE_NAME}:",
        "You're enrolled as a mentor with room for 1 mentee (since 2 Nov 2026).",
        "You're mentoring Dana Lee since Mon 23 Nov 2026.",
        f"Pairing {reverse_id}: day 3 of 90; next check-in Mon 30 Nov; no plan yet (type plan).",
    ]
    assert end == "Type join to update your answers."
    # Dana, in one program, reads status as before.
    dana = await world.chat(two.dana).send("status")
    assert dana.startswith(
        f"You're enrolled as a mentee, paired with a mentor in {REVERSE_NAME} (since"
    )
    assert "In " not in dana


async def test_the_other_side_of_a_pause_reads_the_program_when_in_two(two: TwoPrograms) -> None:
    world = two.world
    await world.tick()
    world.take()
    await world.chat(two.dana).expect("pause", "Paused")
    await world.chat(two.sam).expect("pause", "Paused")
    world.clock.advance(hours=1)
    await world.tick()
    kim = [r.text for r in world.inbox("kim@x.com")]
    assert f"In {REVERSE_NAME}: Dana Lee is taking a break from mentoring" in "\n".join(kim)
    assert f"In {LEADERSHIP_NAME}: Sam Okafor is taking a break from mentoring" in "\n".join(kim)


async def test_after_leaving_one_program_messages_read_as_for_one_program(
    two: TwoPrograms,
) -> None:
    world = two.world
    kim = world.chat(two.kim)
    await kim.expect(f"leave {REVERSE}", "Leaving takes you out of Reverse Mentoring 2027")
    await kim.expect("yes", "You've left Reverse Mentoring 2027")
    dana = await world.read_waiting(two.dana)
    assert "Kim Ito has left the mentoring program" in dana and "In " not in dana
    await world.walk(15)
    [nudge] = check_ins([r.text for r in world.inbox("kim@x.com")], "Sam Okafor")
    assert "\nIt's been 14 days" in nudge and LEADERSHIP_NAME not in nudge
    # One pairing left: log goes straight to it.
    await kim.expect("log", "When did you meet?")


async def test_a_session_log_asks_the_other_side_naming_the_program(two: TwoPrograms) -> None:
    world = two.world
    world.clock.advance(days=1)
    dana = world.chat(two.dana)
    await log_session(dana)
    pulse = await world.read_waiting(two.kim)
    assert re.search(rf"In {REVERSE_NAME}: Dana logged your session\. How did it go\?", pulse)
