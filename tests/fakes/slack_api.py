"""A fake Slack Web API on loopback (port 0) that records every call it receives.

Point a real ``AsyncWebClient`` at it with ``base_url=fake.url``. Failures can be queued
per method (a 429 with Retry-After, a 500, an error body) to test retries.

It also plays Slack's Socket Mode server: ``apps.connections.open`` (with an app-level
``xapp-`` token) answers a ``ws://`` URL on the same server; a client that connects gets a
``hello``, and the test pushes envelopes (:meth:`FakeSlack.push`) and waits for the acks the
client sends back (:meth:`FakeSlack.wait_for_ack`).

Files go up as ``files_upload_v2`` sends them: ``files.getUploadURLExternal`` hands out an
upload URL on this same server, the bytes are POSTed there (recorded as the call
``upload``), and ``files.completeUploadExternal`` shares the file in a channel. Every
file is kept in :attr:`FakeSlack.uploads`; :meth:`FakeSlack.files` lists the shared ones.

For delivery benchmarks and tests, :attr:`FakeSlack.limits` can add latency to every call and
rate-limit ``chat.postMessage`` as Slack does (one message per second in a channel, and a
workspace-wide rate); everything is off by default. :attr:`FakeSlack.before_answer` runs
while a call waits for its answer, to act "while Slack is still answering".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes import serve_on_loopback


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    #: The bearer token the call was made with, if any.
    token: str | None = None


APP_ID = "A0MENTORBOT"
#: The bot's own user (auth.test's user_id).
BOT_USER = "U0BOT"
#: conversations.open opens a group DM with at most this many users (Slack's limit).
GROUP_DM_MOST = 8


@dataclass
class Upload:
    """A file on its way up (or up and shared), as the three upload steps left it."""

    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    content_type: str = ""
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None

    @property
    def shared(self) -> bool:
        return self.channel is not None


@dataclass
class Limits:
    """Latency and rate limits a fake platform applies to messages; all off by default.

    The workspace rate is a token bucket (``rate`` messages a second, up to ``burst`` at
    once), the way Slack and Teams meter an app: over it, or a second message in a channel
    within ``channel_interval``, the message is refused with 429 and a Retry-After.
    """

    #: Seconds added to every call before it is answered.
    latency: float = 0.0
    #: Seconds that must pass between two accepted messages in one channel.
    channel_interval: float | None = None
    #: Messages a second the whole workspace may send.
    rate: float | None = None
    #: The most messages the workspace may send at once (default: one second's worth).
    burst: float | None = None
    #: Messages refused for the workspace rate, and for a channel's interval.
    refused_for_rate: int = 0
    refused_for_channel: int = 0
    _tokens: float | None = None
    _stamp: float = 0.0
    _last: dict[str, float] = field(default_factory=dict)

    def admit(self, channel: str) -> int | None:
        """Count a message to ``channel``: None if accepted, else the Retry-After seconds."""
        now = time.monotonic()
        if self.channel_interval is not None:
            last = self._last.get(channel)
            if last is not None and now - last < self.channel_interval:
                self.refused_for_channel += 1
                return max(1, math.ceil(self.channel_interval - (now - last)))
        if self.rate is not None:
            burst = self.burst or self.rate
            if self._tokens is None:
                self._tokens, self._stamp = burst, now
            self._tokens = min(burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                self.refused_for_rate += 1
                return max(1, math.ceil((1 - self._tokens) / self.rate))
            self._tokens -= 1
        self._last[channel] = now
        return None


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    """The Web API methods mentorbot calls, answered from a small user directory."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, list[Failure]] = {}
        self.url = ""
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        #: Socket Mode: tickets handed out by apps.connections.open and not yet used.
        self.tickets: set[str] = set()
        #: Every websocket a client opened, in order; the last open one receives pushes.
        self.sockets: list[web.WebSocketResponse] = []
        #: Every text frame a client sent over Socket Mode, parsed (acks included).
        self.received: list[dict[str, Any]] = []
        self._envelopes = itertools.count(1)
        #: Files by id, from files.getUploadURLExternal on.
        self.uploads: dict[str, Upload] = {}
        self._file_ids = itertools.count(1)
        #: Hang mode: how many coming calls of each method never get an answer.
        self.hangs: dict[str, int] = {}
        self._release = asyncio.Event()
        #: Latency and rate limits (off unless set).
        self.limits = Limits()
        #: Channels created through conversations.create, by id, with their members.
        self.channels: dict[str, dict[str, Any]] = {}
        self._channel_ids = itertools.count(1)
        #: Runs after a call is recorded and before it is answered.
        self.before_answer: Callable[[Call], Awaitable[None]] | None = None

    def add_user(
        self,
        user_id: str,
        *,
        email: str | None,
        name: str,
        tz: str = "Europe/Berlin",
        team: str = "T0MENTOR",
    ) -> None:
        profile: dict[str, Any] = {"real_name": name, "display_name": name.split()[0]}
        if email is not None:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": team,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "tz": tz,
            "profile": profile,
        }

    def fail(
        self,
        method: str,
        *,
        status: int,
        error: str = "",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal_error")}
        self.failures.setdefault(method, []).extend(
            Failure(status, body, headers) for _ in range(times)
        )

    def hang(self, method: str, *, times: int = 1) -> None:
        """Leave the next ``times`` calls of ``method`` unanswered (until the fake stops).

        Each one is recorded as an attempt whose result is ``{"hung": True}``, so the client
        times out as it would against a Slack that stopped answering.
        """
        self.hangs[method] = self.hangs.get(method, 0) + times

    def of(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every successful call of a method so far."""
        return [c.args for c in self.calls if c.method == method and c.result.get("ok")]

    def attempts(self, method: str) -> list[Call]:
        """Every call of a method, failed ones included."""
        return [c for c in self.calls if c.method == method]

    def files(self) -> list[Upload]:
        """Every file uploaded and shared in a channel, in order."""
        return [u for u in self.uploads.values() if u.shared]

    def posts(self) -> list[Call]:
        """Every successful chat.postMessage, with the ts it was given."""
        return [c for c in self.calls if c.method == "chat.postMessage" and c.result.get("ok")]

    async def wait_for(
        self, method: str, count: int = 1, limit: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until ``method`` was called ``count`` times (listeners run after the ack)."""

        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(method)) >= count)

        try:
            await asyncio.wait_for(reached(), limit)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(
                f"{method} called {len(self.of(method))} times, not {count}; calls: {seen}"
            ) from None
        return self.of(method)

    async def wait_for_attempts(self, method: str, count: int = 1, limit: float = 10.0) -> None:
        """Wait until ``method`` was called ``count`` times, failed calls included."""
        await self._until(
            lambda: len(self.attempts(method)) >= count,
            limit,
            lambda: f"{method} attempted {len(self.attempts(method))} times, not {count}",
        )

    async def _until(self, done: Callable[[], bool], limit: float, what: Callable[[], str]) -> None:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(done)

        try:
            await asyncio.wait_for(reached(), limit)
        except TimeoutError:
            raise AssertionError(what()) from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- Socket Mode ----------------------------------------------------------------------

    def open_sockets(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self.sockets if not ws.closed]

    async def wait_for_socket(self, count: int = 1, limit: float = 30.0) -> web.WebSocketResponse:
        """Wait until ``count`` Socket Mode connections were opened; the newest open one."""
        await self._until(
            lambda: len(self.sockets) >= count and bool(self.open_sockets()),
            limit,
            lambda: (
                f"{len(self.sockets)} Socket Mode connections, not {count}; "
                f"calls: {[c.method for c in self.calls]}"
            ),
        )
        return self.open_sockets()[-1]

    async def push(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Send an envelope down the newest open socket, as Slack does; its envelope id.

        ``kind`` is the envelope type: ``events_api``, ``slash_commands`` or ``interactive``.
        """
        sockets = self.open_sockets()
        if not sockets:
            raise AssertionError("no Socket Mode client is connected")
        envelope_id = envelope_id or f"{next(self._envelopes):04d}-{secrets.token_hex(8)}"
        if accepts_response_payload is None:
            accepts_response_payload = kind != "events_api"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "payload": payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        await sockets[-1].send_str(json_dumps(envelope))
        return envelope_id

    def acks(self) -> list[dict[str, Any]]:
        """Every envelope acknowledgement received so far."""
        return [m for m in self.received if "envelope_id" in m]

    def ack_of(self, envelope_id: str) -> dict[str, Any] | None:
        return next((m for m in self.acks() if m["envelope_id"] == envelope_id), None)

    async def wait_for_ack(self, envelope_id: str, limit: float = 10.0) -> dict[str, Any]:
        """Wait until the client acknowledged an envelope; the acknowledgement."""
        await self._until(
            lambda: self.ack_of(envelope_id) is not None,
            limit,
            lambda: f"envelope {envelope_id} was not acknowledged; received: {self.received}",
        )
        ack = self.ack_of(envelope_id)
        assert ack is not None
        return ack

    def _open_connection(self, request: web.Request) -> dict[str, Any]:
        ticket = secrets.token_hex(16)
        self.tickets.add(ticket)
        host, port = request.url.host, request.url.port
        url = f"ws://{host}:{port}/link/?ticket={ticket}&app_id={APP_ID}"
        return {"ok": True, "url": url}

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        """The Socket Mode websocket: hello, then record what the client sends."""
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self.tickets.discard(ticket)  # a ticket opens one connection, as in Slack
        ws = web.WebSocketResponse()  # autoping: answers the client's pings with pongs
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(
            json_dumps(
                {
                    "type": "hello",
                    "num_connections": len(self.open_sockets()),
                    "debug_info": {
                        "host": "applink-fake",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        await self._notify()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    parsed = json.loads(message.data)
                except ValueError:
                    parsed = {"unparsed": message.data}
                self.received.append(parsed if isinstance(parsed, dict) else {"value": parsed})
                await self._notify()
        finally:
            await self._notify()
        return ws

    async def _close_sockets(self) -> None:
        for ws in self.open_sockets():
            await ws.close()

    # -- Web API --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization else None
        token = token or (str(args["token"]) if "token" in args else None)
        call = Call(method, args, token=token)
        queued = self.failures.get(method)
        if self.hangs.get(method):
            self.hangs[method] -= 1
            call.result = {"hung": True}
            self.calls.append(call)
            await self._notify()
            await self._release.wait()
            return web.json_response({"ok": False, "error": "fake_stopped"}, status=503)
        retry_after = (
            self.limits.admit(str(args.get("channel")))
            if method == "chat.postMessage" and not queued
            else None
        )
        if queued:
            failure = queued.pop(0)
            call.result = failure.body
            response = web.json_response(
                failure.body, status=failure.status, headers=failure.headers
            )
        elif retry_after is not None:
            call.result = {"ok": False, "error": "ratelimited"}
            response = web.json_response(
                call.result, status=429, headers={"Retry-After": str(retry_after)}
            )
        elif method == "apps.connections.open":
            if token is None or not token.startswith("xapp-"):
                call.result = {"ok": False, "error": "not_allowed_token_type"}
            else:
                call.result = self._open_connection(request)
            response = web.json_response(call.result)
        else:
            call.result = self._answer(method, args, request)
            response = web.json_response(call.result)
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        if self.before_answer is not None:
            await self.before_answer(call)
        if self.limits.latency:
            await asyncio.sleep(self.limits.latency)
        return response

    def _answer(self, method: str, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "mentorbot",
                "team_id": "T0MENTOR",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "users.lookupByEmail":
            for user in self.users.values():
                if user["profile"].get("email") == args.get("email"):
                    return {"ok": True, "user": user}
            return {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            # One user: their DM (D + user id); several: a group DM (G + the user ids).
            users = str(args.get("users", ""))
            if not users:
                return {"ok": False, "error": "users_list_not_supplied"}
            if len(users.split(",")) > GROUP_DM_MOST:
                return {"ok": False, "error": "too_many_users"}
            kind = "G" if "," in users else "D"
            return {"ok": True, "channel": {"id": kind + users.replace(",", "")}}
        if method == "conversations.create":
            return self._create_channel(args)
        if method == "conversations.invite":
            return self._invite(args)
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            channel = str(args.get("channel") or "")
            if channel.startswith("C0CIRCLE") and channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            ts = args.get("ts") or f"17000000{next(self._ts):02d}.000100"
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text")},
            }
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V0VIEW"}}
        if method == "files.getUploadURLExternal":
            return self._upload_url(request, args)
        if method == "files.completeUploadExternal":
            return self._complete_upload(args)
        return {"ok": False, "error": "unknown_method"}

    # -- channels (conversations.create, conversations.invite) -----------------------------

    def _create_channel(self, args: dict[str, Any]) -> dict[str, Any]:
        """A new channel, checked as Slack checks it; the bot is its first member."""
        name = str(args.get("name") or "")
        if not name:
            return {"ok": False, "error": "invalid_name_required"}
        if len(name) > 80 or not re.fullmatch(r"[a-z0-9_-]+", name):
            return {"ok": False, "error": "invalid_name_specials"}
        if any(c["name"] == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        private = str(args.get("is_private", "")).lower() in ("true", "1")
        channel_id = f"C0CIRCLE{next(self._channel_ids):03d}"
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_private": private,
            "members": [BOT_USER],
        }
        return {"ok": True, "channel": {k: v for k, v in self.channels[channel_id].items()}}

    def _invite(self, args: dict[str, Any]) -> dict[str, Any]:
        """Add users to a channel the bot is in; someone already in it is an error."""
        channel = self.channels.get(str(args.get("channel") or ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "no_user"}
        if len(users) > 1000:
            return {"ok": False, "error": "too_many_users"}
        if any(u not in self.users for u in users):
            return {"ok": False, "error": "user_not_found"}
        if any(u in channel["members"] for u in users):
            return {"ok": False, "error": "already_in_channel"}
        channel["members"] += users
        return {"ok": True, "channel": {"id": channel["id"], "name": channel["name"]}}

    # -- files (files_upload_v2) ----------------------------------------------------------

    def _upload_url(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), str(args.get("length", ""))
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F0FILE{next(self._file_ids):04d}"
        self.uploads[file_id] = Upload(
            file_id, str(filename), int(length), alt_txt=args.get("alt_txt")
        )
        # On this server, like the socket URL: Slack's own is on files.slack.com.
        upload_url = f"http://{request.url.host}:{request.url.port}/upload/v1/{file_id}"
        return {"ok": True, "upload_url": upload_url, "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            files = json.loads(str(args.get("files", "")))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for item in files if isinstance(files, list) else []:
            upload = self.uploads.get(str(item.get("id")))
            if upload is None or upload.data is None:
                return {"ok": False, "error": "file_not_found"}
            done.append((upload, item.get("title")))
        if not done:
            return {"ok": False, "error": "invalid_arguments"}
        channel = args.get("channel_id") or args.get("channels")
        shared = []
        for upload, title in done:
            upload.title = title or upload.filename
            upload.channel = str(channel) if channel else None
            upload.initial_comment = args.get("initial_comment")
            shared.append({"id": upload.file_id, "title": upload.title, "name": upload.filename})
        return {"ok": True, "files": shared}

    async def _receive_upload(self, request: web.Request) -> web.Response:
        """The upload URL: takes the file's bytes (a raw body, as slack_sdk sends them)."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        call = Call("upload", {"file_id": file_id, "length": len(data)})
        queued = self.failures.get("upload")
        upload = self.uploads.get(file_id)
        if queued:
            failure = queued.pop(0)
            call.result = failure.body
            response = web.Response(status=failure.status, text=str(failure.body.get("error")))
        elif upload is None:
            call.result = {"ok": False, "error": "file_not_found"}
            response = web.Response(status=404, text="file_not_found")
        else:
            upload.data = data
            upload.content_type = request.content_type
            call.result = {"ok": True}
            response = web.Response(text=f"OK - {len(data)}")
        self.calls.append(call)
        await self._notify()
        return response


@asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake on 127.0.0.1, on a port the OS picks."""
    fake = FakeSlack()
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake._handle)
    app.router.add_get("/link/", fake._socket)
    app.router.add_post("/upload/v1/{file_id}", fake._receive_upload)
    async with serve_on_loopback(app) as base:
        fake.url = f"{base}api/"
        try:
            yield fake
        finally:
            fake._release.set()  # hung calls end now, so shutting down never waits
            await fake._close_sockets()


def json_dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))
