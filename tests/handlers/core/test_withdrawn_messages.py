"""Cancelled means cancelled: when a pairing ends, what still waited to go out about it is
withdrawn, so the other side hears that it ended, not a question it no longer needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from handlers.core.messages import Reply
from handlers.core.outbox import withdraw
from handlers.core.ports import Recipient, Unreachable
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.people.erasure import forget_person
from scheduler.due import run_due
from scheduler.outbox import DeliveryReport, OutboxWorker
from storage import Database, DueItem, Outbox, Pairing, Person
from tests.handlers.cycle_world import LEAD, Received, World, log_session
from tests.helpers import Chat, make_person, mentee, mentor, rows

#: Ana mentors from New York: what the bot queues for her on a Sunday waits for Monday
#: 09:00 there (14:00 UTC), hours after her mentees' Monday morning in London.
ANA_ZONE = "America/New_York"
#: The Sunday the two cycles end (90 days after Mon 23 Nov 2026, 10:00 UTC).
CYCLE_END = datetime(2027, 2, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
async def world(database: Database, program: Program) -> World:
    return World(database, program)


@dataclass
class Mentoring:
    """Ana mentoring Lee and Sam, both paired on the same Monday."""

    ana: Person
    lee: Person
    sam: Person
    with_lee: Pairing
    with_sam: Pairing


async def ana_mentors_lee_and_sam(world: World) -> Mentoring:
    """A round proposes Lee and Sam to Ana; everyone accepts, as they would in chat."""
    world.zones.update({"ana@x.com": ANA_ZONE, LEAD: "Europe/London"})
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima", capacity=2, timezone=ANA_ZONE)
    lee = await mentee(world.database, "lee@x.com", name="Lee Park", timezone="Europe/London")
    sam = await mentee(world.database, "sam@x.com", name="Sam Reed", timezone="Europe/London")
    lead = world.chat(await make_person(world.database, LEAD, name="Priya Shah"))
    await lead.send("match")
    await lead.send("approve all")
    proposals = {p.mentee_id: p for p in await rows(world.database, Pairing)}
    for person in (lee, sam):
        assert person.id is not None
        number = proposals[person.id].id
        await world.read_waiting(ana)
        await world.chat(ana).expect(f"accept {number}", "I've asked")
        await world.read_waiting(person)
        await world.chat(person).expect(f"accept {number}", "you're paired with")
    assert lee.id is not None and sam.id is not None
    return Mentoring(ana, lee, sam, proposals[lee.id], proposals[sam.id])


async def the_sunday_the_cycles_end(world: World) -> Mentoring:
    """Walk both pairings to the Sunday their cycles end, with plenty waiting for Monday.

    Ana snoozes both check-in reminders on the Thursday before, so both come back on the
    Sunday; the end-of-cycle reviews ("continue for another cycle?", with the end-of-cycle
    survey) fall due the same morning. Lee and Sam each log a session that Sunday, which
    asks Ana how it went. All of it waits for Ana's Monday morning.
    """
    mentoring = await ana_mentors_lee_and_sam(world)
    await world.walk(87)  # to Thursday 18 Feb
    ana = world.chat(mentoring.ana)
    for pairing in (mentoring.with_lee, mentoring.with_sam):
        await ana.expect(f"snooze {pairing.id}", "Snoozed: I'll remind you on Sun 21 Feb")
    await world.walk(3)
    assert world.clock.now() == CYCLE_END
    for person in (mentoring.lee, mentoring.sam):
        await log_session(world.chat(person))
    world.take()
    return mentoring


def to(received: list[Received], email: str) -> list[str]:
    return [r.text for r in received if r.email == email]


def about(texts: list[str], fragment: str) -> list[str]:
    return [t for t in texts if fragment in t]


async def leave(chat: Chat) -> None:
    await chat.expect("leave", "Do you want to leave the program?")
    await chat.expect("yes", "You've left")


async def outbox_of(world: World, pairing: Pairing) -> list[Outbox]:
    return [o for o in await rows(world.database, Outbox) if o.pairing_id == pairing.id]


async def due_items_of(world: World, pairing: Pairing) -> list[DueItem]:
    return [d for d in await rows(world.database, DueItem) if d.pairing_id == pairing.id]


async def test_a_mentor_whose_mentee_leaves_hears_only_that_they_left(world: World) -> None:
    mentoring = await the_sunday_the_cycles_end(world)
    waiting = [o for o in await outbox_of(world, mentoring.with_lee) if o.status == "pending"]
    assert {o.person_id for o in waiting} == {mentoring.ana.id, mentoring.lee.id}
    await leave(world.chat(mentoring.lee))
    await world.walk(2)  # Monday and Tuesday: everything still waiting goes out
    got = world.take()
    to_ana = to(got, "ana@x.com")
    assert about(to_ana, "Lee") == [
        "Lee Park has left the mentoring program, so your pairing has ended. Thank you for "
        "everything you gave them; your place is free for a new mentee."
    ]
    assert not to(got, "lee@x.com")


async def test_messages_about_the_mentors_other_pairing_still_arrive(world: World) -> None:
    mentoring = await the_sunday_the_cycles_end(world)
    await leave(world.chat(mentoring.lee))
    await world.walk(2)
    to_ana = to(world.take(), "ana@x.com")
    assert len(about(to_ana, "Your 90 days with Sam Reed are up")) == 1
    assert len(about(to_ana, "Check-in with Sam Reed")) == 1
    assert len(about(to_ana, "Sam logged your session. How did it go?")) == 1


async def test_withdrawn_messages_stay_with_the_reason_and_ops_counts_them(
    world: World,
) -> None:
    mentoring = await the_sunday_the_cycles_end(world)
    await leave(world.chat(mentoring.lee))
    withdrawn = [o for o in await rows(world.database, Outbox) if o.status == "withdrawn"]
    # To Ana: the review, the snoozed check-in and the survey after Lee's session; to Lee:
    # the review. Nothing about Sam, and nothing sent.
    assert sorted((o.person_id, o.payload[0]["title"]) for o in withdrawn) == sorted(
        [
            (mentoring.ana.id, "Your cycle is complete"),
            (mentoring.ana.id, "Check-in with Lee Park"),
            (mentoring.ana.id, "How did the session go?"),
            (mentoring.lee.id, "Your cycle is complete"),
        ]
    )
    assert {(o.pairing_id, o.withdrawn_reason) for o in withdrawn} == {
        (mentoring.with_lee.id, "pairing ended (left)")
    }
    assert all(o.withdrawn_at == CYCLE_END for o in withdrawn)
    lead = world.chat(next(p for p in await rows(world.database, Person) if p.email == LEAD))
    report = await lead.send("report ops")
    assert "\nWithdrawn          4\n" in report


async def test_nothing_falls_due_for_a_pairing_after_its_mentee_left(world: World) -> None:
    mentoring = await the_sunday_the_cycles_end(world)
    owed = await due_items_of(world, mentoring.with_lee)
    pending = sorted(d.kind for d in owed if d.status == "pending")
    assert "inactivity" in pending
    await leave(world.chat(mentoring.lee))
    owed = await due_items_of(world, mentoring.with_lee)
    assert sorted((d.kind, d.status, d.outcome) for d in owed if d.status != "done") == [
        (kind, "cancelled", "closed") for kind in pending
    ]
    before = {o.id for o in await outbox_of(world, mentoring.with_lee)}
    world.clock.advance(days=120)  # past everything the pairing would have owed
    await world.tick()
    # Nothing new about it; its old messages may be gone (privacy.retain_messages_days).
    assert {o.id for o in await outbox_of(world, mentoring.with_lee)} <= before


async def test_an_erased_mentee_takes_what_waited_about_them_along(world: World) -> None:
    mentoring = await the_sunday_the_cycles_end(world)
    await forget_person(
        world.database, Programs.one(world.program), email="lee@x.com", now=world.clock.now()
    )
    await world.walk(2)
    to_ana = to(world.take(), "ana@x.com")
    # Erasure scrubs Lee's name from what waits, so count by what the messages are.
    assert len(about(to_ana, "== Your cycle is complete ==")) == 1  # Sam's, not Lee's
    assert len(about(to_ana, "Check-in with")) == 1
    assert len(about(to_ana, "logged your session. How did it go?")) == 1
    assert about(to_ana, "Your mentee has left the mentoring program") != []
    withdrawn = [o for o in await rows(world.database, Outbox) if o.status == "withdrawn"]
    assert {o.pairing_id for o in withdrawn} == {mentoring.with_lee.id}
    assert len(withdrawn) == 3  # Ana's three; Lee's own messages were erased with them
    owed = await due_items_of(world, mentoring.with_lee)
    assert not [d for d in owed if d.status in ("pending", "held")]


# --- a message on its way, proposals, plan cards ------------------------------------------


async def test_a_message_the_sender_has_taken_still_goes(world: World) -> None:
    lee, ana, pairing = await world.pair()
    assert lee.id is not None and ana.id is not None
    # The sender takes Ana's welcome messages; Lee's still wait when Lee leaves.
    claimed = await world.worker.claim(world.clock.now(), busy=[lee.id])
    assert claimed and {o.person_id for o in claimed} == {ana.id}
    await leave(world.chat(lee))
    async with world.database.session() as session:
        again = await withdraw(session, pairing_id=pairing.id, reason="left", now=world.clock.now())
    assert again == 0
    mine = await outbox_of(world, pairing)
    assert {o.status for o in mine if o.id in {c.id for c in claimed}} == {"sending"}
    waited = [o for o in mine if o.person_id == lee.id and o.status != "sent"]
    assert waited and {o.status for o in waited} == {"withdrawn"}
    await world.worker.deliver(claimed, DeliveryReport())
    await world.tick()
    got = world.take()
    to_ana = to(got, "ana@x.com")
    # What was on its way arrived (the introduction among it), then the news.
    assert len(to_ana) == len(claimed) + 1
    assert about(to_ana, "Lee Park, meet Ana Lima, your mentor for the next 90 days.")
    assert to_ana[-1].startswith("Lee Park has left the mentoring program")
    assert not to(got, "lee@x.com")


class NoAccount:
    """A platform on which nobody has an account yet: every message is undeliverable."""

    platform = "slack"

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> None:
        raise Unreachable("no Slack user has this email")


async def test_what_waits_for_the_shell_is_withdrawn_too(world: World) -> None:
    lee, ana, pairing = await world.pair()
    unreachable = OutboxWorker(database=world.database, senders=[NoAccount()], clock=world.clock)
    await unreachable.run_once()
    assert {o.status for o in await outbox_of(world, pairing) if o.person_id == ana.id} >= {
        "undeliverable"
    }
    await leave(world.chat(lee))
    # Ana opens the shell: what waited for her there is only the news.
    shown = await world.read_waiting(ana)
    assert shown == (
        "Lee Park has left the mentoring program, so your pairing has ended. Thank you for "
        "everything you gave them; your place is free for a new mentee."
    )


async def proposed_to_ana_in_new_york(world: World) -> tuple[Person, Person, Pairing]:
    """Lee proposed to Ana on Monday; on Friday at 09:00 in New York the reminder is queued.

    The due pass has queued it and the sender's next pass has not taken it yet when the
    next thing happens (a pass runs every tick; a platform that is down makes it longer).
    """
    world.zones.update({"ana@x.com": ANA_ZONE, LEAD: "Europe/London"})
    lee = await mentee(world.database, "lee@x.com", name="Lee Park", timezone="Europe/London")
    ana = await mentor(world.database, "ana@x.com", name="Ana Lima", timezone=ANA_ZONE)
    lead = world.chat(await make_person(world.database, LEAD, name="Priya Shah"))
    await lead.send("match")
    await lead.send("approve all")
    [proposal] = await rows(world.database, Pairing)
    await world.tick()
    world.take()
    world.clock.current = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    await run_due(world.database, Programs.one(world.program), now=world.clock.now())
    [reminder] = [o for o in await outbox_of(world, proposal) if "lapse-reminder" in o.dedupe_key]
    assert reminder.status == "pending"
    return lee, ana, proposal


async def test_a_proposal_reminder_waiting_when_the_mentee_leaves_is_withdrawn(
    world: World,
) -> None:
    lee, _ana, _proposal = await proposed_to_ana_in_new_york(world)
    await leave(world.chat(lee))
    await world.tick()
    [told] = to(world.take(), "ana@x.com")
    assert told.startswith("Lee Park has left the mentoring program")


async def test_a_proposal_answered_before_its_reminder_goes_out_is_not_reminded(
    world: World,
) -> None:
    _lee, ana, proposal = await proposed_to_ana_in_new_york(world)
    await world.chat(ana).expect(f"accept {proposal.id}", "I've asked Lee Park to confirm")
    await world.run(days=3, step=6)
    assert not [t for t in to(world.take(), "ana@x.com") if "Reminder" in t]
    [reminder] = [o for o in await outbox_of(world, proposal) if "lapse-reminder" in o.dedupe_key]
    assert (reminder.status, reminder.withdrawn_reason) == ("withdrawn", "proposal answered")


async def test_a_plan_card_replaced_before_it_went_out_is_kept_as_withdrawn(
    world: World,
) -> None:
    lee, _ana, pairing = await world.pair()
    await world.tick()
    world.take()
    world.clock.advance(hours=8)  # 18:00 in London: Ana's cards wait for the morning
    chat = world.chat(lee)
    for objective in ("Run my first team retrospective", "Lead the team offsite"):
        await chat.send("plan")
        await chat.send(objective)
        await chat.send("in 3 weeks")
        await chat.expect("2", "I've sent your plan to Ana Lima to confirm")
    cards = {o.dedupe_key: o for o in await outbox_of(world, pairing) if ":plan:v" in o.dedupe_key}
    first, second = cards[f"pairing:{pairing.id}:plan:v1"], cards[f"pairing:{pairing.id}:plan:v2"]
    assert (first.status, first.withdrawn_reason) == ("withdrawn", "plan replaced")
    assert second.status == "pending"
