"""Alembic environment: runs on the connection mentorbot hands it (see storage.database)."""

from alembic import context

from storage.models import METADATA

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations with `mentorbot db upgrade`, which supplies the database connection"
    )

context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
