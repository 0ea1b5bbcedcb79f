"""How to reach Slack: the tokens and Web API URL, and the Web API client built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient


@dataclass(frozen=True)
class SlackSettings:
    """How to reach Slack. Secrets are kept out of repr so they never reach a log."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None


def make_client(settings: SlackSettings, *, retry_interval: float | None = None) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries transient failures.

    Args:
        settings: Token and Web API URL.
        retry_interval: A fixed wait between retries of server and connection errors
            (tests); by default slack_sdk's exponential backoff.
    """
    kwargs: dict[str, Any] = {"token": settings.bot_token}
    if settings.api_url:
        kwargs["base_url"] = settings.api_url.rstrip("/") + "/"
    client = AsyncWebClient(**kwargs)
    interval: dict[str, Any] = {}
    if retry_interval is not None:
        interval["interval_calculator"] = FixedValueRetryIntervalCalculator(retry_interval)
    client.retry_handlers[:] = [
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2, **interval),
        AsyncConnectionErrorRetryHandler(max_retry_count=2, **interval),
    ]
    return client
