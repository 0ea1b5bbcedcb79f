"""Reminding whoever owes the next step: the plan, its confirmation, a survey.

A step falls to one person at a moment. The mentee owes the plan from the day the cycle
starts; once it is saved, the mentor owes its confirmation; each person asked a survey
(a pulse after a session, the calibration, mid-point and end-of-cycle surveys) owes their
own answer from when it was asked. Only that person is reminded: a survey the mentee has
answered and the mentor has not reminds the mentor alone.

A due item of kind ``plan_reminder`` or ``survey_reminder`` is a look at what is still
owed. It falls due ``cadence.remind_after_days`` after a step fell to someone; when it
does, the k-th reminder of each step still owed goes out (k: how many
``remind_after_days`` have passed since, at most ``cadence.max_reminders``), and the next
look is scheduled. Each reminder's outbox key names the step and k, so a step is never
reminded twice for the same k, however many looks fall due (two at once, a retried tick,
a look a pause held back). Like every scheduled message, a reminder reaches its reader
inside their working hours, and the days it counts are counted when it is delivered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date
from handlers.core.messages import DaysSince, Option, Reply, counting
from handlers.core.naming import for_reader
from handlers.core.outbox import enqueue
from handlers.core.program import Cadence, Program
from handlers.cycle.batch import Due, DueHandler, Handled, Message, Pair
from handlers.cycle.schedule import due_row, insert_due, reminder_check
from handlers.sessions.feedback import READINESS, TITLES, give_feedback
from storage import DueKind, FeedbackStatus, Pairing, Person, Role
from storage.queries import among
from storage.tables import FEEDBACK, PAIRING, PLAN_VERSION


@dataclass(frozen=True)
class Side:
    """One side of a pairing, as a reminder addresses them."""

    person_id: int
    name: str
    zone: str

    @property
    def first(self) -> str:
        """Their first name."""
        return self.name.split()[0] if self.name else self.name


@dataclass(frozen=True)
class PairSides:
    """A pairing as a reminder sees it: its current cycle and its two sides."""

    id: int
    cycle: int
    start: datetime
    mentee: Side
    mentor: Side


def sides_of(pair: Pair) -> PairSides:
    """The pairing of a due pass as the reminders of owed steps see it."""
    return PairSides(
        id=pair.id,
        cycle=pair.cycle,
        start=pair.start,
        mentee=Side(pair.mentee_id, pair.mentee, pair.mentee_zone),
        mentor=Side(pair.mentor_id, pair.mentor, pair.mentor_zone),
    )


@dataclass(frozen=True)
class Reminder:
    """A reminder to queue for the one person who owes a step."""

    to: Side
    reply: Reply
    key: str


@dataclass
class Looked:
    """What a look at the owed steps found.

    Attributes:
        reminders: The reminders to queue now.
        again: When to look again; None when nothing more will be reminded.
    """

    reminders: list[Reminder] = field(default_factory=list)
    again: datetime | None = None

    def later(self, moment: datetime | None) -> None:
        """Look again at ``moment`` too (the earliest of all asked for wins)."""
        if moment is not None and (self.again is None or moment < self.again):
            self.again = moment


def reminder_number(cadence: Cadence, *, owed_since: datetime, now: datetime) -> int:
    """Which reminder of a step owed since ``owed_since`` is due at ``now`` (0: none yet)."""
    every = timedelta(days=cadence.remind_after_days)
    return min(cadence.max_reminders, (now - owed_since) // every)


def next_look(cadence: Cadence, *, owed_since: datetime, number: int) -> datetime | None:
    """When reminder ``number + 1`` of a step falls due; None after the last."""
    if number >= cadence.max_reminders:
        return None
    return owed_since + (number + 1) * timedelta(days=cadence.remind_after_days)


# --- the plan ------------------------------------------------------------------------------


def write_your_plan(pair: PairSides, now: datetime) -> Reply:
    """The mentee's reminder that the plan is still theirs to write."""
    mentee, mentor = pair.mentee, pair.mentor
    return counting(
        (
            "It's been ",
            DaysSince(local_date(pair.start, mentee.zone), mentee.zone),
            f" since your cycle with {mentor.first} began, and your plan for it isn't written "
            "yet. A few milestones, each an objective with a target date, give your meetings "
            f"a direction; {mentor.first} will see the plan and confirm it.",
        ),
        now=now,
        title="Your plan is still to write",
        actions=(Option(f"plan {pair.id}", "Write my plan"),),
        hint="Or type plan whenever you're ready.",
    )


def confirm_the_plan(pair: PairSides, *, saved: datetime, now: datetime) -> Reply:
    """The mentor's reminder that the mentee's plan waits for their confirmation."""
    mentee, mentor = pair.mentee, pair.mentor
    return counting(
        (
            f"{mentee.first} sent you their plan ",
            DaysSince(local_date(saved, mentor.zone), mentor.zone),
            " ago and it's waiting for you to confirm it. Have a look, then confirm it or "
            "ask to talk it through first.",
        ),
        now=now,
        title=f"{mentee.name}'s plan is waiting for you",
        actions=(Option(f"plan {pair.id}", "See the plan"),),
    )


#: A pairing's plan as a reminder sees it: when this cycle's plan was last saved (None: not
#: yet), and when it was confirmed (None: not yet).
PlanState = tuple[datetime | None, datetime | None]


async def plan_states(session: AsyncSession, pairing_ids: Sequence[int]) -> dict[int, PlanState]:
    """Each pairing's :data:`PlanState`, for its current cycle, in one query."""
    conn = await session.connection()
    last_save = (
        sa.select(sa.func.max(PLAN_VERSION.c.written_at))
        .where(
            PLAN_VERSION.c.pairing_id == PAIRING.c.id,
            PLAN_VERSION.c.cycle == PAIRING.c.cycle,
        )
        .scalar_subquery()
    )
    found = await conn.execute(
        sa.select(PAIRING.c.id, last_save, PAIRING.c.plan_confirmed_at).where(
            among(conn, PAIRING.c.id, ids=sorted(set(pairing_ids)))
        )
    )
    return {row[0]: (row[1], row[2]) for row in found.all()}


async def remind_plan(
    session: AsyncSession,
    program: Program,
    *,
    pair: PairSides,
    now: datetime,
    state: PlanState | None = None,
) -> Looked:
    """Remind the mentee of an unwritten plan, or the mentor of an unconfirmed one.

    ``state`` is the pairing's plan as the due pass loaded it for its batch; looked up
    here when not given.
    """
    if state is None:
        state = (await plan_states(session, [pair.id])).get(pair.id, (None, None))
    saved, confirmed = state
    looked = Looked()
    if saved is not None and confirmed is not None:
        return looked  # nothing owed
    cadence = program.cadence
    if saved is None:
        owed_since, to, step = pair.start, pair.mentee, "write"
        reply = write_your_plan(pair, now)
    else:
        # A rewritten plan is a new step: its confirmation is owed from the new save.
        owed_since, to, step = saved, pair.mentor, f"confirm:{saved.isoformat()}"
        reply = confirm_the_plan(pair, saved=saved, now=now)
    number = reminder_number(cadence, owed_since=owed_since, now=now)
    if number:
        key = f"plan-reminder:{pair.id}:{pair.cycle}:{step}:{number}"
        looked.reminders.append(Reminder(to, reply, key))
    end = pair.start + timedelta(days=cadence.cycle_days)
    again = next_look(cadence, owed_since=owed_since, number=number)
    looked.later(again if again is not None and again < end else None)
    return looked


async def plan_saved(
    session: AsyncSession, program: Program, *, pairing_id: int, now: datetime
) -> None:
    """A plan was saved: the mentor owes its confirmation from now, so look again later."""
    await insert_due(
        session,
        reminder_check(
            program, pairing_id=pairing_id, kind=DueKind.PLAN_REMINDER, owed_since=now, now=now
        ),
    )


async def ask_for_plan(
    session: AsyncSession,
    program: Program,
    *,
    pairing: Pairing,
    mentee: Person,
    mentor: Person,
    now: datetime,
) -> bool:
    """The mentor asked for the plan: ask the mentee for it, once a day at most.

    Returns:
        True when asked now; False when the mentee was asked already today.
    """
    assert pairing.id is not None
    assert mentee.id is not None
    zone = mentee.timezone or program.default_timezone
    today = local_date(now, zone)
    first = mentor.name.split()[0] if mentor.name else "Your mentor"
    return await enqueue(
        session,
        person_id=mentee.id,
        replies=await for_reader(
            session,
            program,
            person_id=mentee.id,
            replies=[
                Reply(
                    f"{first} is looking forward to your plan for this cycle: a few "
                    "milestones, each an objective with a target date. They'll see it and "
                    "confirm it.",
                    title="Your plan, please",
                    actions=(Option(f"plan {pairing.id}", "Write my plan"),),
                    hint="Or type plan whenever you're ready.",
                )
            ],
        ),
        dedupe_key=f"pairing:{pairing.id}:plan-requested:{pairing.cycle}:{today.isoformat()}",
        now=now,
        program=program,
        pairing_id=pairing.id,
    )


# --- surveys -------------------------------------------------------------------------------


def answer_your_survey(
    pair: PairSides,
    survey: str,
    *,
    to: Side,
    other: Side,
    asked: datetime,
    shared: bool,
    now: datetime,
) -> Reply:
    """A reminder of one survey, to the person who has not answered it."""
    private = "your pair will see your answers" if shared else "your answers stay private"
    title = TITLES.get(survey, "Feedback")
    day = local_date(asked, to.zone)
    return counting(
        (
            f'Your answers to "{title}", about your pairing with {other.first}, aren\'t in '
            "yet: I asked you ",
            DaysSince(day, to.zone),
            f" ago ({day_label(day)}). It takes a couple of minutes, and {private}.",
        ),
        now=now,
        title="Your feedback, please",
        actions=(give_feedback(pair.id, survey),),
    )


#: A survey someone was asked and has not answered: its id, survey, role and when asked.
OpenSurvey = tuple[int, str, str, datetime]


async def open_surveys(
    session: AsyncSession, pairing_ids: Sequence[int]
) -> dict[int, list[OpenSurvey]]:
    """Each pairing's unanswered surveys (oldest first), in one query.

    Mentor readiness is left out: it is asked in the same form as the mentee's checkpoint
    survey. A request whose respondent was erased is left out too.
    """
    conn = await session.connection()
    found = await conn.execute(
        sa.select(
            FEEDBACK.c.pairing_id,
            FEEDBACK.c.id,
            FEEDBACK.c.survey,
            FEEDBACK.c.role,
            FEEDBACK.c.asked_at,
        )
        .where(
            among(conn, FEEDBACK.c.pairing_id, ids=sorted(set(pairing_ids))),
            FEEDBACK.c.status == FeedbackStatus.ASKED.value,
            FEEDBACK.c.survey != READINESS,
            FEEDBACK.c.respondent_id.is_not(None),
        )
        .order_by(FEEDBACK.c.asked_at, FEEDBACK.c.id)
    )
    surveys: dict[int, list[OpenSurvey]] = {pairing_id: [] for pairing_id in pairing_ids}
    for pairing_id, request_id, survey, role, asked in found.all():
        surveys[pairing_id].append((request_id, survey, role, asked))
    return surveys


async def remind_surveys(
    session: AsyncSession,
    program: Program,
    *,
    pair: PairSides,
    now: datetime,
    state: list[OpenSurvey] | None = None,
) -> Looked:
    """Remind each side of the pairing's surveys they, and only they, have not answered.

    ``state`` is the pairing's unanswered surveys as the due pass loaded them for its
    batch; looked up here when not given.
    """
    if state is None:
        state = (await open_surveys(session, [pair.id])).get(pair.id, [])
    cadence = program.cadence
    shared = program.feedback.share_with_pair
    looked = Looked()
    # Only this cycle's: a new cycle leaves the last one's surveys behind.
    for request_id, survey, role, asked in (s for s in state if s[3] >= pair.start):
        to, other = (
            (pair.mentee, pair.mentor) if role == Role.MENTEE.value else (pair.mentor, pair.mentee)
        )
        number = reminder_number(cadence, owed_since=asked, now=now)
        if number:
            reply = answer_your_survey(
                pair, survey, to=to, other=other, asked=asked, shared=shared, now=now
            )
            looked.reminders.append(Reminder(to, reply, f"survey-reminder:{request_id}:{number}"))
        looked.later(next_look(cadence, owed_since=asked, number=number))
    return looked


class Look(Protocol):
    """Looking at one pair for what a reminder kind owes: :func:`remind_plan` and the like."""

    def __call__(
        self,
        session: AsyncSession,
        program: Program,
        *,
        pair: PairSides,
        now: datetime,
        state: Any = None,
    ) -> Awaitable[Looked]: ...


class Facts(Protocol):
    """What a look needs of each pairing of a batch, loaded at once."""

    def __call__(
        self, session: AsyncSession, pairing_ids: Sequence[int]
    ) -> Awaitable[Mapping[int, Any]]: ...


#: What each reminder kind looks at, by the due item kind (as commands are registered), and
#: what it needs loaded for the batch.
LOOKS: dict[str, tuple[Look, Facts]] = {
    DueKind.PLAN_REMINDER.value: (remind_plan, plan_states),
    DueKind.SURVEY_REMINDER.value: (remind_surveys, open_surveys),
}


async def look(session: AsyncSession, due: Due) -> Handled:
    """A look fell due: remind whoever still owes a step, and schedule the next look.

    The first look of a kind in a batch loads what every look of that kind in the batch
    needs, for all the batch's pairings, in one query.
    """
    pair, kind, now, batch = due.pair, due.item.kind, due.batch.now, due.batch
    remind, facts = LOOKS[kind]
    if kind not in batch.facts:
        batch.facts[kind] = dict(await facts(session, sorted(batch.pairs)))
    looked = await remind(
        session,
        batch.program,
        pair=sides_of(pair),
        now=now,
        state=batch.facts[kind].get(pair.id),
    )
    for reminder in looked.reminders:
        to = reminder.to
        due.messages.append(
            Message(to.person_id, to.zone, reminder.reply, reminder.key, False, due.item.id)
        )
    if looked.again is not None:
        due.follow_ups.append(due_row(pair.id, kind=kind, due_at=looked.again, now=now))
    return "sent" if looked.reminders else "suppressed"


#: The due kinds this module handles (see handlers.cycle.registry).
HANDLERS: dict[DueKind, DueHandler] = {DueKind(kind): look for kind in LOOKS}
