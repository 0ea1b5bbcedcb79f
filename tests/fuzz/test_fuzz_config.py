"""app.yaml: any document is either a valid program or located, readable problems."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import ProgramFileError, parse_programs

SHIPPED = (Path(__file__).resolve().parents[2] / "app.yaml").read_text(encoding="utf-8")
SHIPPED_DATA: dict[str, Any] = yaml.safe_load(SHIPPED)
#: One problem: ``app.yaml:LINE: path: message``, ``app.yaml:LINE:COL: message``, or a
#: file-level ``app.yaml: message`` / ``app.yaml:1: message``.
LOCATED = re.compile(r"^app\.yaml(:\d+(:\d+)?)?: \S.*", re.DOTALL)

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def check(text: str) -> None:
    """Parse, requiring success or a ProgramFileError whose every line is located."""
    try:
        parse_programs(text)
    except ProgramFileError as exc:
        lines = exc.lines
    else:
        return
    assert lines, "a ProgramFileError must say what is wrong"
    for line in lines:
        assert LOCATED.match(line), f"unlocated problem: {line!r}"
        assert "Traceback" not in line


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside the shipped program."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


SHIPPED_PATHS = paths(SHIPPED_DATA)


def mutated(path: tuple[Any, ...], replacement: Any, delete: bool) -> str:
    data = copy.deepcopy(SHIPPED_DATA)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_the_shipped_program_is_valid() -> None:
    parse_programs(SHIPPED)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_is_a_program_or_located_problems(text: str) -> None:
    check(text)


@FUZZ
@given(values)
def test_random_yaml_documents_are_a_program_or_located_problems(document: Any) -> None:
    check(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.sampled_from(SHIPPED_PATHS), values, st.booleans())
def test_mutations_of_the_shipped_program_are_located(
    path: tuple[Any, ...], replacement: Any, delete: bool
) -> None:
    check(mutated(path, replacement, delete))


@FUZZ
@given(
    st.integers(min_value=0, max_value=len(SHIPPED) - 1),
    st.integers(min_value=0, max_value=40),
    st.text(max_size=20),
)
def test_edits_of_the_shipped_text_are_located(start: int, length: int, inserted: str) -> None:
    check(SHIPPED[:start] + inserted + SHIPPED[start + length :])


# -- regressions found by the fuzzing above -------------------------------------------------


def test_a_blank_setting_name_is_quoted_in_the_path() -> None:
    with pytest.raises(ProgramFileError) as raised:
        parse_programs(SHIPPED + "' ': 1\n")
    assert any("[' ']: unknown setting ' '" in line for line in raised.value.lines)
