"""A lead may lift a member's decline of a circle, as of a pair's proposal.

``circle_member.unexcluded_at``: when a program lead lifted this member's decline
(``unexclude MEMBER FACILITATOR``), so it no longer keeps the member from the
facilitator's circles. Only a new column.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("circle_member", sa.Column("unexcluded_at", UTCDateTime))


def downgrade() -> None:
    # In place: a batch rebuild on SQLite would drop the table, and with foreign keys on,
    # every row that points at it.
    op.execute("ALTER TABLE circle_member DROP COLUMN unexcluded_at")
