"""Drop three indexes that a unique key already serves.

``due_item``, ``milestone`` and ``session_log`` each had an index on ``pairing_id`` and a
unique key that starts with ``pairing_id``; the unique key answers every lookup by pairing
(and the cascade on delete), so the extra index only cost a write per row. The scheduler's
tick writes a ``due_item`` row for almost every check-in it processes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("due_item", "milestone", "session_log")


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_pairing_id", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_pairing_id", table, ["pairing_id"])
