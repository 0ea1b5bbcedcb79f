"""Mentor circles: a facilitator and a small group of members, their sessions and surveys.

``circle`` and ``circle_member`` (the facilitator is a member with the role
``facilitator``), ``circle_session`` with ``circle_attendance`` (a row per member then in
the circle: whether they came), ``circle_feedback`` (the pulse after a session), and
``circle_due`` (what a circle is owed at a moment, claimed as ``due_item`` rows are). Only
new tables: nothing already stored changes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _person(name: str, *, cascade: bool) -> sa.Column:  # type: ignore[type-arg]
    if cascade:
        return sa.Column(
            name, sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    return sa.Column(name, sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL"))


def _circle_id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "circle_id", sa.Integer, sa.ForeignKey("circle.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "circle",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("program", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        _person("proposed_by", cascade=False),
        sa.Column("proposed_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("activated_at", UTCDateTime),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("end_reason", sa.String(32)),
        sa.Column("cycle", sa.Integer, nullable=False, server_default="1"),
        sa.Column("cycle_started_at", UTCDateTime),
        sa.Column("goals", JSONType, nullable=False),
        sa.Column("conversation", JSONType, nullable=False),
    )
    op.create_index("ix_circle_program", "circle", ["program"])
    op.create_index("ix_circle_status", "circle", ["status"])
    op.create_table(
        "circle_member",
        sa.Column("id", sa.Integer, primary_key=True),
        _circle_id(),
        _person("person_id", cascade=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("answered_at", UTCDateTime),
        sa.Column("left_at", UTCDateTime),
        sa.Column("missed_in_a_row", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("circle_id", "person_id", name="one_place_per_circle"),
    )
    op.create_index("ix_circle_member_circle_id", "circle_member", ["circle_id"])
    op.create_index("ix_circle_member_person_id", "circle_member", ["person_id"])
    op.create_table(
        "circle_session",
        sa.Column("id", sa.Integer, primary_key=True),
        _circle_id(),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("notes", sa.Text),
        _person("logged_by", cascade=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("circle_id", "held_on", name="one_circle_session_a_day"),
    )
    op.create_index("ix_circle_session_circle_id", "circle_session", ["circle_id"])
    op.create_table(
        "circle_attendance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("circle_session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _person("person_id", cascade=True),
        sa.Column("attended", sa.Boolean, nullable=False),
        sa.UniqueConstraint("session_id", "person_id", name="one_attendance_each"),
    )
    op.create_index("ix_circle_attendance_session_id", "circle_attendance", ["session_id"])
    op.create_index("ix_circle_attendance_person_id", "circle_attendance", ["person_id"])
    op.create_table(
        "circle_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        _circle_id(),
        sa.Column("program", sa.String(100), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("circle_session.id", ondelete="SET NULL"),
        ),
        sa.Column("survey", sa.String(32), nullable=False),
        _person("respondent_id", cascade=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answers", JSONType),
        sa.Column("asked_at", UTCDateTime, nullable=False),
        sa.Column("answered_at", UTCDateTime),
    )
    op.create_index("ix_circle_feedback_circle_id", "circle_feedback", ["circle_id"])
    op.create_index("ix_circle_feedback_program", "circle_feedback", ["program"])
    op.create_index("ix_circle_feedback_respondent_id", "circle_feedback", ["respondent_id"])
    op.create_table(
        "circle_due",
        sa.Column("id", sa.Integer, primary_key=True),
        _circle_id(),
        sa.Column("program", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime),
        sa.UniqueConstraint("circle_id", "kind", "due_at", name="one_circle_due_per_moment"),
    )
    op.create_index("circle_due_by_status_and_time", "circle_due", ["status", "due_at"])


def downgrade() -> None:
    for name in (
        "circle_due",
        "circle_feedback",
        "circle_attendance",
        "circle_session",
        "circle_member",
        "circle",
    ):
        op.drop_table(name)
