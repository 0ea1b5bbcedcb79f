"""Fuzz tests on PostgreSQL draw a quarter of their examples.

A fuzz test that takes the ``database`` fixture runs twice, on SQLite and then on
PostgreSQL, both with the run's one seed (seed.py): the PostgreSQL half draws the same kind
of inputs again. Input variety is the SQLite half's job, at the test's full count; the
PostgreSQL half shows the database side (what a request may and may not store, on the
server's types and constraints), which a quarter of the examples shows as well as all of
them, at a quarter of the time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

#: The PostgreSQL half runs 1/POSTGRES_SHARE of the examples the test asks for.
POSTGRES_SHARE = 4


def _on_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("database") == "postgresql"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Lower the example count for this call only: both halves share one test function."""
    test: Any = getattr(item, "obj", None)
    if not _on_postgresql(item) or not hasattr(test, "hypothesis"):
        return (yield)
    full = test._hypothesis_internal_use_settings
    test._hypothesis_internal_use_settings = settings(
        full, max_examples=max(1, full.max_examples // POSTGRES_SHARE)
    )
    try:
        return (yield)
    finally:
        test._hypothesis_internal_use_settings = full
