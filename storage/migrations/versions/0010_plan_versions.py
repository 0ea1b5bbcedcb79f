"""Versions of a pairing's plan: a mentor confirms the version a card showed.

``plan_version``: every version of every plan as it was written (objectives and dates,
who wrote it, when), and whether and when the mentor confirmed it. ``pairing.plan_version``
is the number of the current version; each save adds one, in a conditional UPDATE, so a
card of an older version is recognised and cannot confirm text the mentor never saw.

Existing plans become versions: a pairing's plan for each cycle, oldest cycle first, so a
pairing with one plan has version 1. The current cycle's version keeps the pairing's
confirmation (by its mentor); earlier cycles' confirmations were never stored. Cards sent
before this migration carry no version: confirming from one shows the current version
with its own button first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.types import JSONType, UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAIRING = sa.table(
    "pairing",
    sa.column("id", sa.Integer),
    sa.column("cycle", sa.Integer),
    sa.column("mentee_id", sa.Integer),
    sa.column("mentor_id", sa.Integer),
    sa.column("plan_confirmed_at", UTCDateTime),
    sa.column("plan_version", sa.Integer),
)
_MILESTONE = sa.table(
    "milestone",
    sa.column("pairing_id", sa.Integer),
    sa.column("cycle", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("objective", sa.String),
    sa.column("target_date", sa.Date),
    sa.column("created_at", UTCDateTime),
)


def upgrade() -> None:
    table = op.create_table(
        "plan_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "pairing_id",
            sa.Integer,
            sa.ForeignKey("pairing.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("milestones", JSONType, nullable=False),
        sa.Column("written_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("written_at", UTCDateTime, nullable=False),
        sa.Column("shown_to_mentor_at", UTCDateTime),
        sa.Column("confirmed_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("confirmed_at", UTCDateTime),
        # Also the index that finds a pairing's versions.
        sa.UniqueConstraint("pairing_id", "version"),
    )
    with op.batch_alter_table("pairing") as batch:
        batch.add_column(sa.Column("plan_version", sa.Integer, nullable=False, server_default="0"))
    assert table is not None
    _existing_plans_become_versions(table)


def _existing_plans_become_versions(table: sa.Table) -> None:
    """Each pairing's plan of each cycle becomes a version, numbered oldest cycle first."""
    conn = op.get_bind()
    plans: dict[tuple[int, int], list[Any]] = defaultdict(list)
    found = conn.execute(
        sa.select(
            _MILESTONE.c.pairing_id,
            _MILESTONE.c.cycle,
            _MILESTONE.c.objective,
            _MILESTONE.c.target_date,
            _MILESTONE.c.created_at,
        ).order_by(_MILESTONE.c.pairing_id, _MILESTONE.c.cycle, _MILESTONE.c.position)
    )
    for pairing_id, cycle, objective, target, created in found.all():
        plans[(pairing_id, cycle)].append((objective, target, created))
    if not plans:
        return
    pairings = {
        row.id: row
        for row in conn.execute(
            sa.select(_PAIRING).where(_PAIRING.c.id.in_({p for p, _ in plans}))
        ).all()
    }
    numbers: dict[int, int] = defaultdict(int)
    for (pairing_id, cycle), milestones in sorted(plans.items()):
        pairing = pairings[pairing_id]
        numbers[pairing_id] += 1
        current = cycle == pairing.cycle
        confirmed: datetime | None = pairing.plan_confirmed_at if current else None
        conn.execute(
            sa.insert(table).values(
                pairing_id=pairing_id,
                cycle=cycle,
                version=numbers[pairing_id],
                milestones=[
                    {"objective": objective, "target": target.isoformat()}
                    for objective, target, _ in milestones
                ],
                # Only the mentee writes the plan, and only the mentor confirms it.
                written_by=pairing.mentee_id,
                written_at=min(created for _, _, created in milestones),
                confirmed_by=pairing.mentor_id if confirmed is not None else None,
                confirmed_at=confirmed,
            )
        )
    for pairing_id, number in numbers.items():
        conn.execute(
            sa.update(_PAIRING).where(_PAIRING.c.id == pairing_id).values(plan_version=number)
        )


def downgrade() -> None:
    # In place: a batch rebuild of pairing on SQLite would drop the table, and with foreign
    # keys on, every row that points at a pairing (sessions, surveys, milestones) with it.
    op.execute("ALTER TABLE pairing DROP COLUMN plan_version")
    op.drop_table("plan_version")
