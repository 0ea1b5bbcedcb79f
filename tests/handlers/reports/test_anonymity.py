"""k-anonymity of per-row tables: generalise with Datafly's rule, then suppress or leave out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.figures import Cell
from handlers.reports.anonymity import (
    ANY,
    OTHER,
    SUPPRESSED,
    Anonymised,
    Bands,
    Groups,
    Hierarchy,
    band,
    k_anonymous,
    suppression_limit,
)

#: Rows of (id, department, level, at risk); the quasi-identifiers are columns 1 and 2.
QUASI: dict[int, Hierarchy] = {1: Groups("department"), 2: Bands("level")}
Row = tuple[Cell, ...]


def _rows(*people: tuple[str | None, int | None]) -> list[Row]:
    return [(n, department, level, "no") for n, (department, level) in enumerate(people, 1)]


def _combinations(result: Anonymised) -> Counter[Row]:
    return Counter((row[1], row[2]) for row in result.rows)


# -- the ladders -----------------------------------------------------------------------------


def test_levels_read_in_nested_bands_that_start_at_one() -> None:
    assert [band(level, 3) for level in (0, 1, 3, 4, 6, 7, 9, 10)] == [
        "0–3", "0–3", "0–3", "4–6", "4–6", "7–9", "7–9", "10–12",
    ]  # fmt: skip
    assert [band(level, 6) for level in (0, 6, 7, 12, 13)] == [
        "0–6", "0–6", "7–12", "7–12", "13–18",
    ]  # fmt: skip
    assert band(30, 12) == "25–36"
    # A level not given stays not given, until the column reads "any".
    assert band(None, 3) is None
    for level in range(31):
        assert band(band(level, 3), 6) == band(level, 3)  # a band is not a level
        narrow, wide = band(level, 3), band(level, 6)
        start, end = (int(part) for part in str(narrow).split("–"))
        low, high = (int(part) for part in str(wide).split("–"))
        assert low <= start <= end <= high, (level, narrow, wide)


def test_a_department_ladder_folds_small_departments_into_other_then_reads_any() -> None:
    values: list[Cell] = ["Sales"] * 5 + ["Legal", "HR", None]
    as_is, folded, hidden = Groups("department").ladder(values, 5)
    assert [as_is.shown(v) for v in ("Sales", "Legal", None)] == ["Sales", "Legal", None]
    assert [folded.shown(v) for v in ("Sales", "Legal", "HR", None)] == [
        "Sales", OTHER, OTHER, OTHER,
    ]  # fmt: skip
    assert hidden.shown("Sales") == ANY


# -- generalising and suppressing -------------------------------------------------------------


def test_combinations_that_already_cover_k_rows_are_shown_as_they_are() -> None:
    rows = _rows(*[("Sales", 4)] * 5, *[("Legal", 9)] * 5)
    result = k_anonymous(rows, QUASI, k=5)
    assert result.rows == tuple(rows)
    assert (result.suppressed, result.left_out) == (0, 0)
    assert result.note("pairings") == (
        "Every combination of department and level covers at least 5 pairings as it is, "
        "so nothing is generalised."
    )


def test_the_column_with_the_most_distinct_values_is_generalised_first() -> None:
    # Two departments, five levels: banding levels by 3 is enough.
    rows = _rows(
        *[("Sales", lv) for lv in (1, 2, 3, 3, 3)], *[("HR", lv) for lv in (4, 5, 6, 6, 6)]
    )
    result = k_anonymous(rows, QUASI, k=5)
    assert _combinations(result) == {("Sales", "0–3"): 5, ("HR", "4–6"): 5}
    assert result.note("pairings") == (
        "So that no one can be picked out, every combination of department and level covers "
        "at least 5 pairings (k-anonymity): level is in bands of 3 levels (0–3, 4–6, 7–9, …)."
    )


def test_among_equals_the_step_that_keeps_more_is_taken() -> None:
    """Banded by 3, levels and departments have three values each: which goes next?

    Folding small departments into "other" would merge nothing (Legal is the only small
    one), so the department's next step reads "any", keeping one value; levels in bands of
    6 keep two. The levels go, and the departments stay.
    """
    rows = _rows(
        *[("Engineering", level) for level in (2, 3, 3, 4, 5, 6)],
        *[("Sales", level) for level in (2, 3, 3, 4, 6)],
        ("Legal", 8),
    )
    result = k_anonymous(rows, QUASI, k=5)
    assert _combinations(result) == {("Engineering", "0–6"): 6, ("Sales", "0–6"): 5}
    assert result.left_out == 1


def test_small_departments_are_folded_into_other_when_that_merges_them() -> None:
    rows = _rows(*[("Sales", 4)] * 5, *[("Legal", 4)] * 2, *[("HR", 4)] * 3)
    result = k_anonymous(rows, QUASI, k=5)
    assert _combinations(result) == {("Sales", 4): 5, (OTHER, 4): 5}
    assert 'in department, a department with fewer than 5 pairings reads "other"' in (
        result.note("pairings")
    )


def test_fewer_than_k_outliers_are_left_out_since_blanked_they_would_stand_out() -> None:
    rows = _rows(*[("Sales", 4)] * 10, ("Legal", 9))
    result = k_anonymous(rows, QUASI, k=5, limit=1)
    assert result.rows == tuple(rows[:10])
    assert (result.suppressed, result.left_out) == (0, 1)
    assert result.note("pairings").endswith(
        "(k-anonymity): fewer than 5 pairings that would still stand out are left out."
    )


def test_k_or_more_outliers_read_suppressed_and_keep_their_other_figures() -> None:
    lone = [("Legal", 9), ("HR", 1), ("Finance", 12), ("Design", 30), ("Risk", 15)]
    rows = _rows(*[("Sales", 4)] * 45, *lone)
    result = k_anonymous(rows, QUASI, k=5)
    assert suppression_limit(len(rows)) == 5
    assert result.rows[:45] == tuple(rows[:45])
    assert result.rows[45:] == tuple((n, SUPPRESSED, SUPPRESSED, "no") for n in range(46, 51))
    assert (result.suppressed, result.left_out) == (5, 0)
    assert result.note("pairings").endswith(
        '(k-anonymity): 5 pairings read "suppressed" in all of these.'
    )


def test_fewer_than_k_rows_in_all_are_none_listed() -> None:
    rows = _rows(("Sales", 4), ("Sales", 4), ("Sales", 4))
    result = k_anonymous(rows, QUASI, k=5)
    assert result.rows == ()
    assert result.left_out == 3
    assert result.note("pairings") == (
        "There are fewer than 5 pairings: too few to list any without department and level "
        "picking someone out, so none is listed."
    )


# -- for any table -----------------------------------------------------------------------------

DEPARTMENTS = st.sampled_from(["Sales", "HR", "Legal", "Engineering", "Design", None])
LEVELS = st.one_of(st.none(), st.integers(min_value=0, max_value=30))
ROWS = st.tuples(DEPARTMENTS, LEVELS, DEPARTMENTS, LEVELS, st.sampled_from(["yes", "no"]))
#: Any rows; and many alike with a few others, where suppressing beats generalising.
TABLES = st.one_of(
    st.lists(ROWS, max_size=120),
    st.builds(
        lambda alike, many, others: [alike] * many + others,
        ROWS,
        st.integers(min_value=0, max_value=200),
        st.lists(ROWS, max_size=30),
    ),
)
#: Four quasi-identifiers, as the export has (columns 0 to 3; column 4 is the at-risk flag).
FOUR: dict[int, Hierarchy] = {
    0: Groups("mentee_department"),
    1: Bands("mentee_level"),
    2: Groups("mentor_department"),
    3: Bands("mentor_level"),
}


def _shown_from(original: Sequence[Row], result: Anonymised, k: int) -> None:
    """Each row kept is its original row, its quasi-identifiers as the final steps show them.

    Column 5 of every row is its place in ``original``.
    """
    ladders = [FOUR[c].ladder([row[c] for row in original], k) for c in sorted(FOUR)]
    meanings = [[step.meaning for step in ladder] for ladder in ladders]
    steps = [meanings[c].index(step.meaning) for c, step in enumerate(result.steps)]
    for row in result.rows:
        source = original[int(str(row[5]))]
        assert row[4:] == source[4:]
        if row[:4] != (SUPPRESSED,) * 4:
            assert row[:4] == tuple(ladders[c][steps[c]].shown(source[c]) for c in range(4))


@settings(derandomize=True, max_examples=300, deadline=None)
@given(TABLES, st.integers(min_value=2, max_value=10))
def test_every_combination_shown_covers_at_least_k_rows(drawn: list[Row], k: int) -> None:
    rows = [(*row, n) for n, row in enumerate(drawn)]
    result = k_anonymous(rows, FOUR, k=k)
    combinations = Counter(row[:4] for row in result.rows)
    assert all(count >= k for count in combinations.values()), combinations
    # Suppressed rows are a combination of their own, so they too number k or more.
    assert result.suppressed == combinations.get((SUPPRESSED,) * 4, 0)
    assert len(result.rows) + result.left_out == len(rows)
    assert [row[5] for row in result.rows] == sorted(row[5] for row in result.rows)
    # Fewer than k rows left out (or every row, when there are fewer than k), and no more
    # than one row in ten suppressed or left out unless the rows are too few for any.
    assert result.left_out < k
    assert result.suppressed + result.left_out <= suppression_limit(len(rows)) or (
        len(rows) < k and not result.rows
    )
    _shown_from(rows, result, k)
    again = k_anonymous(list(rows), FOUR, k=k)
    assert (again.rows, again.note(), again.suppressed) == (
        result.rows,
        result.note(),
        result.suppressed,
    )


def test_an_empty_table_says_there_is_nothing_to_list() -> None:
    result = k_anonymous([], QUASI, k=5)
    assert (result.rows, result.note("pairings")) == ((), "There are no pairings to list.")
