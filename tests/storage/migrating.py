"""Running the project's alembic migrations from a test: find one, go down or up to one."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

from storage import Database
from storage.database import MIGRATIONS_DIR


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migration_named(suffix: str) -> Script:
    """The migration whose file name ends with ``suffix`` (numbers get re-chained)."""
    scripts = ScriptDirectory.from_config(_config()).walk_revisions()
    return next(s for s in scripts if s.path.endswith(suffix))


async def migrate(database: Database, how: str, revision: str) -> None:
    """Run ``alembic upgrade|downgrade REVISION`` on the database."""

    def run(connection: Connection) -> None:
        config = _config()
        config.attributes["connection"] = connection
        getattr(command, how)(config, revision)

    async with database.engine.begin() as conn:
        await conn.run_sync(run)
