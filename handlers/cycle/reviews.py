"""What happens when a calibration or a review falls due, with the surveys they ask.

* the **calibration** asks both "Is this pairing working for you?" (Yes / Not really);
* the **mid-point**, the **quarterly reviews** and the **end-of-cycle review** (continue or
  close) go to both with the plan's milestones.

The calibration, mid-point and end-of-cycle review are also feedback checkpoints: each asks
both sides its survey (handlers.sessions.feedback) and schedules the look that reminds
whoever leaves it unanswered (handlers.cycle.reminders).
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date
from handlers.core.messages import Option, Reply, plural
from handlers.cycle.batch import Due, DueHandler, Handled
from handlers.cycle.schedule import reminder_check
from handlers.plans.chat import milestone_progress
from handlers.sessions.feedback import CHECKPOINTS, checkpoint_rows, give_feedback
from storage import DueKind, Role


async def calibration(session: AsyncSession, due: Due) -> Handled:
    """One month in: ask both whether the pairing works, and ask the checkpoint's survey."""
    pair = due.pair

    def ask(other: str, role: Role) -> Reply:
        return Reply(
            f"You've been paired with {other} for a month now. Is this pairing working "
            "for you? Your answer goes to the program lead only if it isn't.",
            title="One month in",
            actions=(
                Option(f"calibrate {pair.id} yes", "Yes"),
                Option(f"calibrate {pair.id} no", "Not really"),
                give_feedback(pair.id, CHECKPOINTS[due.item.kind]),
            ),
        )

    due.tell_both(ask)
    _ask_surveys(due)
    return "sent"


async def review(session: AsyncSession, due: Due) -> Handled:
    """The mid-point, a quarterly review or the end of the cycle: both read the plan."""
    pair, batch, kind = due.pair, due.batch, due.item.kind
    cadence = batch.program.cadence
    sessions = batch.sessions.get(pair.id, 0)
    logged = f"{plural(sessions, 'session')} logged so far."
    fields = _plan_fields(due)
    plan_note = "" if fields else " You haven't written a plan yet: type plan."
    actions: tuple[Option, ...]
    if kind == DueKind.MIDPOINT:
        title = "Halfway there"
        opening = "You're halfway through your {days} days with {other}. " + logged
        actions = (
            Option(f"log {pair.id}", "Log session"),
            Option(f"plan {pair.id}", "See the plan"),
            give_feedback(pair.id, CHECKPOINTS[kind]),
        )
    elif kind == DueKind.QUARTERLY_REVIEW:
        title = "Quarterly review"
        opening = (
            "It's quarterly review time: a good moment to look back with {other} at "
            "what has changed and to agree what's next. " + logged
        )
        actions = (
            Option(f"log {pair.id}", "Log session"),
            Option(f"plan {pair.id}", "See the plan"),
        )
    else:
        title = "Your cycle is complete"
        opening = (
            "Your {days} days with {other} are up. " + logged + " Would you like to "
            "continue for another cycle, or close the pairing?"
        )
        actions = (
            Option(f"continue {pair.id}", "Continue another cycle"),
            Option(f"close {pair.id}", "Close the pairing"),
            give_feedback(pair.id, CHECKPOINTS[kind]),
        )

    def words(other: str, role: Role) -> Reply:
        text = opening.format(days=cadence.cycle_days, other=other)
        return Reply(
            text + (plan_note if role is Role.MENTEE else ""),
            title=title,
            fields=fields,
            actions=actions,
        )

    due.tell_both(words)
    if kind in CHECKPOINTS:
        _ask_surveys(due)
    return "sent"


def _ask_surveys(due: Due) -> None:
    """Ask both sides the checkpoint's survey, and look later at who left it unanswered."""
    pair, batch = due.pair, due.batch
    batch.surveys += checkpoint_rows(
        pair.id,
        cycle=pair.cycle,
        mentee_id=pair.mentee_id,
        mentor_id=pair.mentor_id,
        kind=due.item.kind,
        now=batch.now,
    )
    due.follow_ups.extend(_survey_check(due))


def _survey_check(due: Due) -> list[dict[str, Any]]:
    """The look at the surveys a checkpoint just asked, to remind whoever leaves one open."""
    batch = due.batch
    return reminder_check(
        batch.program,
        pairing_id=due.pair.id,
        kind=DueKind.SURVEY_REMINDER,
        owed_since=batch.now,
        now=batch.now,
    )


def _plan_fields(due: Due) -> tuple[tuple[str, str], ...]:
    pair, batch = due.pair, due.batch
    # Judged on the day the review is queued: it goes out within working hours.
    today = local_date(batch.now, pair.mentee_zone)
    return tuple(
        (
            f"{position}. {objective}",
            f"by {day_label(target)} · {milestone_progress(status, target, today=today)}",
        )
        for position, objective, target, status in batch.milestones.get(pair.id, [])
    )


#: The due kinds this module handles (see handlers.cycle.registry).
HANDLERS: dict[DueKind, DueHandler] = {
    DueKind.CALIBRATION: calibration,
    DueKind.MIDPOINT: review,
    DueKind.QUARTERLY_REVIEW: review,
    DueKind.END_REVIEW: review,
}
