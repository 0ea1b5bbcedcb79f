"""A plan has versions: a mentor confirms the version a card showed, never text they never saw."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.people.erasure import forget_person
from handlers.people.privacy import export_person
from storage import Database, Outbox, Pairing, PlanVersion
from tests.handlers.cycle_world import World
from tests.helpers import Chat, rows


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


async def write_plan(chat: Chat, objective: str, when: str = "in 3 weeks") -> str:
    """The mentee writes a one-milestone plan in the shell; returns the last reply."""
    await chat.expect("plan", "Milestone 1: what do you want to achieve?")
    await chat.expect(objective, "By when?")
    await chat.expect(when, "Add another milestone?")
    return await chat.expect("2", "I've sent your plan to Ana Lima to confirm")


def button(chat: Chat, label: str) -> str:
    """The command a button of the last replies types."""
    [value] = [a.value for r in chat.last for a in r.actions if a.label == label]
    return value


async def stored(world: World, pairing: Pairing) -> Pairing:
    return next(p for p in await rows(world.database, Pairing) if p.id == pairing.id)


async def versions(world: World) -> list[PlanVersion]:
    return sorted(await rows(world.database, PlanVersion), key=lambda v: v.version)


async def cards_to(world: World, email: str) -> list[str]:
    """The plan cards delivered to someone since the last take."""
    return [m.text for m in world.take() if m.email == email and "plan (version" in m.text]


async def test_an_older_card_confirms_nothing_and_shows_the_new_version(world: World) -> None:
    lee, ana, pairing = await world.pair()
    n = pairing.id
    lee_chat, ana_chat = world.chat(lee), world.chat(ana)
    await world.tick()
    world.take()
    await write_plan(lee_chat, "Run my first team retrospective")
    await world.tick()
    [card] = await cards_to(world, "ana@x.com")
    assert "Lee Park's plan for this cycle, version 1. Does it look right to you?" in card
    assert "Run my first team retrospective" in card
    # The card's button names the version it shows.
    await ana_chat.expect("plan", "version 1")
    first = button(ana_chat, "Confirm the plan")
    assert first == f"confirm-plan {n} 1"

    await write_plan(lee_chat, "Lead the team offsite")
    refused = await ana_chat.expect(
        first,
        "Lee Park has changed the plan since the version you saw (version 1), so I haven't "
        "confirmed anything.",
        "Lee Park changed their plan: this is version 2, which replaces version 1.",
        "Lead the team offsite",
    )
    assert "Run my first team retrospective" not in refused
    assert (await stored(world, pairing)).plan_confirmed_at is None
    await ana_chat.expect(f"confirm-plan {n} 7", "There's no version 7 of this plan")

    second = button(ana_chat, "Confirm the plan")
    assert second == f"confirm-plan {n} 2"
    await ana_chat.expect(second, "Confirmed; I've told your mentee. That's version 2")
    assert (await stored(world, pairing)).plan_confirmed_at == world.clock.now()
    v1, v2 = await versions(world)
    assert (v1.confirmed_at, v2.confirmed_at, v2.confirmed_by) == (None, world.clock.now(), ana.id)
    await world.tick()
    told = [m.text for m in world.take() if m.email == "lee@x.com"]
    assert told == ["Ana Lima confirmed your plan (version 2). Off you go!\n  1. Find a time"]


async def test_confirming_a_version_twice_says_it_is_confirmed_already(world: World) -> None:
    lee, ana, pairing = await world.pair()
    n = pairing.id
    await write_plan(world.chat(lee), "Run my first team retrospective")
    ana_chat = world.chat(ana)
    await ana_chat.expect(f"confirm-plan {n} 1", "Confirmed; I've told your mentee.")
    again = await ana_chat.expect(
        f"confirm-plan {n} 1",
        "You confirmed version 1 of the plan already, on Mon 23 Nov. Nothing changed.",
    )
    assert "I've told your mentee" not in again
    await ana_chat.expect(f"confirm-plan {n}", "You confirmed version 1 of the plan already")
    told = [o for o in await rows(world.database, Outbox) if "plan-confirmed" in o.dedupe_key]
    assert len(told) == 1


async def test_a_change_after_confirmation_needs_a_new_confirmation(world: World) -> None:
    lee, ana, pairing = await world.pair()
    n = pairing.id
    lee_chat, ana_chat = world.chat(lee), world.chat(ana)
    await write_plan(lee_chat, "Run my first team retrospective")
    await ana_chat.expect(f"confirm-plan {n} 1", "Confirmed")
    await world.tick()
    world.take()
    world.clock.advance(days=1)

    await lee_chat.expect(
        "plan",
        "This replaces your current plan (version 1, confirmed by Ana Lima on Mon 23 Nov; the "
        "new version will need their confirmation again):",
    )
    await lee_chat.expect("Lead the team offsite", "By when?")
    await lee_chat.expect("in 3 weeks", "Add another milestone?")
    await lee_chat.expect(
        "2",
        "Saved as version 2 of your plan. Ana Lima confirmed version 1; a changed plan needs "
        "their confirmation again.",
    )
    status = await lee_chat.send("status")
    assert "plan of 1 milestone (version 2), not yet confirmed." in status
    await world.tick()
    [card] = await cards_to(world, "ana@x.com")
    assert "Lee Park changed the plan you confirmed (version 1). This is version 2" in card
    assert "Lead the team offsite" in card
    await ana_chat.expect(f"confirm-plan {n} 1", "has changed the plan since the version you saw")
    assert (await stored(world, pairing)).plan_confirmed_at is None
    await ana_chat.expect(f"confirm-plan {n} 2", "Confirmed")
    assert "plan of 1 milestone (version 2), confirmed." in await lee_chat.send("status")

    # The history stays: who wrote which version when, and what was confirmed.
    v1, v2 = await versions(world)
    assert [m["objective"] for m in v1.milestones] == ["Run my first team retrospective"]
    assert [m["objective"] for m in v2.milestones] == ["Lead the team offsite"]
    assert (v1.written_by, v2.written_by) == (lee.id, lee.id)
    assert v2.written_at - v1.written_at == world.clock.now() - v1.written_at
    assert v1.confirmed_at is not None and v2.confirmed_at is not None
    assert v1.confirmed_at < v2.confirmed_at


async def test_a_typed_confirm_without_a_version_confirms_only_what_reached_the_mentor(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    n = pairing.id
    lee_chat, ana_chat = world.chat(lee), world.chat(ana)
    await world.tick()
    world.take()
    await write_plan(lee_chat, "Run my first team retrospective")
    await world.tick()  # version 1's card reaches Ana
    assert len(await cards_to(world, "ana@x.com")) == 1
    await write_plan(lee_chat, "Lead the team offsite")  # version 2's card has not yet
    shown = await ana_chat.expect(
        f"confirm-plan {n}",
        "Here is Lee Park's plan as it stands, version 2. Have a look first: confirm it with "
        f"the button, or type confirm-plan {n} 2.",
        "Lead the team offsite",
    )
    assert "Confirmed" not in shown
    assert (await stored(world, pairing)).plan_confirmed_at is None
    # Now that she has seen it, the same words confirm it.
    await ana_chat.expect(f"confirm-plan {n}", "Confirmed; I've told your mentee. That's version 2")
    [_, v2] = await versions(world)
    assert v2.confirmed_by == ana.id


async def test_a_card_replaced_before_it_went_out_is_not_sent(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    world.clock.advance(hours=8)  # 18:00 in London: Ana's cards wait for the morning
    lee_chat = world.chat(lee)
    await write_plan(lee_chat, "Run my first team retrospective")
    await world.tick()
    await write_plan(lee_chat, "Lead the team offsite")
    world.clock.advance(hours=16)
    await world.tick()
    [card] = await cards_to(world, "ana@x.com")
    assert "version 2" in card and "Lead the team offsite" in card


async def test_a_confirmation_racing_a_new_version_does_not_confirm_it(world: World) -> None:
    if world.database.is_sqlite:
        pytest.skip("SQLite runs one write transaction at a time, so the two cannot interleave")
    lee, ana, pairing = await world.pair()
    n = pairing.id
    await write_plan(world.chat(lee), "Run my first team retrospective")
    table = Pairing.__table__  # type: ignore[attr-defined]
    async with world.database.engine.connect() as saving:
        # The mentee's second save has bumped the version and not yet committed ...
        await saving.execute(
            sa.update(table)
            .where(table.c.id == n)
            .values(plan_version=table.c.plan_version + 1, plan_confirmed_at=None)
        )
        await saving.execute(
            sa.insert(PlanVersion.__table__).values(  # type: ignore[attr-defined]
                pairing_id=n,
                cycle=1,
                version=2,
                milestones=[{"objective": "Lead the team offsite", "target": "2026-12-14"}],
                written_by=lee.id,
                written_at=world.clock.now(),
            )
        )
        # ... while the mentor confirms version 1, which she read before it changed.
        confirming = asyncio.create_task(world.chat(ana).send(f"confirm-plan {n} 1"))
        await _until_waiting_for_a_lock(world.database)
        await saving.commit()
    reply = await confirming
    assert "Confirmed" not in reply
    assert "has changed the plan since the version you saw (version 1)" in reply
    assert (await stored(world, pairing)).plan_confirmed_at is None
    assert [v.confirmed_at for v in await versions(world)] == [None, None]


async def _until_waiting_for_a_lock(database: Database) -> None:
    """Return once a PostgreSQL session of this database waits for a row lock."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        async with database.engine.connect() as conn:
            if await conn.scalar(query):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the confirmation never reached its UPDATE")


async def test_my_data_holds_every_version_of_the_plan(world: World) -> None:
    lee, ana, pairing = await world.pair()
    lee_chat = world.chat(lee)
    await write_plan(lee_chat, "Run my first team retrospective")
    await world.chat(ana).expect(f"confirm-plan {pairing.id} 1", "Confirmed")
    await write_plan(lee_chat, "Lead the team offsite")
    async with world.database.session() as session:
        document = await export_person(session, "lee@x.com")
    assert document is not None
    [mine] = document["pairings"]
    assert [
        (v["version"], [m["objective"] for m in v["milestones"]], v["written_by_me"])
        for v in mine["plan_versions"]
    ] == [(1, ["Run my first team retrospective"], True), (2, ["Lead the team offsite"], True)]
    assert [v["confirmed_at"] is not None for v in mine["plan_versions"]] == [True, False]


async def test_forgetting_someone_scrubs_their_name_from_old_versions(world: World) -> None:
    lee, _ana, _pairing = await world.pair()
    lee_chat = world.chat(lee)
    await write_plan(lee_chat, "Shadow Ana Lima at the offsite")
    await write_plan(lee_chat, "Lead the team offsite")
    await forget_person(
        world.database, Programs.one(world.program), email="ana@x.com", now=world.clock.now()
    )
    v1, _v2 = await versions(world)
    assert [m["objective"] for m in v1.milestones] == ["Shadow a former participant at the offsite"]


async def test_a_version_no_plan_has_confirms_nothing(world: World) -> None:
    lee, ana, pairing = await world.pair()
    n = pairing.id
    await write_plan(world.chat(lee), "Run my first team retrospective")
    ana_chat = world.chat(ana)
    for typed in ("0", "99999999999999999999"):
        await ana_chat.expect(
            f"confirm-plan {n} {typed}",
            f"There's no version {typed} of this plan, so I haven't confirmed anything.",
            "Run my first team retrospective",
        )
    await ana_chat.expect(f"confirm-plan {n} first", f"Type confirm-plan {n} and the version")
    assert (await stored(world, pairing)).plan_confirmed_at is None
