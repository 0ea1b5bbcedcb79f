"""Benchmark: signed Slack DM events through the real HTTP server, against a bare Bolt app.

Sends N signed ``message.im`` event callbacks (text "help", each with its own event id) to
``POST /slack/events`` of the real mentorbot server (``bot.server.running``, Slack on, a
temporary SQLite file database), answering through the fake Slack Web API of the tests.
Then the same load goes to a bare slack-bolt ``AsyncApp`` behind aiohttp whose one
``message`` listener posts one message. Two latencies per event, both measured with
time.perf_counter in this one process:

ack
    From sending the signed POST to having read the HTTP response (Bolt acks before the
    listener runs, so this is signature checks, parsing and dispatch).
end-to-end
    From sending the POST to the fake Web API receiving the ``chat.postMessage`` that
    answers this event. Every event comes from its own user (U00001..), and the answer is
    recognised by its channel, the DM ``D<user>``.

Load model: a closed loop of ``--concurrency`` senders over one aiohttp ClientSession; a
sender sends its next event once the previous one was answered end to end, so at most
``--concurrency`` events are in flight and events/s is end-to-end throughput. A warm-up
(``--warmup`` events from other users, first contact and again) is not counted. In a closed
loop a system that keeps the event loop busy shows p50 latency near concurrency / events/s,
so with more than one in flight the latency ratio mostly compares work per event; use
``--concurrency 1`` for latencies without queueing.

mentorbot runs two rounds from the same N users: "new users" is everyone's first DM, which
also does users.info and links the Slack user to a directory person in the database;
"linked users" is the second DM of each, the steady state. The bare app runs one round.

The client, the servers and the fake Web API share one event loop, so every system pays
for the client's work alike. Before each measured round the heap is collected and frozen
(gc.freeze), so a full collection does not rescan everything imported for both systems.

The benchmark prints numbers and never fails on time; it exits 1 only when a system did not
answer every event exactly once (it counts the chat.postMessage calls the fake received for
the measured users), answered with an unexpected text, or acked with other than HTTP 200.

    .venv/bin/python bench/slack_events.py [--events N] [--concurrency C] [--warmup W]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import itertools
import json
import math
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.version import __version__ as bolt_version
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.* when run as `python bench/slack_events.py`

from bot.config import load_programs  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.server import running  # noqa: E402
from bot.slack.settings import SlackSettings  # noqa: E402
from handlers.core.programs import Programs  # noqa: E402
from storage import Database  # noqa: E402
from tests.fakes.slack_api import Call, FakeSlack, fake_slack  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "slack" / "event_message_im.json"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-bench-token"
TEAM = "T0MENTOR"
TEXT = "help"
#: The start of mentorbot's answer to "help"; anything else (an error apology) is wrong.
MENTORBOT_ANSWER = "Here's what I can do"
BARE_ANSWER = "hi"
TARGET_RATIO = 2.0


# -- the fake Web API, with the moment each call arrived --------------------------------------


@dataclass
class Answer:
    at: float
    text: str


class Answers:
    """Matches each chat.postMessage the fake receives to the event waiting on its channel."""

    def __init__(self) -> None:
        self.pending: dict[str, asyncio.Future[Answer]] = {}
        self.stray = 0

    def expect(self, channel: str) -> asyncio.Future[Answer]:
        if channel in self.pending:
            raise RuntimeError(f"two events in flight on {channel}; give each its own user")
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.pending[channel] = future
        return future

    def forget(self, channel: str) -> None:
        self.pending.pop(channel, None)

    def received(self, call: Call, at: float) -> None:
        if call.method != "chat.postMessage" or not call.result.get("ok"):
            return
        future = self.pending.pop(str(call.args.get("channel")), None)
        if future is None or future.done():
            self.stray += 1
            return
        future.set_result(Answer(at, str(call.args.get("text") or "")))


class StampedCalls(list[Call]):
    """The fake's call log, telling ``Answers`` when each call arrived.

    The fake appends a call once it has read the request and computed the answer, before
    it sends the response.
    """

    def __init__(self, answers: Answers) -> None:
        super().__init__()
        self.answers = answers

    def append(self, call: Call) -> None:
        at = time.perf_counter()
        super().append(call)
        self.answers.received(call, at)


def attach(fake: FakeSlack) -> Answers:
    answers = Answers()
    calls = StampedCalls(answers)
    calls.extend(fake.calls)
    fake.calls = calls
    return answers


def add_users(fake: FakeSlack, users: Sequence[str]) -> None:
    for user in users:
        fake.add_user(user, email=f"{user.lower()}@bench.example.com", name=f"Bench {user}")


def posts_to(calls: Sequence[Call], channels: set[str]) -> int:
    return sum(
        1
        for c in calls
        if c.method == "chat.postMessage"
        and c.result.get("ok")
        and str(c.args.get("channel")) in channels
    )


# -- the load ---------------------------------------------------------------------------------


@dataclass
class Event:
    """One signed request, ready to send."""

    channel: str
    body: bytes
    headers: dict[str, str]


class Events:
    """Realistic message.im event callbacks, each with a unique event id and ts."""

    def __init__(self) -> None:
        self.template = json.loads(FIXTURE.read_text())
        self.verifier = SignatureVerifier(SECRET)
        self.serial = itertools.count(1)

    def make(self, user: str) -> Event:
        serial = next(self.serial)
        now = time.time()
        ts = f"{int(now)}.{serial:06d}"
        payload = copy.deepcopy(self.template)
        payload["event_id"] = f"Ev0BENCH{serial:07d}"
        payload["event_time"] = int(now)
        payload["event"].update(
            user=user,
            text=TEXT,
            channel=f"D{user}",
            ts=ts,
            event_ts=ts,
            client_msg_id=str(uuid.uuid4()),
        )
        payload["event"]["blocks"][0]["elements"][0]["elements"][0]["text"] = TEXT
        body = json.dumps(payload).encode()
        stamp = str(int(now))
        signature = self.verifier.generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        return Event(f"D{user}", body, headers)


@dataclass
class Round:
    """One measured round of one system."""

    system: str
    events: int
    seconds: float = 0.0
    acks: list[float] = field(default_factory=list, repr=False)
    ends: list[float] = field(default_factory=list, repr=False)
    bad_status: int = 0
    wrong_text: int = 0
    unanswered: int = 0
    posts: int = 0
    stray: int = 0

    @property
    def rate(self) -> float:
        return len(self.ends) / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return (
            len(self.ends) == self.events
            and self.posts == self.events
            and not (self.bad_status or self.wrong_text or self.unanswered or self.stray)
        )


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds (NaN when there are no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] * 1000


async def send_round(
    system: str,
    http: aiohttp.ClientSession,
    url: str,
    fake: FakeSlack,
    answers: Answers,
    made: Events,
    users: Sequence[str],
    *,
    concurrency: int,
    answer_text: str,
    patience: float,
) -> Round:
    """One event from each user, at most ``concurrency`` in flight; wait for every answer.

    Each event is made and signed just before it is sent, outside the timed span.
    """
    gc.collect()
    gc.freeze()
    result = Round(system, len(users))
    queue = iter(users)
    first_call = len(fake.calls)
    stray_before = answers.stray

    async def sender() -> None:
        # A broken system stops the round early instead of timing out every event.
        while result.unanswered < concurrency:
            user = next(queue, None)
            if user is None:
                return
            event = made.make(user)
            future = answers.expect(event.channel)
            started = time.perf_counter()
            async with http.post(url, data=event.body, headers=event.headers) as response:
                await response.read()
                acked = time.perf_counter()
                status = response.status
            if status != 200:
                result.bad_status += 1
            result.acks.append(acked - started)
            try:
                answer = await asyncio.wait_for(future, patience)
            except TimeoutError:
                answers.forget(event.channel)
                result.unanswered += 1
                continue
            result.ends.append(answer.at - started)
            if not answer.text.startswith(answer_text):
                result.wrong_text += 1

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(sender())
    result.seconds = time.perf_counter() - started
    await asyncio.sleep(0.2)  # let a duplicate answer, if any, arrive before counting
    result.unanswered += sum(1 for _ in queue)
    result.posts = posts_to(fake.calls[first_call:], {f"D{u}" for u in users})
    result.stray = answers.stray - stray_before
    return result


@dataclass
class Plan:
    events: int
    concurrency: int
    warmup: int
    patience: float

    @property
    def users(self) -> list[str]:
        return [f"U{i:05d}" for i in range(1, self.events + 1)]

    @property
    def warmup_users(self) -> list[str]:
        return [f"UW{i:04d}" for i in range(1, self.warmup + 1)]


async def warm(
    http: aiohttp.ClientSession,
    url: str,
    fake: FakeSlack,
    answers: Answers,
    made: Events,
    plan: Plan,
    answer_text: str,
) -> None:
    """First contact and a second DM from the warm-up users; fails loudly, not counted."""
    for _ in range(2):
        done = await send_round(
            "warm-up",
            http,
            url,
            fake,
            answers,
            made,
            plan.warmup_users,
            concurrency=plan.concurrency,
            answer_text=answer_text,
            patience=plan.patience,
        )
        if not done.ok:
            raise RuntimeError(f"the warm-up was not answered correctly: {done}")


# -- the systems ------------------------------------------------------------------------------


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}/slack/events"
    finally:
        await runner.cleanup()


async def run_mentorbot(plan: Plan) -> list[Round]:
    program = load_programs(ROOT / "app.yaml").first
    made = Events()
    with tempfile.TemporaryDirectory(prefix="mentorbot-bench-") as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
        try:
            await db.upgrade()
            async with fake_slack() as fake:
                answers = attach(fake)
                add_users(fake, [*plan.warmup_users, *plan.users])
                runtime = build_runtime(
                    programs=Programs.one(program),
                    database=db,
                    slack=SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_url=fake.url),
                )
                async with (
                    running(runtime, host="127.0.0.1", port=0, tick_seconds=3600) as runner,
                    aiohttp.ClientSession() as http,
                ):
                    host, port = runner.addresses[0][:2]
                    url = f"http://{host}:{port}/slack/events"
                    await warm(http, url, fake, answers, made, plan, MENTORBOT_ANSWER)
                    rounds = []
                    for system in ("mentorbot (new users)", "mentorbot (linked users)"):
                        rounds.append(
                            await send_round(
                                system,
                                http,
                                url,
                                fake,
                                answers,
                                made,
                                plan.users,
                                concurrency=plan.concurrency,
                                answer_text=MENTORBOT_ANSWER,
                                patience=plan.patience,
                            )
                        )
                        print(row(rounds[-1]), flush=True)
                    return rounds
        finally:
            await db.dispose()


def bare_app(fake: FakeSlack) -> web.Application:
    """A plain Bolt AsyncApp that acks and posts one message, behind aiohttp."""
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=fake.url),
        signing_secret=SECRET,
    )

    @bolt.event("message")
    async def on_message(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.chat_postMessage(channel=event["channel"], text=BARE_ANSWER)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


async def run_bare(plan: Plan) -> Round:
    made = Events()
    async with fake_slack() as fake:
        answers = attach(fake)
        async with serving(bare_app(fake)) as url, aiohttp.ClientSession() as http:
            await warm(http, url, fake, answers, made, plan, BARE_ANSWER)
            result = await send_round(
                "bare slack-bolt",
                http,
                url,
                fake,
                answers,
                made,
                plan.users,
                concurrency=plan.concurrency,
                answer_text=BARE_ANSWER,
                patience=plan.patience,
            )
            print(row(result), flush=True)
            return result


# -- the report -------------------------------------------------------------------------------

HEADER = (
    f"{'system':<26} {'events':>6} {'seconds':>8} {'events/s':>8} "
    f"{'ack p50':>8} {'ack p99':>8} {'e2e p50':>8} {'e2e p99':>8}  (ms)"
)


def row(r: Round) -> str:
    return (
        f"{r.system:<26} {r.events:>6} {r.seconds:>8.2f} {r.rate:>8.0f} "
        f"{percentile(r.acks, 50):>8.2f} {percentile(r.acks, 99):>8.2f} "
        f"{percentile(r.ends, 50):>8.2f} {percentile(r.ends, 99):>8.2f}"
    )


def verdict(ratio: float) -> str:
    return "met" if ratio <= TARGET_RATIO else "NOT met"


def report(mentorbot: Sequence[Round], bare: Round) -> int:
    print()
    print("ratio mentorbot / bare slack-bolt (p50 latency; lower is better):")
    judged: list[tuple[str, float]] = []
    for r in mentorbot:
        ack = percentile(r.acks, 50) / percentile(bare.acks, 50)
        end = percentile(r.ends, 50) / percentile(bare.ends, 50)
        print(f"  {r.system:<26} ack p50 {ack:5.2f}x   end-to-end p50 {end:5.2f}x")
        judged += [(f"{r.system} ack p50", ack), (f"{r.system} end-to-end p50", end)]
    print(f"target: mentorbot p50 at most {TARGET_RATIO:.0f}x the bare app's, judged on both p50s:")
    for name, ratio in judged:
        print(f"  {name:<42} {ratio:5.2f}x  {verdict(ratio)}")
    print()
    failed = False
    for r in [*mentorbot, bare]:
        print(
            f"answered: {r.system}: {len(r.ends)}/{r.events} events; the fake received "
            f"{r.posts} chat.postMessage calls for the measured users"
        )
        if not r.ok:
            failed = True
            print(
                f"ERROR: {r.system}: {r.unanswered} unanswered, {r.posts} posts for "
                f"{r.events} events, {r.bad_status} acks not HTTP 200, {r.wrong_text} "
                f"unexpected answers, {r.stray} answers to no event in flight"
            )
    return 1 if failed else 0


async def main(args: argparse.Namespace) -> int:
    plan = Plan(args.events, args.concurrency, args.warmup, args.patience)
    print(
        f"mentorbot Slack events benchmark: {plan.events} signed message.im events "
        f"(text {TEXT!r}), {plan.concurrency} in flight, {plan.warmup}x2 warm-up; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}, slack-bolt {bolt_version}, aiohttp {aiohttp.__version__}"
    )
    print(HEADER, flush=True)
    mentorbot = await run_mentorbot(plan)
    bare = await run_bare(plan)
    return report(mentorbot, bare)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="measured events (1000)")
    parser.add_argument("--concurrency", type=int, default=10, help="events in flight (10)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up users (50)")
    parser.add_argument(
        "--patience", type=float, default=10.0, help="seconds to wait for one answer (10)"
    )
    args = parser.parse_args(argv)
    for name in ("events", "concurrency", "warmup"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.patience <= 0:
        parser.error("--patience must be positive")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
