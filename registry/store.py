"""Opening the registry's tables in the hub's database, migrated to the head revision."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeAlias, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select, text
from sqlalchemy.engine import make_url

from registry.exceptions import RegistryError
from registry.schema import registry_events

HEAD_REVISION = "0012"
_MIGRATIONS = Path(__file__).parent / "migrations"

AuditActor: TypeAlias = str | Mapping[str, Any] | None
"""Who made a registry change: a principal's id, or the record the journal keeps of one (``{"id", "channel",
...}``, what ``engine.Actor.to_json`` writes; the registry does not import the engine). The id goes into the
audit row's ``actor`` column, the whole record into its data as ``by``."""


_T = TypeVar("_T")


class SchemaTemplates(Protocol):
    """Replays what the first migration run of this process created on a new SQLite database, instead of
    replaying the migrations (``engine.store.sqlite_template``, which the hub passes in: the registry does not
    import the engine)."""

    def names(self, raw: sqlite3.Connection) -> frozenset[str]: ...

    def capture(self, raw: sqlite3.Connection, key: str, before: frozenset[str]) -> None: ...

    def replay(self, raw: sqlite3.Connection, key: str) -> bool: ...


def now_ms() -> int:
    return int(time.time() * 1000)


class RegistryStore:
    """A SQLAlchemy engine on the hub's database, with the registry's schema in place.

    Registry writes are rare (an admin adds a server, a token is used), so
    this keeps to plain SQLAlchemy Core and short transactions.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 30000, templates: SchemaTemplates | None = None) -> None:
        self._templates = templates
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            folder = Path(database).expanduser().parent if database and database != ":memory:" else None
            if folder is not None and not folder.is_dir():  # a mistyped path is an error, not a new empty database
                raise RegistryError(f"the database folder '{folder}' does not exist: create it first")
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        self._read_engine: Engine = self.engine
        if self.dialect == "sqlite":

            @event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
                dbapi_connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")

            @event.listens_for(self.engine, "begin")
            def _on_begin(conn: Connection) -> None:
                conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]

            # Reads (every request's token check among them) take no write lock: a plain BEGIN on a connection
            # of their own, so in WAL mode they never wait for a writer, such as a long engine command.
            self._read_engine = create_engine(url, **kwargs)

            @event.listens_for(self._read_engine, "connect")
            def _on_read_connect(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None
                dbapi_connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
                dbapi_connection.execute("PRAGMA query_only=ON")

            @event.listens_for(self._read_engine, "begin")
            def _on_read_begin(conn: Connection) -> None:
                conn.connection.dbapi_connection.execute("BEGIN")  # type: ignore[union-attr]

        self.migrate()

    def close(self) -> None:
        self.engine.dispose()
        if self._read_engine is not self.engine:
            self._read_engine.dispose()

    def migrate(self) -> None:
        with self.engine.connect() as conn:
            current = None
            if inspect(conn).has_table("registry_alembic_version"):
                current = conn.execute(text("SELECT version_num FROM registry_alembic_version")).scalar()
            conn.rollback()
        if current == HEAD_REVISION:
            return
        key, templates = f"registry:{HEAD_REVISION}", self._templates
        before = self._raw(templates.names) if templates and current is None and self.dialect == "sqlite" else None
        if templates and before is not None and self._raw(lambda raw: templates.replay(raw, key)):
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7243002)"))  # one migrator at a time
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        if templates and before is not None:
            self._raw(lambda raw: templates.capture(raw, key, before))

    def _raw(self, use: Callable[[sqlite3.Connection], _T]) -> _T:
        """``use`` the SQLite driver's own connection, outside any transaction."""
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            return use(raw)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries only; on SQLite it does not queue behind writers for the write lock."""
        with self._read_engine.connect() as conn:
            yield conn
            conn.rollback()

    def audit(
        self, conn: Connection, kind: str, subject: str, data: dict[str, Any] | None = None, actor: AuditActor = None
    ) -> None:
        """Record a registry event (never a secret) in the same transaction as the change it describes."""
        if isinstance(actor, Mapping):
            data = {**(data or {}), "by": dict(actor)}
            actor = str(actor.get("id", "")) or None
        conn.execute(
            insert(registry_events).values(
                at=now_ms(), kind=kind, subject=subject, actor=actor, data=json.dumps(data) if data else None
            )
        )

    def events(self, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = select(registry_events).order_by(registry_events.c.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(registry_events.c.subject == subject)
        with self.read() as conn:
            return [
                {
                    "id": r.id,
                    "at": r.at,
                    "kind": r.kind,
                    "subject": r.subject,
                    "actor": r.actor,
                    "data": json.loads(r.data) if r.data else None,
                }
                for r in conn.execute(query)
            ]
