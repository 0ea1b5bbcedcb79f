"""Outbox delivery at volume: backlogs drain in one pass, people are sent to at once, Slack's
pace and Retry-After are kept, and a message's platform id stops a second send. Teams sends
overlap as the worker allows, on Bot Connector clients made once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.sender import SlackSender
from bot.slack.settings import SlackSettings, make_client
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.ports import Recipient, TransientDeliveryError
from handlers.core.program import Program
from scheduler.outbox import DeliveryReport, OutboxWorker
from storage import Database, Outbox, Person
from storage.queries import link_account, save_reference
from tests.bot.teams_harness import TENANT, StaticCredentialsFactory, TeamsHarness, teams_server
from tests.fakes.bot_connector import APP_ID, ConnectorCall
from tests.fakes.slack_api import Call, FakeSlack, fake_slack
from tests.helpers import FakeClock, make_person, rows

TEAM = "T0MENTOR"


@dataclass
class Outbound:
    fake: FakeSlack
    database: Database
    clock: FakeClock
    sleeps: list[float] = field(default_factory=list)

    def sender(self, *, real_sleep: bool = False, min_interval: float = 1.0) -> SlackSender:
        client = make_client(
            SlackSettings(bot_token="xoxb-t", signing_secret="s", api_url=self.fake.url),
            retry_interval=0.01,
        )

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            if real_sleep:
                await asyncio.sleep(seconds)

        return SlackSender(
            client=client,
            database=self.database,
            clock=self.clock,
            team=TEAM,
            min_interval=min_interval,
            sleep=sleep,
        )

    def worker(self, sender: SlackSender | None = None, **options: object) -> OutboxWorker:
        return OutboxWorker(
            database=self.database,
            senders=[sender or self.sender()],
            clock=self.clock,
            max_attempts=3,
            **options,  # type: ignore[arg-type]
        )

    async def person(self, n: int) -> Person:
        """Person ``n``, known to Slack and linked to their DM ``DU0P<n>``."""
        user = f"U0P{n}"
        self.fake.add_user(user, email=f"p{n}@example.com", name=f"Person {n}", team=TEAM)
        person = await make_person(self.database, f"p{n}@example.com", name=f"Person {n}")
        assert person.id is not None
        async with self.database.session() as session:
            await link_account(
                session,
                platform="slack",
                external_id=f"{TEAM}/{user}",
                person_id=person.id,
                now=self.clock.now(),
                dm_channel=f"D{user}",
            )
        return person

    async def queue(self, person: Person, text: str) -> None:
        assert person.id is not None
        async with self.database.session() as session:
            await enqueue(
                session,
                person_id=person.id,
                replies=[Reply(text)],
                dedupe_key=text,
                now=self.clock.now(),
            )

    def recipient(self, person: Person, n: int) -> Recipient:
        assert person.id is not None
        return Recipient(
            person_id=person.id,
            email=person.email,
            name=person.name,
            external_id=f"{TEAM}/U0P{n}",
            dm_channel=f"DU0P{n}",
        )


@pytest.fixture
async def outbound(database: Database) -> AsyncIterator[Outbound]:
    async with fake_slack() as fake:
        yield Outbound(fake, database, FakeClock())


async def test_a_backlog_larger_than_a_batch_drains_in_one_pass(outbound: Outbound) -> None:
    people = [await outbound.person(n) for n in range(12)]
    for n, person in enumerate(people):
        await outbound.queue(person, f"nudge {n}")
    report = await outbound.worker(batch=5).run_once()
    assert (report.sent, report.total) == (12, 12)
    assert sorted(p["text"] for p in outbound.fake.of("chat.postMessage")) == sorted(
        f"nudge {n}" for n in range(12)
    )
    assert {i.status for i in await rows(outbound.database, Outbox)} == {"sent"}


async def test_different_people_are_sent_to_at_once(outbound: Outbound) -> None:
    people = [await outbound.person(n) for n in range(4)]
    for n, person in enumerate(people):
        await outbound.queue(person, f"nudge {n}")
    in_flight = 0
    most = 0
    overlapped = asyncio.Event()

    async def hold(call: Call) -> None:
        # Each post waits (up to a limit) for a second one to arrive: a worker that sends
        # one at a time never gets there, one that overlaps does at once.
        nonlocal in_flight, most
        if call.method != "chat.postMessage":
            return
        in_flight += 1
        most = max(most, in_flight)
        if in_flight > 1:
            overlapped.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(overlapped.wait(), 2)
        in_flight -= 1

    outbound.fake.before_answer = hold
    report = await outbound.worker(concurrency=4).run_once()
    assert report.sent == 4
    assert most > 1


async def test_one_channel_is_never_posted_to_twice_within_its_interval(
    outbound: Outbound,
) -> None:
    ana = await outbound.person(1)
    outbound.fake.limits.channel_interval = 0.2  # Slack refuses a faster second post
    sender = outbound.sender(real_sleep=True, min_interval=0.2)
    sent = await asyncio.gather(
        *(
            sender.deliver(recipient=outbound.recipient(ana, 1), replies=[Reply(f"m{n}")])
            for n in range(3)
        )
    )
    assert len(set(sent)) == 3
    assert outbound.fake.limits.refused_for_channel == 0
    assert sorted(p["text"] for p in outbound.fake.of("chat.postMessage")) == ["m0", "m1", "m2"]


async def test_a_retry_after_pauses_the_sends_to_everyone(outbound: Outbound) -> None:
    ana, ben = await outbound.person(1), await outbound.person(2)
    sender = outbound.sender()
    paused = asyncio.Event()
    pause = sender.pacing.pause

    def pause_and_tell(seconds: float) -> None:
        pause(seconds)
        paused.set()

    sender.pacing.pause = pause_and_tell  # type: ignore[method-assign]
    outbound.fake.fail("chat.postMessage", status=429, retry_after=1)
    to_ana = asyncio.ensure_future(
        sender.deliver(recipient=outbound.recipient(ana, 1), replies=[Reply("for ana")])
    )
    await asyncio.wait_for(paused.wait(), 10)  # the client has read Ana's 429
    await sender.deliver(recipient=outbound.recipient(ben, 2), replies=[Reply("for ben")])
    await to_ana
    assert outbound.sleeps == [1.0]  # Ben's post waited out the Retry-After Ana got
    assert [p["text"] for p in outbound.fake.of("chat.postMessage")] == ["for ben", "for ana"]


async def test_a_long_retry_after_sends_the_next_messages_back_to_the_outbox(
    outbound: Outbound,
) -> None:
    ana, ben = await outbound.person(1), await outbound.person(2)
    sender = outbound.sender()
    sender.pacing.pause(120)  # as after a 429 with Retry-After: 120
    with pytest.raises(TransientDeliveryError) as refused:
        await sender.deliver(recipient=outbound.recipient(ben, 2), replies=[Reply("for ben")])
    assert refused.value.retry_after == 120
    await outbound.queue(ana, "for ana")
    report = await outbound.worker(sender).run_once()
    assert report.retried == 1
    [item] = await rows(outbound.database, Outbox)
    assert item.next_attempt_at == outbound.clock.now() + timedelta(seconds=120)
    outbound.clock.advance(seconds=121)
    assert (await outbound.worker(sender).run_once()).sent == 1
    assert [p["text"] for p in outbound.fake.of("chat.postMessage")] == ["for ana"]


async def test_the_platform_message_id_is_stored(outbound: Outbound) -> None:
    ana = await outbound.person(1)
    await outbound.queue(ana, "hello")
    assert (await outbound.worker().run_once()).sent == 1
    [post] = outbound.fake.posts()
    [item] = await rows(outbound.database, Outbox)
    assert (item.status, item.platform_message_id) == ("sent", post.result["ts"])


async def test_a_claim_lost_during_a_slow_send_is_not_sent_again_by_its_new_holder(
    outbound: Outbound,
) -> None:
    ana = await outbound.person(1)
    await outbound.queue(ana, "hello")
    first = outbound.worker()
    second_database = Database(outbound.database.url)
    second = OutboxWorker(
        database=second_database, senders=[outbound.sender()], clock=outbound.clock
    )
    taken: list[Outbox] = []

    async def slow(call: Call) -> None:
        # While Slack is still answering, the first worker's lease runs out and the
        # second worker claims the message.
        if call.method == "chat.postMessage" and not taken:
            outbound.clock.advance(seconds=first.lease.total_seconds() + 1)
            taken.extend(await second.claim(outbound.clock.now()))

    outbound.fake.before_answer = slow
    try:
        await first.run_once()
        assert len(taken) == 1
        [item] = await rows(outbound.database, Outbox)
        [post] = outbound.fake.posts()
        assert (item.status, item.platform_message_id) == ("sending", post.result["ts"])
        report = DeliveryReport()
        await second.deliver(taken, report)
    finally:
        await second_database.dispose()
    assert report.sent == 1
    assert len(outbound.fake.posts()) == 1
    [item] = await rows(outbound.database, Outbox)
    assert (item.status, item.platform_message_id) == ("sent", post.result["ts"])


async def test_a_message_whose_process_died_mid_send_goes_after_a_minute(
    outbound: Outbound,
) -> None:
    ana = await outbound.person(1)
    await outbound.queue(ana, "hello")
    worker = outbound.worker()
    [_lost] = await worker.claim(outbound.clock.now())  # ...and the process is killed
    outbound.clock.advance(seconds=61)
    assert (await worker.run_once()).sent == 1
    assert [p["text"] for p in outbound.fake.of("chat.postMessage")] == ["hello"]


# -- Teams ----------------------------------------------------------------------------------


async def teams_people(
    teams: TeamsHarness, database: Database, count: int, *, first: int = 0
) -> None:
    """``count`` people who opened a chat with the bot in Teams, a message queued for each."""
    for n in range(first, first + count):
        person = await make_person(database, f"t{n}@example.com")
        assert person.id is not None
        async with database.session() as session:
            await link_account(
                session,
                platform="teams",
                external_id=f"aad-{n}",
                person_id=person.id,
                now=teams.runtime.clock.now(),
                tenant=TENANT,
            )
            await save_reference(
                session,
                person_id=person.id,
                platform="teams",
                reference={
                    "user": {"id": f"29:user-{n}", "name": f"Person {n}"},
                    "bot": {"id": f"28:{APP_ID}", "name": "mentorbot"},
                    "conversation": {"id": f"a:chat-{n}", "tenantId": TENANT},
                    "channelId": "msteams",
                    "serviceUrl": teams.connector.url,
                },
                now=teams.runtime.clock.now(),
            )
            await enqueue(
                session,
                person_id=person.id,
                replies=[Reply(f"nudge {n}")],
                dedupe_key=f"nudge {n}",
                now=teams.runtime.clock.now(),
            )


async def test_teams_sends_to_as_many_people_at_once_as_the_worker_allows(
    database: Database, program: Program
) -> None:
    # More than asyncio's default thread pool holds on a small machine (cpus + 4), where
    # botbuilder's own requests-based sender would queue the rest.
    count = 16
    async with teams_server(database, program) as teams:
        await teams_people(teams, database, count)
        in_flight = 0
        most = 0
        everyone = asyncio.Event()

        async def hold(call: ConnectorCall) -> None:
            # Each send waits (up to a limit) until every one is in flight at once.
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            if in_flight == count:
                everyone.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone.wait(), 10)
            in_flight -= 1

        teams.connector.before_answer = hold
        worker = teams.runtime.worker
        assert worker.concurrency >= count
        report = await worker.run_once()
    assert report.sent == count
    assert most == count


async def test_teams_credentials_and_connector_clients_are_made_once_not_per_message(
    database: Database, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    create = StaticCredentialsFactory.create_credentials

    async def counted(self: StaticCredentialsFactory, *args: Any, **kwargs: Any) -> Any:
        made.append("credentials")
        return await create(self, *args, **kwargs)

    monkeypatch.setattr(StaticCredentialsFactory, "create_credentials", counted)
    async with teams_server(database, program) as teams:
        await teams_people(teams, database, 1)
        assert (await teams.runtime.worker.run_once()).sent == 1
        first = len(made)
        await teams_people(teams, database, 3, first=1)
        assert (await teams.runtime.worker.run_once()).sent == 3
    # With real credentials each new set is a new MSAL app: a token request per message.
    assert first > 0
    assert len(made) == first


@contextlib.asynccontextmanager
async def forward_proxy() -> AsyncIterator[tuple[list[str], str]]:
    """An HTTP forward proxy on loopback: yields the URLs it is asked for, and its own URL."""
    import aiohttp
    from aiohttp import web

    asked: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        asked.append(str(request.url))
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                request.method,
                str(request.url),
                data=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            ) as answer,
        ):
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                content_type=answer.content_type,
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield asked, f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_teams_delivery_goes_through_the_proxy_the_environment_names(
    database: Database, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As msrest's requests did: a bot behind an egress proxy still reaches the connector."""
    async with forward_proxy() as (asked, proxy_url), teams_server(database, program) as teams:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        await teams_people(teams, database, 1)
        assert (await teams.runtime.worker.run_once()).sent == 1
    assert any("/v3/conversations/" in url for url in asked), asked


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": ["2.5"]}, 2.5),
        ({}, 1.0),
        ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, 1.0),
        ({"Retry-After": "inf"}, 1.0),
        ({"Retry-After": "nan"}, 1.0),
        ({"Retry-After": "-5"}, 1.0),
        ({"Retry-After": "9" * 400}, 3600.0),
        ({"Retry-After": "86400"}, 3600.0),
    ],
)
def test_a_retry_after_is_read_once_for_both_platforms_and_bounded(
    headers: dict[str, Any], seconds: float
) -> None:
    """A broken or absurd Retry-After cannot stall the outbox or overflow a date."""
    from scheduler.pacing import retry_after

    assert retry_after(headers) == seconds
