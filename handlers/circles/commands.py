"""The words of a running circle, and the shared words routed to it.

``circle`` shows the person's circle, and with a word does one thing in it: ``circle log``,
``circle goals``, ``circle channel LINK``, ``circle leave``, and the words behind the
buttons of its messages (``circle continue``, ``circle close``, ``circle pulse``). ``goals``
is ``circle goals``.

The words pairs use are routed by what the person is in (:func:`routed`): ``log`` opens
the circle's session form for a facilitator with no active pairing (``log circle`` for one
with both), ``leave circle`` (or ``leave`` for someone whose only running work is a circle)
leaves the circle, and ``feedback`` opens a circle survey when no pairing survey waits (and
lists both kinds when both wait).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlmodel import col, select

from handlers.circles import ending, plan
from handlers.circles.conversation import TEAMS_CHANNEL, TEAMS_CHANNEL_LINK, teams_channel_id
from handlers.circles.lifecycle import circle_people, is_member, tell_circle
from handlers.circles.mine import MyCircle, circle_named, circle_ref, my_circles
from handlers.circles.sessions import CircleForms, waiting_pulses
from handlers.core.engine import Command, CommandHandler, Outcome, Turn
from handlers.core.messages import Option, Reply, plural
from handlers.core.program import ProgramType
from handlers.core.refs import circle_label
from handlers.cycle.ending import first_name
from handlers.people.lookups import pairings_of, people_by_id
from handlers.plans.chat import active_pairings
from handlers.sessions.feedback import TITLES, waiting_requests
from storage import OPEN_CIRCLE, OPEN_PAIRING, CircleFeedback, Enrollment, Feedback

#: ``circle`` words that answer a message's button: they work in the middle of a flow.
_BUTTONS = r"(?i)^circle\s+(continue|close|leave|stay)(\s+#?c?\d+)?(\s+yes)?$"


class CircleCommands:
    """``circle [WORD] ...`` and the routing of the shared words to circles."""

    def __init__(self, forms: CircleForms) -> None:
        self.forms = forms
        self.words: dict[str, CommandHandler] = {
            "log": forms.log,
            "pulse": forms.pulse,
            "feedback": forms.pulse,
            "goals": plan.goals,
            "goal": plan.goals,
            "channel": self.channel,
            "leave": ending.leave_circle,
            "stay": ending.stay,
            "continue": ending.continue_circle,
            "close": ending.close_circle,
        }

    async def run(self, turn: Turn, args: list[str]) -> Outcome:
        """``circle [WORD] ...``: one thing in the circle, or the circle itself."""
        word = args[0].lower() if args else ""
        handler = self.words.get(word)
        if handler is not None:
            return await handler(turn, args[1:])
        if word and circle_ref(word) is None:
            known = ", ".join(sorted(set(self.words) - {"goal", "feedback", "stay"}))
            text = f"I don't know circle {args[0]!r}. Type circle, or circle and one of: {known}."
            return Outcome([Reply(text)], None, changed=False)
        found = await circle_named(turn, args[:1], command="circle")
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        return Outcome([await self._shown(turn, found)], None, changed=False)

    async def _shown(self, turn: Turn, found: MyCircle) -> Reply:
        people = await circle_people(turn.session, found.number)
        names = await people_by_id(turn.session, [p.person_id for p in people])
        facilitator = [names[p.person_id].name for p in people if not is_member(p)]
        members = [names[p.person_id].name for p in people if is_member(p)]
        fields = [
            ("Facilitator", ", ".join(facilitator) or "nobody"),
            ("Members", ", ".join(members) or "nobody"),
            ("Goals", "\n".join(plan.goal_lines(found)) or "none yet"),
        ]
        link = found.circle.conversation.get(TEAMS_CHANNEL_LINK)
        if link:
            fields.append(("Teams channel", str(link)))
        if found.facilitating:
            more = (
                f"Type circle log {found.label} after each session, goals add GOAL for the "
                "circle's goals, or circle channel and a Teams channel's link to name one."
            )
        else:
            more = "Type goals to see the circle's goals, or leave circle to leave it."
        return Reply(
            f"Circle {found.label} of {found.program.name}, cycle {found.circle.cycle}. {more}",
            title=f"Circle {found.label}",
            fields=tuple(fields),
        )

    async def channel(self, turn: Turn, args: list[str]) -> Outcome:
        """``circle channel [CIRCLE] LINK``: name the circle's Teams channel."""
        numbered = len(args) > 1 and circle_ref(args[0]) is not None
        found = await circle_named(
            turn, args[:1] if numbered else [], command="circle channel", facilitating=True
        )
        if isinstance(found, Reply):
            return Outcome([found], None, changed=False)
        link = " ".join(args[1:] if numbered else args).strip()
        channel = teams_channel_id(link)
        if channel is None:
            text = (
                "That isn't a Teams channel link. In Teams, open the channel's … menu, choose "
                "Get link to channel, and type circle channel followed by the link."
            )
            return Outcome([Reply(text)], None, changed=False)
        circle = found.circle
        if circle.conversation.get(TEAMS_CHANNEL) == channel:
            text = f"Circle {found.label} already has that Teams channel; nothing changed."
            return Outcome([Reply(text)], None, changed=False)
        circle.conversation = {
            **circle.conversation,
            TEAMS_CHANNEL: channel,
            TEAMS_CHANNEL_LINK: link.strip("<>"),
        }
        turn.session.add(circle)
        await tell_circle(
            turn.session,
            program=found.program,
            circle=circle,
            replies=[
                Reply(
                    f"{turn.person.name} named a Teams channel for circle {found.label}: "
                    "meet and talk there as well. If the link doesn't open for you, ask "
                    f"{first_name(turn.person.name)} to add you to the team it's in.",
                    title="Your circle's channel",
                )
            ],
            what=f"channel:{channel}",
            now=turn.now,
        )
        text = (
            f"Saved: circle {found.label}'s Teams channel is named and everyone is told. I "
            "don't post in the channel: in Teams I'm a personal app and can't join a team's "
            "channels, so each person still gets the circle's messages in their own chat "
            "with me, with the channel's link. So that everyone can open it, add each member "
            "of the circle to the team the channel is in (and to the channel itself if it's "
            "private), then start the circle's conversation there yourself."
        )
        return Outcome([Reply(text)], None)


def routed(commands: list[Command], circles: CircleCommands) -> list[Command]:
    """The commands with ``log``, ``leave`` and ``feedback`` routed to circles when the
    person's running work is a circle; ``circle`` and ``goals`` added at the end."""

    async def only_circles(turn: Turn) -> list[MyCircle]:
        """The person's running circles when they have no active pairing."""
        mine = await my_circles(turn)
        return mine if mine and not await active_pairings(turn) else []

    def log(pairs: CommandHandler) -> CommandHandler:
        async def run(turn: Turn, args: list[str]) -> Outcome:
            if args and args[0].lower() == "circle":
                return await circles.forms.log(turn, args[1:])
            mine = await only_circles(turn) if not args else []
            if any(m.facilitating for m in mine):
                return await circles.forms.log(turn, [])
            if mine:
                text = (
                    "Your circle's facilitator logs its sessions, with who came; you'll be "
                    "asked how each one went."
                )
                return Outcome([Reply(text)], None, changed=False)
            return await pairs(turn, args)

        return run

    def leave(pairs: CommandHandler) -> CommandHandler:
        async def run(turn: Turn, args: list[str]) -> Outcome:
            if args and args[0].lower() == "circle":
                return await ending.leave_circle(turn, args[1:])
            mine = await only_circles(turn)
            named = [m for m in mine if args and m.program.id == args[0].lower()]
            if (not args and mine) or named:
                return await ending.leave_circle(turn, [str((named or mine)[0].number)])
            return await pairs(turn, args)

        return run

    def feedback(pairs: CommandHandler) -> CommandHandler:
        async def run(turn: Turn, args: list[str]) -> Outcome:
            if args and args[0].lower() == "circle":
                return await circles.forms.pulse(turn, args[1:])
            pulses = await waiting_pulses(turn) if not args else []
            if not pulses:
                return await pairs(turn, args)
            assert turn.person.id is not None
            surveys = await waiting_requests(turn.session, turn.person.id, None, None)
            if not surveys:
                return await circles.forms.pulse(turn, [])
            return Outcome([_all_waiting(surveys, pulses)], None, changed=False)

        return run

    wrap = {"log": log, "leave": leave, "feedback": feedback}
    result: list[Command] = []
    for command in commands:
        if command.name in wrap:
            # Its help line is the pairs' (log [PAIRING] [DATE]); circles have theirs.
            command = replace(command, run=wrap[command.name](command.run), pairs_only=True)
        result.append(command)
    # Help lists them in a block of their own, where the file has a circles program
    # (:func:`help_lines`); they stay out of Teams' command list of ten, which pairs fill.
    result += [
        Command(
            "circle",
            "your mentor circle: log, goals, channel, leave",
            circles.run,
            usage="[log|goals|channel|leave] [CIRCLE]",
            mid_flow=_BUTTONS,
            listed=False,
        ),
        Command(
            "goals", "your circle's shared goals", plan.goals, usage="[add GOAL]", listed=False
        ),
    ]
    return result


async def help_lines(turn: Turn) -> list[str]:
    """What ``help`` says about circles: where the program file has a circles program, or
    for someone in a circle of a circles program removed from the file (its circles run on:
    handlers.core.archived)."""
    circles = [p for p in turn.programs if p.type is ProgramType.CIRCLES and not p.archived]
    if not circles and not any(
        m.program.archived for m in await my_circles(turn, statuses=OPEN_CIRCLE)
    ):
        return []
    lines = [
        "In a mentor circle (a facilitator and a small group who meet to grow the same skills):",
        "• accept C7 / decline C7: answer the proposal of circle C7",
        "• circle: your circle, who is in it and its goals",
        "• goals: the circle's shared goals; its facilitator types goals add GOAL or goals "
        "remove NUMBER",
        "• log: for the facilitator, log a session with who came (log circle if you also "
        "have a pairing)",
        "• feedback: say how a circle session you came to went",
        "• leave circle: leave your circle; it carries on without you",
        "• circle channel LINK: for the facilitator, name the circle's Teams channel",
    ]
    led = [p for p in circles if p.is_lead(turn.person.email)]
    led = led or (circles if turn.programs.is_global_lead(turn.person.email) else [])
    if led:
        lines += [
            f"• match {led[0].id}: propose circles for everyone waiting (program leads)",
            f"• unexclude {led[0].id} MEMBER FACILITATOR: let a member who declined a "
            "facilitator's circle be put in one of theirs again (program leads)",
        ]
    return lines


def leads_only_circles(turn: Turn) -> bool:
    """Whether every program the person leads is a circles program: help then leaves out
    the leads' words for pairs alone (``pair``; ``unexclude`` has its circles line)."""
    led = turn.programs.led_by(turn.person.email)
    return bool(led) and all(p.type is ProgramType.CIRCLES for p in led)


async def reads_only_circles(turn: Turn) -> bool:
    """Whether only circles concern the person, so help leaves out the words for pairs.

    So it is for someone who leads circles programs alone, or anyone where every program
    in the file forms circles, unless they are enrolled in a program that pairs people or
    have a pairing still open (in a program since removed from the file, say).
    """
    current = [p for p in turn.programs if not p.archived]
    pairs = [p.id for p in current if p.type is not ProgramType.CIRCLES]
    if pairs and not leads_only_circles(turn):
        return False
    enrolled = await turn.session.exec(
        select(Enrollment.id)
        .where(Enrollment.person_id == turn.person.id, col(Enrollment.program).in_(pairs))
        .limit(1)
    )
    if enrolled.first() is not None:
        return False
    return not await pairings_of(
        turn.session, None, person_id=turn.person.id, statuses=OPEN_PAIRING
    )


def _all_waiting(surveys: Sequence[Feedback], pulses: Sequence[CircleFeedback]) -> Reply:
    """Every survey waiting for the person, a pairing's and a circle's, to pick one from."""
    options = [
        Option(
            f"feedback {r.pairing_id} {r.survey}",
            f"{TITLES.get(r.survey, r.survey)} ({r.asked_at:%-d %b})",
        )
        for r in surveys
    ] + [
        Option(
            f"circle pulse {p.id}",
            f"Your circle {circle_label(p.circle_id)}'s session ({p.asked_at:%-d %b})",
        )
        for p in pulses
    ]
    text = f"{plural(len(options), 'survey')} are waiting for you. Which one?"
    return Reply(text, actions=tuple(options[:6]))
