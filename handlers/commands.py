"""The words people type outside a flow: help, join, status, and a greeting."""

from __future__ import annotations

from datetime import datetime

from handlers.circles.answers import commands as circle_answer_commands
from handlers.circles.commands import (
    CircleCommands,
    leads_only_circles,
    reads_only_circles,
    routed,
)
from handlers.circles.commands import help_lines as circle_help
from handlers.circles.review import CircleReviewFlow
from handlers.circles.sessions import CircleForms, CircleLogForm, CirclePulseForm
from handlers.circles.status import circle_lines, proposed_circle_programs
from handlers.core.archived import recall_archived_circles
from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Command, Engine, Flow, FormHandler, Outcome, Turn
from handlers.core.forms import FormFlow
from handlers.core.messages import Inbound, Option, Reply
from handlers.core.naming import opening
from handlers.core.ports import Clock, SystemClock
from handlers.core.program import Program, ProgramType
from handlers.core.programs import Programs
from handlers.cycle.commands import commands as cycle_commands
from handlers.cycle.leave import LeaveFlow
from handlers.cycle.reschedule import RescheduleFlow
from handlers.cycle.status import cycle_lines
from handlers.intake.chat import IntakeFlow, describe_enrollment
from handlers.intake.form import IntakeForm
from handlers.matching.by_hand import commands as manual_pairing_commands
from handlers.matching.lapses import paused_for_lapses
from handlers.matching.proposals import commands as pairing_commands
from handlers.matching.proposals import pairing_lines
from handlers.matching.review import MatchReviewFlow
from handlers.matching.review import commands as review_commands
from handlers.meetings.commands import change_commands as meeting_change_commands
from handlers.meetings.commands import commands as meeting_commands
from handlers.meetings.feed import commands as calendar_feed_commands
from handlers.people.invitations import commands as invitation_commands
from handlers.people.privacy import commands as privacy_commands
from handlers.plans.chat import PlanFlow, zone_of
from handlers.plans.chat import commands as plan_commands
from handlers.plans.kickoff import commands as consent_commands
from handlers.reports.catalogue import commands as report_commands
from handlers.sessions.feedback import FeedbackCommand, FeedbackForm
from handlers.sessions.feedback import commands as feedback_commands
from handlers.sessions.log import LogCommand, LogForm
from handlers.sessions.log import commands as session_commands
from handlers.sessions.summaries import commands as summary_commands
from storage import Database, Enrollment, EnrollmentStatus, Person
from storage.queries import enrollments_of


def greeting(programs: Programs, *, first_name: str, standing: str | None = None) -> str:
    """The first thing a person reads when they open the conversation.

    Args:
        programs: The programs the bot runs.
        first_name: How to greet the person.
        standing: Where an enrolled person stands (see :func:`standing`); None for someone
            not enrolled, who is invited to join.
    """
    if programs.several:
        hello = (
            f"Hi {first_name}! I'm mentorbot, the assistant for the company's mentoring programs."
        )
        how = "Type join to see the programs you can join"
    else:
        hello = f"Hi {first_name}! I'm mentorbot, the assistant for {programs.first.name}."
        roles = " or a ".join(r.value for r in programs.first.roles)
        how = f"Type join to enroll as a {roles}"
    if standing is not None:
        return f"{hello}\n{standing}\nType help for everything I can do."
    return f"{hello} {how}, status to see where you stand, or help for everything I can do."


async def greeting_for(turn: Turn) -> str:
    """The greeting for this person: where they stand when enrolled, else how to join."""
    first = turn.person.name.split()[0] if turn.person.name else "there"
    text, enrolled = await standing(turn)
    return greeting(turn.programs, first_name=first, standing=text if enrolled else None)


async def welcome(engine: Engine, inbound: Inbound) -> str:
    """The greeting a channel shows when a person opens the conversation."""
    async with engine.database.session() as session:
        person = await session.get(Person, inbound.person_id)
        if person is None:
            return "I can't find you in the company directory; ask the program lead."
        programs = await recall_archived_circles(session, engine.programs)
        return await greeting_for(Turn(session, programs, person, inbound, engine.clock.now()))


async def _hello(turn: Turn, args: list[str]) -> Outcome:
    return Outcome([Reply(await greeting_for(turn))], None, changed=False)


async def standing(turn: Turn) -> tuple[str, bool]:
    """Where the person stands, in sentences, and whether they are enrolled at all.

    Someone in several programs reads each program under its own heading, in the order of
    the program file: their standing in it, its waitlist, and each pairing's cycle.
    """
    assert turn.person.id is not None
    enrollments = await enrollments_of(turn.session, turn.person.id, program=None)
    active = [e for e in enrollments if e.status != EnrollmentStatus.LEFT]
    if not active:
        left = list(dict.fromkeys(e.program for e in enrollments))
        if left:  # they were in, and left: "not enrolled yet" would be untrue
            names = " and ".join(turn.programs.of(program).name for program in left)
            return (
                f"You left {names}, so you're in no program now. Type join to come back.",
                False,
            )
        where = "any program" if turn.programs.several else turn.programs.first.name
        return (
            f"You're not enrolled in {where} yet. Type join to start; it takes about two minutes.",
            False,
        )
    mine = turn.programs.with_ids({e.program for e in active})
    if len(mine) == 1:
        lines = await _standing_lines(turn, active, None)
    else:
        blocks = [
            "\n".join(
                [
                    opening(program).strip(),
                    *await _standing_lines(
                        turn, [e for e in active if e.program == program.id], program
                    ),
                ]
            )
            for program in mine
        ]
        lines = ["\n\n".join(blocks) + "\n"]
    lines.append("Type join to update your answers.")
    return "\n".join(lines), True


async def _standing_lines(
    turn: Turn, enrollments: list[Enrollment], program: Program | None
) -> list[str]:
    """The person's standing in one program (``program``), or in all (None)."""
    lines = []
    for enrollment in enrollments:
        since = enrollment.enrolled_at.strftime("%-d %b %Y")
        phrase = describe_enrollment(
            enrollment.status,
            role=enrollment.role,
            capacity=enrollment.capacity,
            circles=turn.programs.of(enrollment.program).type is ProgramType.CIRCLES,
        )
        if enrollment.status == EnrollmentStatus.PAUSED:
            phrase += _pause_end(turn, enrollment.paused_until)
        where = (
            f" in {turn.programs.of(enrollment.program).name}"
            if turn.programs.several and program is None
            else ""
        )
        lines.append(f"You're {phrase}{where} (since {since}).")
    lines += paused_for_lapses(enrollments)
    lines += await pairing_lines(turn, program)
    lines += await cycle_lines(turn, program)
    lines += await circle_lines(turn, program)
    waiting = [e for e in enrollments if e.status == EnrollmentStatus.WAITING]
    proposed = await proposed_circle_programs(turn) if waiting else set()
    if any(e.program not in proposed for e in waiting):
        lines.append(
            "Matching runs when the program lead starts it; I'll message you when there's "
            "a proposal."
        )
    return lines


def _pause_end(turn: Turn, paused_until: datetime | None) -> str:
    """When a pause ends, as the tail of the paused phrase: ``until Sun 10 Jan``."""
    if paused_until is None:
        return " until you type resume"
    zone = zone_of(turn.person, turn.programs.default_timezone)
    return f" until {day_label(local_date(paused_until, zone))}"


async def _status(turn: Turn, args: list[str]) -> Outcome:
    text, _ = await standing(turn)
    return Outcome([Reply(text)], None, changed=False)


async def home(engine: Engine, inbound: Inbound) -> list[Reply]:
    """A person's overview (an app's home tab): where they stand and what they can do."""
    async with engine.database.session() as session:
        person = await session.get(Person, inbound.person_id)
        if person is None:
            return [Reply("I can't find you in the company directory; ask the program lead.")]
        programs = await recall_archived_circles(session, engine.programs)
        turn = Turn(session, programs, person, inbound, engine.clock.now())
        text, enrolled = await standing(turn)
    programs = engine.programs
    actions = [Option("status", "Status"), Option("help", "Help")]
    actions.insert(0, Option("join", "Update my answers" if enrolled else "Join the program"))
    if programs.several:
        about = "\n".join(f"• {p.name}: {p.description or p.type.value}" for p in programs)
        title = "Mentoring programs"
    else:
        about, title = programs.first.description or programs.first.name, programs.first.name
    return [
        Reply(about, title=title),
        Reply(
            text.replace("Type join to update your answers.", "").strip(), actions=tuple(actions)
        ),
    ]


def build_engine(
    *,
    programs: Programs,
    database: Database,
    clock: Clock | None = None,
    summaries: bool = False,
    public_url: str | None = None,
) -> Engine:
    """An engine with every command and flow mentorbot offers.

    Args:
        summaries: Whether a model for note summaries is configured (OPENAI_API_KEY).
        public_url: The bot's public base URL (MENTORBOT_PUBLIC_URL), for calendar feeds.
    """
    intake = IntakeFlow()
    circle_review = CircleReviewFlow()
    review = MatchReviewFlow(circles=circle_review.start_for)
    plan, reschedule, leave = PlanFlow(), RescheduleFlow(), LeaveFlow()
    log_form, feedback_form = LogForm(summaries=summaries), FeedbackForm()
    circle_log, circle_pulse = CircleLogForm(), CirclePulseForm()
    chat_forms: dict[str, FormHandler] = {
        form.name: form for form in (log_form, feedback_form, circle_log, circle_pulse)
    }
    form_flow = FormFlow(chat_forms)
    circles = CircleCommands(CircleForms(circle_log, circle_pulse, form_flow))
    # The intake is asked in chat by its own flow; as a whole form it is Slack's modal.
    forms = {**chat_forms, IntakeForm.name: IntakeForm()}
    flows: dict[str, Flow] = {
        flow.name: flow
        for flow in (intake, review, circle_review, plan, reschedule, leave, form_flow)
    }
    engine: Engine

    async def _help(turn: Turn, args: list[str]) -> Outcome:
        where = "the mentoring programs" if turn.programs.several else turn.programs.first.name
        lines = [f"Here's what I can do in {where}:"]
        # A lead's word for pairs is left out for a lead of circles alone; anyone's, for a
        # reader whom only circles concern (the circles' block below has their words).
        circles_lead, circles_reader = leads_only_circles(turn), await reads_only_circles(turn)
        for command in engine.commands_for(turn.person):
            only_circles = circles_lead if command.lead_only else circles_reader
            if not command.listed or (command.pairs_only and only_circles):
                continue
            usage = f"{command.name} {command.usage}".strip()
            lines.append(f"• {usage}: {command.summary}")
        lines += await circle_help(turn)
        lines.append(
            "Inside a question: back, skip (optional questions), cancel, help. "
            "Answer choices by number or by name."
        )
        return Outcome([Reply("\n".join(lines))], None, changed=False)

    commands = routed(
        [
            Command("help", "what I can do", _help, aliases=("?", "commands")),
            Command(
                "join",
                "enroll, or update your answers",
                intake.start,
                usage="[PROGRAM] [ROLE]",
                aliases=("enroll", "enrol", "signup"),
            ),
            Command("status", "where you stand in the program", _status),
            *circle_answer_commands(pairing_commands(summaries=summaries)),
            *review_commands(review),
            *manual_pairing_commands(),
            *plan_commands(plan),
            *consent_commands(summaries=summaries),
            *session_commands(LogCommand(log_form, form_flow)),
            *feedback_commands(FeedbackCommand(feedback_form, form_flow)),
            *meeting_commands(),
            *cycle_commands(reschedule, leave),
            *report_commands(),
            *summary_commands(summaries),
            *privacy_commands(),
            *calendar_feed_commands(public_url),
            *meeting_change_commands(),
            *invitation_commands(),
            Command("hi", "say hello", _hello, aliases=("hello", "hey", "start")),
        ],
        circles,
    )
    engine = Engine(
        programs=programs,
        database=database,
        commands=commands,
        flows=flows,
        clock=clock or SystemClock(),
        forms=forms,
    )
    return engine
