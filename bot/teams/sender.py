"""Delivering outbox messages in Teams through stored conversation references.

Teams lets a bot message someone only in a conversation that person (or their admin) has
opened with it: a person with no stored reference is unreachable, and the outbox records
why instead of retrying forever. So is a person whose reference is in a Microsoft 365
tenant the bot no longer serves (:meth:`TeamsSettings.serves_reference`).

The outbox worker sends to several people at once. The sender's :class:`Pacing` keeps the
connector's limits across those sends: one message per interval in a conversation, and
after a 429 every send waits until the Retry-After has passed; the refused message is
sent again after it, a few times, before it goes back to the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Attachment, ConversationReference
from sqlmodel import select

from bot.teams import files
from bot.teams.app import PLATFORM, TeamsChannel
from bot.teams.cards import card_activity
from handlers import Clock, Recipient, Reply, TransientDeliveryError, Unreachable
from scheduler.pacing import Pacing, retry_after
from storage import PlatformAccount
from storage.queries import reference_of

log = logging.getLogger(__name__)
#: Connector answers that mean the bot can no longer reach this person.
GONE = {403: "the person removed or blocked the app", 404: "the conversation no longer exists"}


class TeamsSender:
    """The outbox sender for Teams.

    Args:
        channel: The Teams channel (its adapter and database).
        min_interval: Seconds between two messages in one conversation (Teams allows a few
            a second; one is the pace that never meets its limit).
        max_pause: The longest Retry-After a send waits out in place.
        rate_limit_retries: How many times a refused (429) message is sent again in place.
        clock: Where time comes from (the pause after a 429).
        sleep, monotonic: Injected so pacing is testable without waiting.
    """

    platform = PLATFORM

    def __init__(
        self,
        channel: TeamsChannel,
        *,
        min_interval: float = 1.0,
        max_pause: float = 10.0,
        rate_limit_retries: int = 3,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.rate_limit_retries = rate_limit_retries
        self.pacing = Pacing(
            platform="Teams",
            min_interval=min_interval,
            max_pause=max_pause,
            clock=clock,
            sleep=sleep,
            monotonic=monotonic,
        )

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> str | None:
        """Continue the person's conversation with a card.

        Returns:
            The id the connector gave the activity.

        Raises:
            Unreachable: no stored reference, its tenant is not served, or the app was
                removed.
            TransientDeliveryError: the connector failed or kept refusing; try later.
        """
        stored = await self._served_reference(recipient.person_id)
        reference = ConversationReference().deserialize(stored)
        conversation = str(reference.conversation.id if reference.conversation else "")
        for attempt in range(self.rate_limit_retries + 1):
            try:
                async with self.pacing.channel(conversation):
                    return await self._send(reference, replies)
            except TransientDeliveryError:
                raise
            except Exception as exc:
                status = _status(exc)
                if status in GONE:
                    raise Unreachable(GONE[status]) from None
                if status != 429:
                    reason = f"Bot Connector answered {status}" if status else type(exc).__name__
                    raise TransientDeliveryError(reason) from None
                # Refused for the rate: every send waits, then this one goes again.
                wait = retry_after(getattr(getattr(exc, "response", None), "headers", None))
                assert wait is not None  # the default
                self.pacing.pause(wait)
                if attempt == self.rate_limit_retries:
                    raise TransientDeliveryError(
                        "rate limited by Teams", retry_after=wait
                    ) from None
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _served_reference(self, person_id: int) -> dict[str, Any]:
        """The person's stored conversation reference, if it is in a tenant served now.

        A reference names its tenant (``conversation.tenantId``) since tenants are
        recorded; one saved before names none, and is used when the person's Teams account
        records a served tenant (their link is refreshed in the tenant they write from).

        Raises:
            Unreachable: no stored reference, or its tenant is not served (any more).
        """
        settings = self.channel.settings
        async with self.channel.database.session() as session:
            stored = await reference_of(session, person_id=person_id, platform=PLATFORM)
            if stored is None:
                raise Unreachable(
                    "has never opened a chat with the bot in Teams; invite them to install the app"
                )
            if settings.serves_reference(stored):
                return stored
            if _names_no_tenant(stored):
                result = await session.exec(
                    select(PlatformAccount.tenant).where(
                        PlatformAccount.person_id == person_id,
                        PlatformAccount.platform == PLATFORM,
                    )
                )
                if any(settings.serves(tenant) for tenant in result.all() if tenant):
                    return stored
        raise Unreachable(
            "their Teams tenant is not served (any more); add it to MENTORBOT_TEAMS_TENANTS "
            "if it should be"
        )

    async def _send(self, reference: ConversationReference, replies: list[Reply]) -> str | None:
        sent: list[str | None] = []
        failed: list[Exception] = []

        async def send(context: TurnContext) -> None:
            # Caught here: the adapter hands an exception in a turn to its on_turn_error
            # handler and returns normally, which would count an undelivered message as
            # sent.
            try:
                response = await context.send_activity(card_activity(replies))
                sent.append(getattr(response, "id", None))
            except Exception as exc:
                failed.append(exc)
                return
            await _offer_files(context, replies)

        await self.channel.adapter.continue_conversation(
            reference, send, bot_app_id=self.channel.settings.app_id
        )
        if failed:
            raise failed[0]
        return sent[0] if sent else None


async def _offer_files(context: TurnContext, replies: list[Reply]) -> None:
    """Offer each reply's file (a meeting's invite) on a file-consent card after the card
    that says what it is. The message is out by then, so a failed offer is logged, not
    retried: sending again would repeat the message. The person can type calendar.
    """
    for reply in replies:
        attachment = reply.attachment
        if attachment is None:
            continue
        card = Attachment(
            content_type=files.FILE_CONSENT_TYPE,
            name=attachment.filename,
            content=files.invite_consent(attachment, secrets.token_urlsafe(16)),
        )
        try:
            await context.send_activity(MessageFactory.attachment(card))
        except Exception as exc:
            log.warning("teams: could not offer %s (%s)", attachment.filename, type(exc).__name__)


def _names_no_tenant(reference: dict[str, Any]) -> bool:
    """Whether a stored reference predates recorded tenants (names none, or a blank one)."""
    conversation = reference.get("conversation")
    tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
    return tenant is None or (isinstance(tenant, str) and not tenant.strip())


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else None
