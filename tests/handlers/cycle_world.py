"""A small program that runs in simulated time: pair two people, tick, see what arrives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.render_text import render_all
from handlers import build_engine
from handlers.core.engine import Engine
from handlers.core.messages import Reply
from handlers.core.outbox import take_waiting
from handlers.core.ports import Recipient
from handlers.core.program import Program
from handlers.core.programs import Programs
from scheduler.due import DueReport, run_due
from scheduler.outbox import OutboxWorker
from storage import Database, DueItem, Outbox, Pairing, Person
from storage.tables import CIRCLE_DUE
from storage.types import UTCDateTime
from tests.helpers import Chat, FakeClock, make_person, mentee, mentor, rows

LEAD = "priya.shah@example.com"
DUE = DueItem.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
#: Monday 23 November 2026, 10:00 UTC.
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class Received:
    """One message as its recipient got it."""

    email: str
    at: datetime
    text: str
    zone: str

    @property
    def local(self) -> datetime:
        return self.at.astimezone(ZoneInfo(self.zone))


@dataclass
class Recorder:
    """A platform that records what it delivers, and when."""

    clock: FakeClock
    zones: dict[str, str]
    platform: str = "record"
    received: list[Received] = field(default_factory=list)

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> None:
        self.received.append(
            Received(
                recipient.email,
                self.clock.now(),
                render_all(replies),
                self.zones.get(recipient.email, "Europe/London"),
            )
        )


class World:
    """One program, a lead, and a recorder standing in for Slack and Teams."""

    def __init__(
        self,
        database: Database,
        program: Program,
        start: datetime = START,
        *,
        summaries: bool = False,
        programs: Programs | None = None,
    ) -> None:
        self.database = database
        self.program = program
        #: Every program the bot runs (several programs: ``programs``; else just ``program``).
        self.programs = programs or Programs.one(program)
        self.clock = FakeClock(start)
        self.engine: Engine = build_engine(
            programs=self.programs, database=database, clock=self.clock, summaries=summaries
        )
        self.zones: dict[str, str] = {}
        self.recorder = Recorder(self.clock, self.zones)
        self.worker = OutboxWorker(database=database, senders=[self.recorder], clock=self.clock)

    def chat(self, person: Person) -> Chat:
        return Chat(self.engine, person)

    async def pair(
        self,
        *,
        mentee_zone: str = "Europe/London",
        mentor_zone: str = "Europe/London",
        mentee_email: str = "lee@x.com",
        mentor_email: str = "ana@x.com",
        mentee_name: str = "Lee Park",
        mentor_name: str = "Ana Lima",
    ) -> tuple[Person, Person, Pairing]:
        """Match, propose and accept: an active pairing at the clock's time."""
        self.zones[mentee_email] = mentee_zone
        self.zones[mentor_email] = mentor_zone
        lee = await mentee(self.database, mentee_email, name=mentee_name, timezone=mentee_zone)
        ana = await mentor(self.database, mentor_email, name=mentor_name, timezone=mentor_zone)
        lead = self.chat(await make_person(self.database, LEAD, name="Priya Shah"))
        self.zones[LEAD] = "Europe/London"
        await lead.send("match")
        await lead.send("approve all")
        pairing = [p for p in await rows(self.database, Pairing) if p.mentee_id == lee.id][-1]
        # Each reads their proposal in a chat with the bot (as the shell shows it) and accepts.
        await self.read_waiting(ana)
        await self.chat(ana).expect(f"accept {pairing.id}", "I've asked")
        await self.read_waiting(lee)
        await self.chat(lee).expect(f"accept {pairing.id}", "you're paired with")
        pairing = next(p for p in await rows(self.database, Pairing) if p.id == pairing.id)
        return lee, ana, pairing

    async def read_waiting(self, person: Person) -> str:
        """What the person sees of their waiting messages when they open a chat."""
        assert person.id is not None
        async with self.database.session() as session:
            replies = await take_waiting(
                session, person_id=person.id, channel="shell", now=self.clock.now()
            )
        return render_all(replies)

    async def tick(self) -> DueReport:
        """One pass of due work and delivery, at the clock's time."""
        report = await run_due(self.database, self.programs, now=self.clock.now())
        # One pass delivers everything due (it claims until nothing is left).
        await self.worker.run_once()
        return report

    async def run(self, *, days: float = 0, hours: float = 0, step: float = 1) -> None:
        """Tick every ``step`` hours for the given time."""
        end = self.clock.now() + timedelta(days=days, hours=hours)
        while self.clock.now() < end:
            self.clock.advance(hours=step)
            await self.tick()

    async def next_moment(self) -> datetime | None:
        """The next moment anything is due: a due item, a circle's, or an outbox message."""
        earliest = [
            sa.select(sa.func.min(DUE.c.due_at)).where(DUE.c.status == "pending"),
            sa.select(sa.func.min(OUTBOX.c.next_attempt_at)).where(OUTBOX.c.status == "pending"),
            sa.select(sa.func.min(CIRCLE_DUE.c.due_at)).where(CIRCLE_DUE.c.status == "pending"),
        ]
        async with self.database.session() as session:
            conn = await session.connection()
            row = (await conn.execute(sa.select(*(q.scalar_subquery() for q in earliest)))).one()
        found = [UTCDateTime().process_result_value(v, None) for v in row if v]  # type: ignore[arg-type]
        return min((f for f in found if f is not None), default=None)

    async def walk(self, days: int) -> None:
        """Go forward day by day; inside each day, tick at each moment something is due."""
        for _ in range(days):
            end = self.clock.now() + timedelta(days=1)
            while True:
                moment = await self.next_moment()
                if moment is None or moment >= end:
                    break
                self.clock.current = max(moment, self.clock.now() + timedelta(seconds=1))
                await self.tick()
            self.clock.current = end
            await self.tick()

    def inbox(self, email: str) -> list[Received]:
        return [r for r in self.recorder.received if r.email == email]

    def take(self) -> list[Received]:
        """What arrived since the last take."""
        got = list(self.recorder.received)
        self.recorder.received.clear()
        return got


async def log_session(
    chat: Chat,
    command: str = "log",
    day: str = "today",
    minutes: str = "45",
    *,
    notes: str | None = None,
    progress: str = "2",
) -> str:
    """Log a session in the shell's one-question-at-a-time form; returns the last reply.

    Format and topic are the first options; each milestone gets ``progress`` (2: on track).
    """
    await chat.send(command)
    await chat.send(day)
    await chat.send(minutes)
    await chat.send("1")
    await chat.send("1")
    last = await chat.send(notes if notes is not None else "skip")
    while "Progress on" in last:
        last = await chat.send(progress)
    return last
