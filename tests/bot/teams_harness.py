"""Driving the real server with Bot Framework activities, answered through a fake connector."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from botframework.connector.auth import MicrosoftAppCredentials, ServiceClientCredentialsFactory

from bot.runtime import Runtime, build_runtime
from bot.server import running
from bot.teams.settings import TeamsSettings
from handlers.core.engine import Engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import Database
from tests.fakes.bot_connector import APP_ID, FakeConnector, fake_connector
from tests.helpers import FakeClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "teams"
BOT_TOKEN = "fake-outgoing-bot-token"
#: The Microsoft 365 tenant the harness serves, and that its activities come from.
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
#: A program lead (app.yaml's program.leads), who may run reports: the ``from`` of an activity.
LEAD = {
    "id": "29:1PriyaShahTeamsUserId",
    "name": "Priya Shah",
    "aadObjectId": "0c9e7a2b-5d4f-4e3a-8b1c-9f8e7d6c5b4a",
}


class _StaticCredentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """The bot's own token for calls to the connector, without asking Microsoft Entra ID."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return BOT_TOKEN


class StaticCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        return _StaticCredentials(APP_ID, "unused-password")


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def in_tenant(payload: dict[str, Any], tenant: str | None) -> dict[str, Any]:
    """The activity as Teams sends it from ``tenant`` (None: naming no tenant at all)."""
    conversation = payload.setdefault("conversation", {})
    channel_data = payload.setdefault("channelData", {})
    if tenant is None:
        conversation.pop("tenantId", None)
        channel_data.pop("tenant", None)
    else:
        conversation["tenantId"] = tenant
        channel_data["tenant"] = {"id": tenant}
    return payload


@dataclass
class Response:
    status: int
    text: str


@dataclass
class TeamsHarness:
    connector: FakeConnector
    runtime: Runtime
    base: str
    http: aiohttp.ClientSession
    sleeps: list[float] = field(default_factory=list)
    #: The tenant activities come from (see :func:`in_tenant` for another).
    tenant: str = TENANT
    _ids: int = 0

    def activity(self, name: str = "message.json", **changes: Any) -> dict[str, Any]:
        payload = in_tenant(fixture(name), self.tenant)
        payload["serviceUrl"] = self.connector.url
        self._ids += 1
        payload["id"] = f"17637174{self._ids:05d}"
        payload.update(changes)
        return payload

    async def post(
        self,
        body: Any,
        *,
        token: str | None = "valid",
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Response:
        headers = {"Content-Type": content_type}
        if token == "valid":
            headers["Authorization"] = "Bearer " + self.connector.token(
                service_url=self.connector.url
            )
        elif token is not None:
            headers["Authorization"] = token
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(
            self.base + "/api/messages", data=data, headers=headers
        ) as response:
            return Response(response.status, await response.text())

    async def say(self, text: str, *, sender: dict[str, Any] | None = None) -> Response:
        """Send a message as Ana, or as ``sender`` (an activity's ``from``, e.g. LEAD)."""
        changes: dict[str, Any] = {"text": text}
        if sender is not None:
            changes["from"] = sender
        return await self.post(self.activity(**changes))

    def last_card(self) -> dict[str, Any]:
        for sent in reversed(self.connector.sent()):
            for attachment in sent.get("attachments") or []:
                if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    return dict(attachment["content"])
        raise AssertionError("the bot sent no card")

    def last_text(self) -> str:
        return json.dumps(self.last_card()["body"], ensure_ascii=False)

    def last_attachment(self, content_type: str) -> dict[str, Any]:
        """The newest attachment of this content type the bot sent (a file-consent card)."""
        for sent in reversed(self.connector.sent()):
            for attachment in sent.get("attachments") or []:
                if attachment.get("contentType") == content_type:
                    return dict(attachment)
        raise AssertionError(f"the bot sent no {content_type} attachment")

    async def file_consent(
        self,
        action: str,
        context: dict[str, Any],
        *,
        upload_info: dict[str, Any] | None = None,
        sender: dict[str, Any] | None = None,
    ) -> Response:
        """Answer a file-consent card as Teams does: a ``fileConsent/invoke`` activity.

        Args:
            action: ``accept`` or ``decline``.
            context: The card's ``acceptContext`` or ``declineContext``, handed back.
            upload_info: Where Teams opened an upload session (on accept).
            sender: The ``from`` of the activity (default: Ana, as in the fixture).
        """
        value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
        if upload_info is not None:
            value["uploadInfo"] = upload_info
        payload = self.activity(type="invoke", value=value)
        payload["name"] = "fileConsent/invoke"  # not a keyword: activity() takes a fixture name
        for key in ("text", "textFormat", "attachments"):
            payload.pop(key, None)
        if sender is not None:
            payload["from"] = sender
        return await self.post(payload)

    def _submit_data(self, card: dict[str, Any]) -> dict[str, Any]:
        for action in card.get("actions", []):
            if "mb_token" in action.get("data", {}):
                return copy.deepcopy(action["data"])
        raise AssertionError("the card asks nothing")

    def last_card_id(self) -> str:
        return self.connector.sent_calls()[-1].result_id

    async def submit(
        self,
        *labels: str,
        text: str | None = None,
        card: dict[str, Any] | None = None,
        reply_to: str | None = None,
    ) -> Response:
        """Fill in the last card (or ``card``): pick options by label, or type ``text``."""
        reply_to = reply_to or self.last_card_id()
        card = card or self.last_card()
        value = self._submit_data(card)
        if text is not None:
            value["answer"] = text
        else:
            choice = next(b for b in card["body"] if b.get("type") == "Input.ChoiceSet")
            indices = [c["value"] for c in choice["choices"] if c["title"] in labels]
            assert len(indices) == len(labels), f"not all of {labels} are choices"
            value["answer"] = ",".join(indices)
        payload = self.activity("card_submit.json", value=value, replyToId=reply_to)
        return await self.post(payload)

    async def submit_form(
        self,
        inputs: dict[str, Any],
        *,
        card: dict[str, Any] | None = None,
        reply_to: str | None = None,
    ) -> Response:
        """Send the last card's form (or ``card``'s) with these input values, by input id.

        As Teams does, the values are merged into the data of the form's Action.Submit.
        """
        reply_to = reply_to or self.last_card_id()
        card = card or self.last_card()
        [data] = [a["data"] for a in card.get("actions", []) if "mb_form" in a.get("data", {})]
        value = {**copy.deepcopy(data), **inputs}
        return await self.post(self.activity("card_submit.json", value=value, replyToId=reply_to))


def use_engine(runtime: Runtime, engine: Engine) -> None:
    """Serve with ``engine`` instead of the one the runtime was built with."""
    runtime.engine = engine
    if runtime.teams is not None:
        runtime.teams.engine = engine


@asynccontextmanager
async def teams_server(
    database: Database,
    program: Program,
    *,
    app_id: str | None = APP_ID,
    allow_unauthenticated: bool = False,
    tenants: frozenset[str] = frozenset({TENANT}),
    any_tenant: bool = False,
    extend: Callable[[Engine], Engine] | None = None,
) -> AsyncIterator[TeamsHarness]:
    """The real aiohttp server with Teams on, answering through a fake Bot Connector.

    It serves ``tenants`` (MENTORBOT_TEAMS_TENANTS), or every tenant with ``any_tenant``.
    ``extend`` gives the engine extra commands or forms (test-only ones) before serving.
    """
    async with fake_connector() as connector:
        connector.add_member(
            "29:1AnaLopezTeamsUserId",
            aad="6b1d8f0e-2f3c-4a5b-9c7d-1e2f3a4b5c6d",
            name="Ana Lopez",
            email="ana.lopez@example.com",
        )
        connector.add_member(
            LEAD["id"], aad=LEAD["aadObjectId"], name=LEAD["name"], email="priya.shah@example.com"
        )
        sleeps: list[float] = []

        async def record_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        settings = TeamsSettings(
            app_id=app_id,
            app_password="unused-password" if app_id else None,
            allow_unauthenticated=allow_unauthenticated,
            openid_metadata_url=connector.openid_url,
            tenants=tenants,
            any_tenant=any_tenant,
        )
        runtime = build_runtime(
            programs=Programs.one(program),
            database=database,
            slack=None,
            teams=settings,
            clock=FakeClock(),
            teams_options={
                "credentials_factory": StaticCredentialsFactory() if app_id else None,
                "sleep": record_sleep,
            },
        )
        if extend is not None:
            use_engine(runtime, extend(runtime.engine))
        async with running(runtime, host="127.0.0.1", port=0, tick_seconds=3600) as runner:
            host, port = runner.addresses[0][:2]
            async with aiohttp.ClientSession() as http:
                yield TeamsHarness(connector, runtime, f"http://{host}:{port}", http, sleeps)
