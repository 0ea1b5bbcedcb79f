"""The ports handlers/ needs from the outside world."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from handlers.core.messages import Reply


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


class FixedClock:
    """A clock that stands still at one instant (MENTORBOT_NOW: demos, training, tests).

    Args:
        instant: The time it always says; an aware datetime.
    """

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        """The instant this clock stands at."""
        return self.instant


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

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> str | None:
        """Send the replies.

        Returns:
            The id the platform gave the message, when it gives one (the outbox records it
            so a retry can tell a sent message from a lost one).

        Raises:
            Unreachable: this platform cannot reach the person.
            TransientDeliveryError: try again later.
        """
        ...


@runtime_checkable
class GroupSender(Sender, Protocol):
    """A sender that can also deliver one message to several people together.

    This capability is optional: a platform with group conversations (a Slack group DM)
    implements ``deliver_group`` as well as ``deliver``; one without (Teams) implements only
    ``deliver``, and the outbox worker sends each recipient their own copy. Check with
    :func:`group_sender`.
    """

    async def deliver_group(
        self, *, recipients: list[Recipient], replies: list[Reply], place: GroupPlace | None = None
    ) -> str | None:
        """Send the replies once, in one conversation with every recipient.

        Args:
            recipients: Everyone the message is for.
            replies: The message.
            place: For a group that talks over many messages (a mentor circle), where it
                talks: the sender uses (or opens) its conversation there and writes what it
                learned under its own platform's keys of ``place.remembered``, which the
                worker stores even when the send then fails. None for a one-off group (a
                new pair's introduction).

        Returns:
            The id the platform gave the message, when it gives one.

        Raises:
            Unreachable: this platform cannot reach them together (someone has no account
                on it, or the group conversation cannot be opened); the worker then
                delivers to each recipient on their own.
            TransientDeliveryError: try again later.
        """
        ...


@dataclass
class GroupPlace:
    """Where a lasting group (a mentor circle) talks, kept from one message to the next.

    Attributes:
        key: The group, as the outbox names it (``circle:12``).
        name: A readable name for a conversation a platform creates for it (a channel);
            each platform spells it as its own rules allow.
        remembered: What each platform keeps about the group's conversation, by key (a
            Slack channel id under ``slack``, who was invited under ``slack_members``);
            read before a send and written by the sender that learns something new.
    """

    key: str
    name: str
    remembered: dict[str, Any] = field(default_factory=dict)


def group_sender(sender: Sender) -> GroupSender | None:
    """The sender as a :class:`GroupSender` when it can deliver to a group, else None."""
    return sender if isinstance(sender, GroupSender) else None


@dataclass(frozen=True)
class Recipient:
    """Who a queued message is for, with what is known of their accounts."""

    person_id: int
    email: str
    name: str
    #: This platform's user id and DM channel, when the person has used it.
    external_id: str | None = None
    dm_channel: str | None = None
