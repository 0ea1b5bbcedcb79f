"""The conversation engine: routes a turn to a command or to the flow in progress.

Flows are explicit state machines (python-telegram-bot's ConversationHandler is the model):
a flow has named steps, each turn returns the next state or ends the flow, and ``back``,
``skip``, ``cancel`` and ``help`` work inside every flow. The state is written to the
database on every turn with a version check (botbuilder's e-tag), so a restart resumes at
the same step and a stale or doubled answer is refused instead of corrupting the flow.
"""

from __future__ import annotations

import difflib
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.archived import recall_archived_circles
from handlers.core.audit import record
from handlers.core.errors import UserError
from handlers.core.messages import Form, Inbound, Reply
from handlers.core.ports import Clock, SystemClock
from handlers.core.programs import Programs
from handlers.core.questions import check_form, quoted
from handlers.core.refs import parse_ref
from storage import ConversationState, Database, Person
from storage.queries import first_delivery

#: Usage placeholders for the number of a row (``plan 2``): typed mid-flow, a command word
#: followed by one of these is a command, not an answer.
_ROW_SLOTS = frozenset({"PAIRING", "SESSION", "NUMBER"})
#: A usage slot that takes a program's id (``join PROGRAM``, ``leave PROGRAM``).
_PROGRAM_SLOT = "PROGRAM"


@dataclass(frozen=True)
class FlowState:
    """Where a person is in a flow: the flow's name, its step, and what it collected."""

    flow: str
    step: str
    data: dict[str, Any]


@dataclass
class Outcome:
    """What a turn produced: replies, and the state to store next.

    Attributes:
        replies: What to send back.
        state: The next state, or None when the flow has ended.
        changed: False when the turn left the state exactly as it was (help, a stale click).
    """

    replies: list[Reply]
    state: FlowState | None = None
    changed: bool = True


@dataclass
class Turn:
    """Everything a command or flow step may use while handling one inbound message."""

    session: AsyncSession
    #: Every program of the file; a command picks the one of the row at hand.
    programs: Programs
    person: Person
    inbound: Inbound
    now: datetime

    @property
    def text(self) -> str:
        """What the person typed, trimmed."""
        return self.inbound.text.strip()


class Flow(ABC):
    """A multi-step conversation."""

    #: Stored in the state row; never rename a released flow.
    name: ClassVar[str]

    @abstractmethod
    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        """Handle typed text or a click for the current step."""

    @abstractmethod
    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        """The message that asks the current step again (on resume, help, a stale click)."""

    @abstractmethod
    def describe(self, state: FlowState) -> str:
        """Where the person is, e.g. "question 3 of 6 of your mentee intake"."""

    async def back(self, turn: Turn, state: FlowState) -> Outcome:
        """Go to the previous step."""
        return Outcome(
            [Reply("There's no going back from here. Type cancel to stop.")], state, False
        )

    async def skip(self, turn: Turn, state: FlowState) -> Outcome:
        """Skip the current step if it is optional."""
        return Outcome([Reply("This step can't be skipped. Type cancel to stop.")], state, False)

    def help(self, turn: Turn, state: FlowState) -> list[Reply]:
        """Explain the current step and the words that work inside a flow."""
        return [
            Reply(
                f"You're on {self.describe(state)}. Answer the question below, or type "
                "back (previous question), skip (optional questions only) or cancel (stop "
                "without saving)."
            )
        ]

    def cancelled(self, state: FlowState) -> str:
        """What to say when the person cancels."""
        return "Cancelled; nothing was saved."


@dataclass
class FormResult:
    """What saving a form did.

    Attributes:
        replies: What to tell the person (empty when there are errors to show).
        errors: What is wrong, by question id; nothing was saved when there are any.
        form: The form again, filled in with what was sent, for channels that show the
            errors by sending the form once more (Teams).
    """

    replies: list[Reply]
    errors: dict[str, str] = field(default_factory=dict)
    form: Form | None = None


class FormHandler(ABC):
    """A form: what it asks (:meth:`build`) and what saving an answered one does."""

    #: :attr:`Form.name`; a submission names the handler that takes it.
    name: ClassVar[str]

    @abstractmethod
    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        """The form about ``ref``, or a reply saying why it cannot be filled in."""

    async def check(self, turn: Turn, ref: str, *, question_id: str, answer: Any) -> str | None:
        """What is wrong with one answer beyond its question's own rules, if anything.

        The chat asks each question in turn and calls this at once, so a date in the
        future is re-asked there and then; :meth:`save` must check the same things.
        """
        return None

    async def notice(self, turn: Turn, ref: str, *, question_id: str, answer: Any) -> str | None:
        """Something to tell about an answer :meth:`check` let through, if anything.

        The chat shows it before the next question (the day someone else already logged:
        what happens to it, and that ``back`` picks another); whole forms say it on saving.
        """
        return None

    @abstractmethod
    async def save(self, turn: Turn, ref: str, *, answers: dict[str, Any]) -> FormResult:
        """Save answers already checked against each question (``check_form``).

        Checks what needs the database (a date before the pairing began ...) first, and
        writes nothing when it returns errors.
        """


CommandHandler = Callable[[Turn, list[str]], Awaitable[Outcome]]


@dataclass(frozen=True)
class Command:
    """A word a person can type outside a flow (``help``, ``join``, ``status``, ...)."""

    name: str
    summary: str
    run: CommandHandler
    usage: str = ""
    aliases: tuple[str, ...] = ()
    lead_only: bool = False
    #: False for the words behind buttons (``snooze 12``): they work when typed, but help
    #: does not list them.
    listed: bool = True
    #: A pattern of the whole text that runs this command even in the middle of a flow
    #: (``accept 12`` from a proposal's button while an intake is open); the flow's
    #: question is asked again after it.
    mid_flow: str | None = None
    #: A word whose help line is for pairs alone (``pair MENTEE MENTOR``, ``plan
    #: [PAIRING]``, ``match``'s mentor pairings): help leaves it out for a reader whom only
    #: circles concern (handlers.circles.commands.reads_only_circles), and lists the
    #: circles' own words in their block instead.
    pairs_only: bool = False


@dataclass
class _Loaded:
    row: ConversationState | None
    person: Person


@dataclass(frozen=True)
class Snapshot:
    """A conversation state as it was before a turn, to put back if the turn is undone."""

    flow: str
    step: str
    data: dict[str, Any]
    version: int


@dataclass(frozen=True)
class TurnResult:
    """The replies to one turn, and whether it changed anything (False for a re-ask).

    Attributes:
        replies: What to send.
        accepted: Whether the turn changed the conversation.
        before: The state before the turn (None when there was none).
        version: The state's version after the turn (0: no state).
    """

    replies: list[Reply]
    accepted: bool
    before: Snapshot | None = None
    version: int = 0


class _Refused(Exception):
    """A form had errors: undo whatever its handler wrote."""


class StaleState(Exception):
    """Another turn changed the conversation state first."""


@dataclass
class Engine:
    """Routes every inbound message of every channel.

    Args:
        programs: The programs being run.
        database: Where people, enrollments and conversation state live.
        commands: The commands people can type.
        flows: The flows commands can start, by name.
        clock: Where time comes from.
    """

    programs: Programs
    database: Database
    commands: Sequence[Command]
    flows: dict[str, Flow]
    clock: Clock = field(default_factory=SystemClock)
    forms: dict[str, FormHandler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_word: dict[str, Command] = {}
        for command in self.commands:
            for word in (command.name, *command.aliases):
                self._by_word[word] = command

    def commands_for(self, person: Person) -> list[Command]:
        """The commands this person may use, in the order help lists them."""
        lead = self.programs.is_lead(person.email)
        return [c for c in self.commands if lead or not c.lead_only]

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Answer one inbound message; see :meth:`turn`."""
        return (await self.turn(inbound)).replies

    async def turn(self, inbound: Inbound) -> TurnResult:
        """Answer one inbound message; the state change and any writes commit together.

        Raises:
            UserError: the person is not in the directory.
        """
        try:
            async with self.database.session() as session:
                now = self.clock.now()
                if inbound.event_id and not await first_delivery(
                    session, platform=inbound.channel, event_id=inbound.event_id, now=now
                ):
                    # A platform's retry of a message already answered. Recorded in the
                    # turn's own transaction: a turn that failed leaves no record, so its
                    # retry is handled.
                    return TurnResult([], accepted=False)
                loaded = await self._load(session, inbound)
                turn = Turn(session, self.programs, loaded.person, inbound, now)
                outcome = await self._dispatch(turn, loaded.row)
                version = await self._store(session, inbound, loaded.row, outcome, turn.now)
        except StaleState:
            current = await self.resume(inbound, welcome_back=False)
            note = Reply("I got two answers at the same moment and kept the first one.")
            return TurnResult([note, *current], accepted=False)
        row = loaded.row
        before = Snapshot(row.flow, row.step, dict(row.data), row.version) if row else None
        return TurnResult(
            _with_tokens(outcome, version), accepted=outcome.changed, before=before, version=version
        )

    async def submit(self, inbound: Inbound) -> FormResult:
        """Save a whole form (``inbound.form``): every answer checked, then saved at once.

        Raises:
            UserError: the person is not in the directory.
        """
        sent = inbound.form
        if sent is None or sent.form not in self.forms:
            return FormResult(
                [Reply("That form is from an older version of me; type help and start again.")]
            )
        handler = self.forms[sent.form]
        try:
            async with self.database.session() as session:
                now = self.clock.now()
                if inbound.event_id and not await first_delivery(
                    session, platform=inbound.channel, event_id=inbound.event_id, now=now
                ):
                    # A platform's retry of a submission already saved (a refused one
                    # rolled back its record, so its retry is checked again).
                    return FormResult([])
                loaded = await self._load(session, inbound)
                turn = Turn(session, self.programs, loaded.person, inbound, now)
                form = await handler.build(turn, sent.ref)
                if isinstance(form, Reply):
                    return FormResult([form])
                answers, errors = check_form(form.questions, sent.values)
                if not errors:
                    result = await handler.save(turn, sent.ref, answers=answers)
                    if not result.errors:
                        return result
                    errors = result.errors
                raise _Refused(errors)  # rolls back anything the handler wrote
        except _Refused:
            pass
        assert isinstance(form, Form)
        filled = tuple((k, v) for k, v in answers.items() if k not in errors and v is not None)
        return FormResult([], errors, replace(form, initial=filled))

    async def undo(self, inbound: Inbound, result: TurnResult) -> bool:
        """Put the conversation back where it was before ``result``'s turn.

        For a reply that could not be delivered: the person never saw the next question, so
        the one they did see must still be the current one (its buttons keep working). Other
        writes of the turn (a saved enrollment) stay; answering again repeats them harmlessly.

        Returns:
            False when another turn changed the conversation since, and nothing was undone.
        """
        if not result.accepted:
            return True
        table = ConversationState.__table__  # type: ignore[attr-defined]
        key = sa.and_(table.c.channel == inbound.channel, table.c.user_key == inbound.user_key)
        before = result.before
        if before is None and result.version == 0:
            return True  # the turn neither read nor wrote a conversation state
        try:
            return await self._restore(inbound, result, table, key)
        except IntegrityError:
            return False  # a new flow was started meanwhile

    async def _restore(self, inbound: Inbound, result: TurnResult, table: Any, key: Any) -> bool:
        before = result.before
        async with self.database.session() as session:
            conn = await session.connection()
            current = table.c.version == result.version
            if before is None:
                outcome = await conn.execute(sa.delete(table).where(key, current))
            elif result.version == 0:
                outcome = await conn.execute(
                    _insert_state(
                        inbound,
                        before.flow,
                        before.step,
                        before.data,
                        before.version,
                        self.clock.now(),
                    )
                )
            else:
                outcome = await conn.execute(
                    sa.update(table)
                    .where(key, current)
                    .values(
                        flow=before.flow,
                        step=before.step,
                        data=before.data,
                        version=before.version,
                        updated_at=self.clock.now(),
                    )
                )
        return bool(outcome.rowcount)

    async def resume(self, inbound: Inbound, *, welcome_back: bool = True) -> list[Reply]:
        """What to show a person who opens the conversation: the step they were on, if any.

        Returns:
            The current step asked again, or nothing when no flow is in progress.
        """
        async with self.database.session() as session:
            loaded = await self._load(session, inbound)
            row = loaded.row
            if row is None or row.flow not in self.flows:
                return []
            turn = Turn(session, self.programs, loaded.person, inbound, self.clock.now())
            flow = self.flows[row.flow]
            state = FlowState(row.flow, row.step, dict(row.data))
            replies = flow.ask(turn, state)
            if welcome_back:
                replies.insert(0, Reply(f"Welcome back! You were on {flow.describe(state)}."))
            return _with_tokens(Outcome(replies, state), row.version)

    async def reset(self, inbound: Inbound) -> None:
        """Drop the flow in progress (after an unexpected error broke it)."""
        async with self.database.session() as session:
            conn = await session.connection()
            await conn.execute(
                sa.delete(ConversationState).where(
                    sa.and_(
                        ConversationState.channel == inbound.channel,  # type: ignore[arg-type]
                        ConversationState.user_key == inbound.user_key,  # type: ignore[arg-type]
                    )
                )
            )

    async def _load(self, session: AsyncSession, inbound: Inbound) -> _Loaded:
        # One statement for both: every turn pays for each round trip to the database.
        result = await session.exec(
            select(Person, ConversationState)
            .outerjoin(
                ConversationState,
                sa.and_(
                    ConversationState.channel == inbound.channel,  # type: ignore[arg-type]
                    ConversationState.user_key == inbound.user_key,  # type: ignore[arg-type]
                ),
            )
            .where(Person.id == inbound.person_id)
        )
        found = result.first()
        if found is None:
            raise UserError("I can't find you in the company directory; ask the program lead.")
        person, row = found
        # Once per program file: a removed program whose rows are circles stays circles.
        await recall_archived_circles(session, self.programs)
        return _Loaded(row, person)

    async def _dispatch(self, turn: Turn, row: ConversationState | None) -> Outcome:
        text = turn.text
        word = text.lower()
        if row is not None and row.flow in self.flows:
            flow = self.flows[row.flow]
            state = FlowState(row.flow, row.step, dict(row.data))
            action = turn.inbound.action
            if action is not None and action.token != _token(state, row.version):
                replies = [
                    Reply(
                        "That button belongs to a question you already answered, so "
                        "I left everything as it was. Here is where we are:"
                    )
                ]
                return Outcome(replies + flow.ask(turn, state), state, changed=False)
            interrupting = self._mid_flow(text) if action is None else None
            if interrupting is not None:
                done = await interrupting.run(turn, text.split()[1:])
                return Outcome(done.replies + flow.ask(turn, state), state, changed=False)
            if action is None and word == "cancel":
                return Outcome([Reply(flow.cancelled(state))], None)
            if action is None and word == "help":
                return Outcome(flow.help(turn, state) + flow.ask(turn, state), state, False)
            if action is None and word == "back":
                return await flow.back(turn, state)
            if action is None and word == "skip":
                return await flow.skip(turn, state)
            typed = self._typed_command(turn) if action is None else None
            if typed is not None:
                # Asked, not run: running it would close this flow and drop the answers
                # given so far, a surprise for someone who typed it by habit; storing it
                # as the answer would be worse. One line tells them both ways out.
                note = (
                    f"Did you mean the command {quoted(typed)}? You're on {flow.describe(state)}: "
                    "type cancel first to stop it, or answer the question."
                )
                return Outcome([Reply(note), *flow.ask(turn, state)], state, changed=False)
            return await flow.answer(turn, state)
        if row is not None:
            # A flow this version no longer has (renamed or removed): start afresh.
            await turn.session.delete(row)
        if turn.inbound.action is not None:
            return Outcome(
                [
                    Reply(
                        "That button belongs to a conversation that has already finished; "
                        "nothing changed. Type help to see what I can do."
                    )
                ],
                None,
                changed=row is not None,
            )
        return await self._command(turn)

    def _mid_flow(self, text: str) -> Command | None:
        for command in self.commands:
            if command.mid_flow and re.fullmatch(command.mid_flow, text):
                return command
        return None

    def _typed_command(self, turn: Turn) -> str | None:
        """The command ``turn``'s text spells out in full (``plan 2``, ``feedback 3 pulse``).

        Only a command word followed by arguments its usage accepts, the first of them the
        number of a row or a program's id (``join reverse-2027``), so a free-text answer
        such as "plan my week" stays an answer.

        Returns:
            The command as typed (its word and arguments), or None.
        """
        words = turn.text.split()
        command = self._by_word.get(words[0].lower().lstrip("/")) if len(words) > 1 else None
        if command is None or command not in self.commands_for(turn.person):
            return None
        slots = [s for s in command.usage.replace("[", " ").replace("]", " ").split() if s != "|"]
        arguments = words[1:]
        if len(arguments) > len(slots) or slots[0] not in (*_ROW_SLOTS, _PROGRAM_SLOT):
            return None
        for argument, slot in zip(arguments, slots, strict=False):
            if slot in _ROW_SLOTS:
                fits = parse_ref(argument) is not None
            elif slot == _PROGRAM_SLOT:
                fits = turn.programs.get(argument.lower()) is not None
            elif slot.isupper():
                fits = True  # a survey or a date: any word, checked by the command itself
            else:
                fits = argument.lower() in slot.split("|")
            if not fits:
                return None
        return " ".join(words)

    async def _command(self, turn: Turn) -> Outcome:
        words = turn.text.split()
        if not words:
            return Outcome([Reply("Type help to see what I can do.")], None, changed=False)
        word = words[0].lower().lstrip("/")
        command = self._by_word.get(word)
        if command is None or (command.lead_only and not self.programs.is_lead(turn.person.email)):
            if command is not None:
                # Refused attempts at lead actions are audited (committed with the turn).
                await record(
                    turn.session,
                    actor=turn.person.email,
                    action=command.name,
                    target=words[1][:200] if len(words) > 1 else None,
                    allowed=False,
                    now=turn.now,
                    detail={"channel": turn.inbound.channel},
                )
                return Outcome(
                    [
                        Reply(
                            f"Sorry, {command.name} is for the program leads only. If you "
                            "need something from it, ask one of them."
                        )
                    ],
                    None,
                    False,
                )
            else:
                text = f"I don't know {words[0]!r}."
                known = [c.name for c in self.commands_for(turn.person)]
                close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
                if close:
                    text += f" Did you mean {close[0]}?"
            return Outcome([Reply(f"{text} Type help to see what I can do.")], None, False)
        return await command.run(turn, words[1:])

    async def _store(
        self,
        session: AsyncSession,
        inbound: Inbound,
        row: ConversationState | None,
        outcome: Outcome,
        now: datetime,
    ) -> int:
        """Write the next state with a version check; returns the version now stored."""
        state = outcome.state
        if not outcome.changed:
            return row.version if row is not None else 0
        table = ConversationState.__table__  # type: ignore[attr-defined]
        conn = await session.connection()
        if row is None:
            if state is None:
                return 0
            data = {**state.data, "_id": secrets.token_hex(4)}
            try:
                await conn.execute(_insert_state(inbound, state.flow, state.step, data, 1, now))
            except IntegrityError:
                # Another turn started a flow for this person first; the transaction
                # rolls back as StaleState propagates.
                raise StaleState from None
            outcome.state = replace(state, data=data)
            return 1
        where = sa.and_(table.c.id == row.id, table.c.version == row.version)
        if state is None:
            result = await conn.execute(sa.delete(table).where(where))
            if result.rowcount != 1:
                raise StaleState
            return 0
        data = {**state.data, "_id": row.data.get("_id") or secrets.token_hex(4)}
        result = await conn.execute(
            sa.update(table)
            .where(where)
            .values(
                flow=state.flow, step=state.step, data=data, version=row.version + 1, updated_at=now
            )
        )
        if result.rowcount != 1:
            raise StaleState
        outcome.state = replace(state, data=data)
        return row.version + 1


def _insert_state(
    inbound: Inbound, flow: str, step: str, data: dict[str, Any], version: int, now: datetime
) -> sa.Insert:
    """The statement that creates a person's conversation state on a channel."""
    return sa.insert(ConversationState.__table__).values(  # type: ignore[attr-defined]
        channel=inbound.channel,
        user_key=inbound.user_key,
        person_id=inbound.person_id,
        flow=flow,
        step=step,
        data=data,
        version=version,
        updated_at=now,
    )


def _token(state: FlowState, version: int) -> str:
    return f"{state.data.get('_id', '')}.{version}"


def _with_tokens(outcome: Outcome, version: int) -> list[Reply]:
    """Stamp every prompt with the token of the state it belongs to."""
    if outcome.state is None:
        return outcome.replies
    token = _token(outcome.state, version)
    return [
        replace(reply, prompt=replace(reply.prompt, token=token)) if reply.prompt else reply
        for reply in outcome.replies
    ]
