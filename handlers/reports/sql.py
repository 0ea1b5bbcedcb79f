"""The few SQL expressions that SQLite and PostgreSQL spell differently, for reports.

Reports aggregate in SQL on both backends; this is where the spelling differs (JSON
answers, months, day differences, a JSON object's keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class ReportSql:
    """The few SQL expressions that SQLite and PostgreSQL spell differently."""

    postgres: bool

    @classmethod
    def of(cls, conn: AsyncConnection) -> ReportSql:
        """The expressions for the connection's database."""
        return cls(postgres=conn.dialect.name == "postgresql")

    def number(self, answers: sa.ColumnElement[Any], key: str) -> sa.ColumnElement[float]:
        """The answer to question ``key`` when it is a number; NULL when skipped or not one."""
        if self.postgres:
            item = answers.op("->")(sa.literal(key, sa.String))
            text = answers.op("->>", return_type=sa.String)(sa.literal(key, sa.String))
            value = sa.cast(text, sa.Float)
            return sa.case((sa.func.jsonb_typeof(item) == "number", value))
        path = json_path(key)
        return sa.case(
            (
                sa.func.json_type(answers, path).in_(("integer", "real")),
                sa.func.json_extract(answers, path, type_=sa.Float),
            )
        )

    def text(self, answers: sa.ColumnElement[Any], key: str) -> sa.ColumnElement[str]:
        """The answer to question ``key`` as stored (a choice's value); NULL when skipped."""
        if self.postgres:
            return answers.op("->>", return_type=sa.String)(sa.literal(key, sa.String))
        return sa.func.json_extract(answers, json_path(key), type_=sa.String)

    def month(self, moment: sa.ColumnElement[datetime]) -> sa.ColumnElement[str]:
        """The UTC month of a moment as ``YYYY-MM``."""
        if self.postgres:
            return sa.func.to_char(sa.func.timezone("UTC", moment), "YYYY-MM", type_=sa.String)
        # SQLite keeps UTC moments as "YYYY-MM-DD HH:MM:SS.ffffff" text (SQLAlchemy's
        # DATETIME storage format): the month is its first seven characters, read far
        # faster than strftime() parses the whole moment.
        return sa.func.substr(moment, 1, 7, type_=sa.String)

    def days(
        self, later: sa.ColumnElement[datetime], earlier: sa.ColumnElement[datetime]
    ) -> sa.ColumnElement[float]:
        """The days, with fractions, from ``earlier`` to ``later``."""
        if self.postgres:
            return sa.cast(sa.extract("epoch", later - earlier) / 86400.0, sa.Float)
        julian = sa.func.julianday(later, type_=sa.Float) - sa.func.julianday(earlier)
        return sa.cast(julian, sa.Float)

    def attributes(self, column: sa.ColumnElement[Any]) -> sa.TableValuedAlias:
        """Each key and value of a JSON object, one row each (a table-valued function)."""
        if self.postgres:
            return sa.func.jsonb_each_text(column).table_valued("key", "value")
        return sa.func.json_each(column).table_valued("key", "value")


def json_path(key: str) -> str:
    # Question ids are slugs (letters, digits, "_" and "-"), so quoting the key is enough.
    return f'$."{key}"'
