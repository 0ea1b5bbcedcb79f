"""The answers to what fell due: calibrate, rematch, close, keep (handlers.cycle.answers)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import DueItem, Enrollment
from tests.handlers.cycle.timeline import current
from tests.handlers.cycle_world import LEAD, World
from tests.helpers import rows

MARCUS = "marcus.lee@example.com"


async def test_calibration_not_really_offers_a_rematch_and_tells_the_lead(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    n = pairing.id
    await world.walk(31)
    world.take()
    reply = await world.chat(lee).expect(f"calibrate {n} no", "I've let the program lead know")
    assert "1. Find a new match\n  2. Keep trying" in reply
    await world.tick()
    told = world.take()
    assert {m.email for m in told} == {LEAD, MARCUS}
    assert "Lee Park (mentee) says the pairing Lee Park → Ana Lima isn't working" in told[0].text
    [calibration] = [d for d in await rows(world.database, DueItem) if d.kind == "calibration"]
    assert calibration.answers == {"mentee": "no"}

    await world.chat(lee).expect(f"rematch {n}", "you're back on the waitlist, keeping your place")
    ended = await current(world.database, pairing)
    assert (ended.status, ended.end_reason) == ("ended", "rematch")
    [enrollment] = [e for e in await rows(world.database, Enrollment) if e.person_id == lee.id]
    assert enrollment.status == "waiting"
    assert enrollment.waiting_since == datetime(2026, 11, 2, tzinfo=UTC)  # as first joined
    assert {d.status for d in await rows(world.database, DueItem)} <= {"done", "cancelled"}
    await world.tick()
    assert any("Lee Park asked for a different match" in m.text for m in world.take())
    await world.chat(lee).expect(
        f"rematch {n}", "Your pairing with Ana Lima has ended, so there's nothing to answer"
    )


async def test_closing_a_pairing_completes_it_and_frees_the_place(world: World) -> None:
    lee, ana, pairing = await world.pair()
    n = pairing.id
    await world.chat(ana).expect(f"close {n}", "Closed. Thank you for taking part")
    ended = await current(world.database, pairing)
    assert (ended.status, ended.end_reason) == ("ended", "closed")
    await world.tick()
    [told] = [m for m in world.take() if m.email == "lee@x.com" and "closed" in m.text]
    assert "Type join whenever you'd like a new mentor." in told.text
    status = await world.chat(lee).send("status")
    assert "pairing has ended; type join to ask for a new mentor" in status
    for answer in (f"keep {n}", f"calibrate {n} yes"):
        await world.chat(ana).expect(
            answer,
            "Your pairing with Lee Park has ended, so there's nothing to answer here any more; "
            "nothing changed.",
        )
