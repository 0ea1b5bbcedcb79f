"""What a mentee and a mentor read of each other: short profiles, fits and clocks in words.

A pair walks from the lead's review to the kickoff through the engine (both databases),
and each reads their messages as the shell, Slack and Teams render them. Nobody but the
lead reads a fit as a number, nobody reads a zone id, and the job shows under its labels.
"""

from __future__ import annotations

import json

import pytest

from bot.render_text import render_all
from bot.slack.blocks import render_message
from bot.teams.cards import render_card
from handlers.core.messages import PROFILE_LINES, Reply
from handlers.core.program import Program
from storage import Database, Pairing, Person
from tests.handlers.cycle_world import LEAD, World
from tests.handlers.profile_world import waiting, walk
from tests.helpers import make_person, mentee, mentor, rows

#: Zone ids, and a fit as a number, that must not reach a mentee or a mentor.
RAW = ("Europe/", "America/", "fit 0.", "fit 1.")


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


def everything_read(replies: list[Reply]) -> str:
    """A message as the shell prints it, and as Slack and Teams receive it (JSON)."""
    text, blocks = render_message(replies)
    return "\n".join(
        [
            render_all(replies),
            text,
            json.dumps(blocks, ensure_ascii=False),
            json.dumps(render_card(replies), ensure_ascii=False),
        ]
    )


async def test_the_lead_reads_the_fit_as_a_number_and_the_pair_read_it_in_words(
    world: World,
) -> None:
    seen = await walk(world)
    assert "1. Lee Park → Ana Lima · fit 0." in seen.review
    offer, offered = everything_read(seen.mentor_offer), everything_read(seen.mentee_offer)
    assert "Would you mentor Lee Park? In this round you're the best match for them, a " in offer
    assert "Ana Lima would like to be your mentor: a " in offered
    for read in (offer, offered):
        assert " fit. " in read or " fit for you. " in read
        assert [raw for raw in RAW if raw in read] == []


async def test_a_proposal_says_where_the_other_side_is_against_the_readers_clock(
    world: World,
) -> None:
    seen = await walk(world)
    # 23 November: London is on UTC, New York on UTC-5.
    assert "Time zone: London, 5 h ahead of you" in render_all(seen.mentor_offer)
    assert "Time zone: New York, 5 h behind you" in render_all(seen.mentee_offer)


async def test_the_kickoff_introduces_two_short_profiles_with_the_job_under_its_labels(
    world: World,
) -> None:
    seen = await walk(world)
    [intro] = seen.mentee_kickoff
    assert seen.mentor_kickoff == [intro]  # one message for both (a group conversation)
    lee, ana = intro.profiles
    assert (lee.heading, ana.heading) == ("Lee Park", "Ana Lima")
    assert lee.short == (
        ("Title", "Senior Analyst"),
        ("Department", "Sales"),
        ("Time zone", "London, 5 h ahead of Ana"),
        ("Goals", "Get ready to lead a team"),
        ("Wants to develop", "Coaching"),
    )
    assert ana.short[:3] == (
        ("Title", "Engineering Manager"),
        ("Department", "Platform"),
        ("Time zone", "New York, 5 h behind Lee"),
    )
    for profile in intro.profiles:
        assert len(profile.short) + 1 <= PROFILE_LINES  # the name, then a line a fact
        assert all("\n" not in value for _, value in profile.short)
        assert ("Level", "3" if profile is lee else "6") in profile.more
    assert intro.fields == ()  # no stacked label/value pairs any more
    read = everything_read(seen.mentee_kickoff)
    assert "Role" not in read
    assert [raw for raw in RAW if raw in read] == []


async def test_a_long_answer_is_cut_in_the_short_profile_and_whole_behind_more(
    world: World,
) -> None:
    bio = "I have led platform teams for fifteen years, " * 4 + "and I love coaching."
    await mentee(world.database, "lee@x.com", name="Lee Park", timezone="Europe/London")
    await mentor(world.database, "ana@x.com", name="Ana Lima", bio=bio, timezone="Europe/Paris")
    lead = world.chat(await make_person(world.database, LEAD, name="Priya Shah"))
    await lead.send("match")
    await lead.send("approve all")
    [pairing] = await rows(world.database, Pairing)
    ana = next(p for p in await rows(world.database, Person) if p.email == "ana@x.com")
    lee = next(p for p in await rows(world.database, Person) if p.email == "lee@x.com")
    await waiting(world, ana)
    await world.chat(ana).send(f"accept {pairing.id}")
    [offer] = await waiting(world, lee)
    [profile] = offer.profiles
    short = dict(profile.short)
    assert short["Time zone"] == "Paris, 1 h ahead of you"
    assert short["About"].endswith("…") and len(short["About"]) <= 60
    assert ("About", bio) in profile.more
    assert f"About: {bio}" in render_all([offer])  # the shell shows it whole, once
    assert render_all([offer]).count("About:") == 1
