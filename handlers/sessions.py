"""Logging a mentoring session: when, how long, in what format, about what, private notes,
and progress on each milestone of the plan.

``log`` (and a nudge's Log session button) opens the session form: a Slack modal, a Teams
card, or the questions one at a time in the shell (see handlers.forms). Either side of a
pair can log. A session logged twice for the same day (both sides logging one meeting)
counts once. A logged session is the pair's sign of life: it resets the missed check-ins,
clears an at-risk flag, and moves the next check-in to ``checkin_every_days`` after it.
The other side is then asked for a short feedback pulse, and the notes are summarised when
both agreed to that at kickoff.

Notes are private to the pair: they are never logged, and no report shows them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.calendar import day_label, local_date
from handlers.engine import Command, FormHandler, FormResult, Outcome, Turn
from handlers.feedback import ask_pulse
from handlers.forms import FormFlow, open_form, question_with_choices, today_of
from handlers.messages import Form, Option, Reply
from handlers.people import people_by_id
from handlers.plans import MILESTONE_STATUS_LABELS, active_pairings, milestones_of, my_pairing
from handlers.program import Meaning, Program, Question, QuestionType
from handlers.schedule import move_checkin, start_of
from storage import (
    Milestone,
    MilestoneStatus,
    Pairing,
    PairingStatus,
    Role,
    SessionLog,
    SummaryStatus,
)
from storage.queries import insert_for

#: Longest session that can be logged, in minutes (8 hours).
MAX_MINUTES = 480
#: The formats offered when the intake asks none.
FORMATS = ("One-on-one", "Group", "Shadowing", "Project-based")
MAX_TOPICS = 5


async def record_session(
    session: AsyncSession,
    program: Program,
    pairing: Pairing,
    *,
    held_on: date,
    minutes: int,
    logged_by: int | None,
    now: datetime,
    format: str | None = None,
    topics: list[str] | None = None,
    notes: str | None = None,
    progress: dict[str, str] | None = None,
    summarise: bool = False,
) -> int | None:
    """Save a session and reset the pair's cadence.

    Returns:
        The new session log's id, or None when a session on that day was logged already
        (it counts once, and the first log stays as it was).
    """
    conn = await session.connection()
    table = SessionLog.__table__  # type: ignore[attr-defined]
    # Summarised only when a model is configured, there are notes, and both agreed.
    summarise = bool(summarise and notes and pairing.mentee_consent and pairing.mentor_consent)
    result = await conn.execute(
        insert_for(conn)(table)
        .values(
            pairing_id=pairing.id,
            held_on=held_on,
            minutes=minutes,
            format=format,
            topics=topics or [],
            notes=notes or None,
            progress=progress or None,
            logged_by=logged_by,
            created_at=now,
            summary_attempts=0,
            summary_status=SummaryStatus.PENDING.value if summarise else None,
            summary_next_at=now if summarise else None,
        )
        .on_conflict_do_nothing(index_elements=["pairing_id", "held_on"])
        .returning(table.c.id)
    )
    created = result.scalar_one_or_none()
    latest = await conn.scalar(
        sa.select(sa.func.max(table.c.held_on)).where(table.c.pairing_id == pairing.id)
    )
    pairing.last_activity_at = now
    pairing.missed_checkins = 0
    pairing.at_risk_since = None
    session.add(pairing)
    if latest == held_on:
        due = start_of(held_on, now) + timedelta(days=program.cadence.checkin_every_days)
        await move_checkin(session, program, pairing, max(due, now + timedelta(days=1)), now)
    return int(created) if created is not None else None


STATUS_OPTIONS = tuple(
    (status.value, MILESTONE_STATUS_LABELS[status.value]) for status in MilestoneStatus
)


class LogForm(FormHandler):
    """The session form; ``ref`` is the pairing's id.

    Args:
        summaries: Whether a model is configured to summarise notes.
    """

    name = "log"

    def __init__(self, *, summaries: bool = False) -> None:
        self.summaries = summaries

    async def _pairing(self, turn: Turn, ref: str) -> Pairing | Reply:
        found = await my_pairing(turn, [ref], "log a session for")
        if isinstance(found, Pairing) and found.status != PairingStatus.ACTIVE:
            return Reply("That pairing has ended, so no session can be logged for it.")
        return found

    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        pairing = await self._pairing(turn, ref)
        if isinstance(pairing, Reply):
            return pairing
        assert pairing.id is not None
        other_id = pairing.mentor_id if pairing.mentee_id == turn.person.id else pairing.mentee_id
        people = await people_by_id(turn.session, [other_id])
        other = people[other_id].name if other_id in people else "your pair"
        started = self._started(turn, pairing)
        questions: list[Question] = [
            Question(
                id="date",
                prompt="When did you meet?",
                type=QuestionType.DATE,
                help=f"Not in the future, and not before {day_label(started)}.",
            ),
            Question(
                id="minutes",
                prompt="How long was it, in minutes?",
                type=QuestionType.NUMBER,
                min=5,
                max=MAX_MINUTES,
            ),
            question_with_choices(
                Question(id="format", prompt="In what format?", type=QuestionType.SINGLE_CHOICE),
                [(f, f) for f in _formats(turn.program)],
            ),
            question_with_choices(
                Question(
                    id="topics",
                    prompt="Which topics did you cover?",
                    type=QuestionType.MULTI_CHOICE,
                    min=1,
                    max=MAX_TOPICS,
                    help=f"Up to {MAX_TOPICS}, from the program's competencies.",
                ),
                [(c.id, c.name) for c in turn.program.competencies],
            ),
            Question(
                id="notes",
                prompt="Notes (private to the two of you)",
                type=QuestionType.TEXT,
                required=False,
                help="Only you and your pair can see them; never the program lead.",
            ),
        ]
        initial: list[tuple[str, Any]] = [("date", today_of(turn).isoformat())]
        for milestone in await milestones_of(turn.session, pairing):
            questions.append(
                question_with_choices(
                    Question(
                        id=f"milestone_{milestone.position}",
                        prompt=f"Progress on “{milestone.objective}”",
                        type=QuestionType.SINGLE_CHOICE,
                        required=False,
                        help="Left out, it stays as it was.",
                    ),
                    list(STATUS_OPTIONS),
                )
            )
            initial.append((f"milestone_{milestone.position}", milestone.status))
        return Form(
            name=self.name,
            ref=str(pairing.id),
            title="Log a session",
            questions=tuple(questions),
            initial=tuple(initial),
            intro=f"Your session with {other}.",
            reopen=f"log {pairing.id}",
        )

    def _started(self, turn: Turn, pairing: Pairing) -> date:
        assert pairing.activated_at is not None
        zone = turn.person.timezone or turn.program.program.default_timezone
        return local_date(pairing.activated_at, zone)

    async def check(self, turn: Turn, ref: str, question_id: str, answer: Any) -> str | None:
        if question_id != "date" or not isinstance(answer, str):
            return None
        pairing = await self._pairing(turn, ref)
        if isinstance(pairing, Reply):
            return pairing.text
        day = date.fromisoformat(answer)
        if day > today_of(turn):
            return "That date is in the future; log a session once it has happened."
        started = self._started(turn, pairing)
        if day < started:
            return f"That's before your pairing started ({day_label(started)}); pick a later date."
        return None

    async def save(self, turn: Turn, ref: str, answers: dict[str, Any]) -> FormResult:
        pairing = await self._pairing(turn, ref)
        if isinstance(pairing, Reply):
            return FormResult([pairing])
        trouble = await self.check(turn, ref, "date", answers.get("date"))
        if trouble is not None:
            return FormResult([], {"date": trouble})
        held_on = date.fromisoformat(answers["date"])
        minutes = int(answers["minutes"])
        milestones = await milestones_of(turn.session, pairing)
        progress = {
            str(m.position): answers[f"milestone_{m.position}"]
            for m in milestones
            if answers.get(f"milestone_{m.position}")
        }
        notes = (answers.get("notes") or "").strip() or None
        created = await record_session(
            turn.session,
            turn.program,
            pairing,
            held_on=held_on,
            minutes=minutes,
            logged_by=turn.person.id,
            now=turn.now,
            format=answers.get("format"),
            topics=list(answers.get("topics") or []),
            notes=notes,
            progress=progress,
            summarise=self.summaries,
        )
        if created is None:
            text = (
                f"A session on {day_label(held_on)} was already logged for this pairing, "
                "so it counts once."
            )
            return FormResult([Reply(text)])
        _apply_progress(milestones, progress, turn.now)
        for milestone in milestones:
            turn.session.add(milestone)
        await ask_pulse(turn.session, turn.program, pairing, turn.person, created, turn.now)
        topic_names = [
            c.name for c in turn.program.competencies if c.id in (answers.get("topics") or [])
        ]
        fields: list[tuple[str, str]] = [("Topics", ", ".join(topic_names))]
        fields += [
            (f"{m.position}. {m.objective}", MILESTONE_STATUS_LABELS.get(m.status, m.status))
            for m in milestones
        ]
        lines = [f"Logged: {minutes} minutes on {day_label(held_on)}. Thank you!"]
        if notes:
            lines.append("Your notes are private to the two of you.")
            if self.summaries and pairing.mentee_consent and pairing.mentor_consent:
                lines.append("A summary of them will follow shortly.")
        role = Role.MENTEE if pairing.mentee_id == turn.person.id else Role.MENTOR
        other = "your mentor" if role is Role.MENTEE else "your mentee"
        lines.append(f"I've asked {other} for a quick word on how it went.")
        return FormResult([Reply(" ".join(lines), title="Session logged", fields=tuple(fields))])


def _apply_progress(milestones: list[Milestone], progress: dict[str, str], now: datetime) -> None:
    for milestone in milestones:
        status = progress.get(str(milestone.position))
        if status and status != milestone.status:
            milestone.status = status
            milestone.updated_at = now


def _formats(program: Program) -> list[str]:
    """The formats the intake offers (mentees' question with meaning ``formats``)."""
    for question in program.intake.mentee:
        if question.meaning is Meaning.FORMATS and question.choices:
            return [c.label for c in question.choices]
    return list(FORMATS)


class LogCommand:
    """``log [PAIRING]``: which pairing, then the form."""

    def __init__(self, form: LogForm, flow: FormFlow) -> None:
        self.form = form
        self.flow = flow

    async def run(self, turn: Turn, args: list[str]) -> Outcome:
        if not args:
            mine = await active_pairings(turn)
            if len(mine) > 1:
                people = await people_by_id(
                    turn.session, [p.mentee_id for p in mine] + [p.mentor_id for p in mine]
                )
                options = tuple(
                    Option(
                        f"log {p.id}",
                        people[p.mentor_id if p.mentee_id == turn.person.id else p.mentee_id].name,
                    )
                    for p in mine
                )
                reply = Reply("Which pairing was the session with?", actions=options)
                return Outcome([reply], None, changed=False)
        found = await my_pairing(turn, args[:1], "log a session for")
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        return await open_form(turn, self.form, str(found.id), self.flow)


def commands(log: LogCommand) -> list[Command]:
    """The session commands."""
    return [Command("log", "log a mentoring session", log.run, usage="[PAIRING]")]
