"""A circle's sessions: the facilitator logs each one with who came, and each member who
came is asked the pulse survey.

``log`` (for a facilitator whose only running work is a circle) or ``circle log`` opens the
session form (:class:`CircleLogForm`): the day, the minutes, who came (a multiple choice of
the members) and notes. Saving it writes a :class:`storage.CircleSession` and a
:class:`storage.CircleAttendance` row for every member then in the circle; a member who came
has their run of missed sessions reset, one who did not has it grow (two in a row bring a
nudge, handlers.circles.due). Each member who came gets the program's pulse survey
(:class:`storage.CircleFeedback`, answered through :class:`CirclePulseForm`, the same forms
mechanism pairs use).

The notes are private to the circle: never logged, never in a report, never in a message.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from handlers.circles.lifecycle import circle_people, is_member, tell_circle
from handlers.circles.mine import MyCircle, circle_named
from handlers.core.calendar import day_label, local_date
from handlers.core.engine import FormHandler, FormResult, Outcome, Turn
from handlers.core.forms import FormFlow, open_form, question_with_choices, today_of
from handlers.core.messages import Form, Option, Reply, plural
from handlers.core.outbox import enqueue
from handlers.core.program import Program, Question, QuestionType
from handlers.core.refs import circle_label, fetch, parse_ref
from handlers.people.lookups import people_by_id
from handlers.sessions.log import when_and_how_long
from storage import (
    Circle,
    CircleFeedback,
    CircleMember,
    CircleSession,
    FeedbackStatus,
)
from storage.queries import insert_for
from storage.tables import CIRCLE_ATTENDANCE, CIRCLE_FEEDBACK, CIRCLE_MEMBER, CIRCLE_SESSION

PULSE = "pulse"
#: Longest session that can be logged, in minutes (8 hours).


def pulse_key(session_id: int, person_id: int) -> str:
    """The pulse request's key: asked once per session and member."""
    return f"{PULSE}:{session_id}:{person_id}"


class CircleLogForm(FormHandler):
    """The circle session form; its ``ref`` is the circle's number."""

    name = "circle_log"

    async def _circle(self, turn: Turn, ref: str) -> MyCircle | Reply:
        return await circle_named(turn, [ref], command="circle log", facilitating=True)

    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        found = await self._circle(turn, ref)
        if isinstance(found, Reply):
            return found
        members = [m for m in await circle_people(turn.session, found.number) if is_member(m)]
        people = await people_by_id(turn.session, [m.person_id for m in members])
        choices = [(str(m.person_id), people[m.person_id].name) for m in members]
        questions = (
            *when_and_how_long("When did the circle meet?", started=_started(turn, found)),
            question_with_choices(
                Question(
                    id="came",
                    prompt="Who came?",
                    type=QuestionType.MULTI_CHOICE,
                    min=1,
                    help="Everyone who was there; the others count as missed.",
                ),
                choices,
            ),
            Question(
                id="notes",
                prompt="Notes (private to the circle)",
                type=QuestionType.TEXT,
                required=False,
                help="Only the circle sees them; never the program lead.",
            ),
        )
        return Form(
            name=self.name,
            ref=str(found.number),
            title="Log a circle session",
            questions=questions,
            initial=(("date", today_of(turn).isoformat()),),
            intro=f"A session of circle {found.label} ({found.program.name}).",
            reopen=f"circle log {found.label}",
        )

    async def check(self, turn: Turn, ref: str, *, question_id: str, answer: Any) -> str | None:
        if question_id != "date" or not isinstance(answer, str):
            return None
        found = await self._circle(turn, ref)
        if isinstance(found, Reply):
            return found.text
        day = date.fromisoformat(answer)
        if day > today_of(turn):
            return "That date is in the future; log a session once it has happened."
        started = _started(turn, found)
        if day < started:
            return f"That's before the circle started ({day_label(started)}); pick a later date."
        if await _logged_on(turn, found.number, day):
            return (
                f"The circle's session on {day_label(day)} is logged already; a day is one session."
            )
        return None

    async def save(self, turn: Turn, ref: str, *, answers: dict[str, Any]) -> FormResult:
        found = await self._circle(turn, ref)
        if isinstance(found, Reply):
            return FormResult([found])
        trouble = await self.check(turn, ref, question_id="date", answer=answers.get("date"))
        if trouble is not None:
            return FormResult([], {"date": trouble})
        members = [m for m in await circle_people(turn.session, found.number) if is_member(m)]
        came = {int(v) for v in answers.get("came") or [] if str(v).isdigit()}
        if not came & {m.person_id for m in members}:
            return FormResult([], {"came": "Pick at least one member who came."})
        held_on = date.fromisoformat(answers["date"])
        minutes = int(answers["minutes"])
        notes = (answers.get("notes") or "").strip() or None
        session_id = await _record(turn, found, held_on, minutes, notes)
        if session_id is None:
            day = day_label(held_on)
            return FormResult([], {"date": f"The session on {day} was just logged; pick another."})
        await _attendance(turn, found, session_id, members, came)
        attendees = [m for m in members if m.person_id in came]
        await ask_pulse(turn, found, session_id=session_id, attendees=attendees, held_on=held_on)
        await tell_circle(
            turn.session,
            program=found.program,
            circle=found.circle,
            replies=[
                Reply(
                    f"{turn.person.name} logged the circle's session on {day_label(held_on)} "
                    f"({plural(minutes, 'minute')}): {len(attendees)} of {len(members)} came.",
                    title="Circle session",
                )
            ],
            what=f"session:{held_on.isoformat()}",
            now=turn.now,
        )
        lines = [
            f"Logged: {plural(minutes, 'minute')} on {day_label(held_on)}, {len(attendees)} of "
            f"{plural(len(members), 'member')} there. Thank you!"
        ]
        if notes:
            lines.append("Your notes are private to the circle.")
        lines.append("I've asked everyone who came for a quick word on how it went.")
        return FormResult([Reply(" ".join(lines), title="Session logged")])


def _started(turn: Turn, found: MyCircle) -> date:
    zone = turn.person.timezone or turn.programs.default_timezone
    circle = found.circle
    return local_date(circle.activated_at or circle.proposed_at, zone)


async def _logged_on(turn: Turn, circle_id: int, day: date) -> bool:
    conn = await turn.session.connection()
    found = await conn.scalar(
        sa.select(CIRCLE_SESSION.c.id).where(
            CIRCLE_SESSION.c.circle_id == circle_id, CIRCLE_SESSION.c.held_on == day
        )
    )
    return found is not None


async def _record(
    turn: Turn, found: MyCircle, held_on: date, minutes: int, notes: str | None
) -> int | None:
    """The new session's id; None when that day was logged meanwhile."""
    conn = await turn.session.connection()
    result = await conn.execute(
        insert_for(conn)(CIRCLE_SESSION)
        .values(
            circle_id=found.number,
            held_on=held_on,
            minutes=minutes,
            notes=notes,
            logged_by=turn.person.id,
            created_at=turn.now,
        )
        .on_conflict_do_nothing(index_elements=["circle_id", "held_on"])
        .returning(CIRCLE_SESSION.c.id)
    )
    return result.scalar()


async def _attendance(
    turn: Turn, found: MyCircle, session_id: int, members: list[CircleMember], came: set[int]
) -> None:
    """A row per member then in the circle; runs of missed sessions kept up to date."""
    conn = await turn.session.connection()
    await conn.execute(
        sa.insert(CIRCLE_ATTENDANCE),
        [
            {"session_id": session_id, "person_id": m.person_id, "attended": m.person_id in came}
            for m in members
        ],
    )
    here = [m.id for m in members if m.person_id in came]
    away = [m.id for m in members if m.person_id not in came]
    if here:
        await conn.execute(
            sa.update(CIRCLE_MEMBER).where(CIRCLE_MEMBER.c.id.in_(here)).values(missed_in_a_row=0)
        )
    if away:
        await conn.execute(
            sa.update(CIRCLE_MEMBER)
            .where(CIRCLE_MEMBER.c.id.in_(away))
            .values(missed_in_a_row=CIRCLE_MEMBER.c.missed_in_a_row + 1)
        )


def give_pulse(request_id: int) -> Option:
    """The button that opens a circle pulse."""
    return Option(f"circle pulse {request_id}", "Give feedback")


async def ask_pulse(
    turn: Turn,
    found: MyCircle,
    *,
    session_id: int,
    attendees: list[CircleMember],
    held_on: date,
) -> None:
    """Ask each member who came how the session went (one request each, once)."""
    if not attendees:
        return
    conn = await turn.session.connection()
    rows = [
        {
            "key": pulse_key(session_id, m.person_id),
            "circle_id": found.number,
            "program": found.program.id,
            "session_id": session_id,
            "survey": PULSE,
            "respondent_id": m.person_id,
            "status": FeedbackStatus.ASKED.value,
            "answers": None,
            "asked_at": turn.now,
        }
        for m in attendees
    ]
    await conn.execute(
        insert_for(conn)(CIRCLE_FEEDBACK).on_conflict_do_nothing(index_elements=["key"]), rows
    )
    asked = await conn.execute(
        sa.select(CIRCLE_FEEDBACK.c.id, CIRCLE_FEEDBACK.c.respondent_id).where(
            CIRCLE_FEEDBACK.c.key.in_([r["key"] for r in rows])
        )
    )
    for request_id, person_id in asked.all():
        await enqueue(
            turn.session,
            person_id=person_id,
            replies=[
                Reply(
                    f"Thanks for coming to your circle's session on {day_label(held_on)}. How "
                    "did it go? A few quick questions; your answers are private.",
                    title="How did the circle go?",
                    actions=(give_pulse(request_id),),
                )
            ],
            dedupe_key=f"circle-feedback:{pulse_key(session_id, person_id)}",
            now=turn.now,
            program=found.program,
        )


async def waiting_pulses(turn: Turn) -> list[CircleFeedback]:
    """The circle surveys waiting for the person's answer, oldest first."""
    found = await turn.session.exec(
        select(CircleFeedback)
        .where(
            CircleFeedback.respondent_id == turn.person.id,
            CircleFeedback.status == FeedbackStatus.ASKED.value,
        )
        .order_by(CircleFeedback.asked_at, CircleFeedback.id)  # type: ignore[arg-type]
    )
    return list(found.all())


class CirclePulseForm(FormHandler):
    """The circle pulse survey; ``ref`` is the :class:`storage.CircleFeedback` row's id."""

    name = "circle_pulse"

    async def _request(self, turn: Turn, ref: str) -> tuple[CircleFeedback, Program] | Reply:
        number = parse_ref(ref)
        request = (
            await fetch(turn.session, CircleFeedback, ref=number) if number is not None else None
        )
        if request is None or request.respondent_id != turn.person.id:
            return Reply("I can't find that survey. Type feedback to see what's waiting.")
        if request.status != FeedbackStatus.ASKED.value:
            return Reply("You've already answered that one. Thank you!")
        return request, turn.programs.of(request.program)

    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        found = await self._request(turn, ref)
        if isinstance(found, Reply):
            return found
        request, program = found
        circle = await turn.session.get(Circle, request.circle_id)
        session = (
            await turn.session.get(CircleSession, request.session_id)
            if request.session_id is not None
            else None
        )
        when = f" on {day_label(session.held_on)}" if session is not None else ""
        number = circle_label(circle.id if circle is not None else request.circle_id)
        return Form(
            name=self.name,
            ref=str(request.id),
            title="Feedback",
            questions=tuple(program.feedback.surveys.of(PULSE)),
            intro=f"How did the session of circle {number}{when} go? Only you see your "
            "answers; program leads see totals, never your own answers.",
            submit="Send",
            reopen=f"circle pulse {request.id}",
        )

    async def save(self, turn: Turn, ref: str, *, answers: dict[str, Any]) -> FormResult:
        found = await self._request(turn, ref)
        if isinstance(found, Reply):
            return FormResult([found])
        request, _ = found
        request.answers = answers
        request.status = FeedbackStatus.ANSWERED.value
        request.answered_at = turn.now
        turn.session.add(request)
        return FormResult([Reply("Thank you! Your feedback is saved.")])


class CircleForms:
    """The circle commands that open a form: ``circle log`` and ``circle pulse``."""

    def __init__(self, log: CircleLogForm, pulse: CirclePulseForm, flow: FormFlow) -> None:
        self.log_form = log
        self.pulse_form = pulse
        self.flow = flow

    async def log(self, turn: Turn, args: list[str]) -> Outcome:
        """``circle log [CIRCLE]``: the session form of a circle the person facilitates."""
        found = await circle_named(turn, args[:1], command="circle log", facilitating=True)
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        return await open_form(turn, self.log_form, ref=str(found.number), flow=self.flow)

    async def pulse(self, turn: Turn, args: list[str]) -> Outcome:
        """``circle pulse [REQUEST]``: a circle survey waiting for the person."""
        if args:
            return await open_form(turn, self.pulse_form, ref=args[0], flow=self.flow)
        waiting = await waiting_pulses(turn)
        if not waiting:
            text = "Nothing from your circle is waiting for your feedback. Thank you!"
            return Outcome([Reply(text)], None, changed=False)
        return await open_form(turn, self.pulse_form, ref=str(waiting[-1].id), flow=self.flow)
