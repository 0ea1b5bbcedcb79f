"""A small error hierarchy, and how an edge's error boundary reports a failed turn.

A failed turn is logged by its exception's type, where it was raised and a short
reference the person is shown, never by the exception's message: a database error quotes
the statement and its values, which may be a session note or an intake answer.
"""

from __future__ import annotations

import logging
import secrets
import traceback


class MentorbotError(Exception):
    """Base of mentorbot's own errors."""


class UserError(MentorbotError):
    """A mistake a person can fix; the message is the sentence they will read."""


class InvalidAnswer(UserError):
    """An answer that does not fit the question; the message says what is accepted."""


class NotALead(MentorbotError):
    """Someone asked for what only a program lead may do (a report, an erasure); the
    attempt was audited before this was raised."""


#: What a person reads when their turn failed; ``{reference}`` finds the log line.
TURN_FAILED = (
    "Sorry, something went wrong on my side, so I've reset this conversation. "
    "Your saved enrollment is untouched; type help to carry on. "
    "(If you ask for help with this, mention reference {reference}.)"
)
#: What a person reads when saving a form failed.
FORM_FAILED = (
    "Sorry, something went wrong on my side; nothing was saved. "
    "(If you ask for help with this, mention reference {reference}.)"
)


def error_type(error: BaseException) -> str:
    """The exception's class as a log line names it, e.g. ``sqlalchemy.exc.DBAPIError``."""
    kind = type(error)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def safe_traceback(error: BaseException) -> str:
    """Where ``error`` and the exceptions behind it were raised, without their messages.

    The frames (file, line, function, source line) say where to look; the messages are
    left out because they may quote data (asyncpg's ``DataError`` repeats the value).
    """
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    parts = [
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(failure.__traceback__))
        + error_type(failure)
        for failure in reversed(chain)
    ]
    return "\n\nwhich led to:\n\n".join(parts)


def log_failure(
    logger: logging.Logger, what: str, *, error: BaseException, **context: object
) -> str:
    """Log a failed turn or form without any of its data; returns the reference to show.

    Args:
        logger: The edge's logger.
        what: What failed, e.g. ``slack turn failed``.
        error: The exception the boundary caught.
        context: Identifiers that help find the person's records (ids, never text).

    Returns:
        A short random reference, also in the log line (and its ``reference`` field), for
        the apology the person reads, so support can find this line.
    """
    reference = secrets.token_hex(3)
    where = " ".join(f"{key}={value}" for key, value in context.items())
    logger.error(
        "%s (%sreference=%s): %s\n%s",
        what,
        f"{where} " if where else "",
        reference,
        error_type(error),
        safe_traceback(error),
        extra={"reference": reference},
    )
    return reference
