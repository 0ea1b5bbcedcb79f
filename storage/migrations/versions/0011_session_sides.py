"""Both sides of one session: the other side's answers are added to the session's row.

When one side of a pair logs a day the other side already logged, their minutes, format,
notes and milestone progress go into the ``second_*`` columns of that session instead of
being dropped. Existing sessions were logged by one side only, so they keep every value
they have and the new columns start empty (NULL): nothing needs moving.

The columns are added and dropped in place (``ALTER TABLE``), never by rebuilding the
table: on SQLite a rebuild drops the old table, and with foreign keys on that would unlink
every survey answer from its session (``feedback.session_log_id`` is ``SET NULL``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> list[sa.Column]:  # type: ignore[type-arg]
    """The columns after ``second_by``, in the order they are added."""
    return [
        sa.Column("second_at", UTCDateTime),
        sa.Column("second_minutes", sa.Integer),
        sa.Column("second_format", sa.String(64)),
        # Private to the pair, like ``notes``: never logged, never in a report.
        sa.Column("second_notes", sa.Text),
        sa.Column("second_progress", JSONType),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its own REFERENCES in place; alembic would rebuild.
        op.execute(
            "ALTER TABLE session_log ADD COLUMN second_by INTEGER "
            "REFERENCES person (id) ON DELETE SET NULL"
        )
    else:
        op.add_column(
            "session_log",
            sa.Column("second_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        )
    for column in _columns():
        op.add_column("session_log", column)


def downgrade() -> None:
    for column in reversed(_columns()):
        op.execute(f"ALTER TABLE session_log DROP COLUMN {column.name}")
    op.execute("ALTER TABLE session_log DROP COLUMN second_by")
