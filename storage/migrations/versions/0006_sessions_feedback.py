"""Session logs in full, structured feedback, and note summaries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_log") as batch:
        # Each milestone's progress as the logger saw it: {"1": "on_track", ...}.
        batch.add_column(sa.Column("progress", JSONType))
        # The summary's life: pending (waiting for the model), done, failed (gave up),
        # or NULL when none is wanted (no notes, no consent, or summaries off).
        batch.add_column(sa.Column("summary_status", sa.String(16)))
        batch.add_column(
            sa.Column("summary_attempts", sa.Integer, nullable=False, default=0, server_default="0")
        )
        batch.add_column(sa.Column("summary_next_at", UTCDateTime))
        batch.add_column(sa.Column("summary_error", sa.String(200)))
        batch.create_index("session_log_summary_due", ["summary_status", "summary_next_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        # One request per survey, pairing, person and moment: "pulse:17:4", ...
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column(
            "pairing_id",
            sa.Integer,
            sa.ForeignKey("pairing.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "session_log_id",
            sa.Integer,
            sa.ForeignKey("session_log.id", ondelete="SET NULL"),
        ),
        sa.Column("survey", sa.String(32), nullable=False),
        sa.Column(
            "respondent_id",
            sa.Integer,
            sa.ForeignKey("person.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answers", JSONType),
        sa.Column("asked_at", UTCDateTime, nullable=False),
        sa.Column("answered_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    with op.batch_alter_table("session_log") as batch:
        batch.drop_index("session_log_summary_due")
        for name in (
            "summary_error",
            "summary_next_at",
            "summary_attempts",
            "summary_status",
            "progress",
        ):
            batch.drop_column(name)
