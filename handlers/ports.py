"""The ports handlers/ needs from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from handlers.messages import Reply


class Clock(Protocol):
    """Where time comes from, so every behaviour can be tested at any date."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


class Unreachable(Exception):
    """This channel cannot reach this person at all (no account, never opened a chat).

    Retrying does not help; another channel might.
    """


class TransientDeliveryError(Exception):
    """Delivery failed for now (rate limit, server error, timeout); try again later.

    Attributes:
        retry_after: Seconds the platform asked us to wait, if it said.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Sender(Protocol):
    """Delivers queued replies to a person on one platform."""

    #: The platform name, as stored in ``platform_account.platform``.
    platform: str

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> None:
        """Send the replies.

        Raises:
            Unreachable: this platform cannot reach the person.
            TransientDeliveryError: try again later.
        """
        ...


@dataclass(frozen=True)
class Recipient:
    """Who a queued message is for, with what is known of their accounts."""

    person_id: int
    email: str
    name: str
    #: This platform's user id and DM channel, when the person has used it.
    external_id: str | None = None
    dm_channel: str | None = None
