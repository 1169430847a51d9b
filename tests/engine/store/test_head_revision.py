"""The stores' ``HEAD_REVISION`` shortcut names the newest migration, so that no database is left behind.

Opening a store skips migrating a database already at ``HEAD_REVISION``. When
a migration was added without moving it (0011 once was), a database at the
old value was never upgraded and one at the new head was checked again on
every open.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from engine.store import sql
from registry import store


@pytest.mark.parametrize(
    ("migrations", "head"),
    [(sql._MIGRATIONS, sql.HEAD_REVISION), (store._MIGRATIONS, store.HEAD_REVISION)],
    ids=["engine", "registry"],
)
def test_head_revision_is_the_newest_migration(migrations: Path, head: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    assert ScriptDirectory.from_config(config).get_heads() == [head]
