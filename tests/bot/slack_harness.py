"""Driving the real server with signed Slack requests, answered through the fake Web API.

Bolt acknowledges a request before its listener runs (``process_before_response=False``),
so a response says nothing about what the bot will still post. :meth:`SlackHarness.idle`
waits for the positive signal instead: every task the server started has finished.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.runtime import Runtime, build_runtime
from bot.server import running
from bot.slack.settings import SlackSettings
from handlers.core.engine import Engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database
from tests.fakes.slack_api import Call, FakeSlack, fake_slack
from tests.helpers import FakeClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0MENTOR"
#: A program lead (app.yaml's program.leads), who may run reports.
LEAD = "U0PRIYA"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


class Tasks:
    """Every task the event loop starts while installed (a task factory), to wait for them.

    A Slack turn runs in a task Bolt starts while answering the request; waiting for the
    tasks started since the server came up is waiting for the turns, whatever their names.
    """

    def __init__(self) -> None:
        self.started: list[asyncio.Task[Any]] = []
        #: Started before the server was up: its own loops (scheduler, summaries).
        self.serving: set[asyncio.Task[Any]] = set()

    @contextmanager
    def installed(self) -> Iterator[Tasks]:
        loop = asyncio.get_running_loop()
        previous = loop.get_task_factory()

        def factory(
            loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
        ) -> asyncio.Task[Any]:
            if previous is not None:
                task: asyncio.Task[Any] = previous(loop, coro, **kwargs)  # type: ignore[arg-type]
            else:
                task = asyncio.Task(coro, loop=loop, **kwargs)
            self.started.append(task)
            return task

        loop.set_task_factory(factory)  # type: ignore[arg-type]
        try:
            yield self
        finally:
            loop.set_task_factory(previous)

    def server_up(self) -> None:
        """The tasks alive now are the server's own loops, which run until it stops."""
        self.serving = {task for task in self.started if not task.done()}

    def working(self) -> list[asyncio.Task[Any]]:
        """Tasks still running that are neither the server's loops nor a connection's.

        aiohttp serves each kept-alive connection (to our server, and from the bot to the
        fake Web API) in a task that lives as long as the connection: not a turn's work.
        """
        this = asyncio.current_task()
        return [
            task
            for task in self.started
            if not task.done()
            and task is not this
            and task not in self.serving
            and getattr(task.get_coro(), "__qualname__", "") != "RequestHandler.start"
        ]

    async def idle(self, limit: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            busy = self.working()
            if not busy:
                # A finished task may have scheduled one more step: look again after it.
                await asyncio.sleep(0)
                if not self.working():
                    return
                continue
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"the server is still busy after {limit} s: {busy}")
            await asyncio.wait(busy, timeout=left)


@dataclass
class Response:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass
class SlackHarness:
    fake: FakeSlack
    runtime: Runtime
    base: str
    http: aiohttp.ClientSession
    sleeps: list[float] = field(default_factory=list)
    tasks: Tasks = field(default_factory=Tasks)
    _event_ids: int = 0
    _triggers: int = 0

    async def post(
        self,
        body: str | bytes,
        *,
        content_type: str = "application/json",
        sign: bool = True,
        timestamp: int | None = None,
        signature: str | None = None,
        path: str = "/slack/events",
        headers: dict[str, str] | None = None,
    ) -> Response:
        raw = body.encode() if isinstance(body, str) else body
        sent = {"Content-Type": content_type, **(headers or {})}
        if sign:
            stamp = str(timestamp if timestamp is not None else int(time.time()))
            sent["X-Slack-Request-Timestamp"] = stamp
            sent["X-Slack-Signature"] = signature or SignatureVerifier(SECRET).generate_signature(
                timestamp=stamp, body=raw
            )
        async with self.http.post(self.base + path, data=raw, headers=sent) as response:
            return Response(response.status, await response.text())

    def _trigger(self, fixture_trigger: str) -> str:
        """A fresh trigger id, as Slack gives every command and click (the first: as given).

        Two identical signed requests are a replay, which the server refuses; real ones
        always differ at least in their trigger id.
        """
        self._triggers += 1
        return fixture_trigger if self._triggers == 1 else f"{fixture_trigger}.{self._triggers}"

    def next_event_id(self) -> str:
        self._event_ids += 1
        return f"Ev0TEST{self._event_ids:05d}"

    async def event(self, payload: dict[str, Any], *, retry: int = 0) -> Response:
        """Post an event; ``retry`` > 0 sends it as Slack's retry number ``retry`` does.

        A retry is a new request: Slack signs it again, at a later time, and says which
        retry it is in a header.
        """
        if not retry:
            return await self.post(json.dumps(payload))
        return await self.post(
            json.dumps(payload),
            timestamp=int(time.time()) + retry,
            headers={"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"},
        )

    async def dm(
        self, text: str, *, user: str = "U0ANA", event_id: str | None = None, retry: int = 0
    ) -> Response:
        payload = fixture("event_message_im.json")
        payload["event_id"] = event_id or self.next_event_id()
        payload["event"].update(text=text, user=user, channel=f"D{user}")
        return await self.event(payload, retry=retry)

    async def command(
        self, text: str, *, user: str = "U0ANA", channel_name: str = "general"
    ) -> Response:
        form = dict(
            pair.split("=", 1)
            for pair in (FIXTURES / "slash_command.txt").read_text().strip().split("&")
        )
        from urllib.parse import unquote_plus

        form = {k: unquote_plus(v) for k, v in form.items()}
        form.update(text=text, user_id=user, channel_name=channel_name)
        form["trigger_id"] = self._trigger(form["trigger_id"])
        return await self.post(urlencode(form), content_type="application/x-www-form-urlencoded")

    async def interactive(self, payload: dict[str, Any]) -> Response:
        if "trigger_id" in payload:
            payload["trigger_id"] = self._trigger(payload["trigger_id"])
        return await self.post(
            urlencode({"payload": json.dumps(payload)}),
            content_type="application/x-www-form-urlencoded",
        )

    # -- clicking what the bot posted ---------------------------------------------------

    def last_question(self) -> Call:
        for call in reversed(self.fake.posts()):
            if any(b.get("block_id") == "mb_prompt" for b in call.args.get("blocks", [])):
                return call
        raise AssertionError("the bot posted no question with buttons")

    def _block_actions(
        self, message: Call, action: dict[str, Any], user: str, state: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        payload = fixture("block_actions.json")
        ts = message.result["ts"]
        channel = message.args["channel"]
        payload["user"]["id"] = user
        payload["channel"]["id"] = channel
        payload["container"].update(message_ts=ts, channel_id=channel)
        payload["message"].update(
            ts=ts,
            blocks=copy.deepcopy(message.args.get("blocks", [])),
            text=message.args.get("text"),
        )
        payload["actions"] = [{**action, "block_id": "mb_prompt", "action_ts": str(time.time())}]
        payload["state"] = {"values": state or {}}
        return payload

    def _prompt_elements(self, message: Call) -> list[dict[str, Any]]:
        block = next(b for b in message.args["blocks"] if b.get("block_id") == "mb_prompt")
        return list(block["elements"])

    async def click(
        self, label: str, *, user: str = "U0ANA", message: Call | None = None
    ) -> Response:
        """Click the button, or pick the select option, with this label."""
        message = message or self.last_question()
        for element in self._prompt_elements(message):
            if element["type"] == "button" and element["text"]["text"] == label:
                action = {
                    "type": "button",
                    "action_id": element["action_id"],
                    "text": element["text"],
                    "value": element["value"],
                }
                return await self.interactive(self._block_actions(message, action, user))
            if element["type"] == "static_select":
                option = next((o for o in element["options"] if o["text"]["text"] == label), None)
                if option is not None:
                    action = {
                        "type": "static_select",
                        "action_id": element["action_id"],
                        "selected_option": option,
                    }
                    return await self.interactive(self._block_actions(message, action, user))
        raise AssertionError(f"no button or option {label!r} in the last question")

    async def tick_and_done(
        self, *labels: str, user: str = "U0ANA", message: Call | None = None
    ) -> Response:
        """Tick checkboxes with these labels, then press Done."""
        message = message or self.last_question()
        elements = self._prompt_elements(message)
        boxes = next(e for e in elements if e["action_id"] == "mb_multi")
        chosen = [o for o in boxes["options"] if o["text"]["text"] in labels]
        assert len(chosen) == len(labels), f"not all of {labels} are options"
        done = next(e for e in elements if e["action_id"] == "mb_done")
        state = {"mb_prompt": {"mb_multi": {"type": boxes["type"], "selected_options": chosen}}}
        action = {
            "type": "button",
            "action_id": "mb_done",
            "text": done["text"],
            "value": done["value"],
        }
        return await self.interactive(self._block_actions(message, action, user, state))

    async def idle(self, limit: float = 10.0) -> None:
        """Wait until the server has finished all it started for the requests so far.

        The positive signal to wait for before asserting that something did not happen:
        each turn's task has returned, so whatever it was going to post, it has posted.
        """
        await self.tasks.idle(limit)

    def dm_texts(self, user: str = "U0ANA") -> list[str]:
        return [
            c.args.get("text", "") for c in self.fake.posts() if c.args.get("channel") == f"D{user}"
        ]


def use_engine(runtime: Runtime, engine: Engine) -> None:
    """Serve with ``engine`` instead of the one the runtime was built with."""
    runtime.engine = engine
    if runtime.slack is not None:
        runtime.slack.engine = engine


@asynccontextmanager
async def slack_server(
    database: Database,
    program: Program,
    *,
    clock: FakeClock | None = None,
    extend: Callable[[Engine], Engine] | None = None,
) -> AsyncIterator[SlackHarness]:
    """The real aiohttp server with Slack on, answering through a fake Web API.

    ``extend`` gives the engine extra commands or forms (test-only ones) before serving.
    """
    tasks = Tasks()
    with tasks.installed():
        async with fake_slack() as fake:
            fake.add_user(
                "U0ANA", email="ana.lopez@example.com", name="Ana Lopez", tz="America/New_York"
            )
            fake.add_user("U0BEN", email="ben.kim@example.com", name="Ben Kim")
            fake.add_user(LEAD, email="priya.shah@example.com", name="Priya Shah")
            sleeps: list[float] = []

            async def record_sleep(seconds: float) -> None:
                sleeps.append(seconds)

            runtime = build_runtime(
                programs=Programs.one(program),
                database=database,
                slack=SlackSettings(
                    bot_token="xoxb-test-token", signing_secret=SECRET, api_url=fake.url
                ),
                clock=clock or FakeClock(),
                sender_sleep=record_sleep,
            )
            if extend is not None:
                use_engine(runtime, extend(runtime.engine))
            async with running(runtime, host="127.0.0.1", port=0, tick_seconds=3600) as runner:
                host, port = runner.addresses[0][:2]
                async with aiohttp.ClientSession() as http:
                    tasks.server_up()
                    yield SlackHarness(
                        fake, runtime, f"http://{host}:{port}", http, sleeps, tasks=tasks
                    )
