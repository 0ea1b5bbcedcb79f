"""k-anonymity for per-row exports: no combination of who-they-are columns picks anyone out.

A row of ``report export`` names no one, but its quasi-identifiers (the mentee's and the
mentor's department and level) can: in a small program the only Legal mentee at level 8
is one person, and the row says whether their pairing is at risk. Here every combination
of quasi-identifiers that a table shows is made to cover at least ``k`` rows (``k`` is the
program's ``min_group_size``), the way Sweeney's Datafly does it (full-domain
generalisation, greedy):

1. While more rows than the suppression limit (one in ten, :data:`MAX_SUPPRESSED_SHARE`)
   sit in combinations of fewer than ``k``, generalise one column by one step of its
   ladder (:class:`Bands` for levels, :class:`Groups` for departments), for every row
   alike. The column is the one with the
   most distinct values as shown (Datafly's rule); among equals, the one whose next step
   keeps more of them (levels in wider bands lose less than a department that reads
   "any"); then the leftmost. A step that would merge nothing is skipped.
2. The rows still in small combinations (no more than the limit) are suppressed. When
   there are ``k`` or more of them, their quasi-identifiers read "suppressed": together
   they are one combination of ``k`` or more, and their other figures stay in the table.
   Fewer than ``k`` such rows would stand out again (someone not found in any other
   combination must be one of them), so they are left out of the table.

Every combination in the result covers at least ``k`` rows, and the same rows always give
the same result. :meth:`Anonymised.note` says in words what was done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from handlers.core.figures import Cell
from handlers.core.messages import noun, plural
from handlers.reports.suppression import count_figure

#: What every quasi-identifier of a suppressed row reads.
SUPPRESSED = "suppressed"
#: What a column generalised all the way reads: it no longer tells rows apart.
ANY = "any"
#: What a group too small to show on its own reads.
OTHER = "other"
#: The widths of the level bands, one per step; the first band also holds level 0.
LEVEL_BANDS = (3, 6, 12)
#: The share of rows that may be suppressed instead of generalising every row further.
#: (Datafly's limit is ``k`` rows: a share keeps a large program from losing whole
#: columns to a few outliers, and a small one from losing most of its rows.)
MAX_SUPPRESSED_SHARE = 0.1

Row = tuple[Cell, ...]
#: Where a step's meaning names what a row is (:meth:`Anonymised.note` fills it in).
UNIT = "<unit>"


@dataclass(frozen=True)
class Step:
    """One step of a column's ladder: how a value reads there, and what that means.

    Attributes:
        shown: The value as this step shows it.
        meaning: The step in words, for the note ("" for the first step: as it is).
    """

    shown: Callable[[Cell], Cell]
    meaning: str


class Hierarchy(Protocol):
    """How one column's values are generalised, from as they are to :data:`ANY`."""

    @property
    def column(self) -> str:
        """The column's name, as its heading reads."""
        ...

    def ladder(self, values: Sequence[Cell], k: int) -> tuple[Step, ...]:
        """The column's steps for these values: the first as they are, the last ANY."""
        ...


def _as_is(value: Cell) -> Cell:
    return value


def _any(value: Cell) -> Cell:
    return ANY


def band(value: Cell, width: int) -> Cell:
    """A level as its band of ``width`` levels: ``0–3``, ``4–6``, ``7–9`` for width 3.

    Bands start at 1 (``4–6``, not ``3–5``), as levels usually do; the first band also
    holds level 0. Every band of one width lies inside one band of each wider width in
    :data:`LEVEL_BANDS`. Anything but a whole number (a level not given) stays as it is.
    The dash is an en dash: a spreadsheet reads ``1-3`` as a date.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    if value <= width:
        return f"0–{width}"
    start = (value - 1) // width * width + 1
    return f"{start}–{start + width - 1}"


def _banded(width: int) -> Callable[[Cell], Cell]:
    def shown(value: Cell) -> Cell:
        return band(value, width)

    return shown


@dataclass(frozen=True)
class Bands:
    """Levels: as they are, then in bands of 3, 6 and 12 levels, then ANY."""

    column: str

    def ladder(self, values: Sequence[Cell], k: int) -> tuple[Step, ...]:
        """The level bands of :data:`LEVEL_BANDS`, between the levels and ANY."""
        steps = [Step(_as_is, "")]
        for width in LEVEL_BANDS:
            examples = ", ".join(str(band(level, width)) for level in (1, width + 1, 2 * width + 1))
            steps.append(
                Step(_banded(width), f"{self.column} is in bands of {width} levels ({examples}, …)")
            )
        steps.append(Step(_any, f'{self.column} is not shown ("{ANY}")'))
        return tuple(steps)


@dataclass(frozen=True)
class Groups:
    """Named groups (departments): as they are, then the small ones as OTHER, then ANY.

    The directory keeps no hierarchy of departments, so the step between a department
    and none is "other" for every department that holds fewer than ``k`` rows.
    """

    column: str
    #: What one group is, in words: "department".
    group: str = "department"

    def ladder(self, values: Sequence[Cell], k: int) -> tuple[Step, ...]:
        """The groups, then those under ``k`` rows folded into OTHER, then ANY."""
        sizes = Counter(values)
        small = {value for value, size in sizes.items() if size < k}

        def folded(value: Cell) -> Cell:
            return OTHER if value in small else value

        return (
            Step(_as_is, ""),
            Step(
                folded,
                f'in {self.column}, a {self.group} with fewer than {k} {UNIT} reads "{OTHER}"',
            ),
            Step(_any, f'{self.column} is not shown ("{ANY}")'),
        )


@dataclass(frozen=True)
class Anonymised:
    """Rows whose quasi-identifiers cover at least ``k`` rows in every combination.

    Attributes:
        rows: The rows kept, in their order, with their quasi-identifiers as shown.
        columns: The quasi-identifiers' column names, left to right.
        steps: The step each of them ended on.
        k: The fewest rows a combination covers.
        suppressed: Rows whose quasi-identifiers read :data:`SUPPRESSED`.
        left_out: Rows left out (fewer than ``k``, or every row when all are fewer).
    """

    rows: tuple[Row, ...]
    columns: tuple[str, ...]
    steps: tuple[Step, ...]
    k: int
    suppressed: int
    left_out: int

    def note(self, unit: str = "rows", *, one: str = "row") -> str:
        """What was generalised and suppressed, in one line of plain words.

        Args:
            unit: What a row is, in the plural ("pairings").
            one: The same in the singular ("pairing").
        """
        names = _listed(list(self.columns))
        if not self.rows and not self.left_out:
            return f"There are no {unit} to list."
        if self.left_out and not self.rows:
            return (
                f"There are {count_figure(self.left_out, self.k)} {unit}: too few to list any "
                f"without {names} picking someone out, so none is listed."
            )
        done = [step.meaning.replace(UNIT, unit) for step in self.steps if step.meaning]
        if self.suppressed:
            rows = f"{self.suppressed:,} {noun(self.suppressed, one, many=unit)}"
            reads = "read" if self.suppressed != 1 else "reads"
            done.append(f'{rows} {reads} "{SUPPRESSED}" in all of these')
        if self.left_out:
            shown = count_figure(self.left_out, self.k)
            done.append(f"{shown} {unit} that would still stand out are left out")
        if not done:
            return (
                f"Every combination of {names} covers at least "
                f"{plural(self.k, one, many=unit)} as it is, "
                "so nothing is generalised."
            )
        return (
            f"So that no one can be picked out, every combination of {names} covers at least "
            f"{plural(self.k, one, many=unit)} (k-anonymity): " + "; ".join(done) + "."
        )


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def suppression_limit(rows: int) -> int:
    """How many rows may be suppressed rather than generalising every row further."""
    return int(rows * MAX_SUPPRESSED_SHARE)


class _Table:
    """The quasi-identifiers of every row, counted by distinct combination.

    Each column's few distinct values are looked up once per step, so a pass over the
    table costs one dictionary look-up per column of each distinct combination.
    """

    def __init__(self, combinations: Sequence[Row], ladders: Sequence[tuple[Step, ...]]):
        self.counts = Counter(combinations)
        values = [{c[i] for c in self.counts} for i in range(len(ladders))]
        #: Per column, per step: each value as shown there.
        self.looks = [
            [{value: step.shown(value) for value in values[i]} for step in ladder]
            for i, ladder in enumerate(ladders)
        ]

    def shown(self, combination: Row, steps: Sequence[int]) -> Row:
        return tuple(
            self.looks[i][step][value]
            for i, (step, value) in enumerate(zip(steps, combination, strict=True))
        )

    def sizes(self, steps: Sequence[int]) -> Counter[Row]:
        """How many rows each combination as shown covers."""
        sizes: Counter[Row] = Counter()
        for combination, count in self.counts.items():
            sizes[self.shown(combination, steps)] += count
        return sizes

    def distinct(self, column: int, step: int) -> int:
        return len(set(self.looks[column][step].values()))

    def next_step(self, column: int, step: int) -> int | None:
        """The next step of a column that merges some of its values, if any."""
        now = self.distinct(column, step)
        for later in range(step + 1, len(self.looks[column])):
            if self.distinct(column, later) < now:
                return later
        return None


def _next_generalisation(table: _Table, steps: Sequence[int]) -> tuple[int, int] | None:
    """Datafly's choice: the column with the most distinct values as shown, and its next step.

    Among equals, the one whose next step keeps more values; then the leftmost. None when
    no column has a step left that merges anything.
    """
    best: tuple[int, int, int] | None = None
    choice: tuple[int, int] | None = None
    for column, step in enumerate(steps):
        later = table.next_step(column, step)
        if later is None:
            continue
        rank = (table.distinct(column, step), table.distinct(column, later), -column)
        if best is None or rank > best:
            best, choice = rank, (column, later)
    return choice


def _outliers(sizes: Counter[Row], k: int) -> int:
    return sum(size for size in sizes.values() if size < k)


def k_anonymous(
    rows: Sequence[Row],
    quasi: Mapping[int, Hierarchy],
    *,
    k: int,
    limit: int | None = None,
) -> Anonymised:
    """Generalise, then suppress, until every combination of ``quasi`` covers ``k`` rows.

    Args:
        rows: The table's rows.
        quasi: The quasi-identifiers: each one's column index and how it is generalised.
        k: The fewest rows any combination shown may cover.
        limit: The most rows suppressed instead of generalising further (by default
            :func:`suppression_limit`).

    Returns:
        The rows kept with their quasi-identifiers as shown, and what was done.
    """
    columns = sorted(quasi)
    ladders = [quasi[c].ladder([row[c] for row in rows], k) for c in columns]
    combinations = [tuple(row[c] for c in columns) for row in rows]
    table = _Table(combinations, ladders)
    most = suppression_limit(len(rows)) if limit is None else limit
    steps = [0] * len(columns)
    sizes = table.sizes(steps)
    while _outliers(sizes, k) > most:
        choice = _next_generalisation(table, steps)
        if choice is None:
            break
        column, step = choice
        steps[column] = step
        sizes = table.sizes(steps)

    outliers = _outliers(sizes, k)
    blanked = outliers >= k
    kept: list[Row] = []
    for row, combination in zip(rows, combinations, strict=True):
        shown = table.shown(combination, steps)
        if sizes[shown] < k:
            if not blanked:
                continue
            shown = (SUPPRESSED,) * len(columns)
        values = dict(zip(columns, shown, strict=True))
        kept.append(tuple(values.get(i, cell) for i, cell in enumerate(row)))
    return Anonymised(
        rows=tuple(kept),
        columns=tuple(quasi[c].column for c in columns),
        steps=tuple(ladders[i][step] for i, step in enumerate(steps)),
        k=k,
        suppressed=outliers if blanked else 0,
        left_out=0 if blanked else outliers,
    )
