"""``POST /slack/events``: check a Slack request once, refuse replays, hand it to Bolt.

Like bolt-python's aiohttp adapter, this is a thin edge: verify, convert, hand over. Every
refusal happens before any work and is a 4xx without a traceback:

- a body that is not UTF-8, a missing or malformed signature or timestamp (``abc`` is not a
  time), a timestamp more than five minutes away, or a wrong signature: 400 or 401;
- a replay: Slack's signature covers the timestamp and the body, so a second request with
  the same signature is the same request sent again. Events carry an id that the channel
  already records, but slash commands, button clicks and view submissions do not; every
  signature is therefore recorded for the five minutes it stays valid, in the database, so
  replicas agree, and a second copy is refused with 401.

This is replay protection, not retry handling: Slack signs each retry afresh. Retries (over
HTTP or Socket Mode) are answered once by their event id, which the engine records in the
turn's own transaction (``Inbound.event_id``); Bolt de-duplicates nothing itself.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import SlackChannel
from bot.web import problem
from storage import Database, ProcessedEvent
from storage.queries import SLACK_SIGNATURES, first_delivery

log = logging.getLogger(__name__)
#: How far a request's timestamp may be from now (Slack's documented window).
WINDOW_SECONDS = 5 * 60
#: The processed_event platform under which request signatures are recorded (the due
#: pass prunes them: storage.queries.prune_processed_events).
SIGNATURES = SLACK_SIGNATURES
NOT_SLACK = "the body is not a Slack request"
UNSIGNED = "invalid or missing Slack signature, or a stale timestamp"
REPLAYED = "this signed Slack request was already received"
UNHANDLED = "the Slack request could not be handled"


def signed_timestamp(
    *, body: str, headers: dict[str, str], secret: str, now: float
) -> tuple[int, str] | None:
    """The request's timestamp and signature when both are present, well formed and valid.

    slack_sdk's verifier turns the timestamp header into an int unchecked, so ``abc`` would
    raise; here anything that is not a plain number is simply not a signed request.

    Args:
        body: The raw body, as Slack signed it.
        headers: The request's headers.
        secret: The app's signing secret.
        now: The current Unix time.

    Returns:
        (timestamp, signature), or None when the request is not validly signed.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    stamp = lowered.get("x-slack-request-timestamp", "")
    signature = lowered.get("x-slack-signature", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not signature:
        return None
    timestamp = int(stamp)
    if abs(now - timestamp) > WINDOW_SECONDS:
        return None
    expected = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    if expected is None or not hmac.compare_digest(expected, signature):
        return None
    return timestamp, signature


async def first_receipt(
    database: Database, *, signature: str, timestamp: int, now: datetime
) -> bool:
    """Record a request's signature; False when the same signed request came before.

    Records older than the signature window are deleted as new ones arrive: by then Slack's
    own timestamp check refuses the request, so the record has done its work.
    """
    key = f"{timestamp}:{signature}"
    async with database.session() as session:
        first = await first_delivery(session, platform=SIGNATURES, event_id=key, now=now)
        if first:
            table = ProcessedEvent.__table__  # type: ignore[attr-defined]
            conn = await session.connection()
            await conn.execute(
                sa.delete(table).where(
                    table.c.platform == SIGNATURES,
                    table.c.received_at < now - timedelta(seconds=2 * WINDOW_SECONDS),
                )
            )
    return first


async def handle(
    request: web.Request, channel: SlackChannel, *, unix_time: Callable[[], float] = time.time
) -> web.Response:
    """Answer one request to ``POST /slack/events``.

    Args:
        request: The HTTP request.
        channel: Slack in front of the engine.
        unix_time: The current Unix time (Slack signs with real time, not the bot's clock).
    """
    raw = await request.read()
    try:
        # Slack signs and sends UTF-8.
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return problem(400, NOT_SLACK)
    headers = dict(request.headers)
    signed = signed_timestamp(
        body=body, headers=headers, secret=channel.settings.signing_secret, now=unix_time()
    )
    if signed is None:
        return problem(401, UNSIGNED)
    timestamp, signature = signed
    try:
        first = await first_receipt(
            channel.database,
            signature=signature,
            timestamp=timestamp,
            now=channel.engine.clock.now(),
        )
    except Exception as exc:
        # The database is down: a replay could not write anything either, and the turn's
        # own error boundary tells the person, in plain words, that something went wrong.
        log.warning("slack: could not record a request (%s)", type(exc).__name__)
        first = True
    if not first:
        log.info("slack: refused a replayed request (timestamp %s)", timestamp)
        return problem(401, REPLAYED)
    try:
        bolt_request = AsyncBoltRequest(
            body=body, query=request.query_string, headers=dict(request.headers)
        )
    except Exception:
        # Bolt reads the context (team, enterprise, authorizations) assuming Slack's shapes,
        # so a malformed body can fail with any lookup error (e.g. KeyError for
        # "authorizations": {}); it is the request that is wrong.
        return problem(400, NOT_SLACK)
    if not isinstance(bolt_request.body, dict) or not bolt_request.body:
        return problem(400, NOT_SLACK)
    try:
        bolt_response = await channel.app.async_dispatch(bolt_request)
    except Exception as exc:
        # By class name only: the request is the person's, and its text stays out of logs.
        log.warning("slack: a request could not be dispatched (%s)", type(exc).__name__)
        return problem(400, UNHANDLED)
    if bolt_response.status >= 500:
        # Bolt answers 500 when a payload breaks a listener's expectations; it is the
        # request that is wrong, and Slack must not retry it forever.
        return problem(400, UNHANDLED)
    return await to_aiohttp_response(bolt_response)
