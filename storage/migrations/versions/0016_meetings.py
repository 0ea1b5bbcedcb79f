"""Meetings in calendars: a pair's offered and booked meetings, and each person's feed.

``meeting``: offered times, then a booked one-off or series with a stable iCalendar UID
and a sequence that grows with each change. ``calendar_feed``: the SHA-256 of each
person's private feed token (the token itself is never stored). Only new tables.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "pairing_id",
            sa.Integer,
            sa.ForeignKey("pairing.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("program", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("uid", sa.String(200), nullable=False, unique=True),
        sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("starts_at", UTCDateTime),
        sa.Column("every_days", sa.Integer),
        sa.Column("until", UTCDateTime),
        sa.Column("offered", JSONType, nullable=False),
        sa.Column("offered_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("exceptions", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("cancelled_at", UTCDateTime),
    )
    op.create_index("meeting_by_pairing_and_status", "meeting", ["pairing_id", "status"])
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calendar_feed")
    op.drop_table("meeting")
