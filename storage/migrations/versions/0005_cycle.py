"""The 90-day cycle: due items, the plan's milestones, session logs, pauses.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pairing() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "pairing_id",
        sa.Integer,
        sa.ForeignKey("pairing.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    # What is owed later lives here, not in a scheduler's job store: a restart loses
    # nothing, and the unique key stops two replicas scheduling the same thing twice.
    op.create_table(
        "due_item",
        sa.Column("id", sa.Integer, primary_key=True),
        _pairing(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("answers", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime),
        sa.UniqueConstraint("pairing_id", "kind", "due_at", name="one_due_item_per_moment"),
    )
    op.create_index("due_item_by_status_and_time", "due_item", ["status", "due_at"])
    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer, primary_key=True),
        _pairing(),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("objective", sa.String(300), nullable=False),
        sa.Column("target_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("pairing_id", "cycle", "position"),
    )
    op.create_table(
        "session_log",
        sa.Column("id", sa.Integer, primary_key=True),
        _pairing(),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("format", sa.String(64)),
        sa.Column("topics", JSONType, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("summary", JSONType),
        sa.Column("logged_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        # Both sides logging the same meeting count it once.
        sa.UniqueConstraint("pairing_id", "held_on"),
    )
    with op.batch_alter_table("pairing") as batch:
        batch.add_column(sa.Column("cycle", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("cycle_started_at", UTCDateTime))
        batch.add_column(sa.Column("last_activity_at", UTCDateTime))
        batch.add_column(
            sa.Column("missed_checkins", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("at_risk_since", UTCDateTime))
        batch.add_column(sa.Column("plan_confirmed_at", UTCDateTime))
        batch.add_column(sa.Column("mentee_consent", sa.Boolean))
        batch.add_column(sa.Column("mentor_consent", sa.Boolean))
        batch.add_column(sa.Column("end_reason", sa.String(32)))
    with op.batch_alter_table("enrollment") as batch:
        batch.add_column(sa.Column("paused_until", UTCDateTime))
        batch.add_column(sa.Column("status_before_pause", sa.String(16)))
    # Who is paused (every tick asks), and the waitlist, without reading every enrollment.
    op.create_index("enrollment_by_status", "enrollment", ["program", "status", "person_id"])
    with op.batch_alter_table("outbox") as batch:
        # Messages with the same group key go to everyone at once where the platform has
        # group conversations (a Slack group DM), else to each person on their own.
        batch.add_column(sa.Column("group_key", sa.String(200)))
        batch.create_index("ix_outbox_group_key", ["group_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_group_key")
        batch.drop_column("group_key")
    op.drop_index("enrollment_by_status", table_name="enrollment")
    with op.batch_alter_table("enrollment") as batch:
        batch.drop_column("status_before_pause")
        batch.drop_column("paused_until")
    with op.batch_alter_table("pairing") as batch:
        for name in (
            "end_reason",
            "mentor_consent",
            "mentee_consent",
            "plan_confirmed_at",
            "at_risk_since",
            "missed_checkins",
            "last_activity_at",
            "cycle_started_at",
            "cycle",
        ):
            batch.drop_column(name)
    op.drop_table("session_log")
    op.drop_table("milestone")
    op.drop_index("due_item_by_status_and_time", table_name="due_item")
    op.drop_table("due_item")
