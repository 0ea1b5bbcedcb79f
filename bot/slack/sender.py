"""Delivering outbox messages in Slack: open the DM, post, pace, classify failures.

slack_sdk's retry handlers already wait out a 429's Retry-After and retry server errors a
few times inside one call; what still fails is reported to the outbox worker, which
retries later with backoff or records why the message could not be delivered.

The worker sends to several people at once. The sender's :class:`Pacing` keeps Slack's
limits across those sends: one post per second in a channel (a lock per channel), and after
any 429 the client sees (an observer among its retry handlers), every send waits until the
Retry-After has passed, not only the refused one.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import render_message
from bot.slack.files import SlackFiles
from handlers import (
    Clock,
    GroupPlace,
    Recipient,
    Reply,
    TransientDeliveryError,
    Unreachable,
)
from scheduler.pacing import Pacing, retry_after
from storage import Database
from storage.queries import link_account

PLATFORM = "slack"
#: Slack errors that mean this person cannot be messaged in Slack at all.
UNREACHABLE_ERRORS = {
    "users_not_found": "no Slack user has this email",
    "user_not_found": "the Slack user no longer exists",
    "account_inactive": "the Slack account is deactivated",
    "user_disabled": "the Slack account is deactivated",
    "cannot_dm_bot": "the recipient is a bot",
    "channel_not_found": "the DM with this person cannot be found",
    "is_archived": "the DM with this person is archived",
}
#: conversations.open errors that mean these people cannot share a group DM; each of them
#: may still be reachable on their own, so the outbox worker falls back to single DMs.
GROUP_UNREACHABLE_ERRORS = {
    "missing_scope": "the app may not open group DMs or private channels (it needs the "
    "mpim:write and groups:write scopes)",
    "not_enough_users": "a group DM needs at least two people",
    "too_many_users": "too many people for one group DM",
    "invalid_user_combination": "these people cannot share a group DM",
    "restricted_action": "the workspace does not let the app create private channels",
    "user_is_restricted": "the app may not create channels in this workspace",
}
#: conversations.open takes 1 to 8 users: a group DM has at most 8 people besides the bot.
GROUP_DM_LIMIT = 8
#: Where a lasting group's Slack conversation is remembered (``GroupPlace.remembered``):
#: its channel id, the users in it, and whether it is a private channel the bot created.
SLACK_CHANNEL = "slack"
SLACK_MEMBERS = "slack_members"
SLACK_PRIVATE = "slack_private"


def channel_name(name: str) -> str:
    """A Slack channel name for a readable one: lowercase letters, digits, hyphens and
    underscores, under 80 characters (``circle 7 leader-circles`` → ``circle-7-leader-circles``)."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:79]


class SlackSender:
    """The outbox sender for Slack.

    Args:
        client: A Web API client (see bot.slack.settings.make_client).
        database: Where people found by email are linked to their Slack account.
        clock: Where time comes from.
        team: The workspace id, used in account keys (``T123/U456``).
        min_interval: Seconds between two messages to the same channel (Slack allows about
            one per second per channel).
        max_pause: The longest Retry-After a send waits out in place; after a longer one
            the message goes back to the outbox for later.
        sleep, monotonic: Injected so pacing is testable without waiting.
    """

    platform = PLATFORM

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        database: Database,
        clock: Clock,
        team: str = "",
        min_interval: float = 1.0,
        max_pause: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.database = database
        self.clock = clock
        self.team = team
        self.pacing = Pacing(
            platform="Slack",
            min_interval=min_interval,
            max_pause=max_pause,
            clock=clock,
            sleep=sleep,
            monotonic=monotonic,
        )
        # First among the client's retry handlers, so it sees every 429, the channel's
        # replies' too: the whole workspace is slowed, as Slack asks.
        handlers = [h for h in client.retry_handlers if not isinstance(h, _RateLimitObserver)]
        client.retry_handlers[:] = [_RateLimitObserver(self.pacing), *handlers]

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> str | None:
        """Post the replies in the person's DM.

        Returns:
            The message's ``ts``.

        Raises:
            Unreachable: no Slack user for this person, or they cannot be messaged.
            TransientDeliveryError: Slack or the network failed, or Slack asked for a long
                pause; try later.
        """
        try:
            channel = recipient.dm_channel
            if channel is None:
                await self.pacing.wait_for_workspace()
                channel = await self._open_dm(recipient)
            return await self._post(channel, replies)
        except SlackApiError as exc:
            raise _classify(exc) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientDeliveryError(f"network: {type(exc).__name__}") from None

    async def deliver_group(
        self, *, recipients: list[Recipient], replies: list[Reply], place: GroupPlace | None = None
    ) -> str | None:
        """Post the replies once, in a conversation with every recipient (and the bot).

        A one-off group (``place`` None: a new pair's introduction) gets a group DM. A
        lasting group (a mentor circle) talks where ``place`` remembers: a group DM while it
        has at most :data:`GROUP_DM_LIMIT` people, otherwise a private channel the bot
        creates and invites them to; newcomers are invited once, nobody twice.

        Every recipient must already be linked to a Slack user (``external_id``); nobody is
        looked up by email here.

        Raises:
            Unreachable: someone has no Slack account, or Slack will not open this group
                conversation; each recipient may still be reached on their own.
            TransientDeliveryError: Slack or the network failed; try later.
        """
        users: list[str] = []
        for recipient in recipients:
            if not recipient.external_id:
                raise Unreachable(f"{recipient.email} has no linked Slack account")
            users.append(recipient.external_id.split("/", 1)[-1])
        try:
            await self.pacing.wait_for_workspace()
            try:
                if place is None:
                    channel = await self._open_group_dm(users)
                else:
                    channel = await self._place_channel(place, users)
            except SlackApiError as exc:
                error = str(exc.response.get("error") or "")
                if error in GROUP_UNREACHABLE_ERRORS:
                    raise Unreachable(GROUP_UNREACHABLE_ERRORS[error]) from None
                raise
            return await self._post(channel, replies)
        except SlackApiError as exc:
            raise _classify(exc) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientDeliveryError(f"network: {type(exc).__name__}") from None

    async def _open_group_dm(self, users: list[str]) -> str:
        opened = await self.client.conversations_open(users=",".join(users))
        return str(opened["channel"]["id"])

    async def _place_channel(self, place: GroupPlace, users: list[str]) -> str:
        """The lasting group's conversation, opened or created the first time.

        What is learned goes into ``place.remembered`` as soon as it is known (a channel
        created before an invite fails is reused by the retry, not created again).
        """
        known = place.remembered.get(SLACK_CHANNEL)
        members = [str(u) for u in place.remembered.get(SLACK_MEMBERS) or []]
        if known and place.remembered.get(SLACK_PRIVATE):
            newcomers = [u for u in users if u not in members]
            if newcomers:
                await self._invite(str(known), newcomers)
                place.remembered[SLACK_MEMBERS] = members + newcomers
            return str(known)
        if len(users) <= GROUP_DM_LIMIT:
            if known and sorted(members) == sorted(users):
                return str(known)
            channel = await self._open_group_dm(users)
            place.remembered.update(
                {SLACK_CHANNEL: channel, SLACK_MEMBERS: users, SLACK_PRIVATE: False}
            )
            return channel
        channel = await self._create_private(channel_name(place.name))
        place.remembered.update({SLACK_CHANNEL: channel, SLACK_MEMBERS: [], SLACK_PRIVATE: True})
        await self._invite(channel, users)
        place.remembered[SLACK_MEMBERS] = users
        return channel

    async def _create_private(self, name: str) -> str:
        """A new private channel (the bot is in it as its creator); another name if taken."""
        for attempt in range(3):
            wanted = name if attempt == 0 else f"{name[:74]}-{secrets.token_hex(2)}"
            try:
                created = await self.client.conversations_create(name=wanted, is_private=True)
            except SlackApiError as exc:
                if exc.response.get("error") == "name_taken":
                    continue
                raise
            return str(created["channel"]["id"])
        raise Unreachable("every channel name tried for this group is taken")

    async def _invite(self, channel: str, users: list[str]) -> None:
        try:
            await self.client.conversations_invite(channel=channel, users=",".join(users))
        except SlackApiError as exc:
            if exc.response.get("error") != "already_in_channel":
                raise

    async def _open_dm(self, recipient: Recipient) -> str:
        user = recipient.external_id.split("/", 1)[-1] if recipient.external_id else None
        if user is None:
            found = await self.client.users_lookupByEmail(email=recipient.email)
            user = str(found["user"]["id"])
            team = str(found["user"].get("team_id") or self.team)
        else:
            team = recipient.external_id.split("/", 1)[0] if recipient.external_id else self.team
        opened = await self.client.conversations_open(users=user)
        channel = str(opened["channel"]["id"])
        async with self.database.session() as session:
            await link_account(
                session,
                platform=PLATFORM,
                external_id=f"{team}/{user}",
                person_id=recipient.person_id,
                now=self.clock.now(),
                dm_channel=channel,
            )
        return channel

    async def _post(self, channel: str, replies: list[Reply]) -> str | None:
        """Post in a channel at the pace Slack allows; the message's ``ts``.

        A reply's file (a meeting's invite) is uploaded after the message that says what it
        is. The message has gone out by then, so a failed upload is not retried (that would
        post the message twice): the person is told the file is missing instead.
        """
        text, blocks = render_message(replies)
        async with self.pacing.channel(channel):
            posted = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        for reply in replies:
            if reply.attachment is not None:
                async with self.pacing.channel(channel):
                    await SlackFiles(self.client).attach(channel, reply.attachment)
        ts = posted.get("ts")
        return str(ts) if ts else None


class _RateLimitObserver(AsyncRetryHandler):
    """Pauses the sender's pacing on every 429 the client sees; never retries itself.

    The client's own rate-limit handler, next in line, still waits out the refused call and
    retries it; this one makes every other send wait for the same Retry-After.
    """

    def __init__(self, pacing: Pacing) -> None:
        super().__init__(max_retry_count=2**31)  # consulted on every attempt
        self.pacing = pacing

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self.pacing.pause(retry_after(response.headers) or 1.0)
        return False


def _classify(exc: SlackApiError) -> Exception:
    response = exc.response
    error = str(response.get("error") or "")
    if error in UNREACHABLE_ERRORS:
        return Unreachable(UNREACHABLE_ERRORS[error])
    status = getattr(response, "status_code", 0)
    if status == 429:
        return TransientDeliveryError(
            "rate limited by Slack",
            retry_after=retry_after(getattr(response, "headers", None), default=None),
        )
    if status >= 500:
        return TransientDeliveryError(f"Slack answered {status}")
    return TransientDeliveryError(f"Slack refused the message: {error or status}")
