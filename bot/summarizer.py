"""The summarizer client: any OpenAI-compatible chat completions server.

The only module that imports ``openai``. It sends what
:func:`handlers.sessions.summaries.chat_messages` builds (redacted notes, passed as data)
and turns the server's failures into :class:`~handlers.sessions.summaries.SummaryUnavailable`
(try again later: timeouts, connection failures, 429 with its Retry-After, 5xx) or
:class:`~handlers.sessions.summaries.SummaryError` (a refused request, an unusable answer).
Reasons are our own words: a server's error body may
echo the request, so it is never quoted, chained or logged.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from bot.config import Environment
from handlers import (
    Summarizer,
    Summary,
    SummaryContext,
    SummaryError,
    SummaryUnavailable,
    chat_messages,
    parse_summary,
)

DEFAULT_MODEL = "gpt-4o-mini"
#: Seconds the server has to answer one request.
DEFAULT_TIMEOUT = 60.0

# The client logs request details at DEBUG; notes must never reach a log, whatever level
# the operator picks (`mentorbot -v` or a logging config of their own).
logging.getLogger("openai").setLevel(logging.INFO)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a response's ``retry-after-ms`` or ``Retry-After`` header asks to wait."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            if name == "retry-after-ms":
                continue
            parsed = email.utils.parsedate_tz(value)  # an HTTP date
            if parsed is None:
                return None
            seconds = email.utils.mktime_tz(parsed) - time.time()
        if seconds != seconds or seconds < 0:  # NaN, or a date in the past
            return None
        return seconds
    return None


class OpenAISummarizer:
    """Summaries from a chat completions endpoint in JSON mode.

    Args:
        api_key: The key (``OPENAI_API_KEY``).
        base_url: The server (``OPENAI_BASE_URL``); None for OpenAI's own.
        model: The model name (``MENTORBOT_SUMMARY_MODEL``).
        timeout: Seconds the server has to answer.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.model = model
        # No retries inside the client: the scheduler retries with backoff across passes,
        # so a slow or failing server never holds a tick.
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )

    async def summarize(self, notes: str, context: SummaryContext) -> Summary:
        """Ask the model for a summary of the notes.

        Raises:
            SummaryUnavailable: a timeout, a failed connection, a 429 or a 5xx.
            SummaryError: the server refused the request, or its answer was unusable.
        """
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                # handlers/ builds plain role/content dicts, which is what these types are.
                messages=cast("list[ChatCompletionMessageParam]", chat_messages(notes, context)),
                response_format={"type": "json_object"},
                temperature=0.2,
            )
        except openai.APITimeoutError:
            raise SummaryUnavailable("the model server did not answer in time") from None
        except openai.APIConnectionError:
            raise SummaryUnavailable("could not connect to the model server") from None
        except openai.RateLimitError as exc:
            raise SummaryUnavailable(
                "the model server is rate limiting us (HTTP 429)",
                retry_after=retry_after(exc.response.headers),
            ) from None
        except openai.APIStatusError as exc:
            code = exc.status_code
            if code >= 500 or code in (408, 409):
                raise SummaryUnavailable(
                    f"the model server failed (HTTP {code})",
                    retry_after=retry_after(exc.response.headers),
                ) from None
            raise SummaryError(f"the model server refused the request (HTTP {code})") from None
        except openai.OpenAIError as exc:
            raise SummaryError(
                f"unexpected answer from the model server ({type(exc).__name__})"
            ) from None
        choices = completion.choices
        content = choices[0].message.content if choices else None
        if not content:
            raise SummaryError("the model's answer was empty")
        return parse_summary(content)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()


def summarizer_from_env(env: Environment) -> OpenAISummarizer | None:
    """The summarizer the environment configures, or None (no ``OPENAI_API_KEY``: off)."""
    if not env.openai_api_key:
        return None
    return OpenAISummarizer(
        api_key=env.openai_api_key,
        base_url=env.openai_base_url,
        model=env.summary_model or DEFAULT_MODEL,
    )


if TYPE_CHECKING:
    _PORT: type[Summarizer] = OpenAISummarizer  # mypy checks the class against the port
