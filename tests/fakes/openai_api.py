"""A fake OpenAI-compatible chat completions server on loopback (port 0).

Point a real ``openai.AsyncOpenAI`` at it with ``base_url=fake.url``. It records every
request (body and headers) and answers from a script: by default a valid summary in JSON;
queued answers can be a 429 with Retry-After, a 5xx, a slow answer (for timeouts) or
malformed JSON. Error bodies quote the request on purpose, as some servers do, so tests
can prove such text never reaches the database or the logs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import serve_on_loopback

#: What the fake model answers unless told otherwise.
DEFAULT_ANSWER: dict[str, Any] = {
    "topics": ["Delegation", "Team charter"],
    "action_items": [
        {"owner": "mentee", "text": "Draft the team charter"},
        {"owner": "mentor", "text": "Share the hiring rubric"},
    ],
    "next_focus": "Review the charter draft together.",
}


@dataclass
class Request:
    """One request the fake received."""

    body: dict[str, Any]
    headers: dict[str, str]
    raw: str

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages", []))


@dataclass
class Scripted:
    """One queued answer: ``ok``, ``status`` (an error), ``slow`` or ``malformed``."""

    kind: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeOpenAI:
    """``POST /v1/chat/completions``, answered from a script."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: list[Scripted] = []
        self.answer: dict[str, Any] | str = dict(DEFAULT_ANSWER)
        self.url = ""
        self._release = asyncio.Event()

    def rate_limit(self, *, retry_after: float | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests with 429 (and a Retry-After, if given)."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self.script += [Scripted("status", 429, headers) for _ in range(times)]

    def fail(self, status: int = 500, *, times: int = 1) -> None:
        """Answer the next ``times`` requests with an error status."""
        self.script += [Scripted("status", status) for _ in range(times)]

    def slow(self, delay: float = 30.0, *, times: int = 1) -> None:
        """Answer the next ``times`` requests only after ``delay`` seconds (or at shutdown)."""
        self.script += [Scripted("slow", delay=delay) for _ in range(times)]

    def malformed(self, *, times: int = 1) -> None:
        """Answer the next ``times`` requests with content that is not JSON."""
        self.script += [Scripted("malformed") for _ in range(times)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        body = json.loads(raw)
        self.requests.append(Request(body, dict(request.headers), raw))
        step = self.script.pop(0) if self.script else Scripted("ok")
        if step.kind == "status":
            # Like some servers, the error quotes what it was sent.
            error = {
                "message": f"cannot serve this request: {raw[:2000]}",
                "type": "rate_limit_exceeded" if step.status == 429 else "server_error",
            }
            return web.json_response({"error": error}, status=step.status, headers=step.headers)
        if step.kind == "slow":
            with suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), step.delay)
        content = self.answer if isinstance(self.answer, str) else json.dumps(self.answer)
        if step.kind == "malformed":
            content = "Sure! Here is your summary: topics are delegation and"
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 1_796_000_000,
                "model": body.get("model", "unknown"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )


@asynccontextmanager
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A running fake; ``fake.url`` is the base URL to give the client (ends in /v1)."""
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake._handle)
    async with serve_on_loopback(app) as url:
        fake.url = f"{url}v1"
        try:
            yield fake
        finally:
            fake._release.set()  # slow answers finish now, so shutting down never waits
