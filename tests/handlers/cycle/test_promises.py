"""When the bot says "I've asked them", "I've told them" or "I've let them know", it has.

Each test takes a turn (or a tick) whose reply makes such a promise and then looks in the
outbox, before anything is delivered: the message to the other person must already be
queued, in the same transaction as the reply.
"""

from __future__ import annotations

from handlers.core.programs import Programs
from scheduler.due import run_due
from storage import Outbox, Pairing, Person
from tests.handlers.cycle_world import LEAD, World, log_session
from tests.helpers import make_person, mentee, mentor, rows


async def waiting_for(world: World, person: Person) -> list[str]:
    """The text of every message queued for ``person`` and not yet delivered."""
    found = []
    for item in await rows(world.database, Outbox):
        if item.person_id == person.id and item.status == "pending":
            found += [reply["text"] for reply in item.payload]
    return found


async def lead(world: World) -> Person:
    return next(p for p in await rows(world.database, Person) if p.email == LEAD)


async def test_a_mentor_asking_for_the_unwritten_plan_has_the_mentee_asked(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    chat = world.chat(ana)
    await chat.expect("plan", "Lee Park hasn't written your plan yet; I've asked them to.")
    asked = [t for t in await waiting_for(world, lee) if "looking forward to your plan" in t]
    assert asked == [
        "Ana is looking forward to your plan for this cycle: a few milestones, each an "
        "objective with a target date. They'll see it and confirm it."
    ]
    # Asking again the same day does not ask twice, and the reply says so.
    await chat.expect("plan", "I asked them to earlier today.")
    assert len([t for t in await waiting_for(world, lee) if "looking forward" in t]) == 1
    world.clock.advance(days=1)
    await chat.expect("plan", "I've asked them to.")
    assert len([t for t in await waiting_for(world, lee) if "looking forward" in t]) == 2


async def test_accepting_a_proposal_asks_or_tells_the_other_side(world: World) -> None:
    lee = await mentee(world.database, "lee@x.com", name="Lee Park")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima")
    lead_chat = world.chat(await make_person(world.database, LEAD, name="Priya Shah"))
    await lead_chat.send("match")
    await lead_chat.send("approve all")
    [pairing] = await rows(world.database, Pairing)
    await world.tick()
    world.take()
    await world.chat(ana).expect(f"accept {pairing.id}", "I've asked Lee Park to confirm")
    assert any("Ana Lima would like to be your mentor" in t for t in await waiting_for(world, lee))
    await world.chat(lee).expect(f"accept {pairing.id}", "I've let them know")
    assert any("Lee Park accepted" in t for t in await waiting_for(world, ana))


async def test_the_plan_is_sent_confirmed_and_discussed_as_the_replies_say(world: World) -> None:
    lee, ana, pairing = await world.pair()
    await world.tick()
    world.take()
    chat = world.chat(lee)
    await chat.send("plan")
    await chat.send("Shadow a leadership meeting")
    await chat.send("in 3 weeks")
    await chat.expect("2", "I've sent your plan to Ana Lima to confirm")
    assert any("Lee Park's plan for this cycle" in t for t in await waiting_for(world, ana))
    mentor_chat = world.chat(ana)
    await mentor_chat.expect(
        f"discuss-plan {pairing.id}", "I've asked your mentee to bring the plan"
    )
    assert any("would like to talk your plan through" in t for t in await waiting_for(world, lee))
    # The card's button names the version it showed (issue 16, item 5).
    await mentor_chat.expect(f"confirm-plan {pairing.id} 1", "I've told your mentee")
    assert any(
        "Ana Lima confirmed your plan" in t and "Off you go!" in t
        for t in await waiting_for(world, lee)
    )


async def test_a_logged_session_asks_the_other_side_for_a_pulse(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    done = await log_session(world.chat(ana), minutes="30")
    assert "I've asked your mentee for a quick word on how it went" in done
    assert any(
        "Ana logged your session. How did it go?" in t for t in await waiting_for(world, lee)
    )


async def test_not_really_at_calibration_tells_the_lead(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    world.clock.advance(days=30)
    await world.tick()
    world.take()
    await world.chat(lee).expect(f"calibrate {pairing.id} no", "I've let the program lead know")
    told = await waiting_for(world, await lead(world))
    assert any("says the pairing Lee Park → Ana Lima isn't working" in t for t in told)


async def test_continuing_asks_the_other_side_whether_they_will(world: World) -> None:
    lee, ana, pairing = await world.pair()
    world.clock.advance(days=90)  # the end-of-cycle review falls due
    await world.tick()
    world.take()
    await world.chat(lee).expect(
        f"continue {pairing.id}", "I'll start another cycle as soon as Ana agrees"
    )
    asked = await waiting_for(world, ana)
    assert "Lee Park would like to continue for another cycle. Would you?" in asked


async def test_leaving_tells_the_other_side(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    chat = world.chat(ana)
    await chat.expect("leave", "they'll be told kindly")
    await chat.expect("1", "Your 1 pairing ended and the other side was told")
    assert any(
        "Ana Lima has left the mentoring program" in t for t in await waiting_for(world, lee)
    )


async def test_a_lead_told_both_were_nudged_finds_both_were(world: World) -> None:
    await world.pair()
    await world.tick()
    world.take()
    for _ in range(2):  # two check-ins pass with no session logged
        world.clock.advance(days=14)
        await world.tick()
    got = world.take()
    [at_risk] = [m for m in got if m.email == LEAD and "A pairing at risk" in m.text]
    assert "2 check-ins in a row passed with no session logged" in at_risk.text
    assert "I've nudged both of them each time" in at_risk.text
    nudged = [m.email for m in got if "Check-in with" in m.text]
    assert sorted(nudged) == ["ana@x.com", "ana@x.com", "lee@x.com", "lee@x.com"]


async def test_a_lead_told_both_were_asked_to_close_finds_both_were(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    world.clock.advance(days=60)
    await run_due(
        world.database, Programs.one(world.program), now=world.clock.now()
    )  # queued, not delivered
    told = await waiting_for(world, await lead(world))
    assert any("I've suggested to both that they close the pairing" in t for t in told)
    for person in (lee, ana):
        assert any("Shall we close the pairing?" in t for t in await waiting_for(world, person))
