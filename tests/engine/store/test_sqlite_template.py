"""A new SQLite database gets the schema alembic gave the first one, without replaying the migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from engine.store import sqlite_template
from engine.store.sql import HEAD_REVISION, SqlStore


def _dump(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as conn:
        return {
            "schema": conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall(),
            "version": conn.execute("SELECT version_num FROM alembic_version").fetchall(),
            "keys": conn.execute("SELECT name, next_key FROM key_blocks").fetchall(),
            "journal_mode": conn.execute("PRAGMA journal_mode").fetchone(),
        }


def test_a_new_database_gets_the_schema_statement_for_statement_and_works(tmp_path: Path) -> None:
    sqlite_template.forget()
    SqlStore(f"sqlite:///{tmp_path / 'migrated.db'}")  # alembic, from nothing: the template is taken here
    replayed = SqlStore(f"sqlite:///{tmp_path / 'replayed.db'}")
    assert _dump(tmp_path / "replayed.db") == _dump(tmp_path / "migrated.db")
    assert _dump(tmp_path / "replayed.db")["version"] == [(HEAD_REVISION,)]
    assert _dump(tmp_path / "replayed.db")["journal_mode"] == ("wal",)
    with replayed.transaction() as tx:
        assert tx.next_key() >= 1  # the key allocator's seed row came along


def test_a_database_with_other_tables_gets_it_too_and_one_with_ours_is_left_to_alembic(tmp_path: Path) -> None:
    SqlStore(f"sqlite:///{tmp_path / 'first.db'}")
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        conn.execute("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)")
    SqlStore(f"sqlite:///{tmp_path / 'shared.db'}")
    assert _dump(tmp_path / "shared.db")["version"] == [(HEAD_REVISION,)]
    with sqlite3.connect(tmp_path / "clash.db") as conn:
        conn.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY)")
        raw_names = sqlite_template.names(conn)
        assert not sqlite_template.replay(conn, f"engine:{HEAD_REVISION}")
    assert raw_names == {"journal"}
