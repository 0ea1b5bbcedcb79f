"""``report ops``: a lead sees what the outbox gave up on, and why."""

from __future__ import annotations

from datetime import timedelta

from handlers import build_engine
from handlers.core.audit import entries
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.ports import Recipient, TransientDeliveryError, Unreachable
from handlers.core.program import Program
from handlers.core.programs import Programs
from scheduler.outbox import OutboxWorker
from storage import Database
from tests.helpers import Chat, FakeClock, make_person


class Failing:
    """A platform that is down, or cannot reach one person at all."""

    platform = "slack"

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> None:
        if recipient.email.startswith("gone"):
            raise Unreachable("no Slack user has this email")
        raise TransientDeliveryError("Slack answered 503")


async def test_a_lead_sees_failed_and_undeliverable_messages_with_reasons(
    database: Database, program: Program
) -> None:
    clock = FakeClock()
    ana = await make_person(database, "ana@x.com", name="Ana Lima")
    gone = await make_person(database, "gone@x.com", name="Gone Person")
    lead = await make_person(database, "priya.shah@example.com", name="Priya Shah")
    async with database.session() as session:
        for person, key in ((ana, "nudge:1"), (gone, "nudge:2")):
            assert person.id is not None
            await enqueue(
                session,
                person_id=person.id,
                replies=[Reply("Time for a check-in")],
                dedupe_key=key,
                now=clock.now(),
            )
    worker = OutboxWorker(
        database=database,
        senders=[Failing()],
        clock=clock,
        max_attempts=2,
        backoff=timedelta(seconds=10),
    )
    for _ in range(3):
        await worker.run_once()
        clock.advance(minutes=5)
    engine = build_engine(programs=Programs.one(program), database=database, clock=clock)
    report = await Chat(engine, lead).send("report ops")
    assert report.startswith(
        "== Operations: message delivery ==\n"
        "Waiting to go out  0\nSent               0\nFailed             1\nUndeliverable      1\n"
    )
    assert "Messages given up on (newest first)" in report
    assert "Ana Lima  ana@x.com  23 Nov 10:00" in report
    assert "gave up after 2 attempts: slack: Slack answered 503" in report
    assert "Gone Person  gone@x.com         1  slack: no Slack user has this email" in report

    await Chat(engine, lead).expect("report everything", "There's no report 'everything'")
    refused = await Chat(engine, ana).send("report ops")
    assert "Sorry, report is for the program leads only." in refused
    # The run and the refused attempt are both in the audit log; what it showed is not.
    async with database.session() as session:
        audit = await entries(session)
    assert [(e.actor, e.action, e.target, e.allowed) for e in audit] == [
        ("priya.shah@example.com", "report", "ops", True),
        ("ana@x.com", "report", "ops", False),
    ]
    assert audit[0].detail == {
        "kind": "ops",
        "channel": "shell",
        "format": "chat",
        "program": "leadership-2027",
    }
