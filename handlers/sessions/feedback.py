"""Structured feedback: a pulse after each session, and surveys at the cycle's checkpoints.

After a session is logged, the other side is asked the ``pulse`` survey. The calibration,
mid-point and end-of-cycle messages ask both sides that checkpoint's survey; mentees also
rate their mentor's readiness (coaching, availability, domain credibility) then. A survey
left unanswered reminds the person who owes it, and only them (handlers.cycle.reminders). Every
survey's questions come from ``feedback.surveys`` in ``app.yaml`` (the intake's schema).

A request is a :class:`storage.Feedback` row, created when asked (its unique key makes
asking idempotent) and filled in when answered, through a form (Slack modal, Teams card)
or one question at a time in the shell. Answers are private: the other side sees them only
when ``feedback.share_with_pair`` is on, and program leads see aggregates only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.engine import Command, FormHandler, FormResult, Outcome, Turn
from handlers.core.forms import FormFlow, open_form
from handlers.core.messages import Form, Option, Reply
from handlers.core.naming import for_reader
from handlers.core.outbox import enqueue
from handlers.core.program import Program
from handlers.core.questions import format_answer
from handlers.core.refs import fetch, parse_ref
from handlers.cycle.schedule import insert_due, reminder_check
from handlers.people.lookups import people_by_id
from storage import DueKind, Feedback, FeedbackStatus, Pairing, PairingStatus, Person, Role
from storage.queries import insert_for, with_programs
from storage.tables import FEEDBACK, PAIRING

PULSE = "pulse"
READINESS = "mentor_readiness"
#: The checkpoint surveys, by the due item kind that asks them.
CHECKPOINTS = {"calibration": "calibration", "midpoint": "midpoint", "end_review": "end_of_cycle"}
TITLES = {
    PULSE: "How did the session go?",
    "calibration": "One month in",
    "midpoint": "Halfway there",
    "end_of_cycle": "Looking back on the cycle",
    READINESS: "Your mentor",
}
#: Readiness questions share a form with a checkpoint survey under this prefix.
_READY = "readiness_"
#: Surveys that ask how a pairing is going: once it has ended they are closed (see
#: :func:`closed_by_ending`). The end-of-cycle review and its mentor readiness look back on
#: the whole pairing, and a pulse on a session that was held: those stay open.
MID_CYCLE = frozenset({"calibration", "midpoint"})


def request_row(
    *,
    key: str,
    pairing_id: int,
    survey: str,
    respondent_id: int,
    role: Role,
    now: datetime,
    session_log_id: int | None = None,
) -> dict[str, Any]:
    """One ``feedback`` row, asked and not yet answered."""
    return {
        "key": key,
        "pairing_id": pairing_id,
        "session_log_id": session_log_id,
        "survey": survey,
        "respondent_id": respondent_id,
        "role": role.value,
        "status": FeedbackStatus.ASKED.value,
        "answers": None,
        "asked_at": now,
    }


def checkpoint_rows(
    pairing_id: int, *, cycle: int, mentee_id: int, mentor_id: int, kind: str, now: datetime
) -> list[dict[str, Any]]:
    """The requests a checkpoint (calibration, mid-point, end review) makes."""
    survey = CHECKPOINTS[kind]
    rows = [
        request_row(
            key=f"{survey}:{pairing_id}:{cycle}:{person_id}",
            pairing_id=pairing_id,
            survey=survey,
            respondent_id=person_id,
            role=role,
            now=now,
        )
        for person_id, role in ((mentee_id, Role.MENTEE), (mentor_id, Role.MENTOR))
    ]
    rows.append(
        request_row(
            key=f"{READINESS}:{pairing_id}:{cycle}:{mentee_id}:{survey}",
            pairing_id=pairing_id,
            survey=READINESS,
            respondent_id=mentee_id,
            role=Role.MENTEE,
            now=now,
        )
    )
    return rows


async def insert_requests(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Create feedback requests; one already asked with the same key stays as it was."""
    if rows:
        conn = await session.connection()
        ordered = await with_programs(conn, sorted(rows, key=lambda r: r["key"]))
        await conn.execute(
            insert_for(conn)(FEEDBACK).on_conflict_do_nothing(index_elements=["key"]), ordered
        )


def give_feedback(pairing_id: int, survey: str) -> Option:
    """The button that opens a survey."""
    return Option(f"feedback {pairing_id} {survey}", "Give feedback")


async def ask_pulse(
    session: AsyncSession,
    program: Program,
    *,
    pairing: Pairing,
    logger: Person,
    session_log_id: int,
    now: datetime,
) -> None:
    """Ask the side that did not log the session how it went (reminded if unanswered)."""
    assert pairing.id is not None
    if logger.id == pairing.mentee_id:
        respondent, role = pairing.mentor_id, Role.MENTOR
    else:
        respondent, role = pairing.mentee_id, Role.MENTEE
    key = f"{PULSE}:{session_log_id}:{respondent}"
    await insert_requests(
        session,
        [
            request_row(
                key=key,
                pairing_id=pairing.id,
                survey=PULSE,
                respondent_id=respondent,
                role=role,
                now=now,
                session_log_id=session_log_id,
            )
        ],
    )
    first = logger.name.split()[0] if logger.name else "Your pair"
    await enqueue(
        session,
        person_id=respondent,
        replies=await for_reader(
            session,
            program,
            person_id=respondent,
            replies=[
                Reply(
                    f"{first} logged your session. How did it go? Three quick questions; "
                    "your answers are private.",
                    title=TITLES[PULSE],
                    actions=(give_feedback(pairing.id, PULSE),),
                )
            ],
        ),
        dedupe_key=f"feedback:{key}",
        now=now,
        program=program,
        pairing_id=pairing.id,
    )
    await insert_due(
        session,
        reminder_check(
            program,
            pairing_id=pairing.id,
            kind=DueKind.SURVEY_REMINDER,
            owed_since=now,
            now=now,
        ),
    )


def closed_by_ending(request: Feedback, pairing: Pairing | None) -> bool:
    """Whether a survey asks about a pairing that has since ended, so no answer is taken.

    A check-in on how the pairing is going (calibration, mid-point) has nothing left to
    ask about once the pairing has ended; the end-of-cycle review and a session's pulse
    look back on what happened, and stay open.
    """
    return (
        pairing is not None
        and pairing.status == PairingStatus.ENDED
        and request.survey in MID_CYCLE
    )


async def waiting_requests(
    session: AsyncSession, person_id: int, pairing_id: int | None, survey: str | None
) -> list[Feedback]:
    """The pairing surveys waiting for the person's answer (of one pairing, one survey),
    oldest first; mentor readiness is asked with its checkpoint survey, not on its own, and
    a check-in of a pairing that has ended is no longer waiting (:func:`closed_by_ending`)."""
    query = select(Feedback).where(
        Feedback.respondent_id == person_id,
        Feedback.status == FeedbackStatus.ASKED,
        Feedback.survey != READINESS,
        sa.or_(
            Feedback.survey.not_in(MID_CYCLE),  # type: ignore[attr-defined]
            ~sa.exists().where(
                PAIRING.c.id == Feedback.pairing_id,
                PAIRING.c.status == PairingStatus.ENDED.value,
            ),
        ),
    )
    if pairing_id is not None:
        query = query.where(Feedback.pairing_id == pairing_id)
    if survey is not None:
        query = query.where(Feedback.survey == survey)
    result = await session.exec(query.order_by(Feedback.asked_at, Feedback.id))  # type: ignore[arg-type]
    return list(result.all())


async def _readiness_of(session: AsyncSession, request: Feedback) -> Feedback | None:
    """The mentor-readiness request asked with a mentee's checkpoint survey."""
    if request.role != Role.MENTEE or request.survey not in CHECKPOINTS.values():
        return None
    pairing_part = request.key.split(":", 1)[1]  # PAIRING:CYCLE:PERSON
    key = f"{READINESS}:{pairing_part}:{request.survey}"
    result = await session.exec(select(Feedback).where(Feedback.key == key))
    found = result.first()
    return found if found is not None and found.status == FeedbackStatus.ASKED else None


class FeedbackForm(FormHandler):
    """A survey; ``ref`` is the feedback request's id."""

    name = "feedback"

    async def _request(self, turn: Turn, ref: str) -> Feedback | Reply:
        number = parse_ref(ref)
        request = await fetch(turn.session, Feedback, ref=number) if number is not None else None
        if request is None or request.respondent_id != turn.person.id:
            return Reply("I can't find that survey. Type feedback to see what's waiting.")
        if request.status != FeedbackStatus.ASKED:
            return Reply("You've already answered that one. Thank you!")
        pairing = await turn.session.get(Pairing, request.pairing_id)
        if pairing is not None and closed_by_ending(request, pairing):
            other_id = pairing.mentor_id if request.role == Role.MENTEE else pairing.mentee_id
            people = await people_by_id(turn.session, [other_id])
            with_whom = f" with {people[other_id].name}" if other_id in people else ""
            return Reply(
                f"Your pairing{with_whom} has ended, so this check-in is closed and there's "
                "nothing to answer. Thank you for the time you gave it."
            )
        return request

    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        request = await self._request(turn, ref)
        if isinstance(request, Reply):
            return request
        program = await _program_of(turn, request)
        surveys = program.feedback.surveys
        questions = list(surveys.of(request.survey))
        readiness = await _readiness_of(turn.session, request)
        if readiness is not None:
            questions += [
                q.model_copy(update={"id": f"{_READY}{q.id}"}) for q in surveys.of(READINESS)
            ]
        pairing = await turn.session.get(Pairing, request.pairing_id)
        other = ""
        if pairing is not None:
            other_id = pairing.mentor_id if request.role == Role.MENTEE else pairing.mentee_id
            people = await people_by_id(turn.session, [other_id])
            other = f" with {people[other_id].name}" if other_id in people else ""
        private = "Only you see your answers" + (
            "; your pair sees them too." if program.feedback.share_with_pair else "."
        )
        return Form(
            name=self.name,
            ref=str(request.id),
            title="Feedback",
            questions=tuple(questions),
            intro=f"{TITLES.get(request.survey, 'Feedback')}: your pairing{other}. {private} "
            "Program leads see totals across the program, never your own answers.",
            submit="Send",
            reopen=f"feedback {request.pairing_id} {request.survey}",
        )

    async def save(self, turn: Turn, ref: str, *, answers: dict[str, Any]) -> FormResult:
        request = await self._request(turn, ref)
        if isinstance(request, Reply):
            return FormResult([request])
        own = {k: v for k, v in answers.items() if not k.startswith(_READY)}
        request.answers = own
        request.status = FeedbackStatus.ANSWERED
        request.answered_at = turn.now
        turn.session.add(request)
        readiness = await _readiness_of(turn.session, request)
        if readiness is not None:
            readiness.answers = {
                k.removeprefix(_READY): v for k, v in answers.items() if k.startswith(_READY)
            }
            readiness.status = FeedbackStatus.ANSWERED
            readiness.answered_at = turn.now
            turn.session.add(readiness)
        if (await _program_of(turn, request)).feedback.share_with_pair:
            await self._share(turn, request, own)
        return FormResult([Reply("Thank you! Your feedback is saved.")])

    async def _share(self, turn: Turn, request: Feedback, answers: dict[str, Any]) -> None:
        pairing = await turn.session.get(Pairing, request.pairing_id)
        if pairing is None:
            return
        other = pairing.mentor_id if request.role == Role.MENTEE else pairing.mentee_id
        program = turn.programs.of(pairing.program)
        questions = program.feedback.surveys.of(request.survey)
        fields = tuple(
            (q.prompt, format_answer(q, answers.get(q.id)))
            for q in questions
            if answers.get(q.id) is not None
        )
        await enqueue(
            turn.session,
            person_id=other,
            replies=await for_reader(
                turn.session,
                program,
                person_id=other,
                replies=[
                    Reply(
                        f"{turn.person.name} shared their feedback "
                        f"({TITLES.get(request.survey, request.survey).lower()}):",
                        title="Feedback from your pair",
                        fields=fields,
                    )
                ],
            ),
            dedupe_key=f"feedback-shared:{request.id}",
            now=turn.now,
            program=program,
            pairing_id=pairing.id,
        )


async def _program_of(turn: Turn, request: Feedback) -> Program:
    """The program of the pairing a survey is about."""
    pairing = await turn.session.get(Pairing, request.pairing_id)
    return turn.programs.of(pairing.program) if pairing is not None else turn.programs.first


class FeedbackCommand:
    """``feedback [PAIRING SURVEY]``: what is waiting, or that survey's form."""

    def __init__(self, form: FeedbackForm, flow: FormFlow) -> None:
        self.form = form
        self.flow = flow

    async def run(self, turn: Turn, args: list[str]) -> Outcome:
        assert turn.person.id is not None
        pairing = parse_ref(args[0]) if args else None
        survey = args[1].lower() if len(args) > 1 else None
        waiting: list[Feedback] = []  # stays empty for a number no pairing can have
        if pairing is None or pairing.id is not None:
            pairing_id = pairing.id if pairing is not None else None
            waiting = await waiting_requests(turn.session, turn.person.id, pairing_id, survey)
        if not waiting:
            if pairing is not None:
                text = "Nothing is waiting for your feedback there; you may have answered it."
            else:
                text = "Nothing is waiting for your feedback right now. Thank you!"
            return Outcome([Reply(text)], None, changed=False)
        if len(waiting) > 1 and pairing is None:
            actions = tuple(
                Option(
                    f"feedback {r.pairing_id} {r.survey}",
                    f"{TITLES.get(r.survey, r.survey)} ({r.asked_at:%-d %b})",
                )
                for r in waiting[:6]
            )
            text = f"{len(waiting)} surveys are waiting for you. Which one?"
            return Outcome([Reply(text, actions=actions)], None, changed=False)
        return await open_form(turn, self.form, ref=str(waiting[-1].id), flow=self.flow)


def commands(feedback: FeedbackCommand) -> list[Command]:
    """The feedback commands."""
    return [
        Command(
            "feedback",
            "answer a feedback survey that's waiting for you",
            feedback.run,
            usage="[PAIRING SURVEY]",
        )
    ]
