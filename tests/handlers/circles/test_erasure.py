"""Erasure (``privacy forget``) of someone in a circle: no trace of them stays, the circle
goes on for the others, and the program's figures keep their counts (both databases)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import sqlalchemy as sa

from handlers.people.erasure import forget_person
from storage import (
    Circle,
    CircleAttendance,
    CircleDue,
    CircleFeedback,
    CircleMember,
    CircleSession,
    Enrollment,
    Person,
    PlatformAccount,
)
from storage.tables import CIRCLE, CIRCLE_MEMBER, PERSON
from tests.bot.cli_helpers import mentorbot
from tests.conftest import CIRCLES_PROGRAMS
from tests.handlers.circles.running_world import (
    PROGRAM,
    RunningCircle,
    current_circle,
    place_of,
    running_circle,
)
from tests.handlers.circles.test_sessions import log_circle_session
from tests.handlers.cycle_world import LEAD, World
from tests.handlers.people.test_privacy import every_value
from tests.helpers import make_person, rows

EMAIL, NAME = "zuzanna.quill@example.com", "Zuzanna Quill"
#: What the erased member wrote in words in their pulse: theirs, so it goes.
THEIR_WORDS = "I worry the reorg will sink my project"
#: The Slack user the erased member was, as a circle's group conversation remembers it.
SLACK_USER = "UZQUILL01"


@dataclass
class Setting:
    """A running circle whose second member (Ben's place) is Zuzanna Quill, with everything
    a circle stores about a member: reasons, a goal, a session, pulses, a Slack channel."""

    running: RunningCircle
    erased: Person


async def _rename(world: World, person: Person) -> Person:
    async with world.database.session() as session:
        conn = await session.connection()
        await conn.execute(
            sa.update(PERSON).where(PERSON.c.id == person.id).values(email=EMAIL, name=NAME)
        )
    return next(p for p in await rows(world.database, Person) if p.id == person.id)


async def _answer_pulse(world: World, person: Person, comment: str) -> None:
    chat = world.chat(person)
    await chat.expect("feedback", "How useful was the session?")
    await chat.send("4")
    await chat.send("1")
    await chat.expect(comment, "Your feedback is saved")


async def circle_with_zuzanna(world: World) -> Setting:
    running = await running_circle(world)
    zuzanna = await _rename(world, running.members[1])
    running.members[1] = zuzanna
    now = world.clock.now()
    async with world.database.session() as session:
        assert zuzanna.id is not None
        session.add(
            PlatformAccount(
                platform="slack",
                external_id=f"T1/{SLACK_USER}",
                person_id=zuzanna.id,
                created_at=now,
                last_seen_at=now,
            )
        )
        conn = await session.connection()
        await conn.execute(
            sa.update(CIRCLE)
            .where(CIRCLE.c.id == running.number)
            .values(
                reasons=[{"part": "circle", "text": f"{NAME} and Ana Lima both want Coaching"}],
                conversation={
                    "slack_channel": "G0CIRCLE",
                    "slack_members": ["UFRAN", SLACK_USER, "UANA"],
                    "slack_private": True,
                },
            )
        )
        await conn.execute(
            sa.update(CIRCLE_MEMBER)
            .where(CIRCLE_MEMBER.c.person_id == zuzanna.id)
            .values(reasons=["you want Coaching, as Fran Okafor's strength"])
        )
    fran = world.chat(running.facilitator)
    await fran.expect(f"goals add Help {NAME} prepare the offsite", "Added.")
    await log_circle_session(world, running, came="1, 2, 3", notes=f"{NAME} led the talk.")
    await _answer_pulse(world, zuzanna, THEIR_WORDS)
    await _answer_pulse(world, running.members[0], f"Loved what {NAME} said")
    return Setting(running, zuzanna)


async def forget(world: World, email: str = EMAIL) -> None:
    erasure = await forget_person(
        world.database, world.programs, email=email, now=world.clock.now(), requested_by=LEAD
    )
    assert erasure is not None


# --- a member ------------------------------------------------------------------------------


async def test_forgetting_a_member_leaves_no_trace_of_them_in_circle_rows(world: World) -> None:
    await circle_with_zuzanna(world)
    before = await every_value(world.database)
    assert EMAIL in before and NAME.lower() in before and THEIR_WORDS.lower() in before
    await forget(world)
    text = await every_value(world.database)
    assert EMAIL not in text and NAME.lower() not in text and "zuzanna" not in text
    assert THEIR_WORDS.lower() not in text and SLACK_USER.lower() not in text
    # What others wrote that named them now reads the way pairs' records do.
    [circle] = await rows(world.database, Circle)
    assert circle.goals[0]["text"] == "Help a former participant prepare the offsite"
    assert circle.conversation["slack_members"] == ["UFRAN", "UANA"]
    [held] = await rows(world.database, CircleSession)
    assert held.notes == "a former participant led the talk."


async def test_forgetting_a_member_keeps_the_circle_running_and_tells_the_facilitator(
    world: World,
) -> None:
    setting = await circle_with_zuzanna(world)
    running = setting.running
    await world.tick()
    world.take()
    await forget(world)
    circle = await current_circle(world, running)
    assert circle.status == "active"
    place = await place_of(world, setting.erased)
    assert (place.status, place.left_at, place.reasons) == ("left", world.clock.now(), [])
    await world.tick()
    [told] = [r for r in world.take() if "has left circle" in r.text]
    assert told.email == running.facilitator.email
    assert f"A member has left circle C{running.number}" in told.text
    assert "carries on with 3 members" in told.text


async def test_forgetting_a_member_keeps_attendance_and_ratings_for_the_figures(
    world: World,
) -> None:
    setting = await circle_with_zuzanna(world)
    erased_id = setting.erased.id
    attendance = await rows(world.database, CircleAttendance)
    await forget(world)
    assert await rows(world.database, CircleAttendance) == attendance
    [theirs] = [
        f for f in await rows(world.database, CircleFeedback) if f.respondent_id == erased_id
    ]
    assert theirs.status == "answered"
    assert theirs.answers == {"usefulness": 4, "next_step": "Yes"}


# --- the facilitator -----------------------------------------------------------------------


async def test_forgetting_the_facilitator_closes_the_circle_kindly(world: World) -> None:
    running = await running_circle(world)
    fran = running.facilitator
    await world.tick()
    world.take()
    await forget(world, fran.email)
    circle = await current_circle(world, running)
    assert (circle.status, circle.end_reason, circle.closed_at) == (
        "ended",
        "facilitator_left",
        world.clock.now(),
    )
    assert {d.status for d in await rows(world.database, CircleDue)} <= {"done", "cancelled"}
    # The members go back to the waitlist with the place they had.
    enrollments = {
        e.person_id: e for e in await rows(world.database, Enrollment) if e.program == PROGRAM
    }
    for member in running.members:
        assert enrollments[member.id].status == "waiting"
    await world.tick()
    told = world.take()
    members_told = {r.email for r in told if "its facilitator has left the program" in r.text}
    assert members_told == {m.email for m in running.members}
    assert any(f"Circle C{running.number} has ended" in r.text and r.email == LEAD for r in told)
    assert all("Fran" not in r.text and "Okafor" not in r.text for r in told)
    text = await every_value(world.database)
    assert fran.email not in text and "fran okafor" not in text


async def test_forgetting_the_facilitator_of_a_proposed_circle_dissolves_it(
    world: World,
) -> None:
    running = await running_circle(world)
    # Back to a proposal waiting for the members' answers.
    async with world.database.session() as session:
        conn = await session.connection()
        await conn.execute(
            sa.update(CIRCLE).where(CIRCLE.c.id == running.number).values(status="proposed")
        )
        await conn.execute(
            sa.update(CIRCLE_MEMBER)
            .where(CIRCLE_MEMBER.c.role == "member")
            .values(status="invited", answered_at=None)
        )
    await forget(world, running.facilitator.email)
    circle = await current_circle(world, running)
    assert (circle.status, circle.end_reason) == ("dissolved", "facilitator_declined")
    await world.tick()
    told = world.take()
    dissolved = {r.email for r in told if "won't go ahead because its facilitator" in r.text}
    assert dissolved == {m.email for m in running.members}
    assert all("Fran" not in r.text and "Okafor" not in r.text for r in told)


async def test_a_lead_who_proposed_a_circle_is_forgotten_from_it(world: World) -> None:
    running = await running_circle(world)
    lead = await make_person(world.database, "old.lead@example.com", name="Olga Lead")
    async with world.database.session() as session:
        conn = await session.connection()
        await conn.execute(
            sa.update(CIRCLE).where(CIRCLE.c.id == running.number).values(proposed_by=lead.id)
        )
    await forget(world, "old.lead@example.com")
    assert (await current_circle(world, running)).proposed_by is None
    assert {p.status for p in await rows(world.database, CircleMember)} == {"accepted"}


async def test_the_command_line_says_how_many_circles_the_person_left(world: World) -> None:
    setting = await circle_with_zuzanna(world)
    done = await asyncio.to_thread(
        mentorbot,
        "privacy",
        "forget",
        EMAIL,
        "--as",
        LEAD,
        database_url=world.database.url,
        config=CIRCLES_PROGRAMS,
    )
    assert done.returncode == 0, done.stderr
    assert "; left 1 open circle, whose others were told" in done.stdout
    place = await place_of(world, setting.erased)
    assert place.status == "left"
