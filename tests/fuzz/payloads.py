"""Hypothesis strategies shared by the HTTP fuzz tests: random JSON, mutated fixtures, rows."""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from storage import (
    ConversationRef,
    ConversationState,
    Database,
    Enrollment,
    Feedback,
    Outbox,
    Pairing,
    Person,
    PlatformAccount,
    SessionLog,
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "U0ANA", "D0ANA", "T0MENTOR", "mb_choice:0", "mb_done", "x" * 5000]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def _apply(document: Any, changes: list[tuple[tuple[Any, ...], Any, bool]]) -> Any:
    document = copy.deepcopy(document)
    for path, replacement, delete in changes:
        parent = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = replacement
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced the way there
    return document


def mutations(document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The document with one to three values replaced by random JSON or deleted."""
    change = st.tuples(st.sampled_from(paths(document)), json_values, st.booleans())
    return st.lists(change, min_size=1, max_size=3).map(lambda c: _apply(document, c))


#: The tables a rejected request must leave as they were.
WATCHED = (
    Person,
    PlatformAccount,
    Enrollment,
    Pairing,
    ConversationState,
    ConversationRef,
    Outbox,
    SessionLog,
    Feedback,
)


async def stored_rows(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the watched tables, in a comparable form."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    async with database.engine.connect() as conn:
        for model in WATCHED:
            table: sa.Table = model.__table__  # type: ignore[attr-defined]
            result = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            snapshot[table.name] = [tuple(map(repr, row)) for row in result.all()]
    return snapshot
