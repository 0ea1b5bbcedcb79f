"""A fake Bot Connector on loopback (port 0): the conversation routes the connector client
calls, a member lookup, and an OpenID metadata + signing-key endpoint so that real, locally
signed Bot Framework tokens can be validated by botbuilder itself.

:attr:`FakeConnector.limits` can add latency to every call and rate-limit new activities
as the connector does (per conversation, and for the whole app); off by default.
:attr:`FakeConnector.before_answer` can hold new activities, to see sends overlap.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes import serve_on_loopback
from tests.fakes.slack_api import Limits

APP_ID = "00000000-1111-2222-3333-444444444444"
KEY_ID = "mentorbot-test-key"


@dataclass
class ConnectorCall:
    verb: str
    path: str
    body: dict[str, Any]
    authorization: str = ""
    #: The id the connector gave an activity it accepted.
    result_id: str = ""


@dataclass
class FakeConnector:
    """Records every call; answers like the Bot Connector service."""

    calls: list[ConnectorCall] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)
    url: str = ""
    keys_url: str = ""
    key: Any = None
    #: Latency and rate limits (off unless set).
    limits: Limits = field(default_factory=Limits)
    #: Awaited before each new activity is answered (tests: hold sends to overlap them).
    before_answer: Callable[[ConnectorCall], Awaitable[None]] | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def add_member(self, user_id: str, *, aad: str, name: str, email: str | None) -> None:
        member: dict[str, Any] = {"id": user_id, "name": name, "aadObjectId": aad}
        if email:
            member.update(email=email, userPrincipalName=email)
        self.members[user_id] = member

    def fail(self, verb: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` calls with this verb (POST, PUT, GET) with an error."""
        self.failures.setdefault(verb, []).extend([status] * times)

    def sent(self) -> list[dict[str, Any]]:
        """Activities the bot sent (new messages and replies, not updates)."""
        return [c.body for c in self.sent_calls()]

    def sent_calls(self) -> list[ConnectorCall]:
        return [
            c for c in self.calls if c.verb == "POST" and "/activities" in c.path and c.result_id
        ]

    def updates(self) -> list[ConnectorCall]:
        return [c for c in self.calls if c.verb == "PUT"]

    async def wait_sent(self, count: int = 1, limit: float = 10.0) -> list[dict[str, Any]]:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent()) >= count)

        await asyncio.wait_for(reached(), limit)
        return self.sent()

    @property
    def openid_url(self) -> str:
        return f"{self.keys_url}openid"

    def token(
        self,
        *,
        service_url: str,
        audience: str = APP_ID,
        issuer: str = "https://api.botframework.com",
        expires_in: int = 3600,
        key: Any = None,
        kid: str = KEY_ID,
    ) -> str:
        """A Bot Framework channel token signed with the fake's key (or another)."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "nbf": now - 60,
            "exp": now + expires_in,
            "serviceurl": service_url,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid})

    # -- routes -------------------------------------------------------------------------

    def signing_keys(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update(kid=KEY_ID, use="sig", alg="RS256", endorsements=["msteams"])
        return {"keys": [public]}

    async def _record(self, request: web.Request) -> ConnectorCall | web.Response:
        body: dict[str, Any] = {}
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = {}
        call = ConnectorCall(
            request.method, request.path, body, request.headers.get("Authorization", "")
        )
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        queued = self.failures.get(request.method)
        if queued:
            return web.json_response(
                {"error": {"code": "ServiceError", "message": "injected"}}, status=queued.pop(0)
            )
        return call

    async def _activities(self, request: web.Request) -> web.Response:
        response = await self._activity(request)
        if self.limits.latency:
            await asyncio.sleep(self.limits.latency)
        return response

    async def _activity(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if isinstance(recorded, web.Response):
            return recorded
        if request.method == "POST":
            if self.before_answer is not None:
                await self.before_answer(recorded)
            retry_after = self.limits.admit(request.match_info["conversation"])
            if retry_after is not None:
                return web.json_response(
                    {"error": {"code": "Throttled", "message": "too many requests"}},
                    status=429,
                    headers={"Retry-After": str(retry_after)},
                )
        recorded.result_id = f"activity-{next(self._ids)}"
        return web.json_response({"id": recorded.result_id})

    async def _member(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if isinstance(recorded, web.Response):
            return recorded
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response(
                {"error": {"code": "NotFound", "message": "member"}}, status=404
            )
        return web.json_response(member)


class _KeysHandler(BaseHTTPRequestHandler):
    """OpenID metadata and signing keys, on a thread of their own: botbuilder fetches them
    with a blocking call from inside the event loop."""

    fake: FakeConnector

    def do_GET(self) -> None:
        if self.path == "/openid":
            body = {
                "issuer": "https://api.botframework.com",
                "jwks_uri": f"{self.fake.keys_url}keys",
            }
        elif self.path == "/keys":
            body = self.fake.signing_keys()
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@functools.cache
def signing_key() -> rsa.RSAPrivateKey:
    """One signing key for the whole test run.

    botframework caches the keys it fetched by metadata URL and key id, for the process.
    A later fake that happened to get the same port as an earlier one would otherwise be
    checked against the earlier one's key and every token would fail as forged.
    """
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@asynccontextmanager
async def fake_connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector(key=signing_key())
    handler = type("KeysHandler", (_KeysHandler,), {"fake": fake})
    keys_server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # shutdown() blocks until serve_forever next polls: every 10 ms, not the default 0.5 s
    # (which every Teams test paid on the way out).
    threading.Thread(
        target=keys_server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    fake.keys_url = f"http://127.0.0.1:{keys_server.server_address[1]}/"
    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", fake._activities)
    app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", fake._activities)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", fake._activities)
    app.router.add_get("/v3/conversations/{conversation}/members/{member}", fake._member)
    try:
        async with serve_on_loopback(app) as url:
            fake.url = url
            yield fake
    finally:
        keys_server.shutdown()
        keys_server.server_close()
        keys_server.server_close()
