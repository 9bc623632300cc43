"""Warehouse migrations (Alembic): bring any warehouse to the schema ``connectors.schema`` declares.

The first migration also upgrades a warehouse written before the schema was declared
(tables created by pandas from the first frame written, no version table). The pipeline
calls ``ensure_current`` when its warehouse resource starts; ``visitor-intent db upgrade``
does the same by hand.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from enrichment.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).parent


class SchemaVersionError(ConfigError):
    """The warehouse was migrated by a newer release than this one."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the shipped migrations, on ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration this release ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships its migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the warehouse is at (None: never migrated, or empty)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Run every migration the warehouse lacks, in one transaction (one upgrader at a time)."""
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), "head")


def ensure_current(engine: Engine) -> bool:
    """Upgrade the warehouse when it is behind this release; True when it did.

    A warehouse migrated by a newer release stops with a SchemaVersionError naming both revisions.
    """
    current = current_revision(engine)
    if current == head_revision():
        return False
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current is not None and current not in known:
        raise SchemaVersionError(
            f"the warehouse is at schema revision {current!r}, newer than this release's {head_revision()!r}: "
            "upgrade visitor-intent"
        )
    upgrade(engine)
    return True
