"""``help`` where the program file has a circles program: the circle commands in a block of
their own, a circles lead's words in circles' terms; a file without circles doesn't mention
them (both databases)."""

from __future__ import annotations

from handlers import build_engine
from handlers.core.programs import Programs
from storage import Database
from tests.handlers.circles.running_world import PROGRAM
from tests.handlers.cycle_world import World
from tests.helpers import Chat, enroll_as, make_person

CIRCLE_LINES = (
    "In a mentor circle (a facilitator and a small group who meet to grow the same skills):",
    "• accept C7 / decline C7: answer the proposal of circle C7",
    "• circle: your circle, who is in it and its goals",
    "• goals: the circle's shared goals; its facilitator types goals add GOAL or goals remove "
    "NUMBER",
    "• log: for the facilitator, log a session with who came (log circle if you also have a "
    "pairing)",
    "• feedback: say how a circle session you came to went",
    "• leave circle: leave your circle; it carries on without you",
)
UNEXCLUDE_CIRCLES = (
    "• unexclude leader-circles MEMBER FACILITATOR: let a member who declined a facilitator's "
    "circle be put in one of theirs again (program leads)"
)


async def test_help_lists_the_circle_commands(world: World) -> None:
    someone = await make_person(world.database, "kim@example.com", name="Kim Ito")
    said = await world.chat(someone).send("help")
    for line in CIRCLE_LINES:
        assert line in said
    assert "match leader-circles" not in said
    lead = await make_person(world.database, "priya.shah@example.com", name="Priya Shah")
    said = await world.chat(lead).send("help")
    assert "• match leader-circles: propose circles for everyone waiting (program leads)" in said
    # Priya leads a one-to-one program too: unexclude reads for each kind.
    assert "• unexclude MENTEE MENTOR: let a mentee and a mentor" in said
    assert UNEXCLUDE_CIRCLES in said


async def test_help_for_a_lead_of_circles_alone_words_unexclude_for_circles(
    database: Database, circle_programs: Programs
) -> None:
    only = Programs([circle_programs.of(PROGRAM)], leads=circle_programs.leads)
    engine = build_engine(programs=only, database=database)
    lead = await make_person(database, "priya.shah@example.com", name="Priya Shah")
    said = await Chat(engine, lead).send("help")
    assert UNEXCLUDE_CIRCLES in said
    assert "MENTEE MENTOR" not in said and "a mentee and a mentor" not in said


async def test_help_without_a_circles_program_says_nothing_of_circles(
    database: Database, programs: Programs
) -> None:
    engine = build_engine(programs=programs, database=database)
    someone = await make_person(database, "kim@example.com", name="Kim Ito")
    said = await Chat(engine, someone).send("help")
    assert "In a mentor circle" not in said
    assert "• circle" not in said and "• goals" not in said


async def test_help_for_a_lead_of_circles_alone_leaves_out_the_words_for_pairs(
    database: Database, circle_programs: Programs
) -> None:
    only = Programs([circle_programs.of(PROGRAM)], leads=circle_programs.leads)
    engine = build_engine(programs=only, database=database)
    lead = await make_person(database, "priya.shah@example.com", name="Priya Shah")
    said = await Chat(engine, lead).send("help")
    assert "• match leader-circles: propose circles for everyone waiting (program leads)" in said
    assert "mentor pairings" not in said
    assert "PAIRING" not in said and "pair" not in said.replace("have a pairing)", "")
    for word in ("• plan", "• consent", "• schedule", "• move-meeting", "• calendar"):
        assert word not in said
    assert "• accept C7 / decline C7" in said and "• accept [NUMBER]" not in said


async def test_help_for_a_circles_lead_enrolled_in_a_pairs_program_keeps_its_words(
    database: Database, circle_programs: Programs
) -> None:
    pairs = next(p for p in circle_programs if p.id != PROGRAM)
    circles = circle_programs.of(PROGRAM)
    lead = await make_person(database, "kim@example.com", name="Kim Ito")
    led = circles.model_copy(update={"leads": (*circles.leads, "kim@example.com")})
    engine = build_engine(
        programs=Programs([led, pairs], leads=circle_programs.leads), database=database
    )
    await enroll_as(database, lead, "mentee", program=pairs.id, answers={})
    said = await Chat(engine, lead).send("help")
    assert "• plan [PAIRING]: write or see your 90-day plan" in said
    assert "mentor pairings" not in said and "pair MENTEE MENTOR" not in said
