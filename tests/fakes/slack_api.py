"""A fake Slack Web API on loopback (port 0) that records every call it receives.

Point a real ``AsyncWebClient`` at it with ``base_url=fake.url``. Failures can be queued
per method (a 429 with Retry-After, a 500, an error body) to test retries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)


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

    def of(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every successful call of a method so far."""
        return [c.args for c in self.calls if c.method == method and c.result.get("ok")]

    def attempts(self, method: str) -> list[Call]:
        """Every call of a method, failed ones included."""
        return [c for c in self.calls if c.method == method]

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

    async def settle(self, rounds: int = 20) -> None:
        """Let background listeners finish (used before asserting that nothing happened)."""
        for _ in range(rounds):
            await asyncio.sleep(0.01)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        call = Call(method, args)
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            call.result = failure.body
            response = web.json_response(
                failure.body, status=failure.status, headers=failure.headers
            )
        else:
            call.result = self._answer(method, args)
            response = web.json_response(call.result)
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return response

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
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
            users = str(args.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.replace(",", "")}}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = args.get("ts") or f"17000000{next(self._ts):02d}.000100"
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text")},
            }
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V0VIEW"}}
        return {"ok": False, "error": "unknown_method"}


@asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake on 127.0.0.1, on a port the OS picks."""
    fake = FakeSlack()
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}/api/"
    try:
        yield fake
    finally:
        await runner.cleanup()


def json_dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))
