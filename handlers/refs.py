"""Numbers a person types to name a row: a pairing, a proposal, a survey, a session.

Every command and form reads them here, once. A number that no row can have (zero, or
beyond what the id columns hold: PostgreSQL's INTEGER is 32 bits) names nothing, so the
person gets the same answer as for any unknown number instead of a database error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

#: The largest id an INTEGER column holds on PostgreSQL (SQLite's hold more).
MAX_ID = 2**31 - 1
#: The largest whole number an INTEGER column holds, for answers stored in one.
MAX_STORED_NUMBER = MAX_ID
#: The smallest whole number an INTEGER column holds.
MIN_STORED_NUMBER = -(2**31)
#: How many digits of a typed number a reply repeats; the rest is shown as an ellipsis.
_SHOWN_DIGITS = 24

Row = TypeVar("Row")


@dataclass(frozen=True)
class Ref:
    """A number a person typed to name a row.

    Attributes:
        shown: The number as the person typed it (without ``#``), to repeat in replies.
        id: The row id it names, or None when no row can have it (0, or too large).
    """

    shown: str
    id: int | None


def parse_ref(word: str) -> Ref | None:
    """Read ``12`` or ``#12`` as a reference to a row.

    Only ASCII digits count: ``١٢`` or ``²`` are not numbers a button ever sends, and
    Python's ``int`` would read some of them and refuse others.

    Returns:
        The reference, or None when ``word`` is not a number at all.
    """
    digits = word.strip().lstrip("#")
    if not (digits.isascii() and digits.isdigit()):
        return None
    number = stored_number(digits)
    return Ref(shown(digits), number if number is not None and 1 <= number <= MAX_ID else None)


def shown(number: str) -> str:
    """A typed number as a reply repeats it: whole, unless it is absurdly long."""
    return number if len(number) <= _SHOWN_DIGITS else number[:_SHOWN_DIGITS] + "…"


async def fetch(session: AsyncSession, model: type[Row], ref: Ref) -> Row | None:
    """The row of ``model`` that ``ref`` names, or None (a number no row can have)."""
    if ref.id is None:
        return None
    return await session.get(model, ref.id)


def stored_number(text: str) -> int | None:
    """A whole number typed as text, or None when an INTEGER column could not hold it.

    Answers stored in a column (a mentor's capacity, a session's minutes) are bounded by
    this as well as by their question, so no answer fails when it is written.

    Args:
        text: An optional sign and decimal digits (``str.isdecimal``), already checked
            by the caller.
    """
    sign = text[:1] if text[:1] in ("+", "-") else ""
    digits = text[len(sign) :].lstrip("0") or "0"
    # Compare lengths first: int() refuses strings of thousands of digits outright.
    if len(digits) > len(str(MAX_STORED_NUMBER)):
        return None
    number = int(sign + digits)
    return number if MIN_STORED_NUMBER <= number <= MAX_STORED_NUMBER else None
