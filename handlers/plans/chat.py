"""The 90-day plan in chat: the mentee writes it, the mentor confirms it or asks to discuss it.

A plan is up to three milestones, each an objective with a target date inside the cycle;
each saved plan is a version (handlers.plans.versions). This module also finds the pairing
a command is about (:func:`my_pairing`), for the other journeys' commands too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date, parse_day
from handlers.core.engine import Command, Flow, FlowState, Outcome, Turn
from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Option, Prompt, PromptKind, Reply
from handlers.core.naming import for_reader, in_several
from handlers.core.outbox import enqueue
from handlers.core.questions import KEEP, pick_option, quoted
from handlers.core.refs import Ref, fetch, parse_ref
from handlers.cycle.reminders import ask_for_plan, plan_saved
from handlers.cycle.schedule import cycle_end
from handlers.meetings.booking import find_a_time
from handlers.people.lookups import pairings_of, people_by_id
from handlers.plans.versions import (
    card_key,
    confirm_version,
    current_and_earlier,
    mark_shown,
    reached_mentor,
    save_version,
    version_of,
)
from storage import (
    Milestone,
    MilestoneStatus,
    Pairing,
    PairingStatus,
    Person,
    PlanVersion,
    Role,
)

MAX_MILESTONES = 3
MILESTONE_STATUS_LABELS = {
    MilestoneStatus.NOT_STARTED.value: "not started",
    MilestoneStatus.ON_TRACK.value: "on track",
    MilestoneStatus.DONE.value: "done",
}


def zone_of(person: Person, program_zone: str) -> str:
    """A person's timezone, or the program's when they gave none."""
    return person.timezone or program_zone


# --- finding the pairing a command is about ------------------------------------------------


async def active_pairings(turn: Turn) -> list[Pairing]:
    """The person's active pairings in every program, oldest first."""
    return await pairings_of(
        turn.session, None, person_id=turn.person.id, statuses=[PairingStatus.ACTIVE]
    )


async def my_pairing(
    turn: Turn, args: list[str], *, verb: str, offer: bool = True
) -> Pairing | Reply:
    """The active pairing a command names by number (or the only one), else why not.

    Args:
        verb: What the command does, its first word the command itself (``log a session
            for``, ``snooze``), as the replies say it.
        offer: With several pairings, offer each as a button that runs the command for it;
            False for a command that should not run at one click (ending a pairing).
    """
    ref = parse_ref(args[0]) if args else None
    if ref is not None:
        pairing = await fetch(turn.session, Pairing, ref=ref)
        me = turn.person.id
        if pairing is None or me not in (pairing.mentee_id, pairing.mentor_id):
            # The same answer for someone else's pairing as for none: nothing leaks.
            return Reply(f"There's no pairing {ref.shown} for you. Type status to see yours.")
        return pairing
    mine = await active_pairings(turn)
    if not mine:
        return Reply(f"You have no active pairing to {verb}. Type status to see where you stand.")
    if len(mine) > 1:
        return await which_pairing(turn, mine, command=verb.split()[0], offer=offer)
    return mine[0]


async def which_pairing(
    turn: Turn, pairings: list[Pairing], *, command: str, offer: bool = True
) -> Reply:
    """Ask which pairing a command is for: each by number, with the other person's name.

    Someone in several programs also reads each pairing's program, since the same person
    can be their mentee in one and their mentor in another.

    Args:
        command: The word to type with the number (``log``, ``plan``).
        offer: Offer each pairing as a button that runs ``command`` for it.
    """
    me = turn.person.id
    assert me is not None
    people = await people_by_id(
        turn.session, [p.mentor_id if p.mentee_id == me else p.mentee_id for p in pairings]
    )
    named = me in await in_several(turn.session, [me])
    described: list[str] = []
    options: list[Option] = []
    for pairing in pairings:
        other = people.get(pairing.mentor_id if pairing.mentee_id == me else pairing.mentee_id)
        who = other.name if other is not None and other.name else "your pair"
        if named:
            who += f" ({turn.programs.of(pairing.program).name})"
        described.append(f"{pairing.id} with {who}")
        options.append(Option(f"{command} {pairing.id}", who[:1].upper() + who[1:]))
    return Reply(
        f"You're in {len(pairings)} pairings: {', '.join(described)}; type {command} and its "
        "number.",
        actions=tuple(options) if offer else (),
    )


def role_in(pairing: Pairing, person: Person) -> Role:
    """Which side of the pairing this person is on."""
    return Role.MENTEE if pairing.mentee_id == person.id else Role.MENTOR


# --- the plan ------------------------------------------------------------------------------


async def milestones_of(session: AsyncSession, pairing: Pairing) -> list[Milestone]:
    """The milestones of the pairing's current cycle, in order."""
    result = await session.exec(
        select(Milestone)
        .where(Milestone.pairing_id == pairing.id, Milestone.cycle == pairing.cycle)
        .order_by(Milestone.position)  # type: ignore[arg-type]
    )
    return list(result.all())


def milestone_progress(status: str, target: date, *, today: date | None) -> str:
    """A milestone's progress in words; one past its date and not done is overdue.

    Args:
        status: The progress last logged (a :class:`MilestoneStatus` value).
        target: The milestone's target date.
        today: The reader's today; None where no day is known (the date is not judged).
    """
    if today is not None and status != MilestoneStatus.DONE.value and target < today:
        return "overdue"
    return MILESTONE_STATUS_LABELS.get(status, status)


def plan_fields(
    milestones: list[Milestone], today: date | None = None
) -> tuple[tuple[str, str], ...]:
    """Milestones as label/value pairs: ``1. Objective`` → ``by Tue 8 Dec · on track``."""
    return tuple(
        (
            f"{m.position}. {m.objective}",
            f"by {day_label(m.target_date)}"
            f" · {milestone_progress(m.status, m.target_date, today=today)}",
        )
        for m in milestones
    )


class PlanFlow(Flow):
    """The mentee writes the cycle's plan: up to three objectives, each with a target date."""

    name = "plan"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``plan`` command: the mentee writes (or rewrites) it; the mentor sees it."""
        found = await my_pairing(turn, args, verb="plan")
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        pairing = found
        program = turn.programs.of(pairing.program)
        milestones = await milestones_of(turn.session, pairing)
        people = await people_by_id(turn.session, [pairing.mentee_id, pairing.mentor_id])
        mentee = people[pairing.mentee_id]
        if role_in(pairing, turn.person) is Role.MENTOR:
            if not milestones:
                asked = await ask_for_plan(
                    turn.session,
                    program,
                    pairing=pairing,
                    mentee=mentee,
                    mentor=turn.person,
                    now=turn.now,
                )
                asked_when = "I've asked them to" if asked else "I asked them to earlier today"
                return Outcome(
                    [Reply(f"{mentee.name} hasn't written your plan yet; {asked_when}.")],
                    None,
                    changed=False,
                )
            return await _show_to_mentor(turn, pairing, mentee, milestones)
        end = self._end(turn, pairing)
        data: dict[str, Any] = {"pairing": pairing.id, "end": end.isoformat(), "milestones": []}
        lines = [
            f"Let's write your plan: up to {MAX_MILESTONES} milestones, each an objective "
            f"with a target date by {day_label(end)}."
        ]
        if milestones:
            current, _ = await current_and_earlier(turn.session, pairing)
            standing = _standing(turn, current, people[pairing.mentor_id])
            lines.append(f"This replaces your current plan{standing}:")
            today = local_date(turn.now, zone_of(turn.person, turn.programs.default_timezone))
            lines += [f"• {label}: {value}" for label, value in plan_fields(milestones, today)]
        state = FlowState(self.name, "objective", data)
        return Outcome([Reply("\n".join(lines)), *self.ask(turn, state)], state)

    def _end(self, turn: Turn, pairing: Pairing) -> date:
        zone = zone_of(turn.person, turn.programs.default_timezone)
        return local_date(cycle_end(pairing, turn.programs.of(pairing.program).cadence), zone)

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        number = len(state.data["milestones"]) + 1
        if state.step == "objective":
            typed = state.data.get("objective")
            return [
                Reply(
                    f"Milestone {number}: what do you want to achieve? One short sentence, "
                    'e.g. "Run my first team retrospective".'
                    + (f"\nYour answer so far: {typed}" if typed else ""),
                    prompt=Prompt(PromptKind.TEXT),
                    hint="Type keep to keep it." if typed else None,
                )
            ]
        if state.step == "target":
            end = date.fromisoformat(state.data["end"])
            return [
                Reply(
                    f"By when? A date up to {day_label(end)} (e.g. {end.isoformat()}, "
                    '"in 3 weeks", or a weekday).',
                    prompt=Prompt(PromptKind.TEXT),
                )
            ]
        return [
            Reply(
                "Add another milestone?",
                prompt=Prompt(
                    PromptKind.SINGLE,
                    (Option("more", "Add another"), Option("done", "That's all, save it")),
                ),
            )
        ]

    def describe(self, state: FlowState) -> str:
        return f"milestone {len(state.data['milestones']) + 1} of your 90-day plan"

    def cancelled(self, state: FlowState) -> str:
        return "Cancelled; your plan is as it was. Type plan to start again."

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        data = dict(state.data)
        milestones: list[dict[str, str]] = list(data["milestones"])
        text = turn.text
        if state.step == "objective":
            if text.lower() == KEEP and data.get("objective"):
                text = data["objective"]  # back from the date, objective unchanged
            if not 3 <= len(text) <= 300:
                problem = "Please write the objective in a few words (3 to 300 characters)."
                return Outcome([Reply(problem), *self.ask(turn, state)], state, False)
            data["objective"] = text
            step = FlowState(self.name, "target", data)
            return Outcome(self.ask(turn, step), step)
        if state.step == "target":
            zone = zone_of(turn.person, turn.programs.default_timezone)
            today = local_date(turn.now, zone)
            end = date.fromisoformat(data["end"])
            day = parse_day(text, today)
            trouble: str | None = None
            if day is None:
                trouble = (
                    f"I can't read {quoted(text)} as a date; write it like {end.isoformat()}, "
                    '"in 3 weeks" or "friday".'
                )
            elif day <= today:
                trouble = "The target date has to be after today."
            elif day > end:
                trouble = f"The target date has to be inside the cycle, by {day_label(end)}."
            if trouble is not None:
                return Outcome([Reply(trouble), *self.ask(turn, state)], state, False)
            assert day is not None
            milestones.append({"objective": data.pop("objective"), "target": day.isoformat()})
            data["milestones"] = milestones
            if len(milestones) >= MAX_MILESTONES:
                return await self._save(turn, data)
            step = FlowState(self.name, "more", data)
            return Outcome(self.ask(turn, step), step)
        action = turn.inbound.action
        try:
            choice = pick_option(
                text,
                values=action.values if action else None,
                options=[("more", "add another"), ("done", "that's all, save it")],
            )
        except InvalidAnswer as problem:
            return Outcome([Reply(str(problem)), *self.ask(turn, state)], state, False)
        if choice == "more":
            step = FlowState(self.name, "objective", data)
            return Outcome(self.ask(turn, step), step)
        return await self._save(turn, data)

    async def back(self, turn: Turn, state: FlowState) -> Outcome:
        """Go to the previous question: a milestone's objective, its date, or "another?"."""
        data = dict(state.data)
        milestones: list[dict[str, str]] = list(data["milestones"])
        if state.step == "target":
            # The objective typed is kept and shown, so it can be kept or retyped.
            previous = FlowState(self.name, "objective", data)
        elif state.step == "more":
            # Reopen the last milestone's date; its objective stays as typed.
            last = milestones.pop()
            data.update(milestones=milestones, objective=last["objective"])
            previous = FlowState(self.name, "target", data)
        elif milestones:
            previous = FlowState(self.name, "more", data)
        else:
            text = "This is the first question. Type cancel to stop."
            return Outcome([Reply(text), *self.ask(turn, state)], state, False)
        return Outcome(self.ask(turn, previous), previous)

    async def _save(self, turn: Turn, data: dict[str, Any]) -> Outcome:
        pairing = await turn.session.get(Pairing, data["pairing"])
        ended = Reply("This pairing has ended, so the plan wasn't saved.")
        if pairing is None:
            return Outcome([ended], None)
        program = turn.programs.of(pairing.program)
        replaced, _ = await current_and_earlier(turn.session, pairing)
        assert turn.person.id is not None
        written = [{"objective": m["objective"], "target": m["target"]} for m in data["milestones"]]
        version = await save_version(
            turn.session, pairing, milestones=written, author_id=turn.person.id, now=turn.now
        )
        if version is None:
            return Outcome([ended], None)
        table = Milestone.__table__  # type: ignore[attr-defined]
        conn = await turn.session.connection()
        await conn.execute(
            sa.delete(table).where(table.c.pairing_id == pairing.id, table.c.cycle == pairing.cycle)
        )
        for position, entry in enumerate(written, start=1):
            turn.session.add(
                Milestone(
                    pairing_id=data["pairing"],
                    cycle=pairing.cycle,
                    position=position,
                    objective=entry["objective"],
                    target_date=date.fromisoformat(entry["target"]),
                    status=MilestoneStatus.NOT_STARTED.value,
                    created_at=turn.now,
                    updated_at=turn.now,
                )
            )
        await turn.session.flush()
        await plan_saved(turn.session, program, pairing_id=data["pairing"], now=turn.now)
        milestones = await milestones_of(turn.session, pairing)
        people = await people_by_id(turn.session, [pairing.mentee_id, pairing.mentor_id])
        mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
        assert pairing.id is not None
        await enqueue(
            turn.session,
            person_id=pairing.mentor_id,
            replies=await for_reader(
                turn.session,
                program,
                person_id=pairing.mentor_id,
                replies=[plan_for_mentor(pairing, mentee, milestones=milestones, earlier=replaced)],
            ),
            dedupe_key=card_key(pairing.id, version.version),
            pairing_id=pairing.id,
            now=turn.now,
            program=program,
        )
        again = (
            f" {mentor.name} confirmed version {replaced.version}; a changed plan needs "
            "their confirmation again."
            if replaced is not None and replaced.confirmed_at is not None
            else ""
        )
        return Outcome(
            [
                Reply(
                    f"Saved as version {version.version} of your plan.{again} I've sent "
                    f"your plan to {mentor.name} to confirm.",
                    title="Your plan",
                    fields=plan_fields(milestones),
                )
            ],
            None,
        )


def _standing(turn: Turn, current: PlanVersion | None, mentor: Person) -> str:
    """The current version and its confirmation, as the mentee about to replace it reads it."""
    if current is None:
        return ""
    if current.confirmed_at is None:
        return f" (version {current.version}, not confirmed yet)"
    zone = zone_of(turn.person, turn.programs.default_timezone)
    return (
        f" (version {current.version}, confirmed by {mentor.name} on "
        f"{day_label(local_date(current.confirmed_at, zone))}; the new version will need "
        "their confirmation again)"
    )


def plan_for_mentor(
    pairing: Pairing,
    mentee: Person,
    *,
    milestones: list[Milestone],
    today: date | None = None,
    earlier: PlanVersion | None = None,
) -> Reply:
    """The plan's current version as the mentor sees it, with Confirm while unconfirmed.

    The Confirm button names the version shown, so it can never confirm a later one.

    Args:
        today: The mentor's today, so milestones past their date read as overdue; None when
            the plan waits in the outbox.
        earlier: The version this one replaced in this cycle, if any, so the card says the
            plan changed (and that a confirmed plan needs confirming again).
    """
    number = pairing.plan_version
    name = mentee.name
    if pairing.plan_confirmed_at is not None:
        text = f"{name}'s plan for this cycle, version {number}: you confirmed it."
    elif earlier is not None and earlier.confirmed_at is not None:
        text = (
            f"{name} changed the plan you confirmed (version {earlier.version}). This is "
            f"version {number}; does it look right to you?"
        )
    elif earlier is not None:
        text = (
            f"{name} changed their plan: this is version {number}, which replaces version "
            f"{earlier.version}. Does it look right to you?"
        )
    else:
        text = f"{name}'s plan for this cycle, version {number}. Does it look right to you?"
    return Reply(
        text,
        title=f"{name}'s plan (version {number})",
        fields=plan_fields(milestones, today),
        actions=()
        if pairing.plan_confirmed_at is not None
        else (
            Option(f"confirm-plan {pairing.id} {number}", "Confirm the plan"),
            Option(f"discuss-plan {pairing.id}", "Let's discuss it first"),
        ),
    )


async def _show_to_mentor(
    turn: Turn,
    pairing: Pairing,
    mentee: Person,
    milestones: list[Milestone],
    *,
    why: str | None = None,
) -> Outcome:
    """Show the mentor the plan's current version (and remember it was shown).

    Args:
        why: A sentence before the plan: why it is shown instead of what was asked.
    """
    current, earlier = await current_and_earlier(turn.session, pairing)
    if current is not None:
        await mark_shown(turn.session, current, now=turn.now)
    today = local_date(turn.now, zone_of(turn.person, turn.programs.default_timezone))
    card = plan_for_mentor(pairing, mentee, milestones=milestones, today=today, earlier=earlier)
    return Outcome([*([Reply(why)] if why else []), card], None, changed=False)


async def _confirm_plan(turn: Turn, args: list[str]) -> Outcome:
    """``confirm-plan PAIRING [VERSION]``: the mentor confirms the version they saw.

    With a version (every button carries one) only that version is confirmed; when the
    mentee changed the plan since, the mentor is told and shown the current version with
    its own button. Typed without a version, it confirms the current version only if it
    reached the mentor (its card was delivered, or a reply showed it); otherwise it shows it.
    """
    found = await my_pairing(turn, args[:1], verb="confirm-plan")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found
    if role_in(pairing, turn.person) is not Role.MENTOR:
        return Outcome([Reply("Only the mentor confirms the plan.")], None, changed=False)
    if pairing.status != PairingStatus.ACTIVE:
        return Outcome(
            [Reply("This pairing has ended, so there's no plan to confirm.")], None, changed=False
        )
    wanted = parse_ref(args[1]) if len(args) > 1 else None
    if len(args) > 1 and wanted is None:
        text = f"Type confirm-plan {pairing.id} and the version number the plan card shows."
        return Outcome([Reply(text)], None, changed=False)
    return await _confirm(turn, pairing, wanted, may_confirm=True)


async def _confirm(
    turn: Turn, pairing: Pairing, wanted: Ref | None, *, may_confirm: bool
) -> Outcome:
    """Confirm the version ``wanted`` names (None: the current one, if it reached the mentor).

    Args:
        may_confirm: False after a confirmation lost a race: only say what holds now.
    """
    milestones = await milestones_of(turn.session, pairing)
    current, _ = await current_and_earlier(turn.session, pairing)
    if current is None or not milestones:
        return Outcome([Reply("There's no plan to confirm yet.")], None, changed=False)
    people = await people_by_id(turn.session, [pairing.mentee_id])
    mentee = people[pairing.mentee_id]
    if wanted is not None and wanted.id != current.version:
        return await _show_to_mentor(
            turn, pairing, mentee, milestones, why=await _why_not(turn, pairing, mentee, wanted)
        )
    if pairing.plan_confirmed_at is not None:
        zone = zone_of(turn.person, turn.programs.default_timezone)
        day = day_label(local_date(pairing.plan_confirmed_at, zone))
        text = f"You confirmed version {current.version} of the plan already, on {day}."
        return Outcome([Reply(text + " Nothing changed.")], None, changed=False)
    if wanted is None and not await reached_mentor(turn.session, current):
        why = (
            f"Here is {mentee.name}'s plan as it stands, version {current.version}. Have a look "
            f"first: confirm it with the button, or type confirm-plan {pairing.id} "
            f"{current.version}."
        )
        return await _show_to_mentor(turn, pairing, mentee, milestones, why=why)
    assert turn.person.id is not None
    if not may_confirm or not await confirm_version(
        turn.session, pairing, version=current, mentor_id=turn.person.id, now=turn.now
    ):
        if may_confirm:
            # Something changed at the same moment (a new version, a double click).
            return await _confirm(turn, pairing, wanted, may_confirm=False)
        why = "The plan changed at the same moment, so I haven't confirmed anything:"
        return await _show_to_mentor(turn, pairing, mentee, milestones, why=why)
    # Version 1 goes unnamed: a mentee who wrote one version knows which was confirmed.
    which = f" (version {current.version})" if current.version > 1 else ""
    program = turn.programs.of(pairing.program)
    assert pairing.id is not None
    await enqueue(
        turn.session,
        person_id=pairing.mentee_id,
        replies=await for_reader(
            turn.session,
            program,
            person_id=pairing.mentee_id,
            replies=[
                Reply(
                    f"{turn.person.name} confirmed your plan{which}. Off you go!",
                    actions=(find_a_time(pairing.id),),
                )
            ],
        ),
        dedupe_key=f"pairing:{pairing.id}:plan-confirmed:v{current.version}",
        pairing_id=pairing.id,
        now=turn.now,
        program=program,
    )
    return Outcome(
        [
            Reply(
                f"Confirmed; I've told your mentee. That's version {current.version} of "
                f"{mentee.name}'s plan.",
                actions=(find_a_time(pairing.id),),
            )
        ],
        None,
    )


async def _why_not(turn: Turn, pairing: Pairing, mentee: Person, wanted: Ref) -> str:
    """Why a card's version was not confirmed: the plan changed since, or no such version."""
    older = await version_of(turn.session, pairing, number=wanted.id) if wanted.id else None
    if older is None:
        return f"There's no version {wanted.shown} of this plan, so I haven't confirmed anything."
    return (
        f"{mentee.name} has changed the plan since the version you saw (version {older.version}), "
        "so I haven't confirmed anything. Here is the plan as it stands:"
    )


async def _discuss_plan(turn: Turn, args: list[str]) -> Outcome:
    found = await my_pairing(turn, args, verb="discuss-plan")
    if isinstance(found, Reply):
        return Outcome([found], None, changed=False)
    pairing = found
    program = turn.programs.of(pairing.program)
    if role_in(pairing, turn.person) is not Role.MENTOR:
        return Outcome([Reply("Only the mentor reviews the plan.")], None, changed=False)
    await enqueue(
        turn.session,
        person_id=pairing.mentee_id,
        replies=await for_reader(
            turn.session,
            program,
            person_id=pairing.mentee_id,
            replies=[
                Reply(
                    f"{turn.person.name} would like to talk your plan through before "
                    "confirming it. Bring it to your next meeting; type plan afterwards to "
                    "change it.",
                    actions=(Option(f"plan {pairing.id}", "Rewrite my plan"),),
                )
            ],
        ),
        dedupe_key=f"pairing:{pairing.id}:plan-discuss:{turn.now.isoformat()}",
        pairing_id=pairing.id,
        now=turn.now,
        program=program,
    )
    return Outcome(
        [Reply("Noted; I've asked your mentee to bring the plan to your next meeting.")], None
    )


def commands(flow: PlanFlow) -> list[Command]:
    """The plan's commands: plan, and the buttons confirm-plan and discuss-plan.

    Args:
        flow: The plan flow.
    """
    return [
        Command(
            "plan", "write or see your 90-day plan", flow.start, usage="[PAIRING]", pairs_only=True
        ),
        Command(
            "confirm-plan",
            "confirm your mentee's plan",
            _confirm_plan,
            usage="[PAIRING] [VERSION]",
            listed=False,
            mid_flow=r"(?i)^confirm-plan\s+\d+(\s+\d+)?$",
        ),
        Command(
            "discuss-plan",
            "ask to talk the plan through first",
            _discuss_plan,
            usage="[PAIRING]",
            listed=False,
            mid_flow=r"(?i)^discuss-plan\s+\d+$",
        ),
    ]
