"""Numbers a person types to name a row: a pairing, a proposal, a survey, a session, a circle.

Every command and form reads them here, once. A number that no row can have (zero, or
beyond what the id columns hold: PostgreSQL's INTEGER is 32 bits) names nothing, so the
person gets the same answer as for any unknown number instead of a database error.
"""

from __future__ import annotations

from collections.abc import Iterable
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


#: What a circle's number starts with (``C7``), so it never reads as a pairing's number.
CIRCLE_PREFIX = "C"


def circle_label(circle_id: int | str | None) -> str:
    """A circle's number as people read and type it: ``C7``."""
    return f"{CIRCLE_PREFIX}{circle_id}"


def parse_circle_ref(word: str) -> Ref | None:
    """Read ``C7`` (or ``c7``, ``#C7``) as a reference to a circle.

    Returns:
        The reference (``shown`` keeps the ``C``), or None when ``word`` does not name a
        circle at all (a plain number names a pairing).
    """
    text = word.strip().lstrip("#")
    if text[:1].upper() != CIRCLE_PREFIX:
        return None
    ref = parse_ref(text[1:])
    if ref is None or text[1:2] == "#":
        return None
    return Ref(circle_label(ref.shown), ref.id)


def shown(number: str) -> str:
    """A typed number as a reply repeats it: whole, unless it is absurdly long."""
    return number if len(number) <= _SHOWN_DIGITS else number[:_SHOWN_DIGITS] + "…"


async def fetch(session: AsyncSession, model: type[Row], *, ref: Ref) -> Row | None:
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


class NotASelection(ValueError):
    """A selection of numbered items that is not numbers from 1 to the count.

    Attributes:
        number: The number that names no item, as typed (shortened); None when a piece is
            not a number or a range at all.
    """

    def __init__(self, number: str | None) -> None:
        super().__init__(number)
        self.number = number


def parse_selection(pieces: Iterable[str], count: int) -> list[int]:
    """Typed numbers and ranges (``1``, ``3``, ``5-7``) as zero-based indexes of ``count`` items.

    In the order given, each once; blank pieces are skipped. Only ASCII digits count, and a
    number past ``count`` is refused before any range is walked, however long it is.

    Raises:
        NotASelection: A piece is not a number or range, or names no item.
    """
    chosen: list[int] = []
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        low, _, high = piece.partition("-")
        first, last = (_item_number(typed, count) for typed in (low, high or low))
        for number in range(first, last + 1):
            if number - 1 not in chosen:
                chosen.append(number - 1)
    return chosen


def _item_number(typed: str, count: int) -> int:
    """One number of a selection, from 1 to ``count``.

    Raises:
        NotASelection: ``typed`` is not a number, or names no item.
    """
    if not (typed.isascii() and typed.isdigit()):
        raise NotASelection(None)
    number = option_index(typed, count + 1)
    if not number:
        raise NotASelection(shown(typed))
    return number


def option_index(word: str, count: int) -> int | None:
    """``word`` as an index below ``count`` (ASCII digits only), or None.

    For the numbers a card or a chat sends for an option: ``²`` or thousands of digits
    name no option instead of failing in ``int()``.
    """
    word = word.strip()
    if not (word.isascii() and word.isdigit()) or len(word) > len(str(count)):
        return None
    index = int(word)
    return index if index < count else None
