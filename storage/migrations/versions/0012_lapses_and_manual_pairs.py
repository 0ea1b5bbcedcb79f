"""Lapsed proposals, mentors paused for lapses, and why a waiting mentee has no proposal.

``enrollment.paused_reason``: why the bot paused an enrollment by itself (``lapses``: a
mentor let ``matching.lapses_before_pause`` proposals lapse); None for a pause the person
asked for.

``enrollment.lapses_counted_from``: lapses before this moment no longer count towards that
pause (set when the bot pauses a mentor, so a resumed mentor starts afresh).

``enrollment.waiting_reason`` and ``waiting_reason_at``: why the last matching round (or a
lapse, or a decline) left a mentee without a proposal, and when, for ``status``.

``pairing.unexcluded_at``: when a program lead lifted a declined or lapsed proposal
(``unexclude``), so it no longer keeps the two apart.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollment") as table:
        table.add_column(sa.Column("paused_reason", sa.String(32)))
        table.add_column(sa.Column("lapses_counted_from", UTCDateTime))
        table.add_column(sa.Column("waiting_reason", sa.Text))
        table.add_column(sa.Column("waiting_reason_at", UTCDateTime))
    with op.batch_alter_table("pairing") as table:
        table.add_column(sa.Column("unexcluded_at", UTCDateTime))


def downgrade() -> None:
    # In place: a batch rebuild on SQLite would drop each table, and with foreign keys on,
    # every row that points at an enrollment's person or a pairing with it.
    op.execute("ALTER TABLE pairing DROP COLUMN unexcluded_at")
    for column in ("waiting_reason_at", "waiting_reason", "lapses_counted_from", "paused_reason"):
        op.execute(f"ALTER TABLE enrollment DROP COLUMN {column}")
