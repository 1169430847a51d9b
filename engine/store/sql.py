"""The SQLAlchemy store: SQLite (WAL) embedded by default, PostgreSQL for scale-out.

One engine command is one transaction (``SqlStore.transaction``). On SQLite
the transaction starts with ``BEGIN IMMEDIATE`` so that two processes never
both read and then fail to upgrade to a write lock; on PostgreSQL instance
rows are read ``FOR UPDATE`` and jobs are claimed with ``SKIP LOCKED``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.store.exceptions import StoreError
from engine.store.schema import key_blocks
from engine.store.tx import Tx

HEAD_REVISION = "0001"
_MIGRATIONS = Path(__file__).parent / "migrations"
KEY_BLOCK = 1000


class KeyAllocator:
    """Hands out keys from blocks reserved in the database, so keys stay unique across processes and restarts.

    A block reserved inside a transaction that rolls back is dropped, since
    the reservation rolled back with it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._limit = 0

    def next_key(self, conn: Connection, reserved: list[bool]) -> int:
        with self._lock:
            if self._next >= self._limit:
                row = conn.execute(
                    key_blocks.update()
                    .where(key_blocks.c.name == "keys")
                    .values(next_key=key_blocks.c.next_key + KEY_BLOCK)
                    .returning(key_blocks.c.next_key)
                ).one()
                self._limit = int(row[0])
                self._next = self._limit - KEY_BLOCK
                reserved.append(True)
            key = self._next
            self._next += 1
            return key

    def discard(self) -> None:
        with self._lock:
            self._next = self._limit


class SqlStore:
    """Opens the database, migrates it, and hands out transactions."""

    def __init__(self, url: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 30000) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.synchronous = synchronous.upper()
        if self.synchronous not in ("FULL", "NORMAL"):
            raise StoreError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.keys = KeyAllocator()
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        elif self.dialect == "postgresql":
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            self._configure_sqlite(busy_timeout_ms)
        self.migrate()

    def _configure_sqlite(self, busy_timeout_ms: int) -> None:
        synchronous = self.synchronous

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def durability(self) -> dict[str, str]:
        """The settings that decide what a commit survives, as the database reports them."""
        if self.dialect != "sqlite":
            with self.engine.connect() as conn:
                value = conn.execute(text("SHOW synchronous_commit")).scalar_one()
                conn.rollback()
            return {"database": self.dialect, "synchronous_commit": str(value)}
        with self.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
            conn.rollback()
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return {"database": "sqlite", "journal_mode": str(mode).upper(), "synchronous": names.get(int(sync), str(sync))}

    # --- schema ----------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the head revision (a no-op costing one query when it is there already)."""
        try:
            with self.engine.connect() as conn:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                conn.rollback()
            if current == HEAD_REVISION:
                return
        except OperationalError:
            pass
        except Exception as exc:  # PostgreSQL: undefined table aborts the transaction
            if "alembic_version" not in str(exc):
                raise
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7243001)"))  # one migrator at a time
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            exists = conn.execute(select(key_blocks.c.name).where(key_blocks.c.name == "keys")).first()
            if exists is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(key_blocks).values(name="keys", next_key=1))
                except IntegrityError:
                    pass

    # --- transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One atomic unit: everything done through the Tx commits together or not at all."""
        reserved: list[bool] = []
        try:
            with self.engine.begin() as conn:
                yield Tx(conn, self, reserved)
        except BaseException:
            if reserved:
                self.keys.discard()
            raise

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        """A transaction for queries only."""
        with self.transaction() as tx:
            yield tx

    def close(self) -> None:
        self.engine.dispose()
