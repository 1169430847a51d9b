"""The SQLAlchemy store: SQLite (WAL) embedded by default, PostgreSQL for scale-out.

One engine command is one transaction (``SqlStore.transaction``). On SQLite
the transaction starts with ``BEGIN IMMEDIATE`` so that two processes never
both read and then fail to upgrade to a write lock; on PostgreSQL instance
rows are read ``FOR UPDATE`` and jobs are claimed with ``SKIP LOCKED``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, insert, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from engine.store import sqlite_template
from engine.store.exceptions import DatabaseBusy, StoreError
from engine.store.keys import KeyAllocator
from engine.store.rawsql import Session, driver_sql
from engine.store.schema import key_blocks
from engine.store.tx import Tx

HEAD_REVISION = "0018"  # the newest file in migrations/versions: a database there is not migrated again
_MIGRATIONS = Path(__file__).parent / "migrations"
_T = TypeVar("_T")


def _locked(exc: Exception) -> bool:
    """SQLite's SQLITE_BUSY or SQLITE_LOCKED ("database is locked") after its busy timeout, by error code."""
    driver = exc.orig if isinstance(exc, OperationalError) else exc
    return getattr(driver, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


@contextmanager
def _closing(tx: Tx) -> Iterator[Tx]:
    """Close the transaction's driver cursor before its connection goes back to the pool.

    A cursor left open lives as long as anything refers to it, such as the
    traceback of an exception raised inside the transaction, which
    ``asyncio.to_thread`` hands to the event loop's thread. Freed there later,
    the cursor resets its statement on a connection that another thread is
    using by then: SQLite answers "bad parameter or other API misuse" to one
    of them (the hardening issue's finding 12).
    """
    try:
        yield tx
    finally:
        tx.close()


def _check_sqlite_folder(database: str | None) -> None:
    """A SQLite file may be new, but its folder must exist: a mistyped path is an error, not a fresh empty database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    if not folder.is_dir():
        raise StoreError(
            f"the database folder '{folder}' does not exist: create it first, or give another --db / AGENTHUB_DB"
        )


class SqlStore:
    """Opens the database, migrates it, and hands out transactions."""

    def __init__(self, url: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 30000) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.synchronous = synchronous.upper()
        self._busy_timeout_ms = busy_timeout_ms
        if self.synchronous not in ("FULL", "NORMAL"):
            raise StoreError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            _check_sqlite_folder(parsed.database)
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        elif self.dialect == "postgresql":
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        self._key_engine: Engine | None = None
        self._read_engine: Engine | None = None
        if self.dialect == "sqlite":
            self._configure_sqlite(busy_timeout_ms)
            self._read_engine = create_engine(url, **kwargs)
            event.listen(self._read_engine, "connect", self._on_read_connect)
        else:  # one connection is enough: the allocator reserves one block at a time
            self._key_engine = create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)
        self.keys = KeyAllocator(self._key_engine)
        # SQLite has one writer at a time. This process's writers queue here, woken as soon as the lock is free,
        # rather than in SQLite's busy handler, which sleeps and polls and lets a waiter starve past its timeout
        # under load (the load benchmark saw 30 s waits end in "database is locked"). Other processes still meet
        # at SQLite's lock. Reentrant, so a nested transaction on this thread fails in SQLite, not in a deadlock.
        self._writer = threading.RLock() if self.dialect == "sqlite" else None
        # With writers queued on that lock, one connection serves them all, held open: a pool checkout and return
        # per transaction cost most of an empty transaction (108 -> 44 us, bench/transactions.py). Dropped after a
        # database error or an interrupt; the next transaction opens another.
        self._writer_conn: Connection | None = None
        self._sql: dict[str, str] = {}
        self.migrate()

    def sql(self, text: str) -> str:
        """Hand-written SQL with ``:name`` parameters, in the driver's own parameter style.

        The hot paths (load and save an instance, journal, jobs) skip
        SQLAlchemy's statement building, which cost several times the
        database work itself on every call (docs/BENCHMARKS.md).
        """
        converted = self._sql.get(text)
        if converted is None:
            converted = driver_sql(text, self.dialect)
            self._sql[text] = converted
        return converted

    def _on_read_connect(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun and ended by hand (reader())
        dbapi_connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        dbapi_connection.execute("PRAGMA query_only=ON")

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
            # straight on the driver: this runs once per engine command (see engine.store.rawsql)
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]

    def durability(self) -> dict[str, str]:
        """The settings that decide what a commit survives, as the database reports them."""
        if self.dialect != "sqlite":
            with self.engine.connect() as conn:
                commit = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
                fsync = conn.exec_driver_sql("SHOW fsync").scalar_one()
                conn.rollback()
            return {"database": self.dialect, "synchronous_commit": str(commit), "fsync": str(fsync)}
        with self.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
            conn.rollback()
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return {"database": "sqlite", "journal_mode": str(mode).upper(), "synchronous": names.get(int(sync), str(sync))}

    # --- schema ----------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the head revision (a no-op costing two queries when it is there already)."""
        with self.engine.connect() as conn:
            # Asked of the catalog first: on PostgreSQL, selecting from a missing table
            # aborts the transaction, and on SQLite it is an error too.
            current = None
            if inspect(conn).has_table("alembic_version"):
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            conn.rollback()
        if current == HEAD_REVISION:
            return
        key = f"engine:{HEAD_REVISION}"
        before = self._raw(sqlite_template.names) if current is None and self.dialect == "sqlite" else None
        if before is not None and self._raw(lambda raw: sqlite_template.replay(raw, key)):
            return
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
        if before is not None:
            self._raw(lambda raw: sqlite_template.capture(raw, key, before))

    def _raw(self, use: Callable[[sqlite3.Connection], _T]) -> _T:
        """``use`` the SQLite driver's own connection, outside any transaction."""
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            return use(raw)

    # --- transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One atomic unit: everything done through the Tx commits together or not at all."""
        reserved: list[bool] = []
        writer = self._writer
        if writer is not None and not writer.acquire(timeout=self._busy_timeout_ms / 1000):
            raise DatabaseBusy(f"other writers held the database for more than {self._busy_timeout_ms / 1000:g} s")
        try:
            with self._begin() as conn, _closing(self._tx(conn, reserved)) as tx:
                yield tx
        except (OperationalError, sqlite3.OperationalError) as exc:  # the driver's own, from BEGIN IMMEDIATE
            self._drop_writer_connection()
            if reserved:
                self.keys.discard()
            if _locked(exc):
                raise DatabaseBusy("the database is locked by another process's writer past the busy timeout") from exc
            raise
        except BaseException as exc:
            if isinstance(exc, (SQLAlchemyError, sqlite3.Error)) or not isinstance(exc, Exception):
                self._drop_writer_connection()  # the database's own failure, or an interrupt mid-statement
            if reserved:
                self.keys.discard()
            raise
        finally:
            if writer is not None:
                writer.release()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A begun transaction: on SQLite on the writer's held connection (the writer lock is held), else pooled."""
        if self._writer is None:
            with self.engine.begin() as conn:
                yield conn
            return
        if self._writer_conn is None:
            self._writer_conn = self.engine.connect()
        conn = self._writer_conn
        with conn.begin():
            yield conn

    def _drop_writer_connection(self) -> None:
        """After a failed transaction the held connection is not trusted again: the next one opens afresh."""
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        """A transaction for queries only: on SQLite a plain (deferred) one, which does not queue behind writers
        for the write lock as ``BEGIN IMMEDIATE`` would; nothing written through it is kept."""
        if self._read_engine is None:
            with self.transaction() as tx:
                yield tx
            return
        with self._read_engine.connect() as conn:
            conn.connection.dbapi_connection.execute("BEGIN")  # type: ignore[union-attr]
            try:
                with _closing(self._tx(conn, [])) as tx:
                    yield tx
            finally:
                conn.connection.dbapi_connection.execute("ROLLBACK")  # type: ignore[union-attr]

    def _tx(self, conn: Connection, reserved: list[bool]) -> Tx:
        session = Session(conn, self.sql, for_update=self.dialect == "postgresql")
        return Tx(session, lambda: self.keys.next_key(conn, reserved), reserved, self.keys.discard)

    def close(self) -> None:
        if self._writer is not None:
            with self._writer:
                self._drop_writer_connection()
        self.engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()
        if self._key_engine is not None:
            self._key_engine.dispose()
