"""A SQLite database left at an older revision of the engine's store, for the tests that open one and check that
the engine migrates it and fills in what the newer revisions add."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from engine.store import sql as sql_store

__all__ = ["database_at"]


def database_at(path: Path, revision: str, rows: str) -> str:
    """The URL of a SQLite file at ``path`` migrated only up to ``revision``, with ``rows`` (SQL) run in it."""
    url = f"sqlite:///{path}"
    db = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(sql_store._MIGRATIONS))
    try:
        with db.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.execute(sa.text(rows))
    finally:
        db.dispose()
    return url
