"""Fixtures of the scheduler's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage import Database
from tests import postgres


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[Database]:
    """The PostgreSQL scratch database, migrated and empty."""
    database = await postgres.migrated_and_empty(postgres_url)
    try:
        yield database
    finally:
        await database.dispose()
