"""The 90-day cycle in simulated time: what arrives, when, locally, and what the due pass
makes of check-ins, reviews and a bot that was down."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.core.program import Program
from storage import Database, DueItem, Feedback, Milestone, Outbox, Pairing, SessionLog
from tests.handlers.cycle.timeline import assert_working_hours, current, in_order, seen
from tests.handlers.cycle_world import World, log_session
from tests.helpers import make_person, rows


async def test_a_pairing_walks_through_its_whole_90_days(world: World) -> None:
    lee, ana, pairing = await world.pair(
        mentee_zone="Europe/London", mentor_zone="America/New_York"
    )
    n = pairing.id
    lee_chat, ana_chat = world.chat(lee), world.chat(ana)
    await world.tick()
    assert world.take() == []  # 05:00 in New York: nothing goes out before 09:00 there
    world.clock.advance(hours=4)
    await world.tick()
    start = in_order(world.take())
    assert_working_hours(start)
    assert seen(start) == [
        # The mentor hears of the acceptance when her working day starts in New York.
        ("Mon 23 Nov 09:00", "ana", "You're paired with Lee Park"),
        ("Mon 23 Nov 09:00", "ana", "Meet your mentoring partner: Lee Park and Ana Lima"),
        ("Mon 23 Nov 09:00", "ana", "Summaries of your session notes"),
        ("Mon 23 Nov 14:00", "lee", "Meet your mentoring partner: Lee Park and Ana Lima"),
        ("Mon 23 Nov 14:00", "lee", "Your 90-day plan"),
        ("Mon 23 Nov 14:00", "lee", "Summaries of your session notes"),
    ]
    [intro] = [m.text for m in start if m.email.startswith("lee") and "Meet your" in m.text]
    assert "Lee Park, meet Ana Lima, your mentor for the next 90 days." in intro
    assert "Why you were matched:" in intro
    assert "Suggested agenda for your first meeting:" in intro
    assert "About: Fifteen years leading teams" in intro and "Goals: Get ready to lead" in intro

    # The plan: the mentee writes it, the mentor confirms it.
    await lee_chat.expect("plan", "Milestone 1: what do you want to achieve?")
    await lee_chat.expect("Run my first team retrospective", "By when?")
    await lee_chat.expect("2027-03-01", "inside the cycle, by Sun 21 Feb")
    await lee_chat.expect("2027-01-15", "Add another milestone?")
    await lee_chat.expect("1", "Milestone 2")
    await lee_chat.expect("Give feedback to a peer", "By when?")
    await lee_chat.expect("in 3 weeks", "Add another milestone?")
    saved = await lee_chat.expect("2", "I've sent your plan to Ana Lima to confirm")
    assert "1. Run my first team retrospective" in saved and "by Fri 15 Jan" in saved
    await world.tick()
    [plan] = world.take()
    assert "Lee Park's plan" in plan.text and "Confirm the plan" in plan.text
    await ana_chat.expect(f"confirm-plan {n}", "Confirmed; I've told your mentee.")
    # No model is configured in this world: the answers are kept, and the reply says so.
    await lee_chat.expect(f"consent {n} yes", "Summaries are off in this program for now")
    await ana_chat.expect(f"consent {n} yes", "I've kept your answer")
    stored = await current(world.database, pairing)
    assert stored.plan_confirmed_at is not None
    assert (stored.mentee_consent, stored.mentor_consent) == (True, True)
    await world.tick()
    assert seen(world.take()) == [
        ("Mon 23 Nov 14:00", "lee", "Ana Lima confirmed your plan. Off you go!")
    ]

    # Three and a half weeks: a quarterly review, the first check-in, a logged session.
    await world.walk(24)  # to Thu 17 Dec
    first = in_order(world.take())
    assert seen(first) == [
        ("Tue 1 Dec 09:00", "lee", "Quarterly review"),
        ("Tue 1 Dec 09:00", "ana", "Quarterly review"),
        # Either may book the meeting or log it, so the check-in nudges both.
        ("Mon 7 Dec 10:00", "lee", "Check-in with Ana Lima"),
        ("Mon 7 Dec 09:00", "ana", "Check-in with Lee Park"),
    ]
    nudge = first[3].text
    assert "It's been 14 days since you were paired with Lee, and no session is logged yet" in nudge
    assert "It's been 14 days since you were paired with Ana" in first[2].text
    assert "1. Log session\n  2. Snooze 3 days\n  3. Reschedule" in nudge
    assert "1. Run my first team retrospective" in first[0].text  # the plan, in the review
    done = await log_session(ana_chat, f"log {n}")
    assert "Logged: 45 minutes on Thu 17 Dec" in done
    assert "I've asked your mentee for a quick word on how it went" in done

    # Lee is asked for a pulse at once (14:00 is inside his working hours) and answers it.
    await world.walk(1)
    [pulse] = world.take()
    assert seen([pulse]) == [("Thu 17 Dec 14:00", "lee", "How did the session go?")]
    assert "Ana logged your session" in pulse.text and "1. Give feedback" in pulse.text
    await lee_chat.expect(f"feedback {n} pulse", "(1/3) How useful was the session?")
    await lee_chat.expect("9", "9 is out of range", "from 1 (lowest) to 5 (highest)")
    await lee_chat.expect("4", "(2/3) Did you leave with a next step?")
    await lee_chat.expect("yes", "(3/3) Anything you'd like to add?")
    await lee_chat.expect("skip", "Thank you! Your feedback is saved.")
    [given] = await rows(world.database, Feedback)
    assert (given.survey, given.status, given.answers) == (
        "pulse",
        "answered",
        {"usefulness": 4, "next_step": "Yes", "comment": None},
    )
    assert world.take() == []  # private: Ana hears nothing of Lee's ratings

    # To the end of the cycle. The session moved the check-in of 21 Dec to 31 Dec.
    await world.walk(66)  # to Mon 22 Feb
    rest = in_order(world.take())
    assert_working_hours(start + first + rest)
    assert seen(rest) == [
        ("Wed 23 Dec 10:00", "lee", "One month in"),
        ("Wed 23 Dec 09:00", "ana", "One month in"),
        # Neither answered the calibration survey: each is reminded of their own, twice.
        ("Mon 28 Dec 10:00", "lee", "Your feedback, please"),
        ("Mon 28 Dec 09:00", "ana", "Your feedback, please"),
        # Check-ins now count from the session (logged at 14:00 UTC).
        ("Thu 31 Dec 09:00", "ana", "Check-in with Lee Park"),
        ("Thu 31 Dec 14:00", "lee", "Check-in with Ana Lima"),
        # Due on Saturday 2 Jan: delivered on the Monday.
        ("Mon 4 Jan 09:00", "lee", "Your feedback, please"),
        ("Mon 4 Jan 09:00", "ana", "Your feedback, please"),
        ("Thu 7 Jan 10:00", "lee", "Halfway there"),
        ("Thu 7 Jan 09:00", "ana", "Halfway there"),
        ("Tue 12 Jan 10:00", "lee", "Your feedback, please"),
        ("Tue 12 Jan 09:00", "ana", "Your feedback, please"),
        ("Thu 14 Jan 09:00", "ana", "Check-in with Lee Park"),
        ("Thu 14 Jan 14:00", "lee", "Check-in with Ana Lima"),
        ("Thu 14 Jan 14:00", "marcus.lee", "A pairing at risk"),
        ("Thu 14 Jan 14:00", "priya.shah", "A pairing at risk"),
        ("Mon 18 Jan 09:00", "lee", "Your feedback, please"),
        ("Mon 18 Jan 09:00", "ana", "Your feedback, please"),
        ("Thu 28 Jan 09:00", "ana", "Check-in with Lee Park"),
        ("Thu 28 Jan 14:00", "lee", "Check-in with Ana Lima"),
        ("Thu 11 Feb 09:00", "ana", "Check-in with Lee Park"),
        ("Thu 11 Feb 14:00", "lee", "Check-in with Ana Lima"),
        # Sixty days after Lee's pulse answer (Fri 18 Dec), the pairing's last activity.
        ("Tue 16 Feb 09:00", "ana", "Close this pairing?"),
        ("Tue 16 Feb 14:00", "lee", "Close this pairing?"),
        ("Tue 16 Feb 14:00", "marcus.lee", "A silent pairing"),
        ("Tue 16 Feb 14:00", "priya.shah", "A silent pairing"),
        # Due on Sunday 21 Feb: delivered on the Monday.
        ("Mon 22 Feb 09:00", "lee", "Your cycle is complete"),
        ("Mon 22 Feb 09:00", "ana", "Your cycle is complete"),
    ]
    assert "It's been 14 days since your last session with Lee" in rest[4].text
    assert "It's been 14 days since your last session with Ana" in rest[5].text
    assert "2 check-ins in a row passed with no session logged" in rest[14].text
    assert "last session: Thu 17 Dec" in rest[14].text
    assert "I've nudged both of them each time" in rest[14].text
    assert '"One month in", about your pairing with Lee' in rest[3].text
    assert "I asked you 5 days ago (Wed 23 Dec)" in rest[3].text
    # Queued on Sunday 17 Jan, delivered on the Monday: the count is the Monday's.
    assert '"Halfway there", about your pairing with Ana' in rest[16].text
    assert "I asked you 11 days ago (Thu 7 Jan)" in rest[16].text
    assert "for 60 days" in rest[22].text
    assert "1. Continue another cycle\n  2. Close the pairing\n  3. Give feedback" in rest[27].text

    # The checkpoints asked both sides their surveys; Lee, the mentee, also rates Ana's
    # readiness as a mentor.
    await ana_chat.expect("feedback", "3 surveys are waiting for you")
    await ana_chat.expect(f"feedback {n} calibration", "(1/2) How well is the pairing working")
    await ana_chat.expect("4", "(2/2) What would make it more useful?")
    await ana_chat.expect("More structure", "Thank you!")
    await lee_chat.expect(f"feedback {n} calibration", "(1/5) How well is the pairing working")
    for answer in ("5", "skip", "4", "3"):
        await lee_chat.send(answer)
    await lee_chat.expect("5", "Thank you!")
    answered = {
        (f.survey, f.role): f.answers for f in await rows(world.database, Feedback) if f.answers
    }
    assert answered["calibration", "mentor"] == {"fit": 4, "comment": "More structure"}
    assert answered["calibration", "mentee"] == {"fit": 5, "comment": None}
    assert answered["mentor_readiness", "mentee"] == {
        "coaching": 4,
        "availability": 3,
        "domain_credibility": 5,
    }
    assert (await current(world.database, pairing)).at_risk_since is not None

    # Both continue: a second cycle starts with its own schedule.
    await lee_chat.expect(f"continue {n}", "I'll start another cycle as soon as Ana agrees")
    await ana_chat.expect(f"continue {n}", "another 90 days together")
    again = await current(world.database, pairing)
    assert (again.cycle, again.missed_checkins, again.at_risk_since) == (2, 0, None)
    pending = [d for d in await rows(world.database, DueItem) if d.status == "pending"]
    assert sorted(d.kind for d in pending) == [
        "checkin",
        "end_review",
        "inactivity",
        "midpoint",
        "plan_reminder",  # the new cycle's plan is owed from its first day
        "quarterly_review",
    ]


async def test_a_logged_session_suppresses_the_check_in_it_covers(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    await world.tick()
    world.take()
    await world.walk(10)
    # Logged for a day inside the window directly (as the second side logging would).
    async with world.database.session() as session:
        from handlers.sessions.log import record_session

        stored = await session.get(Pairing, pairing.id)
        assert stored is not None
        await record_session(
            session,
            world.program,
            pairing=stored,
            held_on=date(2026, 12, 2),
            minutes=30,
            logged_by=lee.id,
            now=world.clock.now(),
        )
    await world.walk(6)  # past the first check-in, 7 Dec
    assert [m for m in world.take() if "Check-in" in m.text] == []
    await world.walk(14)  # 16 Dec: 14 days after the session
    nudges = [m for m in world.take() if "Check-in" in m.text]
    assert seen(nudges) == [
        ("Wed 16 Dec 10:00", "ana", "Check-in with Lee Park"),
        ("Wed 16 Dec 10:00", "lee", "Check-in with Ana Lima"),
    ]


async def test_logging_twice_for_one_day_counts_once(world: World) -> None:
    lee, ana, pairing = await world.pair()
    await log_session(world.chat(ana), minutes="60")
    # Lee's side goes into Ana's session (tests/handlers/sessions/test_same_day_logs.py).
    last = await log_session(world.chat(lee), f"log {pairing.id} new", minutes="60")
    assert "Added to the session Ana logged on Mon 23 Nov; it counts once" in last
    assert len(await rows(world.database, SessionLog)) == 1


async def test_a_session_log_refuses_impossible_answers(world: World) -> None:
    _lee, ana, pairing = await world.pair()
    chat = world.chat(ana)
    await chat.send("log")
    await chat.expect("tomorrow", "That date is in the future")
    await chat.expect("2026-11-01", "before your pairing started (Mon 23 Nov)")
    await chat.expect("next month", "I can't read 'next month' as a date")
    await chat.expect("today", "How long was it")
    await chat.expect("600", "600 is out of range", "from 5 to 480")
    await chat.expect("-5", "-5 is out of range")
    await chat.expect("an hour", "'an hour' is not a whole number")
    assert await rows(world.database, SessionLog) == []
    await chat.expect("cancel", "Cancelled; nothing was saved")
    stranger = await make_person(world.database, "someone@x.com", name="Some One")
    await world.chat(stranger).expect(f"log {pairing.id}", "There's no pairing")


async def test_the_plan_refuses_dates_outside_the_cycle(world: World) -> None:
    lee, ana, _pairing = await world.pair()
    chat = world.chat(lee)
    await chat.send("plan")
    await chat.expect("ok", "a few words (3 to 300 characters)")
    await chat.expect("Lead a planning meeting", "By when?")
    await chat.expect("yesterday", "has to be after today")
    await chat.expect("someday", "I can't read 'someday' as a date")
    await chat.expect("2027-06-01", "inside the cycle")
    assert await rows(world.database, Milestone) == []
    await world.chat(ana).expect("plan", "Lee Park hasn't written your plan yet")


@pytest.mark.parametrize(
    ("zone", "due_local", "delivered"),
    [
        # Due 03:00 local in Auckland: delivered at 09:00 there.
        ("Pacific/Auckland", "Tue 8 Dec 03:00", "Tue 8 Dec 09:00"),
        # Due on a Saturday in Los Angeles (Monday activation at 14:00 UTC).
        ("America/Los_Angeles", "Mon 7 Dec 06:00", "Mon 7 Dec 09:00"),
        # Inside working hours already: delivered as it falls due.
        ("Europe/Berlin", "Mon 7 Dec 15:00", "Mon 7 Dec 15:00"),
    ],
)
async def test_a_nudge_waits_for_the_mentors_working_hours(
    database: Database, program: Program, zone: str, due_local: str, delivered: str
) -> None:
    world = World(database, program, start=datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    await world.pair(mentee_zone=zone, mentor_zone=zone)
    await world.tick()
    world.take()
    await world.walk(15)
    [nudge] = [m for m in world.take() if "Check-in with Lee" in m.text]
    due = (world.clock.now() - timedelta(days=1)).astimezone(nudge.local.tzinfo)
    assert due.strftime("%a %-d %b") == due_local.rsplit(" ", 1)[0]
    assert nudge.local.strftime("%a %-d %b %H:%M") == delivered


async def test_weekend_due_dates_wait_for_monday(database: Database, program: Program) -> None:
    # Activated on a Saturday: the check-in falls due on a Saturday two weeks later.
    world = World(database, program, start=datetime(2026, 11, 28, 11, 0, tzinfo=UTC))
    await world.pair()
    await world.walk(17)
    nudges = [m for m in world.take() if "Check-in" in m.text]
    assert seen(nudges) == [
        ("Mon 14 Dec 09:00", "ana", "Check-in with Lee Park"),
        ("Mon 14 Dec 09:00", "lee", "Check-in with Ana Lima"),
    ]
    kickoff = [m for m in world.recorder.received]
    assert_working_hours(kickoff)


async def test_nine_in_the_morning_stays_nine_across_daylight_saving(
    database: Database, program: Program
) -> None:
    # US clocks change on 14 March 2027, UK clocks on 28 March.
    world = World(database, program, start=datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    await world.pair(mentee_zone="Europe/London", mentor_zone="America/New_York")
    await world.walk(45)
    got = world.take()
    nudges = [m for m in got if "Check-in with Lee" in m.text]
    assert [(m.local.strftime("%-d %b %H:%M %Z"), m.at.strftime("%H:%M")) for m in nudges] == [
        ("15 Mar 09:00 EDT", "13:00"),  # after the US change: 13:00 UTC, not 14:00
        ("29 Mar 09:00 EDT", "13:00"),
        ("12 Apr 09:00 EDT", "13:00"),
    ]
    kickoff = [m for m in got if "Meet your mentoring partner" in m.text]
    assert [m.local.strftime("%-d %b %H:%M %Z") for m in kickoff] == [
        "1 Mar 14:00 GMT",  # before either change: 09:00 in New York is 14:00 in London
        "1 Mar 09:00 EST",
    ]
    calibration = [m for m in got if m.text.startswith("== One month in")]
    assert [m.local.strftime("%-d %b %H:%M %Z") for m in calibration] == [
        "31 Mar 11:00 BST",  # due 10:00 UTC, after the UK change: 11:00 in London
        "31 Mar 09:00 EDT",
    ]
    assert_working_hours(got)


async def test_what_fell_due_while_the_bot_was_down_goes_out_once_folded(world: World) -> None:
    _lee, _ana, _pairing = await world.pair()
    await world.tick()
    world.take()
    # Down for 42 days: check-ins, a review and the calibration all fell due meanwhile.
    world.clock.advance(days=42)
    first = await world.tick()
    got = world.take()
    again = await world.tick()
    assert world.take() == []
    assert again.cycle.processed == 0
    assert first.cycle.folded >= 3
    by_person = {m.email: m for m in got}
    # One missed check-in while down (the next is due after the restart): no escalation.
    assert sorted(by_person) == ["ana@x.com", "lee@x.com"]
    assert len(got) == 2  # one catch-up each, not a flood
    assert first.cycle.messages == 2
    catch_up = by_person["ana@x.com"].text
    assert "Some things fell due while I was offline" in catch_up
    assert "• Check-in with Lee Park" in catch_up and "• One month in" in catch_up
    assert "Yes" in catch_up and "Not really" in catch_up  # the answers still work
    assert_working_hours(got)


async def test_run_due_twice_at_the_same_instant_sends_nothing_new(world: World) -> None:
    await world.pair()
    world.clock.advance(days=15)
    first = await world.tick()
    second = await world.tick()
    assert first.cycle.processed >= 1
    assert (second.cycle.processed, second.cycle.messages) == (0, 0)
    keys = [o.dedupe_key for o in await rows(world.database, Outbox)]
    assert len(keys) == len(set(keys))


async def test_status_shows_where_the_pairing_is_in_its_cycle(world: World) -> None:
    lee, _ana, pairing = await world.pair()
    n = pairing.id
    await world.walk(3)
    status = await world.chat(lee).send("status")
    assert f"Pairing {n}: day 4 of 90; next check-in Mon 7 Dec; no plan yet (type plan)." in status
    chat = world.chat(lee)
    await chat.send("plan")
    await chat.send("Shadow a leadership meeting")
    await chat.send("in 2 weeks")
    await chat.send("2")
    status = await world.chat(lee).send("status")
    assert "plan of 1 milestone (version 1), not yet confirmed." in status


async def test_a_session_logged_the_moment_the_pairing_starts_keeps_the_next_check_in(
    world: World,
) -> None:
    # The moved check-in falls at the very moment of the first: the same row, kept.
    _, ana, pairing = await world.pair()
    await log_session(world.chat(ana))
    pending = [
        d.due_at
        for d in await rows(world.database, DueItem)
        if d.pairing_id == pairing.id and d.kind == "checkin" and d.status == "pending"
    ]
    assert pending == [world.clock.now() + timedelta(days=world.program.cadence.checkin_every_days)]
