"""``POST /api/messages``: check a Teams request once, before botbuilder runs a turn.

Like :mod:`bot.slack.http`, a thin edge: verify, convert, hand over. Every refusal happens
before any work and is a 4xx without a traceback:

- Teams off (no app id, and unauthenticated use not allowed): 401;
- not JSON by its content type: 415;
- with an app id, an Authorization that is not a Bearer JWT: 401, before the body is read;
- a body that is not JSON, is nested more than :data:`MAX_DEPTH` levels (botbuilder's
  deserializer recurses), or lacks a type, service URL, conversation or sender: 400;
- a token that fails botbuilder's checks: 401;
- an activity from a Microsoft 365 tenant the bot does not serve, or naming two: 403, in
  every auth mode, the local emulator's included. The refusal is logged with the activity's
  type and tenant, never its text.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web
from botbuilder.schema import Activity, ActivityTypes

from bot.teams.settings import activity_tenant, channel_data_tenant
from bot.web import problem

if TYPE_CHECKING:
    from bot.teams.app import TeamsChannel

log = logging.getLogger(__name__)
#: How deep an activity's JSON may nest (Teams' own are about 10 deep, cards included);
#: botbuilder's deserializer recurses, so deeper is refused before it runs.
MAX_DEPTH = 64
#: The shape of a Bot Framework Authorization header: a JWT, three base64url parts.
_BEARER = re.compile(r"Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
BAD_TOKEN = "missing or invalid Bot Framework token"


async def handle(request: web.Request, channel: TeamsChannel) -> web.Response:
    """Answer one request to ``POST /api/messages``."""
    if not channel.authenticated and not channel.settings.allow_unauthenticated:
        return problem(401, "Teams is off: set MicrosoftAppId and MicrosoftAppPassword")
    if "application/json" not in request.headers.get("Content-Type", ""):
        return problem(415, "a Bot Framework activity is JSON (Content-Type: application/json)")
    authorization = request.headers.get("Authorization", "")
    if channel.authenticated and not _BEARER.fullmatch(authorization):
        # Refused before the body is read: nothing unauthenticated costs any work.
        return problem(401, BAD_TOKEN)
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError):
        return problem(400, "the body is not JSON")
    if _depth_over(body, MAX_DEPTH):
        return problem(400, f"the activity is nested more than {MAX_DEPTH} levels deep")
    wrong = _check_activity(body)
    if wrong:
        return problem(400, wrong)
    try:
        activity = Activity().deserialize(body)
    except Exception:
        return problem(400, "the body is not a Bot Framework activity")
    try:
        identity = await channel.auth.authenticate_request(activity, authorization)
    except Exception as exc:  # botbuilder raises many kinds for a bad token
        log.info("teams: refused a request (%s)", type(exc).__name__)
        return problem(401, BAD_TOKEN)
    # Checked in every auth mode, before anything is stored or sent: a valid token only
    # says the Bot Framework sent the activity, not that its user belongs to a company
    # this bot serves.
    conversation = body["conversation"]
    try:
        tenant = activity_tenant(conversation.get("tenantId"), body.get("channelData"))
    except ValueError:
        log.warning(
            "teams: refused a %s activity that names no single tenant (%s and %s)",
            _shown(body["type"]),
            _shown(conversation.get("tenantId")),
            _shown(channel_data_tenant(body.get("channelData"))),
        )
        return problem(403, "the activity does not name one Microsoft 365 tenant")
    if not channel.settings.serves(tenant):
        log.warning(
            "teams: refused a %s activity from tenant %s, which this bot does not serve",
            _shown(body["type"]),
            _shown(tenant),
        )
        return problem(403, "this bot does not serve your Microsoft 365 tenant")
    return await channel.process(activity=activity, identity=identity, tenant=tenant)


def _shown(value: Any) -> str:
    """A value from a request, shortened and quoted, safe for a log line."""
    if value is None or not isinstance(value, str):
        # Only the type of anything else: a forged structure could be deep or huge.
        return "none" if value is None else f"a {type(value).__name__}"
    # repr() quotes and escapes line breaks, so a forged value cannot fake a log line.
    return repr(value[:100])


def _depth_over(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests deeper than ``limit`` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _check_activity(body: Any) -> str | None:
    """Why a body is not an activity mentorbot can answer, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (a Bot Framework activity)"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "the activity has no type"
    if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"].startswith(
        ("https://", "http://")
    ):
        return "the activity has no serviceUrl"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return "the activity has no conversation id"
    sender = body.get("from")
    if body["type"] == ActivityTypes.message and (
        not isinstance(sender, dict) or not isinstance(sender.get("id"), str)
    ):
        return "the message has no sender"
    return None
