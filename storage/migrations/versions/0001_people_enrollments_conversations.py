"""People directory, enrollments with intake answers, conversation state.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("department", sa.String(200)),
        sa.Column("title", sa.String(200)),
        sa.Column("level", sa.Integer),
        sa.Column("manager_id", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("timezone", sa.String(64)),
        sa.Column("location", sa.String(200)),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_person_manager_id", "person", ["manager_id"])
    op.create_table(
        "enrollment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("program", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answers", JSONType, nullable=False),
        sa.Column("capacity", sa.Integer),
        sa.Column("enrolled_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("person_id", "program", "role"),
    )
    op.create_table(
        "conversation_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("user_key", sa.String(200), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("channel", "user_key"),
    )


def downgrade() -> None:
    op.drop_table("conversation_state")
    op.drop_table("enrollment")
    op.drop_index("ix_person_manager_id", "person")
    op.drop_table("person")
