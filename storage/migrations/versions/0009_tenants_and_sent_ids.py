"""The tenant a platform account belongs to, and the id a platform gave a sent message.

``platform_account.tenant``: the Microsoft 365 tenant (Teams) or Slack workspace a link was
made in. A link from a tenant the bot does not serve never resolves to a directory person.

``outbox.platform_message_id``: the id the platform returned for a delivered message
(Slack's ``ts``, a Teams activity id), so a retry after a crash can tell a message that was
sent from one that was lost.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("platform_account") as table:
        table.add_column(sa.Column("tenant", sa.String(100)))
    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("platform_message_id", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as table:
        table.drop_column("platform_message_id")
    with op.batch_alter_table("platform_account") as table:
        table.drop_column("tenant")
