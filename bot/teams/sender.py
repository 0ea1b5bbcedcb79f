"""Delivering outbox messages in Teams through stored conversation references.

Teams lets a bot message someone only in a conversation that person (or their admin) has
opened with it: a person with no stored reference is unreachable, and the outbox records
why instead of retrying forever.
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema import ConversationReference

from bot.teams.app import PLATFORM, TeamsChannel, card_activity
from handlers.messages import Reply
from handlers.ports import Recipient, TransientDeliveryError, Unreachable
from storage.queries import reference_of

#: Connector answers that mean the bot can no longer reach this person.
GONE = {403: "the person removed or blocked the app", 404: "the conversation no longer exists"}


class TeamsSender:
    """The outbox sender for Teams."""

    platform = PLATFORM

    def __init__(self, channel: TeamsChannel) -> None:
        self.channel = channel

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> None:
        """Continue the person's conversation with a card.

        Raises:
            Unreachable: no stored reference, or the app was removed.
            TransientDeliveryError: the connector failed; try later.
        """
        async with self.channel.database.session() as session:
            stored = await reference_of(session, person_id=recipient.person_id, platform=PLATFORM)
        if stored is None:
            raise Unreachable(
                "has never opened a chat with the bot in Teams; invite them to install the app"
            )
        reference = ConversationReference().deserialize(stored)

        failed: list[Exception] = []

        async def send(context: TurnContext) -> None:
            # Caught here: the adapter hands an exception in a turn to its on_turn_error
            # handler and returns normally, which would count an undelivered message as
            # sent.
            try:
                await context.send_activity(card_activity(replies))
            except Exception as exc:
                failed.append(exc)

        try:
            await self.channel.adapter.continue_conversation(
                reference, send, bot_app_id=self.channel.settings.app_id
            )
            if failed:
                raise failed[0]
        except Exception as exc:
            status = _status(exc)
            if status in GONE:
                raise Unreachable(GONE[status]) from None
            reason = f"Bot Connector answered {status}" if status else type(exc).__name__
            raise TransientDeliveryError(reason) from None


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else None
