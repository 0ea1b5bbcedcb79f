"""Benchmark: draining an outbox backlog through the real Slack and Teams senders.

Queues N messages (default 10,000) to P people (default 5,000; message k goes to person
k mod P, as a tick's nudges do) in a throwaway PostgreSQL database (the server in
MENTORBOT_TEST_POSTGRES_URL, dropped afterwards), then lets R replicas drain it, each an
``OutboxWorker`` in a process of its own with its own engine:

slack
    ``bot.slack.sender.SlackSender`` over slack_sdk's ``AsyncWebClient`` (``make_client``)
    with ``base_url`` at the fake Web API of the tests. Everyone has a linked Slack account
    with a DM, as people who have used the bot do.
teams
    ``bot.teams.sender.TeamsSender`` over botbuilder's ``CloudAdapter`` (built by
    ``bot.server.build_runtime``) against the fake Bot Connector of the tests. Everyone has
    a stored conversation reference, which Teams requires.

Both fakes run in this process, add ``--latency`` seconds (default 0.1) to every call,
allow one message per second per channel, and answer 429 with a Retry-After when the
workspace passes ``--rate`` messages per second (a token bucket of one second's worth, the
way the platforms meter an app; so a run of T seconds may carry ``rate * (T + 1)``).

It prints, per platform and replica count: messages per second from the first replica's
start to the last one's end, that rate as a share of ``--rate``, the 429s the fake answered
(for the workspace rate and for a channel's interval), and duplicates (messages the fake
accepted more than once, which must be 0). It exits 1 when a message was not sent exactly
once. Target: at least 80% of ``--rate`` with 1 and with 2 replicas. It prints numbers and
never fails on time.

    .venv/bin/python bench/delivery.py [--messages N] [--people P] [--rate R]
        [--latency S] [--replicas 1,2] [--platforms slack,teams] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.* when run as `python bench/delivery.py`

from handlers.core.messages import Reply  # noqa: E402
from handlers.core.outbox import outbox_row  # noqa: E402
from handlers.core.programs import Programs  # noqa: E402
from storage import (  # noqa: E402
    ConversationRef,
    Database,
    Outbox,
    OutboxStatus,
    Person,
    PlatformAccount,
)
from tests import postgres  # noqa: E402
from tests.fakes.bot_connector import APP_ID, FakeConnector, fake_connector  # noqa: E402
from tests.fakes.slack_api import FakeSlack, Limits, fake_slack  # noqa: E402

TARGET = 0.8
TEAM = "T0BENCH"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CHUNK = 2000
NOW = datetime.now(UTC).replace(microsecond=0)
PERSON = Person.__table__  # type: ignore[attr-defined]
ACCOUNT = PlatformAccount.__table__  # type: ignore[attr-defined]
REFERENCE = ConversationRef.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]


@dataclass
class Result:
    """One platform at one replica count."""

    platform: str
    replicas: int
    messages: int
    seconds: float
    sent: int
    accepted: int
    duplicates: int
    refused_for_rate: int
    refused_for_channel: int
    rate: float

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def share(self) -> float:
        return self.per_second / self.rate


HEADER = (
    f"{'platform':<8} {'replicas':>8} {'messages':>8} {'sent':>6} {'seconds':>8} "
    f"{'msgs/s':>7} {'of rate':>7} {'429 rate':>8} {'429 chan':>8} {'duplicates':>10}"
)


def row(r: Result) -> str:
    return (
        f"{r.platform:<8} {r.replicas:>8} {r.messages:>8} {r.sent:>6} {r.seconds:>8.1f} "
        f"{r.per_second:>7.1f} {r.share:>7.0%} {r.refused_for_rate:>8} "
        f"{r.refused_for_channel:>8} {r.duplicates:>10}"
    )


# -- the backlog ----------------------------------------------------------------------------


def text_of(k: int) -> str:
    return f"Your check-in is due (bench message {k})"


def teams_reference(n: int, service_url: str) -> dict[str, Any]:
    """A stored proactive reference, as a Teams turn leaves one."""
    return {
        "activityId": None,
        "user": {"id": f"29:bench-user-{n}", "name": f"Person {n}"},
        "bot": {"id": f"28:{APP_ID}", "name": "mentorbot"},
        "conversation": {
            "id": f"a:bench-chat-{n}",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "channelId": "msteams",
        "locale": "en-US",
        "serviceUrl": service_url,
    }


async def seed(db: Database, *, platform_name: str, args: argparse.Namespace, url: str) -> None:
    """People, their Slack accounts or Teams references, and the queued messages."""
    async with db.session() as session:
        conn = await session.connection()
        for first in range(0, args.people, CHUNK):
            people = range(first, min(first + CHUNK, args.people))
            await conn.execute(
                sa.insert(PERSON),
                [
                    {
                        "id": n + 1,
                        "email": f"person{n}@bench.example.com",
                        "name": f"Person {n}",
                        "timezone": "Europe/Berlin",
                        "attributes": {},
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for n in people
                ],
            )
            if platform_name == "slack":
                await conn.execute(
                    sa.insert(ACCOUNT),
                    [
                        {
                            "platform": "slack",
                            "external_id": f"{TEAM}/U{n:06d}",
                            "person_id": n + 1,
                            "dm_channel": f"DU{n:06d}",
                            "created_at": NOW,
                            "last_seen_at": NOW,
                        }
                        for n in people
                    ],
                )
            else:
                await conn.execute(
                    sa.insert(REFERENCE),
                    [
                        {
                            "person_id": n + 1,
                            "platform": "teams",
                            "reference": teams_reference(n, url),
                            "updated_at": NOW,
                        }
                        for n in people
                    ],
                )
        if not db.is_sqlite:
            await conn.execute(
                sa.text("SELECT setval('person_id_seq', (SELECT max(id) FROM person))")
            )
        for first in range(0, args.messages, CHUNK):
            await conn.execute(
                sa.insert(OUTBOX),
                [
                    outbox_row(
                        person_id=k % args.people + 1,
                        replies=[Reply(text_of(k))],
                        dedupe_key=f"bench:{k}",
                        now=NOW,
                    )
                    for k in range(first, min(first + CHUNK, args.messages))
                ],
            )


# -- a replica ------------------------------------------------------------------------------


async def drain(
    platform_name: str, db_url: str, fake_url: str, concurrency: int, start_at: float
) -> dict[str, float]:
    """One replica: a worker with the real sender, run until nothing is left to send."""
    from bot.config import load_programs
    from bot.runtime import build_runtime
    from bot.slack.sender import SlackSender
    from bot.slack.settings import SlackSettings, make_client
    from bot.teams.app import TeamsChannel
    from bot.teams.settings import TeamsSettings
    from handlers.core.ports import Sender, SystemClock
    from scheduler.outbox import OutboxWorker
    from tests.bot.teams_harness import StaticCredentialsFactory

    db = Database(db_url)
    clock = SystemClock()
    sender: Sender
    teams: TeamsChannel | None = None
    if platform_name == "slack":
        client = make_client(
            SlackSettings(bot_token="xoxb-bench", signing_secret="s", api_url=fake_url)
        )
        sender = SlackSender(client=client, database=db, clock=clock, team=TEAM)
    else:
        runtime = build_runtime(
            programs=Programs.one(load_programs(ROOT / "app.yaml").first),
            database=db,
            slack=None,
            teams=TeamsSettings(
                app_id=APP_ID, app_password="unused", tenant_id=TENANT, any_tenant=True
            ),
            clock=clock,
            teams_options={"credentials_factory": StaticCredentialsFactory()},
        )
        [sender] = runtime.worker.senders
        teams = runtime.teams
    worker = OutboxWorker(database=db, senders=[sender], clock=clock, concurrency=concurrency)
    waiting = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
    try:
        async with db.session() as session:  # connections warm, outside the timing
            await session.exec(sa.select(sa.func.count()).select_from(OUTBOX))  # type: ignore[call-overload]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        started = time.time()
        sent = 0
        while True:
            report = await worker.run_once()
            sent += report.sent
            async with db.session() as session:
                conn = await session.connection()
                left = await conn.execute(
                    sa.select(sa.func.count()).where(OUTBOX.c.status.in_(waiting))
                )
                if not left.scalar_one():
                    break
            if not report.total:
                await asyncio.sleep(0.2)  # the other replica holds the rest
        return {"started": started, "ended": time.time(), "sent": sent}
    finally:
        if teams is not None:
            await teams.close()
        await db.dispose()


def replica(
    platform_name: str, db_url: str, fake_url: str, concurrency: int, start_at: float
) -> dict[str, float]:
    """A replica in a process of its own."""
    return asyncio.run(drain(platform_name, db_url, fake_url, concurrency, start_at))


# -- one run --------------------------------------------------------------------------------


def limits(args: argparse.Namespace) -> Limits:
    return Limits(latency=args.latency, channel_interval=1.0, rate=args.rate)


def accepted_texts(fake: FakeSlack | FakeConnector) -> list[str]:
    if isinstance(fake, FakeSlack):
        return [str(p["text"]) for p in fake.of("chat.postMessage")]
    return [str(a["attachments"][0]["content"]["fallbackText"]) for a in fake.sent()]


async def run(platform_name: str, replicas: int, args: argparse.Namespace) -> Result | None:
    server = postgres.server_url()
    name = postgres.scratch_name("mentorbot_bench")
    try:
        await postgres.admin(server, postgres.create_statement(name))
    except postgres.UNREACHABLE as exc:
        print(f"skipped: {postgres.shown(server)} is not usable ({exc})", flush=True)
        return None
    url = postgres.url_of(server, name)
    try:
        fakes = fake_slack() if platform_name == "slack" else fake_connector()
        async with fakes as fake:
            fake_url = fake.url
            db = Database(url)
            try:
                await db.upgrade()
                await seed(db, platform_name=platform_name, args=args, url=fake_url)
            finally:
                await db.dispose()
            fake.limits = limits(args)
            context = multiprocessing.get_context("spawn")
            loop = asyncio.get_running_loop()
            start_at = time.time() + 8  # every replica has imported and connected by then
            with concurrent.futures.ProcessPoolExecutor(replicas, mp_context=context) as pool:
                done = await asyncio.gather(
                    *(
                        loop.run_in_executor(
                            pool, replica, platform_name, url, fake_url, args.concurrency, start_at
                        )
                        for _ in range(replicas)
                    )
                )
            texts = accepted_texts(fake)
            db = Database(url)
            try:
                async with db.session() as session:
                    conn = await session.connection()
                    sent = (
                        await conn.execute(
                            sa.select(sa.func.count()).where(
                                OUTBOX.c.status == OutboxStatus.SENT.value
                            )
                        )
                    ).scalar_one()
            finally:
                await db.dispose()
            counts = Counter(texts)
            return Result(
                platform=platform_name,
                replicas=replicas,
                messages=args.messages,
                seconds=max(d["ended"] for d in done) - min(d["started"] for d in done),
                sent=int(sent),
                accepted=len(texts),
                duplicates=sum(c - 1 for c in counts.values()),
                refused_for_rate=fake.limits.refused_for_rate,
                refused_for_channel=fake.limits.refused_for_channel,
                rate=args.rate,
            )
    finally:
        await postgres.admin(server, postgres.drop_statement(name))


# -- main -----------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    print(
        f"mentorbot delivery benchmark: {args.messages} messages to {args.people} people, "
        f"fakes with {args.latency * 1000:.0f} ms latency, 1 message/s per channel, "
        f"{args.rate:g} messages/s per workspace; {args.concurrency} sends at once per "
        f"replica; PostgreSQL; Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results: list[Result] = []
    for platform_name in args.platforms:
        for replicas in args.replicas:
            result = asyncio.run(run(platform_name, replicas, args))
            if result is not None:
                results.append(result)
                print(row(result), flush=True)
    print()
    print(HEADER)
    for r in results:
        print(row(r))
    print()
    failed = False
    for r in results:
        if r.sent != r.messages or r.accepted != r.messages or r.duplicates:
            print(
                f"ERROR: {r.platform} x{r.replicas}: {r.sent} marked sent, {r.accepted} "
                f"accepted by the fake, {r.duplicates} duplicates; expected {r.messages}, 0"
            )
            failed = True
    for r in results:
        verdict = "met" if r.share >= TARGET else "NOT met"
        print(
            f"target: at least {TARGET:.0%} of {r.rate:g} messages/s on {r.platform} with "
            f"{r.replicas} replica(s): {verdict} ({r.per_second:.1f}/s, {r.share:.0%})"
        )
    return 1 if failed else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="queued messages (10000)")
    parser.add_argument("--people", type=int, default=5_000, help="recipients (5000)")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="messages/s the workspace allows (100)"
    )
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per call (0.1)")
    parser.add_argument("--replicas", default="1,2", help="replica counts to run (1,2)")
    parser.add_argument("--platforms", default="slack,teams", help="slack, teams or both")
    parser.add_argument("--concurrency", type=int, default=16, help="sends at once (16)")
    args = parser.parse_args(argv)
    args.replicas = [int(r) for r in str(args.replicas).split(",") if r]
    args.platforms = [p for p in str(args.platforms).split(",") if p]
    if args.messages < 1 or args.people < 1 or args.rate <= 0:
        parser.error("--messages, --people and --rate must be positive")
    if any(r < 1 for r in args.replicas) or not set(args.platforms) <= {"slack", "teams"}:
        parser.error("--replicas are counts of 1 or more; --platforms slack and/or teams")
    return args


if __name__ == "__main__":
    sys.exit(main(parse_args()))
