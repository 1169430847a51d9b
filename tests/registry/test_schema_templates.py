"""The registry's tables on a new SQLite database come from the statements its first alembic run created."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from engine.store import sqlite_template
from engine.store.sql import SqlStore
from registry import Registry
from registry.store import HEAD_REVISION


def _dump(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {
            "schema": conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall(),
            "rows": {table: conn.execute(f'SELECT * FROM "{table}"').fetchall() for table in tables},
        }


def test_the_registry_beside_the_engine_gets_the_same_schema_and_rows_without_alembic(tmp_path: Path) -> None:
    sqlite_template.forget()
    for name in ("migrated", "replayed"):  # as the hub opens them: the engine's tables first, then the registry's
        url = f"sqlite:///{tmp_path / name}.db"
        SqlStore(url)
        Registry.open(url, templates=sqlite_template).close()
    assert _dump(tmp_path / "replayed.db") == _dump(tmp_path / "migrated.db")
    assert _dump(tmp_path / "replayed.db")["rows"]["registry_alembic_version"] == [(HEAD_REVISION,)]
    registry = Registry.open(f"sqlite:///{tmp_path / 'replayed.db'}", templates=sqlite_template)
    try:
        registry.users.add("ada", "Ada", groups=["finance"])
        assert [user.id for user in registry.users.all()] == ["ada"]
    finally:
        registry.close()
