"""The engine's guarantees: versioned state, stale clicks refused, restarts resumed."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlmodel import select

from handlers import Action, Inbound, build_engine
from handlers.core.engine import Engine, Flow, FlowState, Outcome, Turn
from handlers.core.messages import Prompt, PromptKind, Reply
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import ConversationState, Database
from tests.helpers import Chat, FakeClock, make_person


@pytest.fixture
async def chat(database: Database, program: Program) -> Chat:
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock())
    return Chat(engine, await make_person(database, "ben.kim@example.com"))


async def stored_state(database: Database) -> ConversationState:
    async with database.session() as session:
        return (await session.exec(select(ConversationState))).one()


async def test_every_turn_is_written_with_a_new_version(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    first = await stored_state(database)
    await chat.send("Lead a team")
    second = await stored_state(database)
    assert (first.step, first.version) == ("question:goals", 1)
    assert (second.step, second.version) == ("question:competencies", 2)
    assert second.data["answers"] == {"goals": "Lead a team"}


async def test_prompts_carry_the_token_of_the_stored_version(
    chat: Chat, database: Database
) -> None:
    await chat.send("join mentee")
    state = await stored_state(database)
    assert chat.last_prompt_token() == f"{state.data['_id']}.{state.version}"


async def test_a_click_on_an_answered_question_changes_nothing(
    chat: Chat, database: Database
) -> None:
    await chat.send("join")
    old_token = chat.last_prompt_token()
    await chat.click("mentee")
    before = await stored_state(database)
    reply = await chat.click("mentor", token=old_token)
    assert "already answered, so I left everything as it was" in reply
    assert "Question 1 of 6" in reply
    after = await stored_state(database)
    assert (after.step, after.version, after.data) == (before.step, before.version, before.data)


async def test_a_click_after_the_flow_ended_changes_nothing(chat: Chat, database: Database) -> None:
    await chat.send("join")
    token = chat.last_prompt_token()
    await chat.send("cancel")
    reply = await chat.click("mentee", token=token)
    assert "already finished; nothing changed" in reply
    async with database.session() as session:
        assert (await session.exec(select(ConversationState))).all() == []


async def test_the_same_click_twice_at_once_is_applied_once(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    await chat.send("Lead a team")
    token = chat.last_prompt_token()
    inbound = chat.inbound
    click = Inbound(
        inbound.channel, inbound.user_key, inbound.person_id, action=Action(token, ("coaching",))
    )
    replies = await asyncio.gather(chat.engine.handle(click), chat.engine.handle(click))
    texts = [" ".join(r.text for r in reply) for reply in replies]
    # The loser is refused either before loading (the token is stale) or after, when its
    # versioned write fails ("two answers at the same moment"); both then repeat question 3.
    refused = [t for t in texts if "already answered" in t or "two answers" in t]
    advanced = [t for t in texts if t not in refused and "Question 3 of 6" in t]
    assert len(advanced) == 1
    assert len(refused) == 1
    state = await stored_state(database)
    assert (state.step, state.version) == ("question:learning_style", 3)
    assert state.data["answers"]["competencies"] == ["coaching"]


class _GatedFlow(Flow):
    """A one-step flow whose first answer waits for a gate, to interleave two turns."""

    name = "gated"

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.calls = 0

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        state = FlowState(self.name, "ask", {"count": 0})
        return Outcome(self.ask(turn, state), state)

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        return [Reply(f"count is {state.data['count']}", prompt=Prompt(PromptKind.TEXT))]

    def describe(self, state: FlowState) -> str:
        return "the gated flow"

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            await self.gate.wait()
        next_state = FlowState(self.name, "ask", {"count": state.data["count"] + 1})
        return Outcome(self.ask(turn, next_state), next_state)


async def test_a_turn_that_lost_a_race_is_refused_not_merged(
    database: Database, program: Program
) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite runs one turn at a time per process, so two turns cannot race")
    from handlers.core.engine import Command

    flow = _GatedFlow()
    engine = Engine(
        programs=Programs.one(program),
        database=database,
        commands=[Command("gate", "test", flow.start)],
        flows={flow.name: flow},
        clock=FakeClock(),
    )
    chat = Chat(engine, await make_person(database, "race@example.com"))
    await chat.send("gate")
    slow = asyncio.create_task(chat.engine.handle(_text(chat, "first")))
    await flow.entered.wait()
    fast = await chat.engine.handle(_text(chat, "second"))
    flow.gate.set()
    late = await slow
    assert fast[0].text == "count is 1"
    assert "two answers at the same moment and kept the first" in late[0].text
    assert late[1].text == "count is 1"
    state = await stored_state(database)
    assert (state.version, state.data["count"]) == (2, 1)


def _text(chat: Chat, text: str) -> Inbound:
    inbound = chat.inbound
    return Inbound(inbound.channel, inbound.user_key, inbound.person_id, text=text)


async def test_state_of_a_flow_this_version_lacks_is_dropped(
    chat: Chat, database: Database
) -> None:
    await chat.send("join mentee")
    async with database.session() as session:
        conn = await session.connection()
        await conn.execute(sa.text("UPDATE conversation_state SET flow = 'retired'"))
    await chat.expect("status", "not enrolled")
    async with database.session() as session:
        assert (await session.exec(select(ConversationState))).all() == []


async def test_resume_with_no_flow_in_progress_says_nothing(chat: Chat) -> None:
    assert await chat.engine.resume(chat.inbound) == []


async def test_flows_on_different_channels_are_separate(chat: Chat) -> None:
    await chat.send("join mentee")
    other = Chat(chat.engine, chat.person, channel="slack")
    await other.expect("status", "not enrolled")
    await chat.expect("Lead a team", "Question 2 of 6")


async def test_reset_drops_a_broken_flow(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    await chat.engine.reset(chat.inbound)
    async with database.session() as session:
        assert (await session.exec(select(ConversationState))).all() == []


async def test_a_repeated_platform_event_is_answered_once(chat: Chat, database: Database) -> None:
    inbound = chat.inbound
    first = Inbound(
        inbound.channel, inbound.user_key, inbound.person_id, text="join mentee", event_id="Ev1"
    )
    again = Inbound(
        inbound.channel, inbound.user_key, inbound.person_id, text="join mentee", event_id="Ev1"
    )
    assert (await chat.engine.turn(first)).replies
    repeated = await chat.engine.turn(again)
    assert (repeated.replies, repeated.accepted) == ([], False)
    state = await stored_state(database)
    assert state.version == 1


async def test_a_failed_turn_does_not_swallow_the_platforms_retry(
    chat: Chat, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.intake.chat

    original = handlers.intake.chat.enrollments_of

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    inbound = chat.inbound
    event = Inbound(
        inbound.channel, inbound.user_key, inbound.person_id, text="join mentee", event_id="Ev2"
    )
    monkeypatch.setattr(handlers.intake.chat, "enrollments_of", broken)
    with pytest.raises(RuntimeError):
        await chat.engine.turn(event)
    monkeypatch.setattr(handlers.intake.chat, "enrollments_of", original)
    retried = await chat.engine.turn(event)
    assert any("Question 1 of 6" in r.text for r in retried.replies)


async def test_undo_puts_the_question_the_person_saw_back(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    seen_token = chat.last_prompt_token()
    result = await chat.engine.turn(
        Inbound(
            chat.inbound.channel, chat.inbound.user_key, chat.inbound.person_id, text="Lead a team"
        )
    )
    assert await chat.engine.undo(chat.inbound, result)
    state = await stored_state(database)
    assert (state.step, state.version, state.data["answers"]) == ("question:goals", 1, {})
    # The question that was on screen still works.
    reply = await chat.click("Lead a team", token=seen_token)
    assert "Question 2 of 6" in reply


async def test_undo_of_a_finished_flow_restores_the_last_step(
    chat: Chat, database: Database
) -> None:
    from tests.helpers import MENTEE_ANSWERS

    await chat.send("join mentee")
    for answer in MENTEE_ANSWERS:
        await chat.send(answer)
    inbound = chat.inbound
    result = await chat.engine.turn(
        Inbound(inbound.channel, inbound.user_key, inbound.person_id, text="yes")
    )
    assert result.version == 0
    assert await chat.engine.undo(inbound, result)
    state = await stored_state(database)
    assert state.step == "confirm"


async def test_undo_refuses_when_the_conversation_moved_on(chat: Chat, database: Database) -> None:
    await chat.send("join mentee")
    inbound = chat.inbound
    result = await chat.engine.turn(
        Inbound(inbound.channel, inbound.user_key, inbound.person_id, text="Lead a team")
    )
    await chat.send("coaching")
    assert not await chat.engine.undo(inbound, result)
    assert (await stored_state(database)).step == "question:learning_style"
