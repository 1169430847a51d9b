"""Hand-written SQL run straight on the driver's cursor, for the hot paths.

SQLAlchemy stays the way the schema is defined and migrated and how the
queries that are not hot are written; but on the paths every instance takes
(load and save its state, append its journal, create and claim its jobs) its
per-statement work cost several times the database's own (see
docs/BENCHMARKS.md), so those statements are plain SQL with ``:name``
parameters, converted once to the driver's style.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Sequence
from itertools import starmap
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Connection

_ROW_TYPES: dict[tuple[str, ...], Any] = {}
_NAME = itemgetter(0)  # of a column in ``cursor.description``


def driver_sql(text: str, dialect: str) -> str:
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", text) if dialect == "postgresql" else text


def _row_type(names: tuple[str, ...]) -> Any:
    found: Any = _ROW_TYPES.get(names)
    if found is None:
        found = namedtuple("Row", list(names), rename=True)  # type: ignore[misc,no-redef]  # built at run time
        _ROW_TYPES[names] = found
    return found


class Result:
    """The little of SQLAlchemy's result interface the store uses: rows with attribute access."""

    __slots__ = ("_cursor", "rowcount")

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.rowcount: int = cursor.rowcount

    def _wrap(self, rows: Sequence[Any]) -> list[Any]:
        description = self._cursor.description
        if not rows or description is None:
            return list(rows)
        row_type = _row_type(tuple(map(_NAME, description)))
        return list(starmap(row_type, rows))

    def all(self) -> list[Any]:
        return self._wrap(self._cursor.fetchall()) if self._cursor.description is not None else []

    def first(self) -> Any:
        if self._cursor.description is None:
            return None
        row = self._cursor.fetchone()
        return None if row is None else self._wrap([row])[0]

    def one(self) -> Any:
        row = self.first()
        if row is None:
            raise LookupError("expected one row, found none")
        return row

    def scalar(self) -> Any:
        if self._cursor.description is None:
            return None
        row = self._cursor.fetchone()
        return None if row is None else row[0]


class Session:
    """One transaction's connection, shared by the parts of ``engine.store.tx.Tx``.

    ``run`` is the hot path: hand-written SQL on the driver's cursor, in the
    driver's parameter style (``to_driver`` converts and caches). ``conn`` is
    SQLAlchemy's connection, for the statements that are not hot.
    """

    __slots__ = ("_cursor", "_to_driver", "conn", "for_update")

    def __init__(self, conn: Connection, to_driver: Callable[[str], str], *, for_update: bool) -> None:
        self.conn = conn
        self.for_update = for_update  # PostgreSQL: rows read to change are locked (FOR UPDATE)
        self._to_driver = to_driver
        self._cursor: Any = None

    def run(self, text: str, params: Any = None) -> Result:
        if self._cursor is None:  # the transaction has begun (SqlStore.transaction): use its connection
            self._cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        sql = self._to_driver(text)
        if isinstance(params, list):
            self._cursor.executemany(sql, params)
        else:
            self._cursor.execute(sql, params or {})
        return Result(self._cursor)

    def close(self) -> None:
        """Release the driver cursor (before the connection goes back to its pool)."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            cursor.close()


def types_filter(types: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    """`` AND type IN (...)`` with its parameters, or nothing when every type is wanted."""
    if types is None:
        return "", {}
    params = {f"t{i}": t for i, t in enumerate(types)}
    return " AND type IN (" + ", ".join(f":{name}" for name in params) + ")", params
