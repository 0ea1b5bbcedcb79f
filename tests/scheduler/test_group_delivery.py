"""Group outbox messages: one Slack group DM for everyone, else each person on their own."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.slack.sender import SlackSender
from bot.slack.settings import SlackSettings, make_client
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue, take_waiting
from handlers.core.ports import Recipient, Sender, Unreachable, group_sender
from scheduler.outbox import OutboxWorker
from storage import Database, Outbox, Person
from storage.queries import link_account
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.helpers import FakeClock, make_person

TEAM = "T0MENTOR"
KICKOFF = "Meet your mentoring partner"


@dataclass
class RecordingSender:
    """A sender for another platform, without group conversations (like Teams)."""

    platform: str
    delivered: list[tuple[int, str]] = field(default_factory=list)

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> None:
        if recipient.external_id is None:
            raise Unreachable(f"no {self.platform} account")
        self.delivered.append((recipient.person_id, replies[0].text))


@dataclass
class Group:
    fake: FakeSlack
    database: Database
    clock: FakeClock
    senders: list[Sender] = field(default_factory=list)

    def slack(self) -> SlackSender:
        client = make_client(
            SlackSettings(bot_token="xoxb-t", signing_secret="s", api_url=self.fake.url),
            retry_interval=0.01,
        )

        async def sleep(_seconds: float) -> None:
            pass

        return SlackSender(
            client=client, database=self.database, clock=self.clock, team=TEAM, sleep=sleep
        )

    def worker(
        self, *senders: Sender, batch: int = 50, database: Database | None = None
    ) -> OutboxWorker:
        return OutboxWorker(
            database=database or self.database,
            senders=list(senders) or [self.slack()],
            clock=self.clock,
            batch=batch,
            max_attempts=3,
        )

    async def person(self, user: str, email: str, name: str, *, on_slack: bool = True) -> Person:
        """A person Slack knows by email; linked to their Slack user when ``on_slack``."""
        self.fake.add_user(user, email=email, name=name, team=TEAM)
        person = await make_person(self.database, email, name=name)
        if on_slack:
            await self.link(person, "slack", f"{TEAM}/{user}")
        return person

    async def link(self, person: Person, platform: str, external_id: str) -> None:
        assert person.id is not None
        async with self.database.session() as session:
            await link_account(
                session,
                platform=platform,
                external_id=external_id,
                person_id=person.id,
                now=self.clock.now(),
            )

    async def queue(self, people: list[Person], key: str, text: str = KICKOFF) -> None:
        """One row per person with the same replies and group key, as the kickoff does."""
        async with self.database.session() as session:
            for person in people:
                assert person.id is not None
                assert await enqueue(
                    session,
                    person_id=person.id,
                    replies=[Reply(text)],
                    dedupe_key=f"{key}:{person.id}",
                    group_key=key,
                    now=self.clock.now(),
                )

    async def items(self) -> list[Outbox]:
        async with self.database.session() as session:
            return list((await session.exec(select(Outbox).order_by(Outbox.id))).all())  # type: ignore[arg-type]

    def posts(self) -> list[tuple[str, str]]:
        return [(p["channel"], p["text"]) for p in self.fake.of("chat.postMessage")]

    def opened(self) -> list[str]:
        return [c["users"] for c in self.fake.of("conversations.open")]


@pytest.fixture
async def group(database: Database) -> AsyncIterator[Group]:
    async with fake_slack() as fake:
        yield Group(fake, database, FakeClock())


async def pair(group: Group) -> tuple[Person, Person]:
    ana = await group.person("U0ANA", "ana@example.com", "Ana Lopez")
    ben = await group.person("U0BEN", "ben@example.com", "Ben Okafor")
    return ana, ben


async def test_a_pair_on_slack_gets_one_group_message(group: Group) -> None:
    ana, ben = await pair(group)
    await group.queue([ana, ben], "pairing:12:kickoff")
    report = await group.worker().run_once()
    assert (report.sent, report.total) == (2, 2)
    assert group.opened() == ["U0ANA,U0BEN"]
    assert group.posts() == [("GU0ANAU0BEN", KICKOFF)]
    items = await group.items()
    assert [(i.status, i.channel, i.attempts) for i in items] == [("sent", "slack", 1)] * 2
    assert all(i.sent_at == group.clock.now() for i in items)
    assert (await group.worker().run_once()).total == 0


async def test_someone_without_a_slack_account_gets_their_own_message(group: Group) -> None:
    ana = await group.person("U0ANA", "ana@example.com", "Ana Lopez")
    ben = await group.person("U0BEN", "ben@example.com", "Ben Okafor", on_slack=False)
    await group.queue([ana, ben], "pairing:12:kickoff")
    report = await group.worker().run_once()
    assert report.sent == 2
    assert group.opened() == ["U0ANA", "U0BEN"]  # one DM each, no group DM
    assert group.posts() == [("DU0ANA", KICKOFF), ("DU0BEN", KICKOFF)]
    assert group.fake.of("users.lookupByEmail") == [{"email": "ben@example.com"}]
    assert [(i.status, i.channel) for i in await group.items()] == [("sent", "slack")] * 2


async def test_a_pair_on_different_platforms_gets_one_message_each(group: Group) -> None:
    ana = await group.person("U0ANA", "ana@example.com", "Ana Lopez")
    ben = await group.person("U0BEN", "ben@example.com", "Ben Okafor", on_slack=False)
    await group.link(ben, "teams", "aad-ben")
    slack, teams = group.slack(), RecordingSender("teams")
    assert group_sender(slack) is slack
    assert group_sender(teams) is None
    await group.queue([ana, ben], "pairing:12:kickoff")
    report = await group.worker(slack, teams).run_once()
    assert report.sent == 2
    assert group.posts() == [("DU0ANA", KICKOFF)]
    assert teams.delivered == [(ben.id, KICKOFF)]
    assert [(i.status, i.channel) for i in await group.items()] == [
        ("sent", "slack"),
        ("sent", "teams"),
    ]


async def test_a_pair_only_on_a_platform_without_group_chats_gets_one_message_each(
    group: Group,
) -> None:
    ana = await group.person("U0ANA", "ana@example.com", "Ana Lopez", on_slack=False)
    ben = await group.person("U0BEN", "ben@example.com", "Ben Okafor", on_slack=False)
    await group.link(ana, "teams", "aad-ana")
    await group.link(ben, "teams", "aad-ben")
    teams = RecordingSender("teams")
    await group.queue([ana, ben], "pairing:12:kickoff")
    assert (await group.worker(teams).run_once()).sent == 2
    assert teams.delivered == [(ana.id, KICKOFF), (ben.id, KICKOFF)]


async def test_a_group_row_whose_sibling_was_already_sent_goes_alone(group: Group) -> None:
    ana, ben = await pair(group)
    await group.queue([ana, ben], "pairing:12:kickoff")
    assert ben.id is not None
    async with group.database.session() as session:  # Ben read it in the shell first
        taken = await take_waiting(
            session, person_id=ben.id, channel="shell", now=group.clock.now()
        )
    assert [r.text for r in taken] == [KICKOFF]
    report = await group.worker().run_once()
    assert (report.sent, report.total) == (1, 1)
    assert group.opened() == ["U0ANA"]
    assert group.posts() == [("DU0ANA", KICKOFF)]
    assert [(i.status, i.channel) for i in await group.items()] == [
        ("sent", "slack"),
        ("sent", "shell"),
    ]


async def test_a_group_split_by_the_batch_limit_still_goes_as_one_message(group: Group) -> None:
    ana, ben = await pair(group)
    await group.queue([ana, ben], "pairing:12:kickoff")
    report = await group.worker(batch=1).run_once()
    assert report.sent == 2
    assert group.posts() == [("GU0ANAU0BEN", KICKOFF)]
    items = await group.items()
    assert [(i.status, i.attempts) for i in items] == [("sent", 1), ("sent", 1)]


class ClaimsWhileTheGroupStarts(OutboxWorker):
    """A worker whose pass claims again before a group run has claimed its siblings: the
    order a busy machine can give the two (the pass's loop runs on while the run waits for
    the database)."""

    claims: int = 0
    second_claim: asyncio.Event | None = None

    async def claim(self, *args: object, **kwargs: object) -> list[Outbox]:
        self.claims += 1
        found = await super().claim(*args, **kwargs)  # type: ignore[arg-type]
        if self.claims == 2 and self.second_claim is not None:
            self.second_claim.set()
        return found

    async def _claim_siblings(self, *args: object, **kwargs: object) -> tuple[list[Outbox], bool]:
        assert self.second_claim is not None
        await self.second_claim.wait()
        return await super()._claim_siblings(*args, **kwargs)  # type: ignore[arg-type]


async def test_a_pass_that_claims_again_mid_group_leaves_the_group_to_its_run(
    group: Group,
) -> None:
    ana, ben = await pair(group)
    await group.queue([ana, ben], "pairing:12:kickoff")
    worker = ClaimsWhileTheGroupStarts(
        database=group.database, senders=[group.slack()], clock=group.clock, batch=1
    )
    worker.second_claim = asyncio.Event()
    report = await worker.run_once()
    assert worker.claims >= 2  # the pass did claim while the group run waited
    assert report.sent == 2
    assert group.posts() == [("GU0ANAU0BEN", KICKOFF)]


async def test_a_group_row_claimed_by_another_worker_leaves_the_rest_to_go_alone(
    group: Group,
) -> None:
    ana, ben = await pair(group)
    await group.queue([ana, ben], "pairing:12:kickoff")
    other = group.worker(batch=1, database=Database(group.database.url))
    try:
        [held] = await other.claim(group.clock.now())  # ...and that worker dies
    finally:
        await other.database.dispose()
    assert held.person_id == ana.id
    report = await group.worker().run_once()
    assert (report.sent, report.total) == (1, 1)
    assert group.posts() == [("DU0BEN", KICKOFF)]
    assert [i.status for i in await group.items()] == ["sending", "sent"]
    group.clock.advance(minutes=6)  # the dead worker's lease runs out
    assert (await group.worker().run_once()).sent == 1
    assert group.posts() == [("DU0BEN", KICKOFF), ("DU0ANA", KICKOFF)]
    assert [i.status for i in await group.items()] == ["sent", "sent"]


async def test_a_group_dm_slack_will_not_open_goes_one_by_one(group: Group) -> None:
    ana, ben = await pair(group)
    await group.queue([ana, ben], "pairing:12:kickoff")
    group.fake.fail("conversations.open", status=200, error="missing_scope")
    report = await group.worker().run_once()
    assert report.sent == 2
    assert [c.args["users"] for c in group.fake.attempts("conversations.open")] == [
        "U0ANA,U0BEN",
        "U0ANA",
        "U0BEN",
    ]
    assert group.posts() == [("DU0ANA", KICKOFF), ("DU0BEN", KICKOFF)]
    items = await group.items()
    assert [(i.status, i.channel, i.attempts) for i in items] == [("sent", "slack", 1)] * 2


async def test_a_rate_limited_group_post_retries_both_rows_then_sends_once(group: Group) -> None:
    ana, ben = await pair(group)
    await group.queue([ana, ben], "pairing:12:kickoff")
    group.fake.fail("chat.postMessage", status=429, retry_after=0, times=3)  # the client waits
    group.fake.fail("chat.postMessage", status=429, retry_after=120, times=1)
    worker = group.worker()
    report = await worker.run_once()
    assert (report.retried, report.total) == (2, 2)
    assert group.posts() == []
    later = group.clock.now() + timedelta(seconds=120)
    assert [(i.status, i.next_attempt_at, i.last_error) for i in await group.items()] == [
        ("pending", later, "slack: rate limited by Slack")
    ] * 2
    assert (await worker.run_once()).total == 0  # not due yet
    group.clock.advance(seconds=121)
    report = await worker.run_once()
    assert (report.sent, report.total) == (2, 2)
    assert group.posts() == [("GU0ANAU0BEN", KICKOFF)]
    items = await group.items()
    assert [(i.status, i.attempts, i.last_error) for i in items] == [("sent", 2, None)] * 2
    assert (await worker.run_once()).total == 0


async def test_two_workers_racing_over_groups_reach_each_person_once(group: Group) -> None:
    people = [await group.person(f"U0P{n}", f"p{n}@example.com", f"Person {n}") for n in range(8)]
    for n in range(0, 8, 2):
        await group.queue(people[n : n + 2], f"pairing:{n}:kickoff")
    second = Database(group.database.url)
    try:
        first_worker = group.worker(batch=3)
        second_worker = group.worker(batch=3, database=second)
        reports = await asyncio.gather(first_worker.run_once(), second_worker.run_once())
        leftover = await group.worker().run_once()
    finally:
        await second.dispose()
    assert sum(r.sent for r in reports) + leftover.sent == 8
    reached: Counter[str] = Counter()
    for channel, _ in group.posts():
        users = channel[1:]
        reached.update(users[i : i + 4] for i in range(0, len(users), 4))
    assert reached == Counter(f"U0P{n}" for n in range(8))
    assert [i.status for i in await group.items()] == ["sent"] * 8
