"""The audit log: who did what, and when, for every lead action.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        # The actor as they were identified (an email, or "cli" for an operator); kept as
        # text so the record outlives the person's row.
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.Column("detail", JSONType),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
