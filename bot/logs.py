"""Logging set-up: plain text or JSON lines on stderr, with secrets redacted.

``MENTORBOT_LOG_FORMAT=json`` writes one JSON object per line (timestamp, level, logger,
message, any ``extra`` fields, and ``exc_info`` as a string), for log shippers. The code
never logs tokens, signing secrets, note text or summaries; the redaction filter is
defence in depth for the first two: a secret that reaches a record anyway (in an SDK's
exception, say) is replaced by ``***`` before any handler writes it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

#: The values of ``MENTORBOT_LOG_FORMAT``; the first is the default.
LOG_FORMATS = ("text", "json")
#: Environment variables whose values must never appear in a log line.
SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "MicrosoftAppPassword",
    "OPENAI_API_KEY",
)
REDACTED = "***"
#: Slack tokens (bot, user, app-level, ...) and bearer credentials, whatever their source.
_TOKEN_SHAPES = re.compile(
    r"\bxox[abposer]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+|\bBearer\s+[A-Za-z0-9._~+/=-]+",
    re.IGNORECASE,
)
#: Secrets shorter than this are not searched for: they would blank out ordinary words.
_SHORTEST_SECRET = 6
#: The attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
#: Marks the handler configure_logging installed, so a second call replaces it.
_OURS = "_mentorbot_handler"


class LogFormatError(ValueError):
    """MENTORBOT_LOG_FORMAT names a format that does not exist."""


class Redactor:
    """Replaces known secret values and token-shaped strings in text by ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted(
            {s for s in secrets if len(s) >= _SHORTEST_SECRET}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPES.sub(REDACTED, text)


class RedactionFilter(logging.Filter):
    """Rewrites each record so that no secret reaches a handler; never drops a record.

    The message is rendered with its args first (a secret may sit in either), the
    traceback is rendered and redacted into ``exc_text``, and string ``extra`` fields
    are redacted too.
    """

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad %-args: keep what can be shown
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _RECORD_FIELDS and isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, extras, exc_info."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_FIELDS and not name.startswith("_"):
                line.setdefault(name, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def secrets_from(environ: Mapping[str, str]) -> list[str]:
    """The configured secret values in ``environ`` (unset and empty ones left out)."""
    return [value for name in SECRET_VARIABLES if (value := environ.get(name, ""))]


def configure_logging(
    verbose: bool, fmt: str, *, environ: Mapping[str, str] | None = None
) -> logging.Handler:
    """Send log records to stderr in ``fmt`` (``text`` or ``json``), secrets redacted.

    A second call replaces the handler the first one installed.

    Args:
        verbose: INFO and above when true, WARNING and above otherwise.
        fmt: ``text`` or ``json`` (MENTORBOT_LOG_FORMAT).
        environ: Where the secrets to redact are read (``os.environ`` unless given).

    Returns:
        The handler installed on the root logger.

    Raises:
        LogFormatError: ``fmt`` is not a known format.
    """
    fmt = fmt.strip().lower() or LOG_FORMATS[0]
    if fmt not in LOG_FORMATS:
        raise LogFormatError(
            f"MENTORBOT_LOG_FORMAT={fmt!r} is not a log format; use one of {', '.join(LOG_FORMATS)}"
        )
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(
        RedactionFilter(Redactor(secrets_from(os.environ if environ is None else environ)))
    )
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    return handler
