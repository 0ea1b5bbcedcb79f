"""Fixtures the report tests share."""

from __future__ import annotations

import pytest

from handlers.core.program import Program


@pytest.fixture
def pairs_of_two(program: Program) -> Program:
    """The shipped program with groups of two shown as numbers."""
    return program.model_copy(update={"min_group_size": 2})
