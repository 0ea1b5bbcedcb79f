"""Outbox delivery through the Slack sender: claims, retries, backoff, pacing, give-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlmodel import select

from bot.slack.sender import SlackSender
from bot.slack.settings import SlackSettings, make_client
from handlers.core.messages import DaysSince, Reply, counting
from handlers.core.outbox import enqueue
from scheduler.outbox import OutboxWorker
from storage import Database, Outbox, Person, PlatformAccount
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.helpers import FakeClock, make_person


@dataclass
class Delivery:
    fake: FakeSlack
    worker: OutboxWorker
    clock: FakeClock
    sleeps: list[float]
    database: Database

    async def queue(self, person: Person, text: str, key: str) -> bool:
        assert person.id is not None
        async with self.database.session() as session:
            return await enqueue(
                session,
                person_id=person.id,
                replies=[Reply(text)],
                dedupe_key=key,
                now=self.clock.now(),
            )

    async def items(self) -> list[Outbox]:
        async with self.database.session() as session:
            return list((await session.exec(select(Outbox).order_by(Outbox.id))).all())  # type: ignore[arg-type]


@pytest.fixture
async def delivery(database: Database) -> AsyncIterator[Delivery]:
    clock = FakeClock()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with fake_slack() as fake:
        fake.add_user("U0ANA", email="ana@example.com", name="Ana Lopez")
        client = make_client(
            SlackSettings(bot_token="xoxb-t", signing_secret="s", api_url=fake.url),
            retry_interval=0.01,
        )
        sender = SlackSender(
            client=client, database=database, clock=clock, team="T0MENTOR", sleep=sleep
        )
        worker = OutboxWorker(database=database, senders=[sender], clock=clock, max_attempts=3)
        yield Delivery(fake, worker, clock, sleeps, database)


async def test_a_queued_message_reaches_someone_who_never_talked_to_the_bot(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    assert await delivery.queue(ana, "You have a mentor proposal", "proposal:1")
    report = await delivery.worker.run_once()
    assert (report.sent, report.total) == (1, 1)
    assert delivery.fake.of("users.lookupByEmail") == [{"email": "ana@example.com"}]
    [post] = delivery.fake.of("chat.postMessage")
    assert (post["channel"], post["text"]) == ("DU0ANA", "You have a mentor proposal")
    [item] = await delivery.items()
    assert (item.status, item.channel, item.attempts, item.sent_at) == (
        "sent",
        "slack",
        1,
        delivery.clock.now(),
    )
    async with database.session() as session:
        [account] = (await session.exec(select(PlatformAccount))).all()
    assert (account.external_id, account.dm_channel) == ("T0MENTOR/U0ANA", "DU0ANA")


async def test_slack_is_sent_the_count_of_days_of_the_moment_it_goes_out(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    assert ana.id is not None
    queued_at = delivery.clock.now()  # Mon 23 Nov
    last_met = DaysSince(date(2026, 11, 9), "Europe/London")
    async with database.session() as session:
        await enqueue(
            session,
            person_id=ana.id,
            replies=[counting(("It's been ", last_met, " since your session."), now=queued_at)],
            dedupe_key="nudge",
            now=queued_at,
        )
    delivery.clock.advance(days=3)  # delivered three days after it was queued
    assert (await delivery.worker.run_once()).sent == 1
    [post] = delivery.fake.of("chat.postMessage")
    assert post["text"] == "It's been 17 days since your session."


async def test_the_same_message_is_queued_once(delivery: Delivery, database: Database) -> None:
    ana = await make_person(database, "ana@example.com")
    assert await delivery.queue(ana, "hello", "same-key")
    assert not await delivery.queue(ana, "hello again", "same-key")
    assert len(await delivery.items()) == 1


async def test_someone_slack_does_not_know_is_undeliverable_with_the_reason(
    delivery: Delivery, database: Database
) -> None:
    ghost = await make_person(database, "ghost@example.com")
    await delivery.queue(ghost, "hello", "k")
    report = await delivery.worker.run_once()
    assert report.undeliverable == 1
    [item] = await delivery.items()
    assert (item.status, item.last_error) == (
        "undeliverable",
        "slack: no Slack user has this email",
    )
    assert delivery.fake.of("chat.postMessage") == []
    assert (await delivery.worker.run_once()).total == 0  # never retried


async def test_server_errors_are_retried_later_with_backoff(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    await delivery.queue(ana, "hello", "k")
    delivery.fake.fail("chat.postMessage", status=500, times=3)  # the client retries twice itself
    report = await delivery.worker.run_once()
    assert report.retried == 1
    [item] = await delivery.items()
    assert item.status == "pending"
    assert item.last_error == "slack: Slack answered 500"
    assert item.next_attempt_at == delivery.clock.now() + timedelta(seconds=30)
    assert (await delivery.worker.run_once()).total == 0  # not due yet
    delivery.clock.advance(seconds=31)
    assert (await delivery.worker.run_once()).sent == 1
    [item] = await delivery.items()
    assert (item.status, item.attempts) == ("sent", 2)


async def test_a_message_that_keeps_failing_is_marked_failed_not_dropped(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    await delivery.queue(ana, "hello", "k")
    delivery.fake.fail("chat.postMessage", status=500, times=100)
    waits = []
    for _ in range(3):
        await delivery.worker.run_once()
        [item] = await delivery.items()
        waits.append(item.next_attempt_at - delivery.clock.now())
        delivery.clock.advance(hours=2)
    assert waits[:2] == [timedelta(seconds=30), timedelta(seconds=60)]
    [item] = await delivery.items()
    assert item.status == "failed"
    assert item.last_error == "gave up after 3 attempts: slack: Slack answered 500"


async def test_a_long_rate_limit_waits_at_least_retry_after(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    await delivery.queue(ana, "hello", "k")
    delivery.fake.fail("chat.postMessage", status=429, retry_after=0, times=3)
    delivery.fake.fail("chat.postMessage", status=429, retry_after=120, times=1)
    await delivery.worker.run_once()
    [item] = await delivery.items()
    assert item.status == "pending"
    assert item.next_attempt_at == delivery.clock.now() + timedelta(seconds=120)
    assert item.last_error == "slack: rate limited by Slack"


async def test_bulk_sends_to_one_channel_are_paced_to_one_a_second(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    for n in range(3):
        await delivery.queue(ana, f"message {n}", f"k{n}")
    assert (await delivery.worker.run_once()).sent == 3
    assert [p["text"] for p in delivery.fake.of("chat.postMessage")] == [
        "message 0",
        "message 1",
        "message 2",
    ]
    assert len(delivery.sleeps) == 2
    assert all(0.5 < s <= 1.0 for s in delivery.sleeps)


async def test_a_claim_whose_process_died_is_picked_up_after_its_lease(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    await delivery.queue(ana, "hello", "k")
    [_claimed] = await delivery.worker.claim(delivery.clock.now())  # ...and the process dies
    assert await delivery.worker.claim(delivery.clock.now()) == []
    delivery.clock.advance(minutes=6)
    assert (await delivery.worker.run_once()).sent == 1
    [item] = await delivery.items()
    assert (item.status, item.attempts) == ("sent", 2)
    assert len(delivery.fake.of("chat.postMessage")) == 1


async def test_two_workers_never_claim_the_same_message(
    delivery: Delivery, database: Database
) -> None:
    ana = await make_person(database, "ana@example.com")
    for n in range(60):
        await delivery.queue(ana, f"m{n}", f"k{n}")
    other = OutboxWorker(
        database=Database(database.url), senders=[], clock=delivery.clock, batch=50
    )
    try:
        mine, theirs = await asyncio.gather(
            delivery.worker.claim(delivery.clock.now()), other.claim(delivery.clock.now())
        )
    finally:
        await other.database.dispose()
    ids_mine, ids_theirs = {i.id for i in mine}, {i.id for i in theirs}
    assert not ids_mine & ids_theirs
    assert len(ids_mine | ids_theirs) == 60


async def test_a_sender_that_fails_is_logged_without_the_error_text(
    delivery: Delivery,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sender's error can quote the message it was sending; the log keeps type and place."""
    ana = await make_person(database, "ana@example.com", name="Ana Lopez")
    await delivery.queue(ana, "about my private goals", "k1")
    private = "about my private goals"

    async def broken(**kwargs: object) -> str:
        raise RuntimeError(f"could not render {private!r}")

    monkeypatch.setattr(delivery.worker.senders[0], "deliver", broken)
    report = await delivery.worker.run_once()
    assert report.retried == 1
    [failed] = [r for r in caplog.records if "the sender failed" in r.getMessage()]
    assert "RuntimeError" in failed.getMessage()
    assert "reference=" in failed.getMessage()
    for record in caplog.records:
        assert private not in record.getMessage()
        assert record.exc_info is None
    [item] = await delivery.items()
    assert private not in (item.last_error or "")
