"""Logging a mentoring session: when, how long, in what format, about what, private notes,
and progress on each milestone of the plan.

``log`` (and a nudge's Log session button) opens the session form: a Slack modal, a Teams
card, or the questions one at a time in the shell (see handlers.core.forms). Either side of a
pair can log. A logged session is the pair's sign of life: it resets the missed check-ins,
clears an at-risk flag, and moves the next check-in to ``checkin_every_days`` after it.
The other side is then asked for a short feedback pulse, and the notes are summarised when
both agreed to that at kickoff.

A day is one session, whoever logs it. When the other side logged a day in the last
:data:`OFFER_WITHIN_DAYS` days, ``log`` first asks "Ana already logged Tue 12 Jan — add your
notes to that session?" (Add my notes / Pick another date), and the shell says the same when
that day is given as the date. Whichever way it comes (the offer, the date, or two forms
open at once), the second side's answers are added to the same session: their notes are
kept apart from the first side's (neither overwrites the other), their milestone progress is
applied, the topics of both are kept, and the session counts the minutes the first side
gave (the second side's are kept with their answers). Nothing either side wrote is dropped.

Notes are private to the pair: they are never logged, and no report shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import select

from handlers.core.calendar import day_label, local_date, parse_day
from handlers.core.engine import Command, FormHandler, FormResult, Outcome, Turn
from handlers.core.forms import FormFlow, open_form, question_with_choices, today_of
from handlers.core.messages import Form, Option, Reply
from handlers.core.program import Meaning, Program, Question, QuestionType
from handlers.core.refs import parse_ref
from handlers.meetings.booking import last_held, pairing_meetings
from handlers.people.lookups import people_by_id
from handlers.plans.chat import MILESTONE_STATUS_LABELS, milestones_of, my_pairing, zone_of
from handlers.sessions.feedback import ask_pulse
from handlers.sessions.records import (
    add_to_session,
    already_in,
    record_session,
    session_on,
    summarised,
)
from storage import Milestone, MilestoneStatus, Pairing, PairingStatus, Role, SessionLog

__all__ = ["LogCommand", "LogForm", "LogRef", "commands", "record_session"]

#: Longest session that can be logged, in minutes (8 hours).
MAX_MINUTES = 480


def when_and_how_long(prompt: str, *, started: date) -> list[Question]:
    """A session form's first two questions: its day (``prompt``), then its minutes.

    The session log of a pair and of a circle both open with them.
    """
    return [
        Question(
            id="date",
            prompt=prompt,
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
    ]


#: The formats offered when the intake asks none.
FORMATS = ("One-on-one", "Group", "Shadowing", "Project-based")
MAX_TOPICS = 5

#: The other side's log of a day this recent is offered when ``log`` starts.
OFFER_WITHIN_DAYS = 7
#: ``log N new``: the whole form, without offering a session the other side logged.
NEW = "new"


@dataclass(frozen=True)
class LogRef:
    """What a session form is about, as its :attr:`Form.ref` carries it.

    Written ``12`` (pairing 12), ``12 2026-11-25`` (adding to that day's session), each
    followed by ``@`` and the instant the form was shown: a milestone that changed after
    that keeps its newer status, not the older one the form showed (two forms open at once).

    Attributes:
        pairing: The pairing's number, as sent.
        day: The day of the session the form adds to, if it adds to one.
        opened: When the form was shown, if known (forms from before this was written).
    """

    pairing: str
    day: date | None = None
    opened: datetime | None = None

    @classmethod
    def parse(cls, ref: str) -> LogRef:
        """A form's ref read back; what does not read as ours is left out."""
        words = ref.split()
        day: date | None = None
        opened: datetime | None = None
        for word in words[1:]:
            try:
                if word.startswith("@"):
                    opened = datetime.fromisoformat(word[1:])
                else:
                    day = date.fromisoformat(word)
            except ValueError:
                continue
        if opened is not None and opened.tzinfo is None:
            opened = None
        return cls(words[0] if words else "", day, opened)

    def __str__(self) -> str:
        words = [self.pairing]
        if self.day is not None:
            words.append(self.day.isoformat())
        if self.opened is not None:
            words.append(f"@{self.opened.isoformat()}")
        return " ".join(words)


STATUS_OPTIONS = tuple(
    (status.value, MILESTONE_STATUS_LABELS[status.value]) for status in MilestoneStatus
)


def _notes_question() -> Question:
    return Question(
        id="notes",
        prompt="Notes (private to the two of you)",
        type=QuestionType.TEXT,
        required=False,
        help="Only you and your pair can see them; never the program lead.",
    )


def _milestone_questions(
    milestones: list[Milestone],
) -> tuple[list[Question], list[tuple[str, Any]]]:
    """A progress question for each milestone, filled in with its status now."""
    questions = [
        question_with_choices(
            Question(
                id=f"milestone_{m.position}",
                prompt=f"Progress on “{m.objective}”",
                type=QuestionType.SINGLE_CHOICE,
                required=False,
                help="Left out, it stays as it was.",
            ),
            list(STATUS_OPTIONS),
        )
        for m in milestones
    ]
    return questions, [(f"milestone_{m.position}", m.status) for m in milestones]


class LogForm(FormHandler):
    """The session form; its ``ref`` is a :class:`LogRef`.

    Two forms share the name ``log``: the whole session (a ref with no day) and, for a day
    the other side logged, their additions to it: notes and milestone progress.

    Args:
        summaries: Whether a model is configured to summarise notes.
    """

    name = "log"

    def __init__(self, *, summaries: bool = False) -> None:
        self.summaries = summaries

    async def _pairing(self, turn: Turn, ref: str) -> Pairing | Reply:
        found = await my_pairing(turn, [LogRef.parse(ref).pairing], verb="log a session for")
        if isinstance(found, Pairing) and found.status != PairingStatus.ACTIVE:
            return Reply("That pairing has ended, so no session can be logged for it.")
        return found

    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        pairing = await self._pairing(turn, ref)
        if isinstance(pairing, Reply):
            return pairing
        assert pairing.id is not None
        wanted = LogRef.parse(ref)
        shown = LogRef(str(pairing.id), wanted.day, wanted.opened or turn.now)
        day = await self._default_day(turn, pairing)
        if shown.day is not None:
            if await session_on(turn.session, pairing.id, day=shown.day) is not None:
                return await self._addition(turn, pairing, shown)
            # No session that day yet (a meeting's "Log the session" button): the whole
            # form, that day filled in.
            day, shown = shown.day, LogRef(shown.pairing, None, shown.opened)
        other = await other_name(turn, pairing, first=False)
        started = self._started(turn, pairing)
        questions: list[Question] = [
            *when_and_how_long("When did you meet?", started=started),
            question_with_choices(
                Question(id="format", prompt="In what format?", type=QuestionType.SINGLE_CHOICE),
                [(f, f) for f in _formats(turn.programs.of(pairing.program))],
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
                [(c.id, c.name) for c in turn.programs.competencies],
            ),
            _notes_question(),
        ]
        progress, initial = _milestone_questions(await milestones_of(turn.session, pairing))
        return Form(
            name=self.name,
            ref=str(shown),
            title="Log a session",
            questions=tuple(questions + progress),
            initial=(("date", day.isoformat()), *initial),
            intro=f"Your session with {other}.",
            # The button that opens this form (Slack, typed in the DM) skips the offer.
            reopen=f"log {pairing.id} {NEW}",
        )

    async def _addition(self, turn: Turn, pairing: Pairing, ref: LogRef) -> Form | Reply:
        """The form that adds notes and progress to the session the other side logged."""
        assert ref.day is not None
        log = await session_on(turn.session, pairing.id or 0, day=ref.day)
        refused = (
            f"There's no session on {day_label(ref.day)} to add to."
            if log is None
            else already_in(log, turn.person.id)
        )
        if refused is not None or log is None:
            return Reply(f"{refused} Type log {pairing.id} {NEW} to log a session.")
        other = await other_name(turn, pairing)
        progress, initial = _milestone_questions(await milestones_of(turn.session, pairing))
        return Form(
            name=self.name,
            ref=str(ref),
            title="Add to a session",
            questions=(_notes_question(), *progress),
            initial=tuple(initial),
            intro=(
                f"{other} logged your session on {day_label(log.held_on)} ({log.minutes} "
                f"minutes). Add your notes and progress: your notes are kept apart from "
                f"{other}'s, private to the two of you."
            ),
            reopen=f"log {pairing.id} {log.held_on.isoformat()}",
        )

    async def _default_day(self, turn: Turn, pairing: Pairing) -> date:
        """The day the form offers: the last booked meeting's, unless logged, else today."""
        today: date = today_of(turn)
        program = turn.programs.of(pairing.program)
        booked = await pairing_meetings(
            turn.session, pairing, default_zone=program.default_timezone
        )
        held = last_held(booked, now=turn.now)
        if held is None:
            return today
        day = local_date(held.start, zone_of(turn.person, turn.programs.default_timezone))
        if day < self._started(turn, pairing) or day > today:
            return today
        logged = await session_on(turn.session, pairing.id or 0, day=day)
        return today if logged is not None else day

    def _started(self, turn: Turn, pairing: Pairing) -> date:
        assert pairing.activated_at is not None
        zone = turn.person.timezone or turn.programs.default_timezone
        return local_date(pairing.activated_at, zone)

    async def check(self, turn: Turn, ref: str, *, question_id: str, answer: Any) -> str | None:
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
        log = await session_on(turn.session, pairing.id or 0, day=day)
        refused = already_in(log, turn.person.id) if log is not None else None
        if refused is not None:
            return f"{refused} Pick another date: a day counts as one session."
        return None

    async def notice(self, turn: Turn, ref: str, *, question_id: str, answer: Any) -> str | None:
        if question_id != "date" or not isinstance(answer, str):
            return None
        pairing = await self._pairing(turn, ref)
        if isinstance(pairing, Reply):
            return None
        log = await session_on(turn.session, pairing.id or 0, day=date.fromisoformat(answer))
        if log is None or already_in(log, turn.person.id) is not None:
            return None
        other = await other_name(turn, pairing)
        return (
            f"{other} already logged {day_label(log.held_on)}, so your answers will be added "
            f"to that session: your notes are kept apart from {other}'s. Type back to pick "
            "another date."
        )

    async def save(self, turn: Turn, ref: str, *, answers: dict[str, Any]) -> FormResult:
        pairing = await self._pairing(turn, ref)
        if isinstance(pairing, Reply):
            return FormResult([pairing])
        wanted = LogRef.parse(ref)
        milestones = await milestones_of(turn.session, pairing)
        progress = {
            str(m.position): answers[f"milestone_{m.position}"]
            for m in milestones
            if answers.get(f"milestone_{m.position}")
        }
        notes = (answers.get("notes") or "").strip() or None
        if wanted.day is not None:
            return await self._save_addition(turn, pairing, wanted, milestones, progress, notes)
        trouble = await self.check(turn, ref, question_id="date", answer=answers.get("date"))
        if trouble is not None:
            return FormResult([], {"date": trouble})
        held_on = date.fromisoformat(answers["date"])
        minutes = int(answers["minutes"])
        topics = list(answers.get("topics") or [])
        created = await record_session(
            turn.session,
            turn.programs.of(pairing.program),
            pairing=pairing,
            held_on=held_on,
            minutes=minutes,
            logged_by=turn.person.id,
            now=turn.now,
            format=answers.get("format"),
            topics=topics,
            notes=notes,
            progress=progress,
            summarise=self.summaries,
        )
        if created is None:
            # The other side logged this day while this form was open: add to theirs.
            assert turn.person.id is not None
            added = await add_to_session(
                turn.session,
                pairing,
                held_on=held_on,
                person_id=turn.person.id,
                now=turn.now,
                minutes=minutes,
                format=answers.get("format"),
                topics=topics,
                notes=notes,
                progress=progress,
                summarise=self.summaries,
            )
            if isinstance(added, str):
                return FormResult([], {"date": f"{added} Pick another date."})
            kept = _apply_progress(turn, milestones, progress, wanted.opened)
            reply = await self._added(turn, pairing, added, milestones, kept, minutes)
            return FormResult([reply])
        kept = _apply_progress(turn, milestones, progress, wanted.opened)
        await ask_pulse(
            turn.session,
            turn.programs.of(pairing.program),
            pairing=pairing,
            logger=turn.person,
            session_log_id=created,
            now=turn.now,
        )
        topic_names = [c.name for c in turn.programs.competencies if c.id in topics]
        fields = [("Topics", ", ".join(topic_names)), *_progress_fields(milestones)]
        lines = [f"Logged: {minutes} minutes on {day_label(held_on)}. Thank you!"]
        if notes:
            lines.append("Your notes are private to the two of you.")
            if summarised(pairing, notes, enabled=self.summaries):
                lines.append("A summary of them will follow shortly.")
        lines += _kept_lines(kept)
        role = Role.MENTEE if pairing.mentee_id == turn.person.id else Role.MENTOR
        other = "your mentor" if role is Role.MENTEE else "your mentee"
        lines.append(f"I've asked {other} for a quick word on how it went.")
        return FormResult([Reply(" ".join(lines), title="Session logged", fields=tuple(fields))])

    async def _save_addition(
        self,
        turn: Turn,
        pairing: Pairing,
        ref: LogRef,
        milestones: list[Milestone],
        progress: dict[str, str],
        notes: str | None,
    ) -> FormResult:
        """Save the additions form: notes and progress added to the other side's session."""
        assert ref.day is not None
        assert turn.person.id is not None
        moved = any(progress.get(str(m.position)) not in (None, m.status) for m in milestones)
        if notes is None and not moved:
            text = (
                f"Nothing was added to the session on {day_label(ref.day)}: no notes, and no "
                f"milestone changed. Type log {pairing.id} {ref.day.isoformat()} to add some."
            )
            return FormResult([Reply(text)])
        added = await add_to_session(
            turn.session,
            pairing,
            held_on=ref.day,
            person_id=turn.person.id,
            now=turn.now,
            notes=notes,
            progress=progress,
            summarise=self.summaries,
        )
        if isinstance(added, str):
            return FormResult([Reply(f"{added} Type log {pairing.id} {NEW} to log a session.")])
        kept = _apply_progress(turn, milestones, progress, ref.opened)
        return FormResult([await self._added(turn, pairing, added, milestones, kept, None)])

    async def _added(
        self,
        turn: Turn,
        pairing: Pairing,
        log: SessionLog,
        milestones: list[Milestone],
        kept: list[Milestone],
        minutes: int | None,
    ) -> Reply:
        """What the second side reads once their answers are in the first side's session."""
        other = await other_name(turn, pairing)
        lines = [
            f"Added to the session {other} logged on {day_label(log.held_on)}; it counts once,"
            f" as {log.minutes} minutes."
        ]
        if minutes is not None and minutes != log.minutes:
            lines.append(f"Your {minutes} minutes are kept with your answers.")
        if log.second_notes:
            lines.append(f"Your notes are kept apart from {other}'s, private to the two of you.")
            if summarised(pairing, log.second_notes, enabled=self.summaries):
                both = "both sides' notes" if log.notes else "the notes"
                lines.append(f"A summary of {both} will follow shortly.")
        lines += _kept_lines(kept)
        topic_names = [c.name for c in turn.programs.competencies if c.id in log.topics]
        fields = [("Topics", ", ".join(topic_names)), *_progress_fields(milestones)]
        return Reply(" ".join(lines), title="Added to the session", fields=tuple(fields))


async def other_name(turn: Turn, pairing: Pairing, *, first: bool = True) -> str:
    """The other side of the pair as the person calls them: their first name, or full name."""
    other_id = pairing.mentor_id if pairing.mentee_id == turn.person.id else pairing.mentee_id
    people = await people_by_id(turn.session, [other_id])
    name = people[other_id].name.strip() if other_id in people else ""
    if not name:
        return "Your pair"
    return name.split()[0] if first else name


def _apply_progress(
    turn: Turn, milestones: list[Milestone], progress: dict[str, str], opened: datetime | None
) -> list[Milestone]:
    """Set each milestone to the status given; returns those kept as they were instead.

    A milestone that changed after the form was shown (``opened``) keeps its newer status:
    the answer was given against an older one (the other side logged in between).
    """
    kept = []
    for milestone in milestones:
        status = progress.get(str(milestone.position))
        if not status or status == milestone.status:
            continue
        if opened is not None and milestone.updated_at > opened:
            kept.append(milestone)
            continue
        milestone.status = status
        milestone.updated_at = turn.now
        turn.session.add(milestone)
    return kept


def _kept_lines(kept: list[Milestone]) -> list[str]:
    return [
        f"“{m.objective}” stays {MILESTONE_STATUS_LABELS.get(m.status, m.status)}: it was "
        "updated after you opened this form."
        for m in kept
    ]


def _progress_fields(milestones: list[Milestone]) -> list[tuple[str, str]]:
    return [
        (f"{m.position}. {m.objective}", MILESTONE_STATUS_LABELS.get(m.status, m.status))
        for m in milestones
    ]


def _formats(program: Program) -> list[str]:
    """The formats the intake offers (the question with meaning ``formats``: mentees', or
    peers' in a peer program)."""
    for question in program.intake.mentee or program.intake.peer or []:
        if question.meaning is Meaning.FORMATS and question.choices:
            return [c.label for c in question.choices]
    return list(FORMATS)


class LogCommand:
    """``log [PAIRING] [DATE]``: which pairing, then the form.

    With no date, a day the other side logged lately is offered first (add to it, or pick
    another date); with a date, the additions form for that day's session; ``new`` instead
    of a date opens the whole form at once.
    """

    def __init__(self, form: LogForm, flow: FormFlow) -> None:
        self.form = form
        self.flow = flow

    async def run(self, turn: Turn, args: list[str]) -> Outcome:
        # With several pairings and none named, my_pairing asks which, one button each.
        named = bool(args) and parse_ref(args[0]) is not None
        found = await my_pairing(turn, args[:1] if named else [], verb="log a session for")
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        rest = " ".join(args[1:] if named else args)
        if rest.lower() == NEW:
            return await open_form(turn, self.form, ref=str(found.id), flow=self.flow)
        if rest:
            return await self._add_to(turn, found, rest)
        offer = await self._offer(turn, found)
        if offer is not None:
            return Outcome([offer], None, changed=False)
        return await open_form(turn, self.form, ref=str(found.id), flow=self.flow)

    async def _offer(self, turn: Turn, pairing: Pairing) -> Reply | None:
        """The other side's latest session of the last days that this person has not added
        to, offered before the form starts."""
        other_id = pairing.mentor_id if pairing.mentee_id == turn.person.id else pairing.mentee_id
        since = today_of(turn) - timedelta(days=OFFER_WITHIN_DAYS)
        found = await turn.session.exec(
            select(SessionLog)
            .where(
                SessionLog.pairing_id == pairing.id,
                SessionLog.logged_by == other_id,
                SessionLog.second_at.is_(None),  # type: ignore[union-attr]
                SessionLog.held_on >= since,
            )
            .order_by(SessionLog.held_on.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
        log = found.first()
        if log is None:
            return None
        other = await other_name(turn, pairing)
        return Reply(
            f"{other} already logged {day_label(log.held_on)} — add your notes to that session?",
            title="Log a session",
            actions=(
                Option(f"log {pairing.id} {log.held_on.isoformat()}", "Add my notes to it"),
                Option(f"log {pairing.id} {NEW}", "Pick another date"),
            ),
        )

    async def _add_to(self, turn: Turn, pairing: Pairing, typed: str) -> Outcome:
        """``log N DATE``: the additions form for that day's session."""
        day = parse_day(typed, today_of(turn), past=True)
        if day is None:
            text = (
                f"I can't read {typed!r} as a date. Type log {pairing.id} to log a session, "
                f"or log {pairing.id} and the day of a session your pair logged to add to it."
            )
            return Outcome([Reply(text)], None, changed=False)
        ref = LogRef(str(pairing.id), day)
        return await open_form(turn, self.form, ref=str(ref), flow=self.flow)


def commands(log: LogCommand) -> list[Command]:
    """The session commands."""
    return [
        Command(
            "log",
            "log a mentoring session, or add yours to one your pair logged",
            log.run,
            usage="[PAIRING] [DATE]",
        )
    ]
