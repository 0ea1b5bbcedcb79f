"""Several programs at once: due items and feedback name their program; invitations.

``due_item.program`` and ``feedback.program``: the program of the pairing each row belongs
to, so the scheduler and the reports can tell programs apart without a join. Existing rows
take their pairing's program (which every pairing has had since the first migration), so
nothing already stored changes meaning.

``invitation``: a lead's invitation into a program (``invite PROGRAM EMAIL``), what opens an
invite-only program to a person; one per person and program.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAIRING = sa.table("pairing", sa.column("id", sa.Integer), sa.column("program", sa.String))


def upgrade() -> None:
    for name in ("due_item", "feedback"):
        # Added as nullable, filled from the pairing, then made required: the same three
        # steps on SQLite (a batch rebuild for the last) and PostgreSQL.
        op.add_column(name, sa.Column("program", sa.String(100), nullable=True))
        table = sa.table(name, sa.column("pairing_id", sa.Integer), sa.column("program"))
        op.execute(
            sa.update(table).values(
                program=sa.select(_PAIRING.c.program)
                .where(_PAIRING.c.id == table.c.pairing_id)
                .scalar_subquery()
            )
        )
        with op.batch_alter_table(name) as batch:
            batch.alter_column("program", existing_type=sa.String(100), nullable=False)
    op.create_index("ix_feedback_program", "feedback", ["program"])
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("program", sa.String(100), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("invited_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("invited_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("program", "person_id", name="one_invitation_each"),
    )
    op.create_index("ix_invitation_person_id", "invitation", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_invitation_person_id", "invitation")
    op.drop_table("invitation")
    op.drop_index("ix_feedback_program", "feedback")
    for name in ("feedback", "due_item"):
        with op.batch_alter_table(name) as batch:
            batch.drop_column("program")
