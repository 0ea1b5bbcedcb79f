"""Whoever owes the next step is reminded: the plan, its confirmation, check-ins, surveys.

Each test walks a pairing through simulated time and looks at what each side received,
when, in their own working hours (see tests/handlers/cycle_world.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from handlers.core.program import Program
from handlers.cycle.schedule import due_row, insert_due
from storage import Database, DueItem, DueKind, Outbox
from tests.handlers.cycle.timeline import assert_working_hours, seen
from tests.handlers.cycle_world import Received, World, log_session
from tests.helpers import Chat, rows

PLAN_OWED = "Your plan is still to write"
FEEDBACK_OWED = "Your feedback, please"


def titled(messages: list[Received], title: str) -> list[Received]:
    """The messages with this title."""
    return [m for m in messages if m.text.startswith(f"== {title}")]


async def write_plan(chat: Chat) -> None:
    """The mentee writes a one-milestone plan."""
    await chat.send("plan")
    await chat.send("Shadow a leadership meeting")
    await chat.send("in 3 weeks")
    await chat.expect("2", "I've sent your plan to Ana Lima to confirm")


async def test_a_mentee_who_never_writes_the_plan_is_reminded_twice_in_their_hours(
    world: World,
) -> None:
    await world.pair(mentee_zone="Asia/Tokyo", mentor_zone="Asia/Kolkata")
    await world.walk(40)
    got = world.take()
    owed = titled(got, PLAN_OWED)
    # remind_after_days 5 and max_reminders 2: due Sat 28 Nov and Thu 3 Dec, 19:00 in Tokyo,
    # so each waits for the next working morning there.
    assert seen(owed) == [
        ("Mon 30 Nov 09:00", "lee", PLAN_OWED),
        ("Fri 4 Dec 09:00", "lee", PLAN_OWED),
    ]
    assert (
        "It's been 7 days since your cycle with Ana began, and your plan for it isn't written"
    ) in owed[0].text
    assert "It's been 11 days since your cycle with Ana began" in owed[1].text
    assert "1. Write my plan" in owed[0].text
    # The mentor owes nothing while the plan is unwritten.
    assert [m for m in got if m.email == "ana@x.com" and "plan" in m.text.split("\n")[0]] == []
    assert_working_hours(owed)


async def test_an_unconfirmed_plan_reminds_the_mentor_and_a_rewrite_is_owed_again(
    world: World,
) -> None:
    lee, ana, pairing = await world.pair()
    await write_plan(world.chat(lee))
    await world.walk(8)  # to Tue 1 Dec
    got = world.take()
    waiting = titled(got, "Lee Park's plan is waiting for you")
    # Saved Mon 23 Nov; the look due Sat 28 Nov goes out on the Monday.
    assert seen(waiting) == [("Mon 30 Nov 09:00", "ana", "Lee Park's plan is waiting for you")]
    assert "Lee sent you their plan 7 days ago and it's waiting for you to confirm it" in (
        waiting[0].text
    )
    assert "1. See the plan" in waiting[0].text
    assert titled(got, PLAN_OWED) == []  # Lee wrote it: the mentee owes nothing
    await world.chat(ana).expect(f"confirm-plan {pairing.id}", "Confirmed")
    await world.walk(10)
    assert titled(world.take(), "Lee Park's plan is waiting for you") == []

    # Lee rewrites the plan: its confirmation is owed again, from the new save.
    await write_plan(world.chat(lee))
    await world.walk(6)
    again = titled(world.take(), "Lee Park's plan is waiting for you")
    assert seen(again) == [("Wed 16 Dec 10:00", "ana", "Lee Park's plan is waiting for you")]
    assert "5 days ago" in again[0].text


async def test_a_check_in_nudges_the_mentee_too_in_their_own_working_hours(
    world: World,
) -> None:
    await world.pair(mentee_zone="Asia/Tokyo", mentor_zone="Asia/Kolkata")
    await world.walk(16)
    nudges = [m for m in world.take() if "Check-in with" in m.text]
    # Due Mon 7 Dec 10:00 UTC: 15:30 in Kolkata, 19:00 in Tokyo.
    assert seen(nudges) == [
        ("Mon 7 Dec 15:30", "ana", "Check-in with Lee Park"),
        ("Tue 8 Dec 09:00", "lee", "Check-in with Ana Lima"),
    ]
    lee_nudge = nudges[1].text
    assert "It's been 15 days since you were paired with Ana, and no session is logged yet" in (
        lee_nudge
    )
    assert "1. Log session\n  2. Snooze 3 days\n  3. Reschedule" in lee_nudge
    assert "It's been 14 days since you were paired with Lee" in nudges[0].text
    assert_working_hours(nudges)


async def test_a_snoozed_or_rescheduled_reminder_goes_to_whoever_asked_for_it(
    world: World,
) -> None:
    lee, _ana, pairing = await world.pair()
    n = pairing.id
    await world.walk(14)
    world.take()
    chat = world.chat(lee)
    await chat.expect(f"snooze {n}", "Snoozed: I'll remind you on Thu 10 Dec")
    await world.walk(3)
    reminders = [m for m in world.take() if "Check-in with" in m.text]
    assert seen(reminders) == [("Thu 10 Dec 10:00", "lee", "Check-in with Ana Lima")]

    await chat.expect(f"reschedule {n} friday", "Got it: I'll check in with you on Fri 11 Dec")
    await world.walk(2)
    [planned] = [m for m in world.take() if "Check-in with" in m.text]
    assert planned.email == "lee@x.com"
    assert "Today's the day you planned to meet Ana" in planned.text


async def test_a_survey_one_side_answered_reminds_only_the_other_side(world: World) -> None:
    lee, ana, pairing = await world.pair()
    n = pairing.id
    await world.walk(30)  # the calibration falls due Wed 23 Dec and asks both
    world.take()
    chat = world.chat(lee)
    await chat.expect(f"feedback {n} calibration", "(1/5) How well is the pairing working")
    for answer in ("5", "skip", "4", "3"):
        await chat.send(answer)
    await chat.expect("5", "Thank you!")
    await world.walk(14)
    owed = titled(world.take(), FEEDBACK_OWED)
    # Five days after it was asked, then five more (a Saturday: the Monday).
    assert seen(owed) == [
        ("Mon 28 Dec 10:00", "ana", FEEDBACK_OWED),
        ("Mon 4 Jan 09:00", "ana", FEEDBACK_OWED),
    ]
    assert (
        'Your answers to "One month in", about your pairing with Lee, aren\'t in yet: I asked '
        "you 5 days ago (Wed 23 Dec). It takes a couple of minutes, and your answers stay "
        "private."
    ) in owed[0].text
    assert "I asked you 12 days ago (Wed 23 Dec)" in owed[1].text
    assert "1. Give feedback" in owed[0].text
    await world.chat(ana).expect(f"feedback {n} calibration", "(1/2)")


async def test_an_unanswered_pulse_reminds_the_side_asked(world: World) -> None:
    _lee, ana, _pairing = await world.pair()
    world.clock.advance(days=3)  # Thu 26 Nov
    await log_session(world.chat(ana), minutes="30")
    await world.walk(14)
    got = world.take()
    owed = titled(got, FEEDBACK_OWED)
    assert seen(owed) == [
        ("Tue 1 Dec 10:00", "lee", FEEDBACK_OWED),
        ("Mon 7 Dec 09:00", "lee", FEEDBACK_OWED),  # due Sun 6 Dec
    ]
    assert 'Your answers to "How did the session go?", about your pairing with Ana' in owed[0].text
    assert "I asked you 5 days ago (Thu 26 Nov)" in owed[0].text
    assert "I asked you 11 days ago (Thu 26 Nov)" in owed[1].text


async def test_two_looks_at_one_step_remind_it_once(world: World) -> None:
    _lee, _ana, pairing = await world.pair()
    assert pairing.id is not None and pairing.activated_at is not None
    # Extra looks at the plan, as a retried request or a second replica might schedule.
    start = pairing.activated_at
    extra = [
        due_row(
            pairing.id,
            kind=DueKind.PLAN_REMINDER,
            due_at=start + timedelta(days=days, seconds=s),
            now=start,
        )
        for days in (5, 10)
        for s in (1, 2)
    ]
    async with world.database.session() as session:
        await insert_due(session, extra)
    await world.walk(20)
    assert len(titled(world.take(), PLAN_OWED)) == 2
    keys = Counter(o.dedupe_key.rsplit(":", 1)[0] for o in await rows(world.database, Outbox))
    assert keys[f"plan-reminder:{pairing.id}:1:write"] == 2


async def test_max_reminders_0_switches_reminders_of_owed_steps_off(
    database: Database, program: Program
) -> None:
    quiet = program.model_copy(
        update={"cadence": program.cadence.model_copy(update={"max_reminders": 0})}
    )
    world = World(database, quiet)
    lee, _ana, _pairing = await world.pair()
    world.clock.advance(days=1)
    await log_session(world.chat(lee), minutes="30")
    await world.walk(20)
    got = world.take()
    assert titled(got, PLAN_OWED) == [] and titled(got, FEEDBACK_OWED) == []
    kinds = {d.kind for d in await rows(world.database, DueItem)}
    assert not kinds & {DueKind.PLAN_REMINDER.value, DueKind.SURVEY_REMINDER.value}
