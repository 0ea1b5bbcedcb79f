"""The start of a pairing: the introduction, the first plan request, and consent to summaries.

When both sides accept, the pair is introduced to each other (one group message where the
platform has group conversations, each their own elsewhere) with both profiles, why they
were matched and an agenda for the first meeting; the check-in cycle is scheduled and the
mentee is asked for a plan (handlers.plans.chat). Both are asked, once, whether their
session notes may be summarised by the language model (``consent``).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date, next_delivery
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Option, PersonProfile, Reply
from handlers.core.naming import for_reader, for_readers
from handlers.core.outbox import enqueue
from handlers.core.program import Program, ProgramType
from handlers.core.words import zone_in_words
from handlers.cycle.schedule import cycle_end, cycle_start, schedule_cycle
from handlers.meetings.booking import find_a_time
from handlers.people.lookups import enrollment_of, people_by_id, person_profile
from handlers.plans.chat import MAX_MILESTONES, my_pairing, role_in, zone_of
from storage import Enrollment, Pairing, Person, Role

AGENDA = (
    "1. Introductions: your paths so far and what you each hope to get from this.",
    "2. {mentee}'s goals and the competencies to work on first.",
    "3. How you'll work together: format, a check-in every {every} days, how to reach each other.",
    "4. A first draft of the {days}-day plan: up to three milestones with dates.",
)


async def begin_pairing(
    session: AsyncSession,
    program: Program,
    *,
    pairing: Pairing,
    now: datetime,
    summaries: bool | None = None,
) -> None:
    """A pairing just became active: schedule its first cycle and introduce the pair.

    Args:
        summaries: Whether a model for note summaries is configured; None when the caller
            does not know, and the consent question then says it depends on that.
    """
    assert pairing.id is not None
    await schedule_cycle(session, program, pairing=pairing, now=now)
    people = await people_by_id(session, [pairing.mentee_id, pairing.mentor_id])
    mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
    peer = program.type is ProgramType.PEER
    mentee_role, mentor_role = (Role.PEER, Role.PEER) if peer else (Role.MENTEE, Role.MENTOR)
    mentee_enrollment = await enrollment_of(session, program, person_id=mentee.id, role=mentee_role)
    mentor_enrollment = await enrollment_of(session, program, person_id=mentor.id, role=mentor_role)
    cadence = program.cadence
    agenda = "\n".join(
        line.format(
            mentee=mentee.name.split()[0], every=cadence.checkin_every_days, days=cadence.cycle_days
        )
        for line in AGENDA
    )
    why = "\n".join(f"• {r['lead']}" for r in pairing.reasons if r.get("lead"))
    # A cohort's pairs start together: the kickoff waits for the cohort's first day (the
    # cycle already starts then, see handlers.matching.proposals.cycle_start_for).
    start = cycle_start(pairing)
    starts = (
        f"You start together on {day_label(local_date(start, program.default_timezone))}.\n"
        if start > now
        else ""
    )
    if peer:
        opening = (
            f"{mentee.name}, meet {mentor.name}, your learning partner for the next "
            f"{cadence.cycle_days} days. {mentor.name}, meet {mentee.name}.\n"
        )
        title = f"Meet your learning partner: {mentee.name} and {mentor.name}"
    else:
        opening = (
            f"{mentee.name}, meet {mentor.name}, your mentor for the next {cadence.cycle_days} "
            f"days. {mentor.name}, meet {mentee.name}.\n"
        )
        title = f"Meet your mentoring partner: {mentee.name} and {mentor.name}"
    intro = Reply(
        opening
        + starts
        + (f"Why you were matched:\n{why}\n" if why else "")
        + f"Suggested agenda for your first meeting:\n{agenda}",
        title=title,
        actions=(find_a_time(pairing.id),),
        profiles=(
            _profile(program, mentee, mentee_role, mentee_enrollment, other=mentor, now=now),
            _profile(program, mentor, mentor_role, mentor_enrollment, other=mentee, now=now),
        ),
    )
    # One moment for both, inside working hours for each where their days overlap, so a
    # group conversation can carry it; not before the cycle starts.
    fallback = program.default_timezone
    together = max(
        next_delivery(max(now, start), zone=zone_of(p, fallback), hours=cadence.working_hours)
        for p in (mentee, mentor)
    )
    # One message both read (a group conversation where there is one), so it names the
    # program when either of them is in several.
    together_replies = await for_readers(
        session, program, person_ids=[pairing.mentee_id, pairing.mentor_id], replies=[intro]
    )
    for person in (mentee, mentor):
        assert person.id is not None
        await enqueue(
            session,
            person_id=person.id,
            replies=together_replies,
            dedupe_key=f"pairing:{pairing.id}:kickoff:{person.id}",
            pairing_id=pairing.id,
            group_key=f"pairing:{pairing.id}:kickoff",
            now=now,
            not_before=together,
        )
    end = local_date(cycle_end(pairing, cadence), zone_of(mentee, program.default_timezone))
    await enqueue(
        session,
        person_id=pairing.mentee_id,
        replies=await for_reader(
            session,
            program,
            person_id=pairing.mentee_id,
            replies=[
                Reply(
                    f"Let's set your plan for the next {cadence.cycle_days} days: up to "
                    f"{MAX_MILESTONES} milestones, each a short objective with a target date "
                    f"before {day_label(end)}. {mentor.name.split()[0]} will see it and "
                    "confirm.",
                    title=f"Your {cadence.cycle_days}-day plan",
                    actions=(Option(f"plan {pairing.id}", "Write my plan"),),
                    hint="Or type plan whenever you're ready.",
                )
            ],
        ),
        dedupe_key=f"pairing:{pairing.id}:plan-asked",
        pairing_id=pairing.id,
        now=now,
        not_before=together,
    )
    for person, other in ((mentee, mentor), (mentor, mentee)):
        assert person.id is not None
        await enqueue(
            session,
            person_id=person.id,
            replies=await for_reader(
                session,
                program,
                person_id=person.id,
                replies=[consent_question(pairing, other, summaries=summaries)],
            ),
            dedupe_key=f"pairing:{pairing.id}:consent-asked:{person.id}",
            pairing_id=pairing.id,
            now=now,
            not_before=together,
        )


def _profile(
    program: Program,
    person: Person,
    role: Role,
    enrollment: Enrollment | None,
    *,
    other: Person,
    now: datetime,
) -> PersonProfile:
    """One side's profile in the introduction, their clock told against the other's.

    The introduction is one message both read (a group conversation where there is one),
    so a time zone is said against the other side by name ("London, 5 h ahead of Ana"),
    not against "you".
    """
    answers = enrollment.answers if enrollment is not None else {}
    fallback = program.default_timezone
    time_zone = zone_in_words(
        zone_of(person, fallback),
        reader_zone=zone_of(other, fallback),
        at=now,
        reader=other.name.split()[0] if other.name else other.email,
    )
    return person_profile(program, person, role=role, answers=answers, time_zone=time_zone)


def consent_question(pairing: Pairing, other: Person, *, summaries: bool | None = None) -> Reply:
    """The one-time question: may session notes be summarised by a language model?

    Args:
        summaries: Whether summaries are on; when off, the answer is kept for later and the
            question says so; None (not known here) says it depends on the program.
    """
    if summaries is None:
        when = "If summaries are switched on for this program and you both agree, a language "
    elif summaries:
        when = "If you both agree, a language "
    else:
        when = (
            "Summaries are off in this program for now, so nothing is summarised. If they're "
            "switched on later, I'll keep your answer: only if you both agree, a language "
        )
    return Reply(
        f"When you log a session you can add private notes. {when}"
        "model can summarise them into topics, action items and a focus for next time, "
        f"shown only to you and {other.name.split()[0]}. Emails and phone numbers are "
        "removed first. Do you agree?",
        title="Summaries of your session notes",
        actions=(
            Option(f"consent {pairing.id} yes", "Yes, summarise our notes"),
            Option(f"consent {pairing.id} no", "No thanks"),
        ),
        hint=f"You can change this any time: consent {pairing.id} yes (or no).",
    )


async def _consent(turn: Turn, args: list[str], *, summaries: bool) -> Outcome:
    found = await my_pairing(turn, args[:1], verb="consent")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found
    answer = (args[1] if len(args) > 1 else "").lower()
    if answer not in ("yes", "no"):
        return Outcome(
            [Reply(f"Type consent {pairing.id} yes or consent {pairing.id} no.")],
            None,
            changed=False,
        )
    agreed = answer == "yes"
    if role_in(pairing, turn.person) is Role.MENTEE:
        pairing.mentee_consent = agreed
    else:
        pairing.mentor_consent = agreed
    turn.session.add(pairing)
    if not agreed:
        text = "Noted: your session notes won't be summarised. Your notes stay private either way."
    elif not summaries:
        # No model is configured: keep the answer for when one is, and don't promise anything.
        text = (
            "Noted. Summaries are off in this program for now, so your notes won't be "
            "summarised. I've kept your answer: if summaries are switched on, notes are "
            "summarised only once both of you agree."
        )
    elif pairing.mentee_consent and pairing.mentor_consent:
        text = "Thanks! You both agreed, so logged notes will be summarised for the two of you."
    else:
        text = "Thanks! Notes are summarised only once both of you agree."
    return Outcome([Reply(text)], None)


def commands(*, summaries: bool = False) -> list[Command]:
    """The ``consent`` command (and buttons): agree or not to summaries of session notes.

    Args:
        summaries: Whether a model for note summaries is configured, so that ``consent``
            tells the truth about what agreeing does.
    """

    async def consent(turn: Turn, args: list[str]) -> Outcome:
        return await _consent(turn, args, summaries=summaries)

    return [
        Command(
            "consent",
            "agree (or not) to summaries of your session notes",
            consent,
            usage="PAIRING yes|no",
            mid_flow=r"(?i)^consent\s+\d+\s+(yes|no)$",
            pairs_only=True,
        ),
    ]
