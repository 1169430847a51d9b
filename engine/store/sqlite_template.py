"""New SQLite databases get their schema from a copy of the first migration this process ran, not from alembic.

Replaying every alembic migration on a new SQLite database costs about half
a second of CPU for the engine and a third for the registry, nearly all of it
SQLAlchemy building each migration's operations, not SQLite. A process that
opens one database (a hub) pays it once; one that opens many new ones (the
test suite opens thousands) paid it every time.

So the first time this process migrates a set of migrations (the engine's,
the registry's) from nothing to its head on SQLite, ``capture`` records what
that created: the ``CREATE`` statements of every new table, index, view and
trigger, exactly as SQLite stored them, and the rows the migrations left in
those tables (the version row, seed rows). ``replay`` runs them on a later
database that has none of those objects, in one transaction: the same schema
statement for statement. A database that has any of them (an older one to
upgrade) is migrated by alembic as before. PostgreSQL is always migrated by
alembic.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["Template", "capture", "forget", "names", "replay"]

_ORDER = {"table": 0, "index": 1, "view": 2, "trigger": 3}


@dataclass(frozen=True)
class Template:
    """What one migration run from nothing created."""

    objects: frozenset[str]
    statements: tuple[str, ...]
    rows: tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...]  # (table, rows) in creation order


_templates: dict[str, Template] = {}
_lock = threading.Lock()


def names(raw: sqlite3.Connection) -> frozenset[str]:
    """The names of the schema objects in the database (SQLite's own ``sqlite_*`` left out)."""
    return frozenset(row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def capture(raw: sqlite3.Connection, key: str, before: frozenset[str]) -> None:
    """Record what the migration run ``key`` created since ``before`` (the first run of each key only)."""
    with _lock:
        if key in _templates:
            return
    found = raw.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    created = [(kind, name, sql) for kind, name, sql in found if name not in before]
    created.sort(key=lambda row: _ORDER.get(row[0], 9))  # stable: creation order within each kind
    rows = tuple(
        (name, tuple(tuple(row) for row in raw.execute(f'SELECT * FROM "{name}"')))
        for kind, name, _ in created
        if kind == "table"
    )
    template = Template(
        objects=frozenset(name for _, name, _ in created),
        statements=tuple(sql for _, _, sql in created),
        rows=tuple((table, values) for table, values in rows if values),
    )
    with _lock:
        _templates.setdefault(key, template)


def replay(raw: sqlite3.Connection, key: str) -> bool:
    """Create what run ``key`` created, in one transaction; False when there is no template or a name is taken."""
    with _lock:
        template = _templates.get(key)
    if template is None or template.objects & names(raw):
        return False
    raw.execute("BEGIN IMMEDIATE")
    try:
        for statement in template.statements:
            raw.execute(statement)
        for table, values in template.rows:
            marks = ", ".join("?" for _ in values[0])
            raw.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")
    return True


def forget() -> None:
    """Drop every template: the next new database of each kind is migrated by alembic again (tests)."""
    with _lock:
        _templates.clear()
