"""Pairings: proposals, active pairings and their history; a mentee's place in the queue.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _person(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name,
        sa.Integer,
        sa.ForeignKey("person.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    op.create_table(
        "pairing",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("program", sa.String(100), nullable=False),
        _person("mentee_id"),
        _person("mentor_id"),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("proposed_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("proposed_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("mentor_answered_at", UTCDateTime),
        sa.Column("activated_at", UTCDateTime),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("declined_by", sa.String(16)),
    )
    # A mentee has at most one open proposal or pairing per program, whatever two lead
    # approvals race: the database refuses the second.
    op.create_index(
        "one_open_pairing_per_mentee",
        "pairing",
        ["program", "mentee_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
        postgresql_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
    )
    # Waiting time counts from here; a declined proposal returns the mentee with it intact.
    with op.batch_alter_table("enrollment") as batch:
        batch.add_column(sa.Column("waiting_since", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("enrollment") as batch:
        batch.drop_column("waiting_since")
    op.drop_index("one_open_pairing_per_mentee", table_name="pairing")
    op.drop_table("pairing")
