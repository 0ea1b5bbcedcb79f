"""Messages withdrawn before they went out, and the pairing each message is about.

``outbox.pairing_id``: the pairing (or proposal) a message is about, so that when it ends
the messages still waiting about it (a "continue for another cycle?" question, a check-in
nudge, a survey invitation, a proposal reminder) are withdrawn instead of sent.

``outbox.withdrawn_at`` and ``withdrawn_reason``: when and why a message was withdrawn; its
status is then ``withdrawn`` and the row stays, so ``report ops`` can count it and its
dedupe key keeps it from being queued again.

Messages still waiting when this migration runs learn their pairing from their dedupe key
(``pairing:ID:...``, a due item's, a survey's or a session summary's); the rest stay
without one, as before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-16
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTBOX = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("dedupe_key", sa.String),
    sa.column("status", sa.String),
    sa.column("pairing_id", sa.Integer),
)
#: Tables whose rows belong to a pairing, by the dedupe key prefix that names a row of them.
_OWNERS = {
    "due": (sa.table("due_item", sa.column("id"), sa.column("pairing_id")), "id"),
    "summary": (sa.table("session_log", sa.column("id"), sa.column("pairing_id")), "id"),
    "summary-failed": (sa.table("session_log", sa.column("id"), sa.column("pairing_id")), "id"),
    "feedback": (sa.table("feedback", sa.column("key"), sa.column("pairing_id")), "key"),
    "feedback-shared": (sa.table("feedback", sa.column("id"), sa.column("pairing_id")), "id"),
}
#: Keys that end with the pairing's id: ``pause:PERSON:WHEN:PAIRING``.
_ENDS_WITH_PAIRING = ("pause", "pause-change", "resume")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its own REFERENCES in place; alembic would rebuild.
        op.execute(
            "ALTER TABLE outbox ADD COLUMN pairing_id INTEGER "
            "REFERENCES pairing (id) ON DELETE SET NULL"
        )
    else:
        op.add_column(
            "outbox",
            sa.Column("pairing_id", sa.Integer, sa.ForeignKey("pairing.id", ondelete="SET NULL")),
        )
    op.add_column("outbox", sa.Column("withdrawn_at", UTCDateTime))
    op.add_column("outbox", sa.Column("withdrawn_reason", sa.String(200)))
    op.create_index("ix_outbox_pairing_id", "outbox", ["pairing_id"])
    _waiting_messages_learn_their_pairing()


def _waiting_messages_learn_their_pairing() -> None:
    """Set the pairing of each message still waiting, where its dedupe key names it."""
    conn = op.get_bind()
    waiting = conn.execute(
        sa.select(_OUTBOX.c.id, _OUTBOX.c.dedupe_key).where(
            _OUTBOX.c.status.in_(("pending", "undeliverable"))
        )
    ).all()
    for outbox_id, key in waiting:
        pairing_id = _pairing_of(conn, str(key))
        if pairing_id is not None:
            conn.execute(
                sa.update(_OUTBOX).where(_OUTBOX.c.id == outbox_id).values(pairing_id=pairing_id)
            )


def _pairing_of(conn: sa.Connection, key: str) -> int | None:
    """The pairing a dedupe key names, directly or through the row it was queued for."""
    prefix, _, rest = key.partition(":")
    if prefix == "pairing":
        number = rest.split(":", 1)[0]
        return int(number) if number.isdigit() else None
    if prefix in _ENDS_WITH_PAIRING:
        number = rest.rsplit(":", 1)[-1]
        return int(number) if number.isdigit() else None
    if prefix not in _OWNERS:
        return None
    table, column = _OWNERS[prefix]
    if column == "key":
        value: object = rest
    else:
        number = rest.split(":", 1)[0]
        if not number.isdigit():
            return None
        value = int(number)
    found = conn.scalar(sa.select(table.c.pairing_id).where(table.c[column] == value))
    return int(found) if found is not None else None


def downgrade() -> None:
    # Withdrawn rows keep their status: earlier versions claim only pending messages, so
    # they stay unsent, which is what they are.
    op.drop_index("ix_outbox_pairing_id", "outbox")
    for column in ("withdrawn_reason", "withdrawn_at", "pairing_id"):
        op.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
