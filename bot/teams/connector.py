"""Calls to the Bot Connector: one kept client per service URL, sent with aiohttp.

botbuilder's ``CloudAdapter`` asks its authentication for a new ``ConnectorClient`` on
every turn, proactive ones included, and msrest's default pipeline sends each call with
``requests`` on asyncio's default thread pool. Profiling the outbox (``bench/delivery.py``
under py-spy) showed what that costs per message:

- building the client builds two msrest configurations (the connector's and the user
  token client's), each with a ``ClientRetryPolicy`` whose status list is computed by a
  quadratic scan of 999 codes: about a quarter of the event loop's time went there;
- each call then waits for a thread of the default pool (``min(32, cpus + 4)`` threads, six
  on two cores), so at 100 ms a call at most about 60 messages a second can be in flight
  however many sends the worker runs at once; and a fresh ``requests`` session per client
  opens a new connection for every message;
- with real credentials, a new client also means new credentials and a new MSAL app,
  whose token cache starts empty: a blocking token request to Microsoft Entra ID, on the
  event loop, for every message.

:class:`KeptConnectors` keeps one client per (app, service URL, audience), built once by
botbuilder's own factory and then sent through :class:`_AiohttpSender` on one shared
``aiohttp`` session (a connection pool, no threads). The bot's token is still asked of the
credentials for every call (MSAL answers from its cache, and refreshes it about hourly), on
a worker thread so that a refresh never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import (
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.pipeline import Request, Response
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse

#: Clients kept at once; Teams uses a handful of service URLs per region and tenant.
KEPT_CLIENTS = 256
#: The longest one call to the connector may take (msrest's own default is 100 s; the
#: outbox cuts a send off sooner anyway, and a reply must not hold its turn that long).
CALL_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)
#: Connections open at once to the connector, over every service URL.
CONNECTIONS = 100

_AppKey = tuple[str | None, str | None]


class KeptConnectors(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication from configuration, with Bot Connector clients kept.

    Requests are still authenticated exactly as botbuilder does; only the clients for
    outbound calls (and the user token client, which mentorbot does not use but the adapter
    builds every turn) are kept and reused instead of built per turn.

    Args:
        configuration: botbuilder's configuration object (app id, password, endpoints).
        credentials_factory: Credentials for calls to the Bot Connector.
    """

    def __init__(self, configuration: Any, *, credentials_factory: Any = None) -> None:
        super().__init__(configuration, credentials_factory=credentials_factory)
        self._clients: OrderedDict[tuple[_AppKey, str, str | None], Any] = OrderedDict()
        self._user_token_clients: dict[_AppKey, UserTokenClient] = {}
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._closer: AsyncGenerator[None] | None = None

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """A factory that hands out the kept client for a service URL, building it once."""
        return _KeptFactory(
            self, super().create_connector_factory(claims_identity), _app_key(claims_identity)
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """The user token client for the bot's app id, built once."""
        key = _app_key(claims_identity)
        client = self._user_token_clients.get(key)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            self._user_token_clients[key] = client
        return client

    async def session(self) -> aiohttp.ClientSession:
        """The shared HTTP session, opened on first use in the running event loop.

        It is closed by :meth:`close`, or else with its event loop: ``asyncio.run`` (and
        ``asyncio.Runner``) close every unfinished async generator before they close the
        loop, and :func:`_closed_with_the_loop` is one.
        """
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.closed or self._session_loop is not loop:
            # A session belongs to one loop; tests run each case in a loop of its own.
            session = aiohttp.ClientSession(
                timeout=CALL_TIMEOUT,
                connector=aiohttp.TCPConnector(limit=CONNECTIONS),
                # As msrest's requests did: HTTPS_PROXY, NO_PROXY and the netrc apply, so a
                # bot behind an egress proxy still reaches the Bot Connector.
                trust_env=True,
            )
            self._session, self._session_loop = session, loop
            self._closer = _closed_with_the_loop(session)
            await anext(self._closer)
        return session

    async def close(self) -> None:
        """Close the shared HTTP session (the kept clients open a new one if used again)."""
        closer, self._closer, self._session = self._closer, None, None
        if closer is not None:
            await closer.aclose()

    async def _client(self, factory: _KeptFactory, service_url: str, audience: str | None) -> Any:
        key = (factory.app, service_url, audience)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        client = await factory.inner.create(service_url, audience)
        # The client as botbuilder builds it (credentials, user agent), sent our way.
        config = client.config
        config.pipeline = AsyncPipeline(
            [
                config.user_agent_policy,
                _BearerToken(config.credentials),
                RawDeserializer(),
                config.http_logger_policy,
            ],
            _AiohttpSender(self),
        )
        self._clients[key] = client
        while len(self._clients) > KEPT_CLIENTS:
            self._clients.popitem(last=False)  # nothing to close: the session is shared
        return client


async def _closed_with_the_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None]:
    """Holds ``session`` open until closed itself: by its owner, or with the event loop."""
    try:
        yield
    finally:
        await session.close()


class _KeptFactory(ConnectorFactory):  # type: ignore[misc]
    """botbuilder's connector factory for one app id, answering with kept clients."""

    def __init__(self, owner: KeptConnectors, inner: ConnectorFactory, app: _AppKey) -> None:
        self.owner = owner
        self.inner = inner
        self.app = app

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        return await self.owner._client(self, service_url, audience)


def _app_key(claims_identity: ClaimsIdentity) -> _AppKey:
    """The claims botbuilder reads the app id from (the audience, else the app id claim)."""
    return (
        claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM),
        claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM),
    )


class _HeaderCarrier:
    """Where msrest credentials write the Authorization header (they expect a session)."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


class _BearerToken(AsyncHTTPPolicy[ClientRequest, AsyncClientResponse]):
    """Puts the bot's token on every call, as botbuilder's credentials decide it."""

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self.credentials = credentials

    async def send(
        self, request: Request[ClientRequest], **kwargs: Any
    ) -> Response[ClientRequest, AsyncClientResponse]:
        headers = request.http_request.headers
        headers.pop("Authorization", None)
        if self.credentials is not None:
            carrier = _HeaderCarrier()
            # MSAL may call Microsoft Entra ID (an empty or expiring token cache) with a
            # blocking request: never on the event loop.
            await asyncio.to_thread(self.credentials.signed_session, carrier)
            token = carrier.headers.get("Authorization")
            if token:
                headers["Authorization"] = token
        assert self.next is not None  # the pipeline always ends in a sender
        return await self.next.send(request, **kwargs)


class _AiohttpSender(AsyncHTTPSender[ClientRequest, AsyncClientResponse]):
    """The end of a kept client's pipeline: the call on the shared aiohttp session."""

    def __init__(self, owner: KeptConnectors) -> None:
        self.owner = owner

    async def __aenter__(self) -> _AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        """The session is the owner's to close."""

    def build_context(self) -> None:
        return None

    async def send(
        self, request: Request[ClientRequest], **kwargs: Any
    ) -> Response[ClientRequest, AsyncClientResponse]:
        call: ClientRequest = request.http_request
        if call.files:
            raise NotImplementedError("the Bot Connector calls mentorbot makes send JSON")
        session = await self.owner.session()
        async with session.request(
            call.method, call.url, headers=dict(call.headers), data=call.data
        ) as answer:
            body = await answer.read()
        return Response(request, _ConnectorResponse(call, answer, body))


class _ConnectorResponse(AsyncClientResponse):
    """An answer from the connector, read whole (msrest deserializes it from memory)."""

    def __init__(self, request: ClientRequest, answer: aiohttp.ClientResponse, body: bytes) -> None:
        super().__init__(request, answer)
        self.status_code: int = answer.status
        # Case-insensitive, and kept after the body is read.
        self.headers: Any = answer.headers
        self.reason = answer.reason
        self._body = body

    def body(self) -> bytes:
        return self._body

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            self.internal_response.raise_for_status()


__all__ = ["KeptConnectors"]
