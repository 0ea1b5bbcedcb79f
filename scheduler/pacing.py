"""Pacing a sender to its platform's rate limits: a pace per channel, a pause for all.

The outbox worker sends to several people at once; each platform's sender keeps a
:class:`Pacing` so that those concurrent sends still keep one message per interval in a
channel and all wait out a Retry-After together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from handlers import Clock, SystemClock, TransientDeliveryError


class Pacing:
    """One sender's share of a platform's rate limits: a pace per channel, a pause for all.

    Slack allows about one message per second in a channel and Teams a few per conversation;
    both answer 429 with a Retry-After when an app sends too much. Concurrent sends keep the
    per-channel pace because each channel has a lock, held from the wait through the post.
    The interval is counted from when the previous post *returned*, a little more than the
    platform counts, so uneven latency cannot land two posts closer than allowed.

    After a 429 every send through this pacing waits until the Retry-After has passed, not
    only the one that was refused. The pause is measured on the injected clock, as the
    outbox's ``next_attempt_at`` is, so both agree on when it ends. A pause longer than
    ``max_pause`` is not waited out while holding a claim: the send raises
    :class:`TransientDeliveryError` and the outbox requeues the message for after it.

    All of this is per process: two replicas pace their own sends only, and the platform's
    429 is what slows them both.

    Args:
        platform: The platform's name, for the reason recorded on a requeued message.
        min_interval: Seconds between two posts in one channel.
        max_pause: The longest Retry-After a send waits out in place.
        clock: Where time comes from (the pause).
        sleep, monotonic: Injected so pacing is testable without waiting.
    """

    #: Channels idle this long are forgotten, so the table stays small.
    FORGET_AFTER = 120.0

    def __init__(
        self,
        *,
        platform: str,
        min_interval: float = 1.0,
        max_pause: float = 10.0,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.min_interval = min_interval
        self.max_pause = max_pause
        self.clock = clock or SystemClock()
        self.sleep = sleep
        self.monotonic = monotonic
        self.resume_at: datetime | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_post: dict[str, float] = {}
        self._tidy_at = 1024

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` from now (a Retry-After); never shortens a pause."""
        until = self.clock.now() + timedelta(seconds=max(seconds, 0.0))
        if self.resume_at is None or until > self.resume_at:
            self.resume_at = until

    async def wait_for_workspace(self) -> None:
        """Wait out a short pause.

        Raises:
            TransientDeliveryError: the pause lasts longer than ``max_pause``.
        """
        while self.resume_at is not None:
            target = self.resume_at
            remaining = (target - self.clock.now()).total_seconds()
            if remaining <= 0:
                return
            if remaining > self.max_pause:
                raise TransientDeliveryError(
                    f"rate limited by {self.platform}", retry_after=remaining
                )
            await self.sleep(remaining)
            if self.resume_at == target:  # not lengthened by another 429 meanwhile
                return

    @asynccontextmanager
    async def channel(self, channel: str) -> AsyncIterator[None]:
        """Hold the channel for one post: wait for the pause and the interval, then post."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            await self.wait_for_workspace()
            last = self._last_post.get(channel)
            if last is not None:
                wait = self.min_interval - (self.monotonic() - last)
                if wait > 0:
                    await self.sleep(wait)
            try:
                yield
            finally:
                self._last_post[channel] = self.monotonic()
                if len(self._last_post) > self._tidy_at:
                    self._forget_idle_channels()

    def _forget_idle_channels(self) -> None:
        # Long idle, so nobody can be queued on the lock any more (a woken waiter runs
        # within moments of the release that stamped the channel).
        horizon = self.monotonic() - max(self.FORGET_AFTER, 10 * self.min_interval)
        for channel, last in list(self._last_post.items()):
            lock = self._locks.get(channel)
            if last < horizon and (lock is None or not lock.locked()):
                del self._last_post[channel]
                self._locks.pop(channel, None)
        self._tidy_at = max(1024, 2 * len(self._last_post))


__all__ = ["Pacing"]


#: The longest Retry-After taken at its word (an hour); a longer or broken one means this.
MAX_RETRY_AFTER = 3600.0


def retry_after(headers: Any, *, default: float | None = 1.0) -> float | None:
    """A response's Retry-After in seconds, from 0 to :data:`MAX_RETRY_AFTER`.

    Both platforms send a number of seconds. A missing or unreadable header gives
    ``default``; ``inf``, ``nan`` or a thousand-digit number cannot stall the outbox or
    overflow a date.

    Args:
        headers: The response's headers, any mapping (names in any case, values or lists).
        default: What a missing or unreadable header means.
    """
    for key, value in dict(headers or {}).items():
        if str(key).lower() != "retry-after":
            continue
        text = str(value[0] if isinstance(value, list) and value else value).strip()
        if not (text.isascii() and text.replace(".", "", 1).isdigit()):
            return default  # an HTTP date, "inf", "nan", junk: not a number of seconds
        return MAX_RETRY_AFTER if len(text) > 12 else min(float(text), MAX_RETRY_AFTER)
    return default
