"""``join`` with several programs: the list, one-sentence refusals, cohorts, several roles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers import Submission, build_engine
from handlers.core.engine import Engine
from handlers.core.programs import Programs
from storage import ConversationState, Database, Enrollment
from tests.helpers import MENTEE_ANSWERS, MENTOR_ANSWERS, Chat, FakeClock, make_person, rows

#: Inside the sales pilot's enrolment window (4 to 29 Jan 2027).
DURING = datetime(2027, 1, 10, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DURING)


@pytest.fixture
def engine(database: Database, programs: Programs, clock: FakeClock) -> Engine:
    return build_engine(programs=programs, database=database, clock=clock)


async def person(engine: Engine, email: str, **fields: object) -> Chat:
    return Chat(engine, await make_person(engine.database, email, **fields))


@pytest.fixture
async def ana(engine: Engine) -> Chat:
    """In Sales at level 3: a mentee in leadership, a mentor in reverse, a peer, a seller."""
    await make_person(engine.database, "priya.shah@example.com", name="Priya Shah")
    return await person(
        engine,
        "ana.lopez@example.com",
        name="Ana Lopez",
        department="Sales",
        level=3,
        timezone="Europe/London",
    )


@pytest.fixture
async def ben(engine: Engine) -> Chat:
    """In Engineering at level 1: too junior for leadership's mentees."""
    return await person(
        engine, "ben.ng@example.com", name="Ben Ng", department="Engineering", level=1
    )


async def nothing_stored(database: Database) -> None:
    assert await rows(database, ConversationState) == []
    assert await rows(database, Enrollment) == []


async def test_join_lists_the_programs_a_person_may_join_with_a_button_each(ana: Chat) -> None:
    reply = await ana.send("join")
    assert reply.splitlines()[:5] == [
        "Which program would you like to join?",
        "• Leadership Mentoring Program 2027: Emerging leaders with experienced mentors "
        "across functions. You'd join as a mentee. Type join leadership-2027 mentee.",
        "• Reverse Mentoring 2027: Early-career colleagues mentor senior leaders on "
        "technology and culture. You'd join as a mentor. Type join reverse-2027 mentor.",
        "• Peer Learning Pairs: Colleagues at a similar level learn from each other. You'd "
        "join as a peer. Type join peer-circle peer.",
        "1 other program is not open to you (sales-pilot); type join and its id to see why.",
    ]
    assert [a.value for a in ana.last[0].actions] == [
        "join leadership-2027 mentee",
        "join reverse-2027 mentor",
        "join peer-circle peer",
    ]
    # A button runs its command as if typed.
    await ana.expect(
        ana.last[0].actions[1].value,
        "Let's get you enrolled as a mentor in Reverse Mentoring 2027",
        "Question 1 of 5",
    )


async def test_a_program_one_may_not_join_gets_one_sentence_and_nothing_changes(
    ben: Chat, database: Database
) -> None:
    reply = await ben.send("join leadership-2027")
    assert reply == (
        "This program is for levels 2 to 4 as a mentee and levels 5 and above as a mentor."
    )
    assert await ben.send("join sales-pilot") == "This program is for the Sales department."
    await nothing_stored(database)


async def test_a_role_one_may_not_take_offers_the_other(ana: Chat, database: Database) -> None:
    reply = await ana.send("join leadership-2027 mentor")
    assert reply.splitlines()[0] == (
        "This program is for levels 5 and above as a mentor. You can join as a mentee: type "
        "join leadership-2027 mentee."
    )
    assert [a.value for a in ana.last[0].actions] == ["join leadership-2027 mentee"]
    await nothing_stored(database)


async def test_an_unknown_program_lists_the_ones_one_can_join(ana: Chat) -> None:
    reply = await ana.send("join leadrship")
    assert reply.splitlines()[0] == (
        "There's no program 'leadrship'. Programs you can join: leadership-2027 (Leadership "
        "Mentoring Program 2027), reverse-2027 (Reverse Mentoring 2027), peer-circle (Peer "
        "Learning Pairs)."
    )


async def test_join_and_a_role_lists_the_programs_taking_it(ana: Chat) -> None:
    reply = await ana.send("join mentor")
    assert "Type join reverse-2027 mentor." in reply
    assert "leadership-2027" not in reply


async def test_a_lead_invites_and_the_invitee_may_then_join_the_invite_only_pilot(
    engine: Engine, ana: Chat, database: Database
) -> None:
    assert await ana.send("join sales-pilot") == (
        "This program is by invitation; ask Priya Shah (a program lead) if you'd like to take part."
    )
    await nothing_stored(database)
    priya = await person(engine, "priya.shah@example.com")
    assert await priya.send("invite sales-pilot ana.lopez@example.com") == (
        "Invited 1 to Sales Leadership Pilot: Ana Lopez <ana.lopez@example.com>."
    )
    reply = await ana.send("join sales-pilot")
    assert "How would you like to take part in Sales Leadership Pilot?" in reply
    await ana.send("cancel")
    reply = await ana.send("join")
    assert (
        "• Sales Leadership Pilot: A pilot for the sales department, by invitation, starting "
        "together. You'd join as a mentee or a mentor; enrol by Fri 29 Jan, starts Mon 1 Feb. "
        "Type join sales-pilot."
    ) in reply


async def test_a_cohort_opens_and_closes_on_its_days(
    engine: Engine, ana: Chat, clock: FakeClock, database: Database
) -> None:
    priya = await person(engine, "priya.shah@example.com")
    clock.current = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    await priya.send("invite sales-pilot ana.lopez@example.com")
    assert await ana.send("join sales-pilot") == (
        "Enrolment for Sales Leadership Pilot opens on Mon 4 Jan."
    )
    await nothing_stored(database)
    clock.current = datetime(2027, 1, 29, 16, 0, tzinfo=UTC)
    await ana.expect("join sales-pilot mentee", "Question 1 of 6")
    await ana.send("cancel")
    clock.current = datetime(2027, 1, 30, 9, 0, tzinfo=UTC)
    assert await ana.send("join sales-pilot mentee") == (
        "Enrolment for Sales Leadership Pilot closed on Fri 29 Jan; the next cohort will be "
        "announced by the program leads."
    )
    await nothing_stored(database)


async def test_one_person_is_a_mentee_in_one_program_and_a_mentor_in_another(
    ana: Chat, database: Database
) -> None:
    await ana.send("join leadership-2027")
    for answer in (*MENTEE_ANSWERS, "yes"):
        reply = await ana.send(answer)
    assert reply.startswith("You're enrolled as a mentee in Leadership Mentoring Program 2027.")
    await ana.send("join reverse-2027")
    for answer in (*MENTOR_ANSWERS, "yes"):
        reply = await ana.send(answer)
    assert reply.startswith("Thank you! You're enrolled as a mentor in Reverse Mentoring 2027")
    stored = {(e.program, e.role, e.status) for e in await rows(database, Enrollment)}
    assert stored == {
        ("leadership-2027", "mentee", "waiting"),
        ("reverse-2027", "mentor", "available"),
    }
    status = await ana.send("status")
    assert (
        "In Leadership Mentoring Program 2027:\nYou're enrolled as a mentee, waiting for a match"
    ) in status
    assert (
        "In Reverse Mentoring 2027:\nYou're enrolled as a mentor with room for 2 mentees"
    ) in status
    listing = await ana.send("join")
    assert (
        "You're in it as a mentee; type join leadership-2027 mentee to update your answers."
    ) in listing
    await ana.expect("join leadership-2027", "You're already enrolled as a mentee")


async def test_a_peer_joins_a_peer_program_with_its_own_questions(
    ana: Chat, database: Database
) -> None:
    await ana.expect(
        "join peer-circle", "enrolled as a peer in Peer Learning Pairs", "Question 1 of 3"
    )
    await ana.send("1, 2")
    await ana.send("3")
    await ana.send("Learn how other teams plan")
    await ana.expect("yes", "You're enrolled as a peer in Peer Learning Pairs")
    [enrollment] = await rows(database, Enrollment)
    assert (enrollment.program, enrollment.role) == ("peer-circle", "peer")
    assert enrollment.answers["offers"] == ["people-leadership"]
    await ana.expect("status", "You're enrolled as a peer, waiting to be paired in Peer Learning")


async def test_the_intake_form_refuses_whom_join_refuses(
    engine: Engine, ben: Chat, database: Database
) -> None:
    form = Submission("intake", "leadership-2027:mentee", {"goals": ("Lead a team",)})
    result = await engine.submit(
        ben.inbound.__class__(ben.channel, ben.person.email, ben.inbound.person_id, form=form)
    )
    assert [r.text for r in result.replies] == ["This program is for levels 2 to 4 as a mentee."]
    await nothing_stored(database)


async def test_join_and_a_program_typed_mid_questionnaire_is_asked_about_not_saved(
    ana: Chat, database: Database
) -> None:
    await ana.expect("join leadership-2027 mentee", "Question 1 of 6")
    reply = await ana.send("join reverse-2027")
    assert reply.startswith("Did you mean the command 'join reverse-2027'?")
    assert "type cancel first" in reply and "Question 1 of 6" in reply
    # Words that merely start with "join" stay an answer to a text question.
    await ana.expect("join a team that ships", "Question 2 of 6")
    assert await rows(database, Enrollment) == []
