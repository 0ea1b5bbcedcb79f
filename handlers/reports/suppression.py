"""The small-group rule: which figures a lead may see, and how a hidden one reads.

Every report decides through this module whether a count, a share, an average or a cell
is shown; ``k`` is the program's ``min_group_size``.

* A count of 1 to k-1 people, pairs or answers reads "fewer than k" (:func:`count_cell`,
  :func:`count_figure`). None is not a small group: no one can be singled out of nobody,
  and "fewer than 5" would hide that nothing happened, so 0 reads 0.
* A share (a percentage) of a count is shown only where the count is, so it never gives a
  hidden count away; the share of none is 0% (:func:`share_figure`). So is a rate per a
  count (sessions per pair): shown with what it was worked out from, it would give the
  count away; a rate of none is 0 (:func:`rate_figure`).
* An average, a median or a rate over a group is shown only where at least k values
  make it up (:func:`enough`, :func:`average_cell`); otherwise it reads "fewer than k
  answers" (in the figure's own unit), and where nothing makes it up it reads as the
  report says there is nothing (a dash, "nobody waiting"), never as a small group.
* A hidden cell that could be worked out by subtracting the shown cells from a shown
  total hides the next smallest cells with it (:func:`withheld`).
* Rows listed one by one (the export) are k-anonymous instead:
  :mod:`handlers.reports.anonymity`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

from handlers.core.figures import Cell
from handlers.core.messages import noun

Key = TypeVar("Key")


def is_small(count: int, k: int) -> bool:
    """Whether a count of ``count`` is a small group (1 to k-1), hidden as "fewer than k"."""
    return 0 < count < k


def enough(count: int, k: int) -> bool:
    """Whether ``count`` values are enough for a figure made of them (an average, a rate)."""
    return count >= k


def fewer_than(k: int, unit: str = "") -> str:
    """How a hidden figure reads: "fewer than 5", or "fewer than 5 answers" with a unit."""
    return f"fewer than {k} {unit}" if unit else f"fewer than {k}"


def count_cell(count: int, k: int) -> Cell:
    """A count as a table cell: the number, 0 for none, or "fewer than k" for a small group."""
    return fewer_than(k) if is_small(count, k) else count


def number(count: int) -> str:
    """A count as a headline figure: ``12,345``."""
    return f"{count:,}"


def count_figure(count: int, k: int) -> str:
    """A count as a headline figure: ``12,345``, ``0``, or "fewer than k" for a small group."""
    return fewer_than(k) if is_small(count, k) else number(count)


def counted_figure(count: int, k: int, word: str) -> str:
    """A count with its noun: ``1 pair``, ``12 pairs``, or ``fewer than 5 pairs``."""
    return f"{count_figure(count, k)} {noun(k if is_small(count, k) else count, word)}"


def percent(part: float, whole: float) -> int:
    """``part`` of ``whole`` as a whole percentage, halves rounded up."""
    return math.floor(100 * part / whole + 0.5)


def share_figure(part: int, whole: int, *, k: int) -> str | None:
    """``part`` of ``whole`` as a percentage (``40%``); None where it must not be shown.

    None when ``whole`` is none, or when ``part`` is a small group: the share would give a
    count away that reads "fewer than k". The share of none is 0%.
    """
    if not whole or is_small(part, k):
        return None
    return f"{percent(part, whole)}%"


def rate_figure(part: int, whole: int, *, k: int) -> float | None:
    """``part`` per ``whole`` (sessions per pair), to two places; None where it must not show.

    None when ``whole`` is none, or a small group that the rate, with ``part`` beside it,
    would give away. A rate of none is 0 and is shown: it tells nothing of ``whole``.
    """
    if not whole or (part and is_small(whole, k)):
        return None
    return round(part / whole, 2)


def too_few(count: int, k: int, *, unit: str, none: Cell = None) -> Cell:
    """What a figure made of too few values reads in its place.

    Args:
        count: How many values (answers, people) there are: fewer than ``k``.
        k: The fewest values a shown figure may rest on.
        unit: What the values are, for "fewer than k <unit>" ("answers", "waiting").
        none: What it reads when there are none ("nobody waiting"; by default an empty
            cell): none is not a small group.
    """
    return fewer_than(k, unit) if count else none


def average_cell(
    count: int,
    k: int,
    *,
    average: Callable[[], Cell],
    unit: str,
    none: Cell = None,
) -> Cell:
    """A figure made of ``count`` values (an average, a median), or what reads in its place.

    Args:
        count: How many values (answers, people) the figure rests on.
        k: The fewest values a shown figure may rest on.
        average: Works the figure out; called only when it may be shown.
        unit: What the values are, for "fewer than k <unit>" (:func:`too_few`).
        none: What the figure reads when nothing makes it up (:func:`too_few`).
    """
    return average() if enough(count, k) else too_few(count, k, unit=unit, none=none)


def withheld(counts: Sequence[tuple[Key, int]], threshold: int) -> tuple[set[Key], set[Key]]:
    """Which cells of a table to hide so that none under ``threshold`` can be learnt.

    A cell made up of fewer than ``threshold`` people (or answers) is hidden. Every cell of
    the table adds up to a total that is shown elsewhere, so if the hidden cells together
    hold fewer than ``threshold``, subtracting the shown cells from the total would give
    them back: the smallest shown cells (the earliest first among equals) are hidden too,
    until the hidden ones hold at least ``threshold`` or none is left.

    Args:
        counts: Each cell's key and how many it is made of, in the table's order.
        threshold: The smallest number of people or answers a shown figure may rest on.

    Returns:
        The cells under the threshold, and the larger ones hidden to protect them.
    """
    under = {key for key, count in counts if is_small(count, threshold)}
    hidden = sum(count for key, count in counts if key in under)
    shown = sorted(
        ((count, index, key) for index, (key, count) in enumerate(counts) if count >= threshold),
        key=lambda cell: (cell[0], cell[1]),
    )
    protecting: set[Key] = set()
    for count, _, key in shown:
        if not is_small(hidden, threshold):
            break
        protecting.add(key)
        hidden += count
    return under, protecting


def small_groups_note(k: int) -> str:
    """The line a report's notes end with: how small groups and their shares read."""
    return (
        f"Groups of fewer than {k} people or pairs are shown as 'fewer than {k}', and "
        "so are their shares; none is shown as 0."
    )
