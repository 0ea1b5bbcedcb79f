"""The intake flow through the engine: send a line, check the reply and what is stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers import build_engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import ConversationState, Database, Enrollment
from tests.helpers import (
    MENTEE_ANSWERS,
    MENTEE_STORED,
    MENTOR_ANSWERS,
    Chat,
    FakeClock,
    make_person,
)


@pytest.fixture
async def chat(database: Database, program: Program) -> Chat:
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    person = await make_person(database, "ana.lopez@example.com", name="Ana Lopez")
    return Chat(engine, person)


async def enrollments(database: Database) -> list[Enrollment]:
    async with database.session() as session:
        return list((await session.exec(select(Enrollment))).all())


async def states(database: Database) -> list[ConversationState]:
    async with database.session() as session:
        return list((await session.exec(select(ConversationState))).all())


async def answer_all(chat: Chat, answers: list[str]) -> str:
    reply = ""
    for answer in answers:
        reply = await chat.send(answer)
    return reply


async def test_plain_join_asks_which_role(chat: Chat) -> None:
    reply = await chat.expect("join", "How would you like to take part", "1. Mentee", "2. Mentor")
    assert "Question" not in reply


async def test_whole_mentee_intake_saves_the_enrollment(chat: Chat, database: Database) -> None:
    await chat.expect("join mentee", "Question 1 of 6")
    summary = await answer_all(chat, MENTEE_ANSWERS)
    assert "Here is what you told me" in summary
    assert "Strategic judgment, People leadership" in summary
    await chat.expect("yes", "You're enrolled as a mentee", "waiting for a match")

    [enrollment] = await enrollments(database)
    assert enrollment.role == "mentee"
    assert enrollment.status == "waiting"
    assert enrollment.answers == MENTEE_STORED
    assert await states(database) == []


async def test_mentor_intake_records_capacity(chat: Chat, database: Database) -> None:
    await chat.send("join mentor")
    await answer_all(chat, MENTOR_ANSWERS)
    await chat.expect("yes", "enrolled as a mentor with room for 2 mentees")
    [enrollment] = await enrollments(database)
    assert (enrollment.role, enrollment.status, enrollment.capacity) == ("mentor", "available", 2)
    assert enrollment.answers["strengths"] == ["coaching", "people-leadership", "decision-making"]


async def test_choices_by_clicking_option_values(chat: Chat, database: Database) -> None:
    await chat.send("join")
    await chat.click("mentee")
    await chat.send("Grow as a leader")
    await chat.click("coaching", "vision")
    await chat.click("Reading and reflecting")
    await chat.click("Group")
    await chat.send("2")
    await chat.send("skip")
    await chat.click("yes")
    [enrollment] = await enrollments(database)
    assert enrollment.answers["competencies"] == ["coaching", "vision"]
    assert enrollment.answers["anything_else"] is None


async def test_back_returns_to_the_previous_question_and_keeps_answers(chat: Chat) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    await chat.expect("back", "Question 1 of 6", "Your answer so far: Lead a team", "keep")
    await chat.expect("keep", "Question 2 of 6")


async def test_back_on_the_first_step_says_there_is_nothing_before(chat: Chat) -> None:
    await chat.send("join mentee")
    await chat.expect("back", "nothing to go back to", "Question 1 of 6")


async def test_skip_works_only_for_optional_questions(chat: Chat) -> None:
    await chat.send("join mentee")
    await chat.expect("skip", "required, so it can't be skipped", "Question 1 of 6")
    await answer_all(chat, MENTEE_ANSWERS[:5])
    await chat.expect("skip", "(skipped)", "Shall I save it?")


async def test_cancel_stops_without_saving(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    await chat.expect("cancel", "Cancelled; nothing was saved")
    assert await enrollments(database) == []
    assert await states(database) == []
    await chat.expect("status", "not enrolled")


async def test_help_inside_a_flow_explains_and_repeats_the_question(chat: Chat) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    await chat.expect(
        "help", "question 2 of 6 of your mentee intake", "back", "skip", "cancel", "Question 2 of 6"
    )


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["1, 2, 3, 4"], "You picked 4. Please pick up to 3 of the options, comma-separated"),
        (["Budgeting"], "'Budgeting' is not one of the options"),
        (["99"], "There is no option 99"),
    ],
)
async def test_invalid_multi_choice_is_reasked_with_what_is_accepted(
    chat: Chat, answers: list[str], expected: str
) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    reply = await chat.send(answers[0])
    assert expected in reply
    assert "Question 2 of 6" in reply


async def test_out_of_range_number_is_reasked(chat: Chat) -> None:
    await chat.send("join mentee")
    await answer_all(chat, MENTEE_ANSWERS[:4])
    await chat.expect("40", "40 is out of range", "whole number from 1 to 20", "Question 5 of 6")
    await chat.expect("three", "'three' is not a whole number", "Question 5 of 6")
    await chat.expect("3", "Question 6 of 6")


async def test_change_an_answer_from_the_summary(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    await answer_all(chat, MENTEE_ANSWERS)
    await chat.expect("change", "Which answer do you want to change?")
    await chat.expect("5", "Question 5 of 6", "Your answer so far: 3")
    await chat.expect("6", "Shall I save it?")
    await chat.send("yes")
    [enrollment] = await enrollments(database)
    assert enrollment.answers["hours_per_month"] == 6


async def test_no_at_the_summary_discards(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    await answer_all(chat, MENTEE_ANSWERS)
    await chat.expect("no", "nothing was saved")
    assert await enrollments(database) == []


async def test_join_again_offers_to_update_and_keeps_unchanged_answers(
    chat: Chat, database: Database
) -> None:
    await chat.send("join mentee")
    await answer_all(chat, MENTEE_ANSWERS)
    await chat.send("yes")
    await chat.expect("join mentee", "already enrolled as a mentee", "update your")
    await chat.expect("yes", "Question 1 of 6", "Your answer so far")
    await chat.send("Become a product leader")
    for _ in range(5):
        await chat.send("keep")
    await chat.expect("yes", "Saved. Your answers are updated.")
    [enrollment] = await enrollments(database)
    assert enrollment.answers["goals"] == "Become a product leader"
    assert enrollment.answers["competencies"] == ["strategic-judgment", "people-leadership"]
    assert enrollment.status == "waiting"


async def test_join_again_and_no_changes_nothing(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    await answer_all(chat, MENTEE_ANSWERS)
    await chat.send("yes")
    await chat.send("join mentee")
    await chat.expect("no", "answers stay as they are")
    assert len(await enrollments(database)) == 1


async def test_join_with_an_unknown_role_says_which_roles_exist(chat: Chat) -> None:
    await chat.expect("join sponsor", "'sponsor' is not a role", "join mentee or join mentor")


async def test_status_before_and_after_enrolling(chat: Chat) -> None:
    await chat.expect("status", "not enrolled in Leadership Mentoring Program 2027 yet")
    await chat.send("join mentee")
    await answer_all(chat, MENTEE_ANSWERS)
    await chat.send("yes")
    await chat.expect("status", "enrolled as a mentee, waiting for a match", "since 23 Nov 2026")


async def test_help_lists_the_commands(chat: Chat) -> None:
    await chat.expect("help", "join", "status", "help")


async def test_unknown_words_get_a_hint(chat: Chat) -> None:
    await chat.expect("statsu", "I don't know 'statsu'", "Did you mean status?", "help")
    await chat.expect("blorp", "I don't know 'blorp'", "Type help")


async def test_resume_after_engine_restart_with_the_same_database(
    chat: Chat, database: Database, program: Program
) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    await chat.send("coaching")

    restarted = build_engine(
        programs=Programs.one(program), database=Database(database.url), clock=FakeClock()
    )
    try:
        again = Chat(restarted, chat.person)
        resumed = await restarted.resume(again.inbound)
        text = "\n".join(r.text for r in resumed)
        assert "Welcome back! You were on question 3 of 6 of your mentee intake" in text
        await again.expect("Talking things through", "Question 4 of 6")
        await answer_all(again, MENTEE_ANSWERS[3:])
        await again.expect("yes", "You're enrolled as a mentee")
    finally:
        await restarted.database.dispose()
    [enrollment] = await enrollments(database)
    assert enrollment.answers["competencies"] == ["coaching"]


async def test_a_program_with_one_role_skips_the_role_question(database: Database) -> None:
    from bot.config import parse_programs
    from tests.conftest import ROOT

    one_program = ROOT / "tests" / "fixtures" / "one_program.yaml"
    text = one_program.read_text().replace("roles: [mentee, mentor]", "roles: [mentee]")
    assert "roles: [mentee]\n" in text
    mentee_only = parse_programs(text).first
    engine = build_engine(programs=Programs.one(mentee_only), database=database, clock=FakeClock())
    chat = Chat(engine, await make_person(database, "solo@example.com"))
    await chat.expect("join", "enrolled as a mentee", "Question 1 of 6")
    await chat.send("cancel")
    await chat.expect("join mentor", "'mentor' is not a role in this program", "Type join mentee.")
